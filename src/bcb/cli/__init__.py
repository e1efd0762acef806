"""The `bcb` command line: wiring only; every decision lives in the layers below.

A command's module (and the layers it uses: numpy, SQLite, the executors) is imported only when that
command runs; `bcb --help` lists the commands from `COMMANDS` and imports none of them, so the CLI
starts in the time typer itself takes."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from bcb import __version__
from bcb.errors import BcbError


@dataclass(frozen=True)
class Command:
    """One entry of `bcb --help`: the module that defines it, how it is added to an app, and the
    first paragraph of its help (the listing shows it without importing the module; a test checks it
    against the command's own help)."""

    module: str
    add: Callable[[typer.Typer, ModuleType], None]
    summary: str


def _register(app: typer.Typer, module: ModuleType) -> None:
    module.register(app)


#: Every command in the order `bcb --help` lists them (typer lists groups after commands).
COMMANDS: dict[str, Command] = {
    "demo": Command(
        "demo",
        lambda app, m: app.command("demo")(m.demo),
        "Evaluate a canonical and a flawed reference model on bcb-mini and compare them.",
    ),
    "sanitize": Command(
        "sanitize",
        _register,
        "Cut each sample down to the code its entry point needs (the official sanitizer's rules);\nthe model's text is kept as raw_solution.",
    ),
    "syncheck": Command(
        "sanitize", _register, "Count the samples that do not parse as given and after sanitizing, with their task ids."
    ),
    "generate": Command(
        "generate",
        lambda app, m: app.command("generate", context_settings=m.CONTEXT_SETTINGS)(m.generate),
        "Generate solutions with a model and write them as the official harness does.",
    ),
    "evaluate": Command(
        "evaluate",
        lambda app, m: app.command("evaluate")(m.evaluate_command),
        "Run samples against their tasks' tests and write the official result files.",
    ),
    "leaderboard": Command(
        "analysis",
        _register,
        "Rank models: pass@1 with its 95% CI, calibrated vs raw, Elo, lazy rate, timeouts, api+import failures, GT status.",
    ),
    "strengths": Command(
        "analysis",
        _register,
        "Pass rate per domain and per library for each model, and the ranking on your library stack.",
    ),
    "compare": Command(
        "analysis",
        _register,
        "Tasks solved by one run only, with the other's failing test and error, and McNemar's test.",
    ),
    "errors": Command(
        "analysis",
        _register,
        "Why each model fails: failures per category (syntax, import, name, api, assertion, ...), and the libraries it invents or misuses.",
    ),
    "report": Command(
        "analysis",
        _register,
        "One self-contained HTML file: leaderboard, Elo, domains, libraries, stack, task browser, runs.",
    ),
    "run": Command(
        "run",
        lambda app, m: app.command("run", context_settings=m.RUN_CONTEXT_SETTINGS)(m.run_command),
        "Generate samples with a model, then evaluate them (the official `bigcodebench.evaluate` with a model).",
    ),
    "perturb": Command(
        "trust",
        _register,
        "Derive a perturbed dataset (renamed entry point, parameters and locals, reworded prompts),\n"
        "keeping only tasks whose canonical solution passes the perturbed tests.",
    ),
    "contamination": Command(
        "trust",
        _register,
        "The memorisation gap: pass@1 on the original tasks minus pass@1 on their perturbed forms,\n"
        "with a paired bootstrap CI and the tasks solved in one form only.",
    ),
    "qa": Command(
        "quality",
        _register,
        "Dataset quality: tests per task, branch coverage of the canonical solutions, ground-truth\npass rate, runtime and flaky tests.",
    ),
    "doctor": Command(
        "doctor",
        lambda app, m: app.command("doctor")(m.doctor_command),
        "Which libraries, data and sandbox settings stop ground truths from passing here; exits 1 when the ground-truth pass rate cannot reach 0.99.",
    ),
    "serve": Command(
        "serve",
        lambda app, m: app.command("serve")(m.serve_command),
        "Serve evaluations over HTTP: the official Gradio /predict API (pip install 'bcb\\[serve]') and a JSON API.",
    ),
    "data": Command("data", lambda app, m: app.add_typer(m.app, name="data"), "Inspect and export datasets."),
    "env": Command(
        "env",
        lambda app, m: app.add_typer(m.app, name="env"),
        "Build and inspect the task environment (the libraries tasks import).",
    ),
    "task": Command("quality", _register, "Author tasks in the official schema: scaffold one, then check it."),
}


def _typer_app(**settings: Any) -> typer.Typer:
    """The settings every bcb app shares: the root, and the app each command is built in."""
    return typer.Typer(rich_markup_mode="rich", pretty_exceptions_show_locals=False, **settings)


class _LazyCommands(Mapping[str, Any]):
    """The root's commands by name, each of `COMMANDS` built (its module imported) on first use;
    `registered` are commands added to `app` in code (`@app.command()`), built already."""

    def __init__(self, registered: Mapping[str, Any]) -> None:
        self._built: dict[str, Any] = dict(registered)
        self._names = list(COMMANDS) + [name for name in registered if name not in COMMANDS]

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            entry = COMMANDS[name]
            app = _typer_app()
            entry.add(app, import_module(f"bcb.cli.{entry.module}"))
            self._built.update(typer.main.get_group(app).commands)
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def listing(self) -> dict[str, Any]:
        """What `bcb --help` shows, built from the summaries: no command's module is imported."""
        return {
            name: self._built[name] if name not in COMMANDS else TyperCommand(name=name, help=COMMANDS[name].summary)
            for name in self._names
        }


class _LazyGroup(TyperGroup):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands: _LazyCommands = _LazyCommands(self.commands)  # type: ignore[assignment]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        listing = copy.copy(self)
        listing.commands = self.commands.listing()  # type: ignore[assignment]
        TyperGroup.format_help(listing, ctx, formatter)


app = _typer_app(
    name="bcb",
    help="bcb: evaluate code-generating models on BigCodeBench; same verdicts as the official harness, faster and sandboxed.",
    no_args_is_help=True,
    cls=_LazyGroup,
)


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
        from bcb.cli.common import print_error

        print_error(exc)
        sys.exit(2)
