"""The `bcb` command line: wiring only; every decision lives in the layers below."""

from __future__ import annotations

from typing import Annotated, Optional

import sys

import typer

from bcb import __version__
from bcb.cli import data as data_commands
from bcb.cli import demo as demo_command
from bcb.cli import doctor as doctor_command
from bcb.cli import env as env_commands
from bcb.cli import sanitize as sanitize_commands
from bcb.cli import generate as generate_command
from bcb.cli import evaluate as evaluate_command
from bcb.cli import analysis as analysis_commands
from bcb.cli import run as run_command
from bcb.cli import serve as serve_command
from bcb.cli import trust as trust_commands
from bcb.cli.common import print_error
from bcb.errors import BcbError
from bcb.cli import quality as quality_commands

app = typer.Typer(
    name="bcb",
    help="bcb: evaluate code-generating models on BigCodeBench; same verdicts as the official harness, faster and sandboxed.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)
app.add_typer(data_commands.app, name="data")
app.add_typer(env_commands.app, name="env")
app.command("demo")(demo_command.demo)
sanitize_commands.register(app)
app.command("generate", context_settings=generate_command.CONTEXT_SETTINGS)(generate_command.generate)
app.command("evaluate")(evaluate_command.evaluate_command)
analysis_commands.register(app)
app.command("run", context_settings=run_command.RUN_CONTEXT_SETTINGS)(run_command.run_command)
trust_commands.register(app)
quality_commands.register(app)
app.command("doctor")(doctor_command.doctor_command)
app.command("serve")(serve_command.serve_command)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"bcb {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print bcb's version and exit."),
    ] = None,
) -> None:
    """bcb: evaluate code-generating models on BigCodeBench."""


def main() -> None:
    """The CLI-wide rule: a user mistake (any :class:`BcbError`) that a command did not turn into
    its one line itself still ends as one, never as a traceback."""
    try:
        app()
    except BcbError as exc:
        print_error(exc)
        sys.exit(2)
