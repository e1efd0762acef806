"""Options every dataset-reading command shares, and how errors reach the user."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from bcb.dataset import DATASETS, DEFAULT_VERSION, VERSIONS, Dataset, DatasetError, load_dataset
from bcb.errors import BcbError

if TYPE_CHECKING:
    from bcb.execution import SandboxOptions

console = Console()
err_console = Console(stderr=True)

#: The help panel of the options that choose the tasks.
DATASET_PANEL = "Dataset"

DatasetName = Annotated[
    str,
    typer.Option(
        "--dataset",
        help=f"Which benchmark: {' or '.join(DATASETS)} (bundled, needs no download).",
        rich_help_panel=DATASET_PANEL,
    ),
]
Version = Annotated[
    Optional[str],
    typer.Option(
        "--version",
        help=f"BigCodeBench version: {', '.join(VERSIONS)}. \\[default: {DEFAULT_VERSION}]",
        rich_help_panel=DATASET_PANEL,
    ),
]
DatasetFile = Annotated[
    Optional[Path],
    typer.Option(
        "--dataset-file",
        help="A local .jsonl/.jsonl.gz dataset; a file that is no released version is used as a custom dataset.",
        rich_help_panel=DATASET_PANEL,
    ),
]
SubsetOpt = Annotated[
    str,
    typer.Option(
        "--subset", help="full (all tasks) or hard (the 148 BigCodeBench-Hard tasks).", rich_help_panel=DATASET_PANEL
    ),
]
DataDir = Annotated[
    Optional[Path],
    typer.Option(
        "--data-dir",
        envvar="BCB_DATA_DIR",
        help="A directory holding BigCodeBench-<version>.jsonl.gz files, searched before the cache.",
        rich_help_panel=DATASET_PANEL,
    ),
]
SelectiveEvaluate = Annotated[
    Optional[str],
    typer.Option(
        "--selective-evaluate",
        help="Only these task ids, comma-separated: BigCodeBench/13,15 or 13,15.",
        rich_help_panel=DATASET_PANEL,
    ),
]
TaskPython = Annotated[
    Optional[str],
    typer.Option(
        "--python",
        help="The task environment's interpreter (default: $BCB_PYTHON, else ./bcb-task-env as `bcb env create` builds it, else this one).",
    ),
]
IdRange = Annotated[
    Optional[str],
    typer.Option(
        "--id-range", help="Only positions LOW..HIGH-1 of the dataset, e.g. 10-20.", rich_help_panel=DATASET_PANEL
    ),
]

# The sandbox options of every command that runs untrusted code (see `sandbox_options`).
AllowNetwork = Annotated[
    bool, typer.Option("--allow-network", help="Let samples use the network (recorded).", rich_help_panel="Sandbox")
]
Unsafe = Annotated[
    bool,
    typer.Option(
        "--unsafe", help="Run even where the sandbox lacks a guarantee (bcb names it).", rich_help_panel="Sandbox"
    ),
]
DisableLayers = Annotated[
    Optional[list[str]],
    typer.Option(
        "--disable-sandbox-layer",
        help="Leave out this layer (names: bcb doctor; repeatable).",
        rich_help_panel="Sandbox",
    ),
]


def check_executor_flags(executor: str, ray_address: str | None, allow_mixed_env: bool) -> None:
    """The one rule for ``--executor`` and the flags that only Ray takes (evaluate and serve)."""
    from bcb.execution import EXECUTOR_KINDS

    if executor not in EXECUTOR_KINDS:
        raise DatasetError(f"unknown --executor {executor!r}: choose one of {', '.join(EXECUTOR_KINDS)}")
    if executor != "ray" and (ray_address or allow_mixed_env):
        raise DatasetError("--ray-address and --allow-mixed-env apply to --executor ray only")


def sandbox_options(
    allow_network: bool = False, unsafe: bool = False, disable_layers: Optional[list[str]] = None
) -> "SandboxOptions":
    """The one place the CLI turns its sandbox flags into options (the layers are probed when the
    workers start; the executor refuses, in one line, a tier that lacks a guarantee)."""
    from bcb.execution import LAYER_NAMES, SandboxOptions

    unknown = sorted(set(disable_layers or ()) - set(LAYER_NAMES))
    if unknown:
        raise DatasetError(
            f"unknown --disable-sandbox-layer {', '.join(unknown)}: choose from {', '.join(LAYER_NAMES)}"
        )
    return SandboxOptions(allow_network=allow_network, unsafe=unsafe, disable_layers=tuple(disable_layers or ()))


class RateColumn(ProgressColumn):
    """Items per second; rich's own speed column counts bytes."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f} {self.unit}/s", style="progress.data.speed")


@contextlib.contextmanager
def user_errors(*also: type[BaseException]) -> Iterator[None]:
    """Problems the user can fix (every :class:`BcbError`) become one red line and exit code 2,
    never a traceback. `also` adds error types from outside that hierarchy (the executors')."""
    errors: tuple[type[BaseException], ...] = (BcbError, *also)
    try:
        yield
    except errors as exc:
        print_error(exc)
        raise typer.Exit(2) from None


def print_error(exc: BaseException) -> None:
    """The one red line a user mistake gets."""
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)


def check_output(path: Path, what: str, inputs: tuple[Path | None, ...] = ()) -> None:
    """Before any work: refuse an output that would destroy an input, is a directory, or cannot be
    written, so a long run never fails at its last step and never eats its own input."""
    for source in inputs:
        if source is not None and path.exists() and source.exists() and os.path.samefile(path, source):
            raise BcbError(f"{what} {path} is also the input: write to another file (the input would be lost)")
    if path.is_dir():
        raise BcbError(f"{what} {path} is a directory: name a file in it")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if (
        not parent.is_dir()
        or not os.access(parent, os.W_OK | os.X_OK)
        or (path.exists() and not os.access(path, os.W_OK))
    ):
        raise BcbError(f"cannot write {what} {path}: {parent} is not a writable directory")


def worker_count(parallel: int) -> int:
    """--parallel as a number of workers: 0 means one per CPU, a negative number is a mistake."""
    if parallel < 0:
        raise BcbError(f"--parallel {parallel}: give a number of workers, or 0 for one per CPU")
    return parallel or (os.cpu_count() or 1)


#: Fewer bootstrap resamples than this give intervals that mean nothing (0 gives a zero-width one).
MIN_RESAMPLES = 100


def check_resamples(resamples: int) -> int:
    if resamples < MIN_RESAMPLES:
        raise BcbError(f"--resamples {resamples}: an interval needs at least {MIN_RESAMPLES} bootstrap resamples")
    return resamples


def open_dataset(
    name: str, version: str | None, dataset_file: Path | None, subset: str, data_dir: Path | None
) -> Dataset:
    """Load with a download progress bar (rate and ETA) when a download happens."""
    progress = Progress(
        TextColumn("downloading {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn("rows"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    bar: list[TaskID] = []

    def report(done: int, total: int) -> None:
        if not bar:
            progress.start()
            bar.append(progress.add_task(f"{name} {version or DEFAULT_VERSION}", total=total))
        progress.update(bar[0], completed=done, total=total)

    try:
        dataset = load_dataset(
            name,
            version=version,
            subset=subset,  # type: ignore[arg-type]
            dataset_file=dataset_file,
            data_dir=data_dir,
            progress=report,
        )
    finally:
        if bar:
            progress.stop()
    for note in dataset.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    return dataset


def is_tty() -> bool:
    return sys.stdout.isatty()
