"""Where the test suite finds what lives outside the repository, each with a documented default
beside it and a variable to move it: the BigCodeBench files (../shared/data, BCB_SHARED_DATA), the
task environment (../venvs/task-env, BCB_PYTHON) and the official evaluator's venv
(../venvs/official, BCB_OFFICIAL_PYTHON). Tests that need one are skipped, saying which, without it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("BCB_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()


def shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} not present (set BCB_SHARED_DATA to the directory holding the BigCodeBench files)")
    return path


#: Read once at import: the suite's fixtures clear BCB_PYTHON so no test's bcb picks it up unasked.
TASK_PYTHON = Path(os.environ.get("BCB_PYTHON") or REPO.parent / "venvs" / "task-env" / "bin" / "python")
TASK_PYTHON_ABSENT = f"{TASK_PYTHON} absent: set BCB_PYTHON to the task environment's interpreter (`bcb env create`)"
OFFICIAL_PYTHON = Path(os.environ.get("BCB_OFFICIAL_PYTHON") or REPO.parent / "venvs" / "official" / "bin" / "python")


def alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def run_bcb(*args: str, cwd: Path, columns: int = 120) -> subprocess.CompletedProcess[str]:
    """The real ``bcb`` command of this interpreter's environment, as a user runs it."""
    script = shutil.which("bcb", path=str(Path(sys.executable).parent))
    cmd = [script] if script else [sys.executable, "-m", "bcb"]
    env = dict(os.environ, COLUMNS=str(columns), NO_COLOR="1")
    return subprocess.run([*cmd, *args], check=False, capture_output=True, text=True, env=env, timeout=300, cwd=cwd)


def logging_python(tmp_path: Path) -> tuple[Path, Path]:
    """An interpreter that logs every start (its arguments) before becoming this one. Asked for
    its own path (as executors ask, to skip launchers) it names itself, so the workers start
    through it too and a zygote shows up in the log by its script's name."""
    log = tmp_path / "python-starts.log"
    wrapper = tmp_path / "logging-python"
    wrapper.write_text(
        f'#!/bin/sh\necho "$*" >> {log}\n'
        f'if [ "$*" = "-I -c import sys; print(sys.executable)" ]; then echo "$0"; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper, log
