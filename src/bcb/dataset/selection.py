"""Task selection with the official harness's semantics, so scripts port over unchanged."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from bcb.dataset.loading import Dataset
from bcb.dataset.task import DatasetError, Task

_RANGE = re.compile(r"^\s*\[?\s*(\d+)\s*[-,:]\s*(\d+)\s*\]?\s*$")


def parse_id_range(text: str) -> tuple[int, int]:
    """`10-20` (also `10,20`, `[10, 20]`): positions 10..19 of the dataset in its order, as the
    official `--id_range` counts them (a half-open range over positions, not task numbers)."""
    match = _RANGE.match(text)
    if match is None:
        raise DatasetError(f"bad id range {text!r}: write LOW-HIGH, e.g. 10-20 for positions 10..19")
    low, high = int(match.group(1)), int(match.group(2))
    if high <= low:
        raise DatasetError(f"bad id range {text!r}: HIGH must be greater than LOW")
    return low, high


def parse_ids(text: str | Iterable[str]) -> list[str]:
    """Comma-separated ids as the official `--selective_evaluate` takes them."""
    parts = text.split(",") if isinstance(text, str) else [p for item in text for p in item.split(",")]
    ids = [p.strip() for p in parts if p.strip()]
    if parts and not ids:
        raise DatasetError(f"--selective-evaluate {text!r} names no task: write ids such as 13,15 or BigCodeBench/13")
    return ids


def select_tasks(
    dataset: Dataset, *, ids: Sequence[str] | None = None, id_range: tuple[int, int] | None = None
) -> tuple[Task, ...]:
    """Tasks kept by both filters, in dataset order. Unknown ids are an error, not a silent
    shrink of the benchmark."""
    tasks = dataset.tasks
    if id_range is not None:
        low, high = id_range
        tasks = tasks[low:high]
    if ids:
        wanted = {dataset.resolve_id(i) for i in ids}
        tasks = tuple(t for t in tasks if t.task_id in wanted)
    if not tasks:
        raise DatasetError("the selection keeps no task: check --selective-evaluate and --id-range together")
    return tasks
