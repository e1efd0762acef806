"""Renaming the entry point, its parameters and its locals in code, and proving nothing else moved.

A rename is planned once on the whole program the ground truth runs (prompt + canonical solution +
tests, one module), because only there are all the uses visible: a test's `task_func(x=1)` must
follow the parameter `x`, a test that passes `**{"x": 1}` makes `x` unsafe to rename. The plan is
then applied to each code-bearing text (that program, the `code_prompt`, the code block of the
instruct prompt) by editing the exact source spans of the resolved uses, so string literals, dict
keys, attributes (`obj.x`) and other calls' keywords (`DataFrame(data=...)`) are never touched.
Every application is verified: the edited source must parse to the original AST with exactly the
planned identifiers changed, or the rename is refused (`RenameError`) rather than half-applied.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from bcb.dataset.perturbation.names import LOCAL_AFFIXES, PARAM_AFFIXES, NamePicker, task_rng, words_of
from bcb.dataset.perturbation.scopes import Analysis, Scope, Use
from bcb.dataset.task import Task

#: Calls that pass their keywords on to a callable given as a positional argument
#: (`self.assertRaises(ValueError, task_func, x=1)`): those keywords follow a parameter rename.
FORWARDERS = frozenset({"assertRaises", "assertRaisesRegex", "assertWarns", "assertWarnsRegex", "partial", "submit"})

#: Names whose use inside the entry point means its locals are looked up by string at run time.
DYNAMIC_NAMES = frozenset({"locals", "vars", "eval", "exec"})
DYNAMIC_ATTRS = frozenset({"f_locals", "currentframe", "_getframe"})

_AT_NAME = re.compile(r"@([A-Za-z_]\w*)")
_DEBUG_EQUALS = re.compile(r"\s*=(?!=)")
#: Calls whose string argument may name the caller's variables as `@name` (pandas).
QUERY_CALLS = frozenset({"query", "eval"})


class RenameError(ValueError):
    """A planned rename that cannot be applied exactly; the message says why, for the provenance."""


@dataclass(frozen=True)
class RenamePlan:
    """Old -> new names for one task. Empty mappings rename nothing."""

    entry_point: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    locals: Mapping[str, str] = field(default_factory=dict)
    unsafe: Mapping[str, str] = field(default_factory=dict)
    """Names left alone on purpose -> why (a `**{...}` call, `locals()`, a pandas `@name`...)."""

    @property
    def empty(self) -> bool:
        return not (self.entry_point or self.params or self.locals)

    def without(self, *parts: str) -> RenamePlan:
        return RenamePlan(
            {} if "entry_point" in parts else self.entry_point,
            {} if "params" in parts else self.params,
            {} if "locals" in parts else self.locals,
            self.unsafe,
        )


def program_of(task: Task) -> str:
    """The module the ground-truth check executes, as one text."""
    return task.complete_prompt + "\n" + task.canonical_solution + "\n" + task.test


# ---------------------------------------------------------------------------------------------
# Planning


def plan_renames(task: Task, seed: int, *, entry_point: bool, params: bool, local_vars: bool) -> RenamePlan:
    """Choose new names for what is safe to rename. Raises `RenameError` when the program has no
    module-level entry point function to anchor on."""
    analysis = Analysis(program_of(task))
    function = analysis.function(task.entry_point)
    if function is None:
        raise RenameError(f"no module-level function {task.entry_point!r} in the program")
    inner = analysis.scope_of[function]
    taken = words_of(task.to_record().values())
    unsafe: dict[str, str] = {}

    entry_map: dict[str, str] = {}
    if entry_point:
        uses = analysis.uses_of(analysis.module, task.entry_point)
        lost = [u for u in uses if u.span is None]
        if lost:
            unsafe[task.entry_point] = f"a use of {task.entry_point!r} cannot be located ({lost[0].kind})"
        else:
            entry_map[task.entry_point] = NamePicker(taken, task_rng(seed, task.task_id, "entry-point")).entry_point()
            taken.add(entry_map[task.entry_point])

    dynamic = _dynamic_lookup(function)
    at_names = _spelled_names(analysis)

    param_map: dict[str, str] = {}
    if params:
        blocked = _call_site_blocks(analysis, task.entry_point, _param_names(function))
        picker = NamePicker(taken, task_rng(seed, task.task_id, "params"))
        for name in _param_names(function):
            if _conventional(name):
                continue
            reason = dynamic or blocked.get(name) or _name_problem(analysis, inner, name, at_names)
            if reason:
                unsafe[name] = reason
                continue
            param_map[name] = picker.variant(name, PARAM_AFFIXES)
        taken |= picker.taken

    local_map: dict[str, str] = {}
    if local_vars:
        picker = NamePicker(taken, task_rng(seed, task.task_id, "locals"))
        for name, scopes in _local_bindings(analysis, inner).items():
            if _conventional(name):
                continue
            reason = dynamic or next((r for s in scopes if (r := _name_problem(analysis, s, name, at_names))), "")
            if reason:
                unsafe[name] = reason
                continue
            local_map[name] = picker.variant(name, LOCAL_AFFIXES)
    return RenamePlan(entry_map, param_map, local_map, unsafe)


def _param_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Named parameters; `*args`/`**kwargs` cannot be passed by name and keep theirs."""
    args = function.args
    return [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]


def _conventional(name: str) -> bool:
    """`_` (a throwaway) and dunder names say nothing task-specific; they keep their names."""
    return name == "_" or (name.startswith("__") and name.endswith("__"))


def _dynamic_lookup(function: ast.AST) -> str:
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id in DYNAMIC_NAMES:
            return f"the entry point calls {node.id}(), which looks names up at run time"
        if isinstance(node, ast.Attribute) and node.attr in DYNAMIC_ATTRS:
            return f"the entry point uses .{node.attr}, which looks names up at run time"
    return ""


def _spelled_names(analysis: Analysis) -> set[str]:
    """Names whose spelling is data: `@name` in a string given to pandas' `query`/`eval` (which
    read the caller's variables by name), and `f"{name=}"` (whose output includes the text)."""
    found: set[str] = set()
    for node in ast.walk(analysis.tree):
        if isinstance(node, ast.Call) and _callee_name(node) in QUERY_CALLS:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                for part in ast.walk(arg):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        found.update(_AT_NAME.findall(part.value))
        elif isinstance(node, ast.FormattedValue):
            end = analysis.map.span(node.value)[1]
            if _DEBUG_EQUALS.match(analysis.source, end):
                found.update(n.id for n in ast.walk(node.value) if isinstance(n, ast.Name))
    return found


def _name_problem(analysis: Analysis, scope: Scope, name: str, at_names: set[str]) -> str:
    if name in at_names:
        return f"its spelling is data: a string refers to @{name} (pandas query) or an f-string prints {name}="
    lost = [u for u in analysis.uses_of(scope, name) if u.span is None]
    if lost:
        return f"{name!r} is bound by {lost[0].kind}, whose position is not in the syntax tree"
    return ""


def _entry_calls(analysis: Analysis, entry_point: str) -> Iterable[tuple[Use, ast.AST]]:
    for use in analysis.uses_of(analysis.module, entry_point):
        if use.kind == "name":
            yield use, analysis.parents.get(use.node)  # type: ignore[misc]


def _call_site_blocks(analysis: Analysis, entry_point: str, names: list[str]) -> dict[str, str]:
    """Parameters that a call passes by a name the renamer cannot follow."""
    blocked: dict[str, str] = {}

    def block(targets: Iterable[str], why: str) -> None:
        for name in targets:
            blocked.setdefault(name, why)

    for use, parent in _entry_calls(analysis, entry_point):
        node = use.node
        if isinstance(parent, ast.Call) and parent.func is node:
            for kw in parent.keywords:
                if kw.arg is None:
                    _block_double_star(kw.value, names, block, entry_point)
        elif isinstance(parent, ast.Call) and node in parent.args:
            callee = _callee_name(parent)
            for kw in parent.keywords:
                if kw.arg is None:
                    if callee in FORWARDERS:
                        _block_double_star(kw.value, names, block, entry_point)
                    else:
                        block(names, f"{entry_point} is passed to {callee}() with **keywords")
                elif kw.arg in names and callee not in FORWARDERS:
                    block([kw.arg], f"{callee}() may pass {kw.arg}= on to {entry_point}")
        elif isinstance(use.node, ast.Name) and isinstance(use.node.ctx, ast.Load):
            block(names, f"{entry_point} is used as a value ({ast.unparse(parent)[:60]}), so its callers are unknown")
    return blocked


def _block_double_star(
    value: ast.expr, names: list[str], block: Callable[[Iterable[str], str], None], entry_point: str
) -> None:
    if isinstance(value, ast.Dict) and all(
        isinstance(k, ast.Constant) and isinstance(k.value, str) for k in value.keys
    ):
        keys = [k.value for k in value.keys if isinstance(k, ast.Constant)]
        block([n for n in names if n in keys], f"a call passes it to {entry_point} as a **{{...}} key")
    else:
        block(names, f"a call passes **{ast.unparse(value)[:40]} to {entry_point}, whose keys are unknown")


def _callee_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return "?"


def _local_bindings(analysis: Analysis, inner: Scope) -> dict[str, list[Scope]]:
    """Variables of the entry point: its own assignments (not parameters, imports, nested
    functions or classes, nor names declared global) and the targets of comprehensions written
    directly in it, in order of first appearance."""
    found: dict[str, list[Scope]] = {}
    params = {n for n, how in inner.bound.items() if "param" in how}
    for use in analysis.uses:
        scope = use.target
        if scope is None or use.name in params:
            continue
        if scope is inner:
            how = inner.bound.get(use.name, set())
            if not how or not how <= {"assign", "except", "walrus"}:
                continue
        elif scope.kind == "comprehension" and _comprehension_of(scope, inner):
            if scope.bound.get(use.name) != {"comprehension"}:
                continue
        else:
            continue
        scopes = found.setdefault(use.name, [])
        if scope not in scopes:
            scopes.append(scope)
    return found


def _comprehension_of(scope: Scope, inner: Scope) -> bool:
    """True for a comprehension written directly in `inner` (through other comprehensions only)."""
    current: Scope | None = scope
    while current is not None and current.kind == "comprehension":
        current = current.parent
    return current is inner


# ---------------------------------------------------------------------------------------------
# Applying


@dataclass(frozen=True)
class Renamed:
    source: str
    expected: ast.Module
    """The original tree with the planned identifiers changed: what `source` must parse to."""
    edits: Mapping[tuple[int, int], str]
    """The spans of the original source that were replaced, and by what."""

    def moved(self, offset: int) -> int:
        """Where a position of the original source (outside every edit) is in the new one."""
        return offset + sum(len(text) - (end - start) for (start, end), text in self.edits.items() if end <= offset)


def apply_renames(
    source: str, entry_point: str, plan: RenamePlan, *, comment: Callable[[str], str] | None = None
) -> Renamed:
    """Apply `plan` to a text holding the entry point's definition; `comment` rewrites comments."""
    try:
        analysis = Analysis(source)
    except SyntaxError as exc:
        raise RenameError(f"the code does not parse (line {exc.lineno}: {exc.msg})") from None
    function = analysis.function(entry_point)
    if function is None:
        raise RenameError(f"no module-level function {entry_point!r}")
    inner = analysis.scope_of[function]
    edits: dict[tuple[int, int], str] = {}
    mutations: list[Callable[[], None]] = []

    def rename_uses(uses: list[Use], new: str) -> None:
        for use in uses:
            if use.span is None:
                raise RenameError(f"cannot locate a use of {use.name!r} ({use.kind})")
            edits[use.span] = new
            mutations.append(_mutation(use.node, use.name, new))

    for old, new in plan.entry_point.items():
        rename_uses(analysis.uses_of(analysis.module, old), new)
    for old, new in plan.params.items():
        rename_uses(analysis.uses_of(inner, old), new)
    for use, parent in _entry_calls(analysis, entry_point):
        if not isinstance(parent, ast.Call) or not (
            parent.func is use.node or (use.node in parent.args and _callee_name(parent) in FORWARDERS)
        ):
            continue
        for kw in parent.keywords:
            if kw.arg is not None and kw.arg in plan.params:
                start = analysis.map.offset(kw.lineno, kw.col_offset)
                span = (start, start + len(kw.arg))
                if analysis.text(span) != kw.arg:
                    raise RenameError(f"cannot locate the keyword {kw.arg}= of a call to {entry_point}")
                edits[span] = plan.params[kw.arg]
                mutations.append(_mutation(kw, kw.arg, plan.params[kw.arg]))
    if plan.locals:
        for name, scopes in _local_bindings(analysis, inner).items():
            if name in plan.locals:
                for scope in scopes:
                    rename_uses(analysis.uses_of(scope, name), plan.locals[name])
    if comment is not None:
        for span, text in _comments(source, analysis):
            new_text = comment(text)
            if new_text != text:
                edits[span] = new_text
    for mutate in mutations:
        mutate()
    renamed = Renamed(apply_edits(source, edits), analysis.tree, dict(edits))
    check_same_tree(renamed.source, renamed.expected)
    return renamed


def _mutation(node: ast.AST, old: str, new: str) -> Callable[[], None]:
    def mutate() -> None:
        if isinstance(node, ast.Name):
            node.id = new
        elif isinstance(node, (ast.arg, ast.keyword)):
            node.arg = new
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler)):
            node.name = new
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            node.names = [new if n == old else n for n in node.names]
        else:
            raise RenameError(f"cannot rename {old!r} in a {type(node).__name__}")

    return mutate


def _comments(source: str, analysis: Analysis) -> Iterable[tuple[tuple[int, int], str]]:
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                start = analysis.map.starts[tok.start[0] - 1] + tok.start[1]
                yield (start, start + len(tok.string)), tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return


def apply_edits(source: str, edits: Mapping[tuple[int, int], str]) -> str:
    out: list[str] = []
    pos = 0
    for (start, end), text in sorted(edits.items()):
        if start < pos:
            raise RenameError("overlapping edits")
        out.append(source[pos:start])
        out.append(text)
        pos = end
    out.append(source[pos:])
    return "".join(out)


def check_same_tree(source: str, expected: ast.AST, *, ignore_docstring_of: str | None = None) -> None:
    """`source` must parse to `expected` (positions aside); the docstring of the function named
    `ignore_docstring_of` may differ, as prose is rewritten separately."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise RenameError(f"the renamed code does not parse (line {exc.lineno}: {exc.msg})") from None
    if _dump(tree, ignore_docstring_of) != _dump(expected, ignore_docstring_of):
        raise RenameError("the renamed code is not the original with only the planned names changed")


def _dump(tree: ast.AST, ignore_docstring_of: str | None) -> str:
    if ignore_docstring_of is None:
        return ast.dump(tree)
    body = getattr(tree, "body", [])
    saved = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == ignore_docstring_of and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                saved.append((first.value, first.value.value))
                first.value.value = ""
    try:
        return ast.dump(tree)
    finally:
        for constant, value in saved:
            constant.value = value
