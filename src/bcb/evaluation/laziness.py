"""Answers that do not implement the task must never count as solved.

Calibration prepends a stub of the entry point, so an answer that only restates the signature, or
leaves the body as `pass` / `...` / `raise NotImplementedError` / a docstring ("# your code here"),
would run the tests against a stub; a test that happens to pass on a stub would then credit a
non-answer. bcb flags such answers and never counts them in pass@k, whatever the tests said.
"""

from __future__ import annotations

import ast
import warnings


def lazy_reason(solution: str, entry_point: str) -> str | None:
    """Why the answer is lazy, or None when it implements the entry point. Code that does not
    parse is not lazy: it fails on its own."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(solution)
        except (SyntaxError, ValueError):
            return None
    definition: ast.stmt | None = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            definition = node  # the last definition is the one Python keeps
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == entry_point for t in node.targets
        ):
            definition = node
    if definition is None:
        return f"no definition of {entry_point}"
    if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    body = list(definition.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    if not body:
        return f"the body of {entry_point} is only a docstring"
    if all(_is_placeholder(statement) for statement in body):
        return f"the body of {entry_point} is a placeholder ({ast.unparse(body[0]).splitlines()[0]})"
    return None


def _is_placeholder(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass):
        return True
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and (node.value.value is Ellipsis or isinstance(node.value.value, str))
    ):
        return True
    if isinstance(node, ast.Raise) and node.exc is not None:
        target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return isinstance(target, ast.Name) and target.id == "NotImplementedError"
    return False
