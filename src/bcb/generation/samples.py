"""The samples file: the official schema and name, appended one durable line at a time.

Within a task, samples are written in sample-index order, so the number of lines a task has is
the number of its first samples that are done. That is also how the official harness counts when
it resumes, so either tool can resume the other's file.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bcb.dataset import DatasetError
from bcb.dataset.loading import read_records
from bcb.generation.errors import GenerationError


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One model answer for one task, as generation writes it and evaluation reads it. `index`
    numbers the answers of a task in order (the official `completion_id`); `raw_solution` is the
    model's text before sanitizing, when known; `where` says where it came from, for messages.
    Keyword-only, so no caller can swap two of its strings."""

    task_id: str
    index: int
    solution: str
    raw_solution: str | None = None
    where: str = ""

    def to_record(self) -> dict[str, str]:
        record = {"task_id": self.task_id, "solution": self.solution}
        if self.raw_solution is not None:
            record["raw_solution"] = self.raw_solution
        return record


def model_label(model: str, backend: str, reasoning_effort: str | None) -> str:
    """OpenAI's o1-/o3- models carry their reasoning effort in the name, as officially (the API's
    default effort, medium, when none is given)."""
    if backend == "openai" and model.startswith(("o1-", "o3-")):
        return f"{model}--{reasoning_effort or 'medium'}"
    return model


def format_temperature(temperature: float) -> str:
    """`0` for greedy as officially; whole numbers without a trailing `.0` (how the official
    command line reads `--temperature 1`); others as Python prints them (`0.8`)."""
    return str(int(temperature)) if float(temperature).is_integer() else str(temperature)


def samples_file_name(
    model: str,
    *,
    backend: str,
    split: str,
    subset: str = "full",
    temperature: float = 0.0,
    n_samples: int = 1,
    revision: str = "main",
    dataset: str = "bigcodebench",
    reasoning_effort: str | None = None,
) -> str:
    """`[model]--[revision]--bigcodebench[-hard]-[split]--[backend]-[temperature]-[n]-sanitized_calibrated.jsonl`."""
    label = model_label(model, backend, reasoning_effort).replace("/", "--")
    extra = "" if subset == "full" else f"-{subset}"
    return f"{label}--{revision}--{dataset}{extra}-{split}--{backend}-{format_temperature(temperature)}-{n_samples}-sanitized_calibrated.jsonl"


class SamplesFile:
    """Append-only JSONL. Opening it repairs what a kill can leave (a last line cut short) and
    counts the samples each task already has."""

    def __init__(self, path: str | os.PathLike[str], *, resume: bool) -> None:
        self.path = Path(path)
        self.counts: Counter[str] = Counter()
        self.repaired = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if resume and self.path.exists():
                self._load()
            else:
                self.path.write_bytes(b"")
            self._handle: IO[bytes] = open(self.path, "ab")
        except OSError as exc:
            raise GenerationError(f"cannot write the samples file {self.path}: {exc.strerror or exc}") from None

    def _load(self) -> None:
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            # A line without its newline was being written when the process died.
            self.repaired = len(data) - end
            with open(self.path, "r+b") as handle:
                handle.truncate(end)
                handle.flush()
                os.fsync(handle.fileno())
            data = data[:end]
        for lineno, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                task_id = record["task_id"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise GenerationError(
                    f"{self.path}:{lineno}: not a sample line; fix or move the file, or start afresh with --no-resume"
                ) from None
            self.counts[str(task_id)] += 1

    def append(self, sample: Sample) -> None:
        """Written and fsynced before returning: a sample on disk is never generated again."""
        line = json.dumps(sample.to_record(), ensure_ascii=False) + "\n"
        self._handle.write(line.encode("utf-8"))
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.counts[sample.task_id] += 1

    def close(self) -> None:
        self._handle.close()


class SamplesError(DatasetError):
    """A samples file that cannot be used; one line naming the file, the line and the problem."""


@dataclass(frozen=True)
class SampleRecord:
    """One line of a samples file, checked: a task id, and a string `solution` or `completion`.
    `fields` is the whole record, so tools that rewrite a file lose nothing the user had in it."""

    lineno: int
    where: str
    task_id: str
    fields: dict[str, Any]

    @property
    def solution(self) -> str | None:
        value = self.fields.get("solution")
        return value if isinstance(value, str) else None

    @property
    def completion(self) -> str | None:
        value = self.fields.get("completion")
        return value if isinstance(value, str) else None


def _check_text(value: Any, where: str) -> None:
    """JSON may escape a lone surrogate (``"\\ud800"``), which no file or program can hold as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise SamplesError(
                f"{where}: holds {value[exc.start]!r} at character {exc.start}, a lone surrogate no UTF-8 text can hold; fix the sample"
            ) from None


def read_sample_records(path: str | os.PathLike[str]) -> list[SampleRecord]:
    """Every record of a samples JSONL (.jsonl or .jsonl.gz), in order. The one reader every
    command uses, so a bad file gets the same one-line error whichever command meets it."""
    path = Path(path)
    records: list[SampleRecord] = []
    try:
        for lineno, fields in read_records(path):
            where = f"{path}:{lineno}"
            task_id = fields.get("task_id")
            if not isinstance(task_id, str) or not task_id:
                raise SamplesError(f"{where}: sample has no task_id")
            if not isinstance(fields.get("solution"), str) and not isinstance(fields.get("completion"), str):
                present = [k for k in ("solution", "completion") if k in fields]
                problem = (
                    f"'{present[0]}' must be a string (repeat the task_id for several samples)"
                    if present
                    else "sample has neither 'solution' nor 'completion'"
                )
                raise SamplesError(f"{where}: {task_id}: {problem}")
            for key in ("task_id", "solution", "completion", "raw_solution"):
                _check_text(fields.get(key), f"{where}: {key}")
            records.append(SampleRecord(lineno, where, task_id, fields))
    except SamplesError:
        raise
    except DatasetError as exc:
        raise SamplesError(str(exc)) from None
    if not records:
        raise SamplesError(f"{path}: holds no samples")
    return records
