"""The CLI imports a command's module only when that command runs, and `bcb --help` still shows
exactly what the commands themselves say."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import pytest
import typer
from typer.core import TyperGroup

from bcb.cli import COMMANDS, app

#: Modules no listing or dataset command needs: the executors, SQLite, numpy, the other commands.
HEAVY = (
    "numpy",
    "sqlite3",
    "bcb.execution.executor",
    "bcb.evaluation.evaluate",
    "bcb.evaluation.store",
    "bcb.generation.runner",
    "bcb.server.service",
)

_PROBE = """
import json, sys
from bcb.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""


def _modules_loaded_by(*argv: str) -> set[str]:
    """The modules a real `bcb *argv` process has imported when it ends (it must succeed)."""
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.argv = {['bcb', *argv]!r}\n{_PROBE}"],
        capture_output=True,
        text=True,
        env=dict(os.environ, COLUMNS="100"),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_help_imports_no_command() -> None:
    loaded = _modules_loaded_by("--help")
    assert not {m for m in loaded if m.startswith("bcb.") and m not in ("bcb.cli", "bcb.errors")}
    assert not loaded & set(HEAVY)


def test_data_info_imports_only_what_it_uses() -> None:
    loaded = _modules_loaded_by("data", "info", "--dataset", "bcb-mini")
    assert "bcb.cli.data" in loaded
    commands = {m for m in loaded if m.startswith("bcb.cli.")}
    assert commands <= {"bcb.cli.data", "bcb.cli.common"}, commands
    assert not loaded & set(HEAVY)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_listed_summary_is_the_commands_own(name: str) -> None:
    """The summary `bcb --help` shows without importing a command is the first paragraph of the
    help the command itself has."""
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    own = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0].strip()
    assert COMMANDS[name].summary == own


def test_listing_is_what_the_built_commands_render(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    group = typer.main.get_command(app)
    ctx = group.make_context("bcb", ["--help"], resilient_parsing=True)
    group.get_help(ctx)
    lazy = capsys.readouterr().out
    built = TyperGroup.__new__(TyperGroup)
    built.__dict__.update(group.__dict__)
    built.commands = {name: group.commands[name] for name in COMMANDS}  # type: ignore[attr-defined]
    built.get_help(ctx)
    assert capsys.readouterr().out == lazy
    assert "evaluate" in lazy and "Inspect and export datasets." in lazy


def test_a_mistyped_command_is_still_suggested(bcb_cmd: list[str]) -> None:
    result = subprocess.run([*bcb_cmd, "evalute"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Did you mean 'evaluate'" in result.stderr


def test_a_command_added_in_code_is_listed_and_runs() -> None:
    script = (
        "import sys\n"
        "from bcb.cli import app, main\n"
        "@app.command('extra')\n"
        "def extra() -> None:\n"
        "    'Added by a plug-in.'\n"
        "    print('extra ran')\n"
        "sys.argv = ['bcb', *sys.argv[1:]]\n"
        "main()\n"
    )
    env = dict(os.environ, COLUMNS="100")
    listed = subprocess.run(
        [sys.executable, "-c", script, "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert (
        listed.returncode == 0
        and "extra" in listed.stdout
        and "Added by a plug-in." in listed.stdout
        and "evaluate" in listed.stdout
    )
    ran = subprocess.run([sys.executable, "-c", script, "extra"], capture_output=True, text=True, env=env, timeout=60)
    assert ran.returncode == 0 and ran.stdout.strip() == "extra ran"
