"""No module grows past about 600 lines unless its header says why (issue 16): a long module is
where a newcomer gets lost, so a long one must have a reason a reader can check."""

from __future__ import annotations

import ast
from pathlib import Path

import bcb

MAX_LINES = 600


def test_every_long_module_says_why_in_its_header() -> None:
    root = Path(bcb.__file__).parent
    unexplained = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") <= MAX_LINES:
            continue
        header = ast.get_docstring(ast.parse(text)) or ""
        if "Why " not in header:
            unexplained.append(f"{path.relative_to(root)} ({text.count(chr(10))} lines)")
    assert not unexplained, f"over {MAX_LINES} lines with no 'Why ...' in the module docstring: {unexplained}"
