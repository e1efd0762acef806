"""Reading samples in the formats users already have, and turning them into programs to run.

Two layouts, as the official evaluator reads them: a JSONL file with `task_id` and `solution` (or
`completion`, which is appended to the task's `complete_prompt`), or a directory with one folder
per task (`BigCodeBench_13/`) holding complete solutions as `0.py`, `1.py`, ...
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from bcb.dataset import DatasetError, Task
from bcb.generation.samples import Sample, SamplesError, read_sample_records

CALIBRATION_BODY = "\n    pass\n"

#: Maps what a user wrote as a task id (`13`) to the dataset's id; raises for an unknown one.
ResolveId = Callable[[str], str]


def program(sample: Sample, task: Task, *, calibrated: bool) -> str:
    """The program the official evaluator executes: with calibration, the task's `code_prompt`
    and a `pass` body come first, so an answer that omitted its imports is not punished for it."""
    if calibrated:
        return task.code_prompt + CALIBRATION_BODY + sample.solution
    return sample.solution


def solution_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_samples(
    path: str | os.PathLike[str], tasks: Mapping[str, Task], *, resolve_id: ResolveId | None = None
) -> list[Sample]:
    """All samples, in reading order. `tasks` supplies `complete_prompt` for `completion` samples;
    `resolve_id` maps what a user wrote (`13`) to a dataset id and raises for unknown ones."""
    path = Path(path)
    if path.is_dir():
        return list(_read_dir(path, resolve_id))
    return list(_read_jsonl(path, tasks, resolve_id))


def _resolve(task_id: str, where: str, resolve_id: ResolveId | None) -> str:
    if resolve_id is None:
        return task_id
    try:
        return resolve_id(task_id)
    except DatasetError as exc:
        raise SamplesError(f"{where}: {exc}") from None


def _read_jsonl(path: Path, tasks: Mapping[str, Task], resolve_id: ResolveId | None) -> Iterator[Sample]:
    counters: dict[str, int] = {}
    for record in read_sample_records(path):
        task_id = _resolve(record.task_id, record.where, resolve_id)
        solution = record.solution
        if solution is None:
            task = tasks.get(task_id)
            if task is None:
                raise SamplesError(f"{record.where}: {task_id}: not in the dataset, so its completion has no prompt")
            solution = task.complete_prompt + (record.completion or "")
        raw = record.fields.get("raw_solution")
        index = counters.get(task_id, 0)
        counters[task_id] = index + 1
        yield Sample(
            task_id=task_id,
            index=index,
            solution=solution,
            raw_solution=raw if isinstance(raw, str) else None,
            where=record.where,
        )


def _read_dir(path: Path, resolve_id: ResolveId | None) -> Iterator[Sample]:
    folders = sorted(p for p in path.iterdir() if p.is_dir())
    if not folders:
        raise SamplesError(
            f"{path}: expected one folder per task (e.g. BigCodeBench_13/) holding 0.py, 1.py, ...; found none"
        )
    found = False
    for folder in folders:
        files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix == ".py"), key=_file_order)
        if not files:
            continue
        task_id = _resolve(folder.name.replace("_", "/"), str(folder), resolve_id)
        for index, file in enumerate(files):
            found = True
            try:
                text = file.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise SamplesError(f"{file}: not UTF-8 text") from None
            yield Sample(task_id=task_id, index=index, solution=text, where=str(file))
    if not found:
        raise SamplesError(f"{path}: no N.py files in its task folders")


def _file_order(path: Path) -> tuple[int, str]:
    return (int(path.stem), "") if path.stem.isdigit() else (1 << 30, path.stem)


def counts_by_task(samples: Iterable[Sample]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sample in samples:
        counts[sample.task_id] = counts.get(sample.task_id, 0) + 1
    return counts
