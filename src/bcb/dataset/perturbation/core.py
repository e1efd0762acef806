"""One task in, its perturbed form out: the four transforms applied together, each optional.

A model that memorised a task's text recalls `task_func`, its parameter names and its prompt's
wording; one that can solve the task does not need them. So the perturbed task keeps the problem
and its tests' meaning and changes only those surface features. Whatever cannot be changed safely
is left as it is and said so (`Perturbation.notes`); the execution re-check one layer up decides
whether the result is kept.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from bcb.dataset.perturbation.names import task_rng
from bcb.dataset.perturbation.prose import ProseRenamer, reorder_docstring, rephrase_instruct, split_instruct
from bcb.dataset.perturbation.rename import (
    RenameError,
    RenamePlan,
    apply_renames,
    check_same_tree,
    plan_renames,
    program_of,
)
from bcb.dataset.perturbation.scopes import SourceMap
from bcb.dataset.task import DatasetError, Task, TaskError, check_code

#: Every transform, in the order they are listed in provenance records.
TRANSFORMS: tuple[str, ...] = ("entry-point", "params", "docstring", "locals")
TRANSFORM_HELP = {
    "entry-point": "rename the entry point (task_func) everywhere, prompts included",
    "params": "rename the entry point's parameters (signature, body, docstring, keyword uses in tests)",
    "docstring": "reorder docstring sections; reorder and rephrase the instruct prompt's fixed phrases",
    "locals": "rename the canonical solution's local variables",
}

_LITERAL = re.compile(r"^([rRuU]?)(\"\"\"|'''|\"|')(.*)\2$", re.S)
_CODE_SUFFIX = "    pass\n"


@dataclass(frozen=True)
class Perturbation:
    """A task, its perturbed form, and what was done to get there."""

    original: Task
    task: Task
    applied: tuple[str, ...]
    renames: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)
    """What was left alone on purpose, and why (a parameter passed as **{...}, an unparseable
    docstring...): names or transforms -> reason."""

    @property
    def task_id(self) -> str:
        return self.task.task_id

    @property
    def changed(self) -> bool:
        return self.task.to_record() != self.original.to_record()

    def to_json(self) -> dict[str, object]:
        return {
            "applied": list(self.applied),
            "renames": {k: dict(v) for k, v in self.renames.items() if v},
            "notes": dict(self.notes),
        }


def parse_transforms(values: str | Iterable[str] | None) -> tuple[str, ...]:
    """`entry-point,params` (or repeated options) -> the transforms in canonical order; all when empty."""
    if values is None:
        return TRANSFORMS
    items = values.split(",") if isinstance(values, str) else [p for v in values for p in v.split(",")]
    chosen = {p.strip().lower().replace("_", "-") for p in items if p.strip()}
    if items and not chosen:
        raise DatasetError(
            f"--transforms {values!r} names no transform: choose from {', '.join(TRANSFORMS)} (comma-separated), or all"
        )
    if not chosen or chosen == {"all"}:
        return TRANSFORMS
    unknown = sorted(chosen - set(TRANSFORMS))
    if unknown:
        raise DatasetError(f"unknown transform {unknown[0]!r}: choose from {', '.join(TRANSFORMS)} (comma-separated)")
    return tuple(t for t in TRANSFORMS if t in chosen)


def perturb_tasks(tasks: Iterable[Task], seed: int, transforms: Sequence[str] = TRANSFORMS) -> list[Perturbation]:
    return [perturb_task(task, seed, transforms) for task in tasks]


def perturb_task(task: Task, seed: int, transforms: Sequence[str] = TRANSFORMS) -> Perturbation:
    """The perturbed task. Never raises for a task that parses: what cannot be done is noted."""
    with warnings.catch_warnings():
        # Released tasks hold invalid escapes such as "\d" in plain strings: their business.
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return _perturb(task, seed, transforms)


def _perturb(task: Task, seed: int, transforms: Sequence[str]) -> Perturbation:
    want = set(parse_transforms(list(transforms)))
    notes: dict[str, str] = {}
    try:
        plan = plan_renames(
            task, seed, entry_point="entry-point" in want, params="params" in want, local_vars="locals" in want
        )
    except (RenameError, SyntaxError) as exc:
        plan = RenamePlan()
        notes["renames"] = str(exc)
    notes.update({f"kept name {name}": why for name, why in plan.unsafe.items()})

    code: _Code | None = None
    tried: set[tuple[tuple[str, str], ...]] = set()
    for drop in ((), ("locals",), ("locals", "params"), ("locals", "params", "entry_point")):
        candidate = plan.without(*drop)
        key = tuple(sorted({**candidate.entry_point, **candidate.params, **candidate.locals}.items()))
        if key in tried:
            continue
        tried.add(key)
        try:
            code = _rename_code(task, candidate)
            plan = candidate
            break
        except RenameError as exc:
            notes[f"renames {'+'.join(p for p in ('entry_point', 'params', 'locals') if getattr(candidate, p))}"] = str(
                exc
            )
    assert code is not None  # the empty plan always applies

    interface = ProseRenamer(plan.entry_point, plan.params, callees=(task.entry_point,))
    entry = next(iter(plan.entry_point.values()), task.entry_point)
    applied = [
        t for t, part in (("entry-point", plan.entry_point), ("params", plan.params), ("locals", plan.locals)) if part
    ]

    complete_prompt = code.complete_prompt
    reordered = False
    try:
        complete_prompt, reordered = _rewrite_docstring(
            complete_prompt,
            entry,
            interface,
            task_rng(seed, task.task_id, "docstring") if "docstring" in want else None,
        )
    except RenameError as exc:
        notes["docstring"] = str(exc)

    instruct = code.instruct_prompt
    rephrased = False
    parts = split_instruct(instruct)
    if parts is not None:
        parts = dataclasses.replace(parts, prose=interface.block(parts.prose))
        if "docstring" in want:
            new_parts = rephrase_instruct(parts, task_rng(seed, task.task_id, "instruct"))
            rephrased = new_parts != parts
            parts = new_parts
        instruct = parts.join()
    else:
        instruct = interface.block(instruct)
        if "docstring" in want:
            notes["instruct prompt"] = "no 'You should write self-contained code starting with:' block: not rephrased"
    if "docstring" in want and (reordered or rephrased):
        applied.append("docstring")

    doc = interface.doc_struct(task.doc_struct) if not interface.empty else dict(task.doc_struct)
    raw_doc = task.raw_doc_struct if doc == dict(task.doc_struct) else _dump_like(doc, task.raw_doc_struct)
    perturbed = dataclasses.replace(
        task,
        complete_prompt=complete_prompt,
        instruct_prompt=instruct,
        canonical_solution=code.canonical_solution,
        code_prompt=code.code_prompt,
        test=code.test,
        entry_point=entry,
        doc_struct=doc,
        raw_doc_struct=raw_doc,
    )
    try:
        check_code(perturbed)
        check_same_tree(program_of(perturbed), code.expected, ignore_docstring_of=entry)
    except (TaskError, RenameError) as exc:
        return Perturbation(task, task, (), {}, {**notes, "perturbation": f"refused: {exc}"})
    ordered = tuple(t for t in TRANSFORMS if t in applied)
    renames = {"entry_point": dict(plan.entry_point), "params": dict(plan.params), "locals": dict(plan.locals)}
    return Perturbation(task, perturbed, ordered, renames, notes)


@dataclass(frozen=True)
class _Code:
    complete_prompt: str
    canonical_solution: str
    test: str
    code_prompt: str
    instruct_prompt: str
    expected: ast.Module


def _rename_code(task: Task, plan: RenamePlan) -> _Code:
    """Apply `plan` to the program, the code prompt and the instruct prompt's code block."""
    program = program_of(task)
    if plan.empty:
        return _Code(
            task.complete_prompt,
            task.canonical_solution,
            task.test,
            task.code_prompt,
            task.instruct_prompt,
            ast.parse(program),
        )
    comments = ProseRenamer(plan.entry_point, plan.params, plan.locals, callees=(task.entry_point,))
    renamed = apply_renames(program, task.entry_point, plan, comment=comments.comment)
    first, second = len(task.complete_prompt), len(task.complete_prompt) + 1 + len(task.canonical_solution)
    a, b = renamed.moved(first), renamed.moved(second)
    text = renamed.source
    if text[a : a + 1] != "\n" or text[b : b + 1] != "\n":
        raise RenameError("an edit crossed the boundary between prompt, solution and tests")
    interface = plan.without("locals")
    code_prompt = _rename_snippet(task.code_prompt, task.entry_point, interface, comments)
    parts = split_instruct(task.instruct_prompt)
    instruct = task.instruct_prompt
    if parts is not None:
        instruct = dataclasses.replace(
            parts, code=_rename_snippet(parts.code, task.entry_point, interface, comments)
        ).join()
    return _Code(text[:a], text[a + 1 : b], text[b + 1 :], code_prompt, instruct, renamed.expected)


def _rename_snippet(code: str, entry_point: str, plan: RenamePlan, comments: ProseRenamer) -> str:
    """A function header (the code prompt): completed with a body so that it parses."""
    suffix = ("" if code.endswith("\n") else "\n") + _CODE_SUFFIX
    renamed = apply_renames(code + suffix, entry_point, plan, comment=comments.comment).source
    if not renamed.endswith(suffix):
        raise RenameError("the code prompt's completion was edited")
    return renamed[: -len(suffix)]


def _rewrite_docstring(source: str, entry: str, renamer: ProseRenamer, rng: object | None) -> tuple[str, bool]:
    """Rename the interface in the entry point's docstring and, with an `rng`, reorder its sections."""
    tree = ast.parse(source)
    function = next(
        (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == entry), None
    )
    if function is None or not function.body:
        return source, False
    first = function.body[0]
    if not (
        isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
    ):
        return source, False
    start, end = SourceMap(source).span(first.value)
    literal = _LITERAL.match(source[start:end])
    if literal is None:
        raise RenameError("the docstring is not a single string literal: left as it is")
    prefix, quote, inner = literal.groups()
    new_inner = renamer.block(inner)
    reordered = False
    if rng is not None:
        shuffled = reorder_docstring(new_inner, rng)  # type: ignore[arg-type]
        if shuffled is not None and not shuffled.endswith(quote[0]):
            new_inner, reordered = shuffled, True
    if new_inner == inner:
        return source, False
    out = source[:start] + prefix + quote + new_inner + quote + source[end:]
    try:
        ast.parse(out)
    except SyntaxError:
        raise RenameError("the rewritten docstring does not parse: left as it is") from None
    return out, reordered


def _dump_like(doc: Mapping[str, object], raw: str) -> str:
    """Serialise as the original `doc_struct` string was (the released files use json.dumps)."""
    ascii_ok = not raw or raw == json.dumps(json.loads(raw))
    return json.dumps(doc, ensure_ascii=ascii_ok)
