"""`bcb sanitize` and `bcb syncheck`: clean a samples file the way the official tools do, and see
which samples would not even parse.

A dataset is loaded only when it is needed: for `completion` samples (the prompt comes first) or
when a dataset option is given (entry points then come from the tasks). Otherwise every entry point
is `task_func`, as in every BigCodeBench task, so the common case works offline.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Annotated, Any, Iterator, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bcb.cli.common import (
    DataDir,
    DatasetFile,
    DatasetName,
    RateColumn,
    SubsetOpt,
    Version,
    check_output,
    console,
    err_console,
    open_dataset,
    user_errors,
)
from bcb.dataset import Dataset, DatasetError, Task
from bcb.fileio import write_atomic
from bcb.generation.samples import SampleRecord, SamplesError, read_sample_records
from bcb.generation.sanitize import parses, sanitize

DEFAULT_ENTRY_POINT = "task_func"
#: Options that ask for a dataset; --data-dir (often set through BCB_DATA_DIR) only says where one is.
_DATASET_OPTIONS = ("dataset", "version", "dataset_file", "subset")

Samples = Annotated[
    Path,
    typer.Option("--samples", help="Samples JSONL (.jsonl or .jsonl.gz): task_id + solution, or task_id + completion."),
]
EntryPoint = Annotated[
    Optional[str],
    typer.Option(
        "--entry-point",
        help="The function to keep and what it needs. \\[default: each task's entry point, else task_func]",
    ),
]


def _write_lines(path: Path, lines: list[str]) -> None:
    """Atomically: a failure leaves the previous file (or none), never an empty or half one."""
    data = "".join(lines).encode("utf-8")
    write_atomic(path, gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)


def sanitized_path(samples: Path) -> Path:
    """`x.jsonl` -> `x-sanitized.jsonl`, next to it, as the official `bigcodebench.sanitize` names it."""
    name = samples.name
    for suffix in (".jsonl.gz", ".jsonl"):
        if name.endswith(suffix):
            return samples.with_name(name[: -len(suffix)] + "-sanitized" + suffix)
    return samples.with_name(name + "-sanitized.jsonl")


class _Programs:
    """Turns records into programs and entry points, loading the dataset only if it must."""

    def __init__(
        self, records: list[SampleRecord], entry_point: str | None, dataset: Dataset | None, path: Path
    ) -> None:
        self.entry_point = entry_point
        self.dataset = dataset
        if dataset is not None:
            for record in records:
                if self.task(record) is None:
                    raise SamplesError(f"{path}:{record.lineno}: task {record.task_id!r} is not in {dataset.label}")
        if entry_point is not None:
            # A name no sample defines would cut every sample down to its imports.
            if not entry_point.isidentifier():
                raise SamplesError(f"--entry-point {entry_point!r} is not a Python function name")
            defined = re.compile(rf"^(?:async\s+)?def\s+{re.escape(entry_point)}\s*\(", re.MULTILINE)
            if not any(defined.search(self.raw(r, newline=True)) for r in records):
                raise SamplesError(
                    f"--entry-point {entry_point}: no sample in {path} defines it; leave it out to use each task's entry point"
                )

    def task(self, record: SampleRecord) -> Task | None:
        if self.dataset is None:
            return None
        try:
            return self.dataset.task(record.task_id)
        except DatasetError:
            return None

    def raw(self, record: SampleRecord, *, newline: bool) -> str:
        """The answer as a whole program. For a completion the official sanitizer joins prompt and
        completion with a newline, while its evaluator and syntax check join them without one."""
        if record.solution is not None:
            return record.solution
        task = self.task(record)
        assert task is not None, "completion samples load the dataset, and every task was found in it"
        return task.complete_prompt + ("\n" if newline else "") + record.fields["completion"]

    def entry(self, record: SampleRecord) -> str:
        if self.entry_point:
            return self.entry_point
        task = self.task(record)
        return task.entry_point if task is not None else DEFAULT_ENTRY_POINT


def _programs(
    ctx: typer.Context, records: list[SampleRecord], entry_point: str | None, path: Path, *dataset_args: Any
) -> _Programs:
    needs_prompt = any(r.solution is None for r in records)
    asked = any(ctx.get_parameter_source(name).name != "DEFAULT" for name in _DATASET_OPTIONS)  # type: ignore[union-attr]
    dataset = open_dataset(*dataset_args) if needs_prompt or asked else None
    return _Programs(records, entry_point, dataset, path)


def _progress(description: str) -> Progress:
    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn("samples"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


def _tracked(records: list[SampleRecord], description: str) -> Iterator[SampleRecord]:
    with _progress(description) as progress:
        yield from progress.track(records, description=description)


def sanitize_command(
    ctx: typer.Context,
    samples: Samples,
    entry_point: EntryPoint = None,
    output: Annotated[
        Optional[Path],
        typer.Option("-o", "--output", help="Where to write. \\[default: <samples>-sanitized.jsonl next to it]"),
    ] = None,
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = "full",
    data_dir: DataDir = None,
) -> None:
    """Cut each sample down to the code its entry point needs (the official sanitizer's rules);
    the model's text is kept as raw_solution."""
    with user_errors():
        records = read_sample_records(samples)
        target = output or sanitized_path(samples)
        check_output(target, "--output", (samples,))
        programs = _programs(ctx, records, entry_point, samples, dataset, version, dataset_file, subset, data_dir)
        changed = 0
        lines = []
        for record in _tracked(records, "sanitizing"):
            raw = programs.raw(record, newline=True)
            solution = sanitize(raw, programs.entry(record))
            changed += solution != raw
            kept = record.fields.get("raw_solution")
            rest = {
                k: v for k, v in record.fields.items() if k not in ("task_id", "solution", "raw_solution", "completion")
            }
            out = {
                "task_id": record.task_id,
                "solution": solution,
                "raw_solution": kept if isinstance(kept, str) else raw,
                **rest,
            }
            lines.append(json.dumps(out, ensure_ascii=False) + "\n")
        _write_lines(target, lines)
    console.print(f"sanitized {len(records)} samples ({changed} changed) -> {target}", highlight=False)


def syncheck_command(
    ctx: typer.Context,
    samples: Samples,
    entry_point: EntryPoint = None,
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = "full",
    data_dir: DataDir = None,
    show: Annotated[int, typer.Option(help="How many task ids to list per row (0: all).")] = 20,
) -> None:
    """Count the samples that do not parse as given and after sanitizing, with their task ids."""
    with user_errors():
        records = read_sample_records(samples)
        programs = _programs(ctx, records, entry_point, samples, dataset, version, dataset_file, subset, data_dir)
        before: dict[str, list[str]] = {"invalid": [], "empty": []}
        after: dict[str, list[str]] = {"invalid": [], "empty": []}
        for record in _tracked(records, "checking"):
            given = programs.raw(record, newline=False)
            _classify(given, record.task_id, before)
            _classify(sanitize(programs.raw(record, newline=True), programs.entry(record)), record.task_id, after)
    table = Table(title=f"Syntax check of {samples} ({len(records)} samples)", title_justify="left")
    table.add_column("")
    table.add_column("do not parse", justify="right")
    table.add_column("empty", justify="right")
    table.add_column("tasks")
    for label, found in (("as given", before), ("after sanitizing", after)):
        style = "green" if not (found["invalid"] or found["empty"]) else "red"
        table.add_row(label, f"[{style}]{len(found['invalid'])}", f"[{style}]{len(found['empty'])}", _ids(found, show))
    console.print(table)


def _classify(code: str, task_id: str, found: dict[str, list[str]]) -> None:
    if not code.strip():
        found["empty"].append(task_id)
    elif not parses(code):
        found["invalid"].append(task_id)


def _ids(found: dict[str, list[str]], show: int) -> str:
    ids = sorted(set(found["invalid"]) | set(found["empty"]), key=_id_order)
    if not ids:
        return "-"
    shown = ids if show <= 0 else ids[:show]
    more = len(ids) - len(shown)
    return ", ".join(shown) + (f" … (+{more} more)" if more else "")


def _id_order(task_id: str) -> tuple[str, int, str]:
    head, _, tail = task_id.rpartition("/")
    return (head, int(tail), "") if tail.isdigit() else (head, 1 << 62, tail)


def register(app: typer.Typer) -> None:
    app.command("sanitize")(sanitize_command)
    app.command("syncheck")(syncheck_command)
