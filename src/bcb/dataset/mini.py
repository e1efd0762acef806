"""bcb-mini: a small benchmark that ships inside bcb.

The real BigCodeBench is a 1,140-task download whose tests need a heavy environment (TensorFlow,
scikit-learn, network fixtures...). bcb-mini exists so that a new user can see the whole pipeline
(prompt, generate, sanitize, execute, score) work in seconds with no download and only numpy,
pandas and matplotlib installed, and so that bcb's own test suite has a fixture with known answers.
Its tasks are original (not taken from BigCodeBench or any other benchmark) but are stored as a
release is: `data/bcb-mini.jsonl`, one task a line in the official nine-field schema, so every
code path that reads a real release reads these too; `data/bcb-mini-domains.json` is its
library -> domain map in the shape of the official `lib2domain.json`. They are deterministic,
offline, each runs its tests well under a second, and they write only into the working directory
or tempfile directories.

To add or change a task, edit its line; `tests/test_mini.py` checks that the derived fields
(`code_prompt`, `doc_struct`, `instruct_prompt`) follow from `complete_prompt` by the official
rules and that the canonical solution passes its tests, and says what it expected where not.
"""

from __future__ import annotations

import json
from importlib.resources import files

__all__ = ["LIB_DOMAINS", "RECORDS"]


def _data(name: str) -> str:
    return (files("bcb.dataset") / "data" / name).read_text(encoding="utf-8")


#: The tasks, in file order, each the record exactly as the file holds it.
RECORDS: tuple[dict[str, str], ...] = tuple(
    json.loads(line) for line in _data("bcb-mini.jsonl").splitlines() if line.strip()
)

#: Domain of each library the tasks use, per BigCodeBench's own lib2domain classification.
LIB_DOMAINS: dict[str, str] = json.loads(_data("bcb-mini-domains.json"))
