"""Which binding each name in a program refers to, and where in the source each use sits.

Renaming by regex cannot tell `data` the parameter from `obj.data`, the keyword of another call
`DataFrame(data=...)`, a dict key `'data'` or a test's own local `data`. This module resolves names
the way the compiler does (module, function, class and comprehension scopes; `global`/`nonlocal`;
class bodies invisible to the functions inside them; walrus targets binding in the enclosing
function) so that a rename touches exactly the uses of one binding. Each use carries a source span
or is marked unlocatable (names bound by imports or `match` patterns), which makes the binding
unsafe to rename rather than half-renamed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Iterator, Literal, Sequence

ScopeKind = Literal["module", "function", "class", "comprehension"]
Binder = Literal["param", "assign", "def", "class", "import", "except", "match", "comprehension", "walrus"]


@dataclass(eq=False)
class Scope:
    kind: ScopeKind
    node: ast.AST
    parent: Scope | None
    bound: dict[str, set[str]] = field(default_factory=dict)
    """name -> how it is bound here (`param`, `assign`, `import`, ...)."""
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)

    def bind(self, name: str, how: Binder) -> None:
        self.bound.setdefault(name, set()).add(how)

    def within(self, other: Scope) -> bool:
        """True when this scope is `other` or nested inside it."""
        scope: Scope | None = self
        while scope is not None:
            if scope is other:
                return True
            scope = scope.parent
        return False


@dataclass(eq=False)
class Use:
    """One occurrence of a name: where it is written, in which scope, and what it refers to."""

    name: str
    scope: Scope
    node: ast.AST
    kind: Literal["name", "arg", "def", "except", "global", "nonlocal", "import", "match"]
    span: tuple[int, int] | None
    """Character offsets [start, end) of the name in the source; None when it cannot be located."""
    target: Scope | None = None
    """The scope whose binding this use refers to (filled by resolution)."""


_DEF_NAME = re.compile(r"(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)")
_AS_NAME = re.compile(r"\s*as\s+([A-Za-z_]\w*)")
_LINES = re.compile(r".*?(?:\r\n|\r|\n)|.+", re.S)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


class SourceMap:
    """ast positions (1-based lines, UTF-8 byte columns) to character offsets in the source."""

    def __init__(self, source: str) -> None:
        self.source = source
        # Only \n, \r\n and \r end a line for the parser (str.splitlines also splits on \x0c,
        # \u2028... which string literals may hold).
        self.lines = _LINES.findall(source)
        self.starts: list[int] = []
        offset = 0
        for line in self.lines:
            self.starts.append(offset)
            offset += len(line)
        self.starts.append(offset)

    def offset(self, lineno: int, col_byte: int) -> int:
        line = self.lines[lineno - 1] if lineno - 1 < len(self.lines) else ""
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col_byte].decode("utf-8", errors="replace"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]


class Analysis:
    """A parsed program with every name use resolved to its binding scope."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tree = ast.parse(source)
        self.map = SourceMap(source)
        self.module = Scope("module", self.tree, None)
        self.uses: list[Use] = []
        self.scope_of: dict[ast.AST, Scope] = {}
        """Function, lambda, class and comprehension nodes -> the scope they open."""
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self._visit_body(self.tree.body, self.module)
        for use in self.uses:
            use.target = self._resolve(use.scope, use.name, use.kind)

    # -- queries --------------------------------------------------------------------------------
    def function(self, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The module-level function `name` (the last definition wins, as at run time)."""
        found = None
        for node in self.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                found = node
        return found

    def uses_of(self, scope: Scope, name: str) -> list[Use]:
        return [u for u in self.uses if u.name == name and u.target is scope]

    def text(self, span: tuple[int, int]) -> str:
        return self.source[span[0] : span[1]]

    # -- walking --------------------------------------------------------------------------------
    def _add(self, name: str, scope: Scope, node: ast.AST, kind: str, span: tuple[int, int] | None) -> None:
        if span is not None and self.text(span) != name:
            span = None  # a position that does not hold the name: never edit blindly
        self.uses.append(Use(name, scope, node, kind, span))  # type: ignore[arg-type]

    def _visit_body(self, body: list[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            self._visit(stmt, scope)

    def _visit_all(self, nodes: Sequence[ast.AST], scope: Scope) -> None:
        for node in nodes:
            if node is not None:
                self._visit(node, scope)

    def _def_name_span(self, node: ast.AST, name: str) -> tuple[int, int] | None:
        start = self.map.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        match = _DEF_NAME.match(self.source, start)
        if match is None or match.group(1) != name:
            return None
        return match.start(1), match.end(1)

    def _visit(self, node: ast.AST, scope: Scope) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scope.bind(node.name, "def")
            self._add(node.name, scope, node, "def", self._def_name_span(node, node.name))
            self._visit_all(node.decorator_list, scope)
            self._visit_arguments_outer(node.args, scope)
            if node.returns is not None:
                self._visit(node.returns, scope)
            inner = self._open("function", node, scope)
            self._bind_arguments(node.args, inner)
            self._visit_body(node.body, inner)
        elif isinstance(node, ast.Lambda):
            self._visit_arguments_outer(node.args, scope)
            inner = self._open("function", node, scope)
            self._bind_arguments(node.args, inner)
            self._visit(node.body, inner)
        elif isinstance(node, ast.ClassDef):
            scope.bind(node.name, "class")
            self._add(node.name, scope, node, "def", self._def_name_span(node, node.name))
            self._visit_all(node.decorator_list, scope)
            self._visit_all(node.bases, scope)
            self._visit_all([k.value for k in node.keywords], scope)
            inner = self._open("class", node, scope)
            self._visit_body(node.body, inner)
        elif isinstance(node, _COMPREHENSIONS):
            generators = node.generators
            self._visit(generators[0].iter, scope)  # the first iterable is evaluated outside
            inner = self._open("comprehension", node, scope)
            for i, gen in enumerate(generators):
                if i:
                    self._visit(gen.iter, inner)
                self._visit_target(gen.target, inner, "comprehension")
                self._visit_all(gen.ifs, inner)
            if isinstance(node, ast.DictComp):
                self._visit(node.key, inner)
                self._visit(node.value, inner)
            else:
                self._visit(node.elt, inner)
        elif isinstance(node, ast.NamedExpr):
            self._visit(node.value, scope)
            home = scope
            while home.kind == "comprehension" and home.parent is not None:
                home = home.parent
            target = node.target
            home.bind(target.id, "walrus")
            self._add(target.id, home, target, "name", self.map.span(target))
        elif isinstance(node, ast.Name):
            if (
                isinstance(node.ctx, (ast.Store, ast.Del))
                and node.id not in scope.declared_global | scope.declared_nonlocal
            ):
                scope.bind(node.id, "assign")
            self._add(node.id, scope, node, "name", self.map.span(node))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            kind = "global" if isinstance(node, ast.Global) else "nonlocal"
            (scope.declared_global if kind == "global" else scope.declared_nonlocal).update(node.names)
            for name, span in self._statement_names(node):
                self._add(name, scope, node, kind, span)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    continue
                name = alias.asname or alias.name.split(".")[0]
                scope.bind(name, "import")
                self._add(name, scope, alias, "import", None)
        elif isinstance(node, ast.ExceptHandler):
            if node.type is not None:
                self._visit(node.type, scope)
            if node.name:
                scope.bind(node.name, "except")
                self._add(node.name, scope, node, "except", self._except_name_span(node))
            self._visit_body(node.body, scope)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            scope.bind(node.name, "match")
            self._add(node.name, scope, node, "match", None)
            self._visit_all(list(ast.iter_child_nodes(node)), scope)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            scope.bind(node.rest, "match")
            self._add(node.rest, scope, node, "match", None)
            self._visit_all(list(ast.iter_child_nodes(node)), scope)
        else:
            for child in ast.iter_child_nodes(node):
                self._visit(child, scope)

    def _visit_target(self, target: ast.AST, scope: Scope, how: Binder) -> None:
        if isinstance(target, ast.Name):
            scope.bind(target.id, how)
            self._add(target.id, scope, target, "name", self.map.span(target))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._visit_target(element, scope, how)
        elif isinstance(target, ast.Starred):
            self._visit_target(target.value, scope, how)
        else:  # `for x.attr in ...`, `for d[k] in ...`: only loads of their parts
            self._visit(target, scope)

    def _open(self, kind: ScopeKind, node: ast.AST, parent: Scope) -> Scope:
        scope = Scope(kind, node, parent)
        self.scope_of[node] = scope
        return scope

    def _visit_arguments_outer(self, args: ast.arguments, scope: Scope) -> None:
        """Defaults and annotations are evaluated where the function is defined."""
        self._visit_all(args.defaults, scope)
        self._visit_all([d for d in args.kw_defaults if d is not None], scope)
        for arg in _all_args(args):
            if arg.annotation is not None:
                self._visit(arg.annotation, scope)

    def _bind_arguments(self, args: ast.arguments, scope: Scope) -> None:
        for arg in _all_args(args):
            scope.bind(arg.arg, "param")
            start = self.map.offset(arg.lineno, arg.col_offset)
            self._add(arg.arg, scope, arg, "arg", (start, start + len(arg.arg)))

    def _statement_names(self, node: ast.Global | ast.Nonlocal) -> Iterator[tuple[str, tuple[int, int] | None]]:
        start, end = self.map.span(node)
        text = self.source[start:end]
        keyword = "global" if isinstance(node, ast.Global) else "nonlocal"
        pos = len(keyword)
        for name in node.names:
            match = re.compile(rf"[\s,\\]*({re.escape(name)})\b").match(text, pos)
            if match is None:
                yield name, None
                continue
            pos = match.end()
            yield name, (start + match.start(1), start + match.end(1))

    def _except_name_span(self, node: ast.ExceptHandler) -> tuple[int, int] | None:
        if node.type is None:
            return None
        after = self.map.offset(node.type.end_lineno, node.type.end_col_offset)  # type: ignore[arg-type]
        # a parenthesised type leaves `)` before `as`
        while after < len(self.source) and self.source[after] in ") \t":
            after += 1
        match = _AS_NAME.match(self.source, after)
        if match is None or match.group(1) != node.name:
            return None
        return match.start(1), match.end(1)

    # -- resolution -------------------------------------------------------------------------------
    def _resolve(self, scope: Scope, name: str, kind: str) -> Scope:
        if kind == "global":
            return self.module
        if kind == "nonlocal":
            return self._enclosing_function(scope.parent, name)
        if name in scope.declared_global:
            return self.module
        if name in scope.declared_nonlocal:
            return self._enclosing_function(scope.parent, name)
        if name in scope.bound:
            return scope
        return self._enclosing_function(scope.parent, name)

    def _enclosing_function(self, scope: Scope | None, name: str) -> Scope:
        while scope is not None and scope.kind != "module":
            if scope.kind != "class":
                if name in scope.declared_global:
                    return self.module
                if name in scope.declared_nonlocal:
                    return self._enclosing_function(scope.parent, name)
                if name in scope.bound:
                    return scope
            scope = scope.parent
        return self.module


def _all_args(args: ast.arguments) -> list[ast.arg]:
    found = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.vararg is not None:
        found.append(args.vararg)
    if args.kwarg is not None:
        found.append(args.kwarg)
    return found
