"""`bcb data ...`: look at a dataset before spending compute on it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from bcb.cli.common import (
    DataDir,
    DatasetFile,
    DatasetName,
    IdRange,
    SelectiveEvaluate,
    SubsetOpt,
    Version,
    check_output,
    console,
    open_dataset,
    user_errors,
)
from bcb.dataset import SPLITS, DatasetError, parse_id_range, parse_ids, select_tasks, write_tasks
from bcb.dataset.domains import lib_domains_for
from bcb.dataset.summary import DatasetSummary, summarize

app = typer.Typer(help="Inspect and export datasets.", no_args_is_help=True)

SHOWABLE = (
    "prompt",
    "complete_prompt",
    "instruct_prompt",
    "code_prompt",
    "canonical_solution",
    "solution",
    "test",
    "libs",
    "doc_struct",
)


@app.command()
def info(
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = "full",
    data_dir: DataDir = None,
    top: Annotated[int, typer.Option(help="How many libraries to list (0: all).")] = 25,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Task count, content hash, and the libraries and domains the tasks exercise."""
    with user_errors():
        loaded = open_dataset(dataset, version, dataset_file, subset, data_dir)
        summary = summarize(loaded, lib_domains_for(loaded, data_dir))
    if as_json:
        sys.stdout.write(json.dumps(summary.to_json(), indent=2) + "\n")
        return
    _print_summary(summary, top)


def _bar(count: int, largest: int, width: int = 30) -> str:
    return "█" * max(1 if count else 0, round(width * count / largest)) if largest else ""


def _print_summary(s: DatasetSummary, top: int) -> None:
    if s.name == "bcb-mini":
        status = "bundled with bcb"
    else:
        status = "[green]verified[/] released content" if s.verified else "[yellow]custom[/] (hash recorded as is)"
    head = Table.grid(padding=(0, 2))
    head.add_row("[bold]dataset", s.label)
    head.add_row("[bold]tasks", str(s.tasks))
    head.add_row("[bold]content hash", s.content_hash)
    head.add_row("[bold]content", status)
    head.add_row("[bold]source", s.source)
    head.add_row(
        "[bold]libraries",
        f"{len(s.libraries)} distinct; libs per task: " + ", ".join(f"{k}: {v}" for k, v in s.libs_per_task.items()),
    )
    console.print(head)

    if s.domains is None:
        console.print(
            "\n[yellow]domains unknown:[/] no lib2domain.json in --data-dir/BCB_DATA_DIR or the cache, and it could not be downloaded"
        )
    else:
        table = Table(title="Tasks per domain (a task counts in each domain it touches)", title_justify="left")
        table.add_column("domain")
        table.add_column("tasks", justify="right")
        table.add_column("")
        largest = max(s.domains.values(), default=0)
        for domain, count in sorted(s.domains.items(), key=lambda kv: -kv[1]):
            table.add_row(domain, str(count), f"[cyan]{_bar(count, largest)}")
        console.print(table)
        if s.unmapped:
            console.print(f"[yellow]libraries without a domain:[/] {', '.join(s.unmapped)}")

    shown = list(s.libraries.items()) if top <= 0 else list(s.libraries.items())[:top]
    table = Table(title=f"Tasks per library ({len(shown)} of {len(s.libraries)})", title_justify="left")
    table.add_column("library")
    table.add_column("tasks", justify="right")
    table.add_column("")
    largest = max(s.libraries.values(), default=0)
    for lib, count in shown:
        table.add_row(lib, str(count), f"[magenta]{_bar(count, largest)}")
    console.print(table)


@app.command()
def show(
    task_id: Annotated[str, typer.Argument(help="BigCodeBench/13, or just 13.")],
    split: Annotated[str, typer.Option(help=f"Which prompt: {' or '.join(SPLITS)}.")] = "complete",
    field: Annotated[str, typer.Option(help=f"What to show: {', '.join(SHOWABLE)}.")] = "prompt",
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = "full",
    data_dir: DataDir = None,
) -> None:
    """Print one task's prompt (or another field)."""
    with user_errors():
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
        if field not in SHOWABLE:
            raise DatasetError(f"unknown field {field!r}: choose one of {', '.join(SHOWABLE)}")
        task = open_dataset(dataset, version, dataset_file, subset, data_dir).task(task_id)
    text = {
        "prompt": task.prompt(split),
        "solution": task.solution,
        "libs": ", ".join(task.libs),
        "doc_struct": json.dumps(task.doc_struct, indent=2, ensure_ascii=False),
    }.get(field) or getattr(task, field)
    if not sys.stdout.isatty():
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from rich.syntax import Syntax  # pygments: only for a task shown on a terminal

    console.rule(f"{task.task_id} · {field if field != 'prompt' else split + ' prompt'} · libs: {', '.join(task.libs)}")
    is_code = field in ("complete_prompt", "code_prompt", "canonical_solution", "solution", "test") or (
        field == "prompt" and split == "complete"
    )
    console.print(Syntax(text, "python", word_wrap=True) if is_code else text, soft_wrap=not is_code, highlight=False)


@app.command()
def export(
    output: Annotated[
        Optional[Path],
        typer.Option("-o", "--output", help="Write here (.jsonl, or .jsonl.gz to compress); default: stdout."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="Output format: jsonl (the official schema).")] = "jsonl",
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = "full",
    data_dir: DataDir = None,
    selective_evaluate: SelectiveEvaluate = None,
    id_range: IdRange = None,
) -> None:
    """Write tasks in the official JSONL schema (e.g. bcb-mini, or the Hard subset as a file)."""
    with user_errors():
        if fmt != "jsonl":
            raise DatasetError(f"unknown format {fmt!r}: only jsonl is supported")
        if output is not None:
            check_output(output, "-o", (dataset_file,))
        loaded = open_dataset(dataset, version, dataset_file, subset, data_dir)
        if output is not None:
            check_output(output, "-o", (Path(loaded.source),))
        tasks = select_tasks(
            loaded,
            ids=parse_ids(selective_evaluate) if selective_evaluate else None,
            id_range=parse_id_range(id_range) if id_range else None,
        )
        if output is None:
            for task in tasks:
                sys.stdout.write(json.dumps(task.to_record(), ensure_ascii=False) + "\n")
            return
        write_tasks(output, tasks)
    console.print(f"wrote {len(tasks)} tasks of {loaded.label} to {output}", highlight=False)
