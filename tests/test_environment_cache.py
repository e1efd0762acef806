"""The environment fingerprint is probed once per package set: reused (no probe subprocess) while
nothing is installed into or removed from the interpreter, probed again after either."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from bcb import filecache
from bcb.execution import environment
from bcb.execution.environment import (
    MissingLibrariesError,
    environment_fingerprint,
    missing_libraries,
    require_libraries,
)

SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The interpreters the real probe subprocess ran in."""
    calls: list[str] = []
    real = environment.run_probe

    def counting(python, script, stdin=""):  # type: ignore[no-untyped-def]
        calls.append(python)
        return real(python, script, stdin)

    monkeypatch.setattr(environment, "run_probe", counting)
    return calls


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A throwaway venv of the system Python (no pip inside: packages go in with this pip's --python)."""
    if not SYSTEM_PYTHON.is_file():
        pytest.skip(f"{SYSTEM_PYTHON} not present")
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True, timeout=120)
    return tmp_path / "venv" / "bin" / "python"


def _wheel(directory: Path, name: str = "bcb_tiny_pkg", version: str = "1.0") -> Path:
    """A minimal pure-Python wheel, built here (no network, no build backend)."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": "VALUE = 1\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: bcb-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join(record + [f"{dist}/RECORD,,"]) + "\n"
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def _pip(venv: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv), "--disable-pip-version-check", *args],
        check=True,
        capture_output=True,
        timeout=300,
    )


def _settle() -> None:
    time.sleep(filecache.SETTLE_S + 0.1)


def test_fingerprint_is_reused_until_a_package_is_installed_or_removed(
    venv: Path, tmp_path: Path, probes: list[str]
) -> None:
    python = str(venv)
    _settle()
    first = environment_fingerprint(python)
    assert environment_fingerprint(python) == first
    assert len(probes) == 1, "an unchanged interpreter was probed again"

    _pip(venv, "install", "--no-index", "--no-deps", str(_wheel(tmp_path)))
    installed = environment_fingerprint(python)
    assert len(probes) == 2
    assert installed["packages"] == first["packages"] + 1
    assert installed["freeze_sha256"] != first["freeze_sha256"]
    _settle()
    assert environment_fingerprint(python) == installed
    assert environment_fingerprint(python) == installed
    assert len(probes) == 3  # the install was too recent to cache at once; then cached

    _pip(venv, "uninstall", "--yes", "bcb_tiny_pkg")
    removed = environment_fingerprint(python)
    assert len(probes) == 4
    assert removed == first


def test_cached_fingerprint_is_the_probed_one(venv: Path, probes: list[str]) -> None:
    """What the cache gives is exactly what a probe says, NLTK data included."""
    python = str(venv)
    _settle()
    probed = environment_fingerprint(python)
    cached = environment_fingerprint(python)
    assert len(probes) == 1 and cached == probed
    assert set(cached) == {
        "python_version", "implementation", "executable", "prefix", "platform", "machine",
        "packages", "freeze_sha256", "freeze_source", "nltk_data_sha256",
    }  # fmt: skip


@pytest.mark.parametrize("damage", ["not json", "a count that is text", "a key missing"])
def test_corrupt_cache_means_probing_again(venv: Path, probes: list[str], damage: str) -> None:
    python = str(venv)
    _settle()
    first = environment_fingerprint(python)
    cache = filecache.cache_dir() / "environment-fingerprints.json"
    document = json.loads(cache.read_text())
    (entry,) = document["entries"].values()
    if damage == "a count that is text":
        entry["value"]["packages"] = "3"
    elif damage == "a key missing":
        del entry["value"]["freeze_sha256"]
    cache.write_text("{" if damage == "not json" else json.dumps(document))
    assert environment_fingerprint(python) == first
    assert len(probes) == 2


def test_a_bare_interpreter_name_is_probed_every_time(probes: list[str]) -> None:
    """`python3` means whatever PATH finds at the time: nothing to key a cache on."""
    environment_fingerprint("python3")
    environment_fingerprint("python3")
    assert len(probes) == 2


def test_library_check_is_reused_until_a_package_is_removed_or_installed(
    venv: Path, tmp_path: Path, probes: list[str]
) -> None:
    python = str(venv)
    _pip(venv, "install", "--no-index", "--no-deps", str(_wheel(tmp_path)))
    _settle()
    require_libraries(python, "--python", ["bcb_tiny_pkg", "json"])
    assert missing_libraries(python, ["json", "bcb_tiny_pkg", "bcb_tiny_pkg"]) == []
    assert len(probes) == 1, "an unchanged interpreter was probed again"
    assert missing_libraries(python, ["bcb_not_installed", "json"]) == ["bcb_not_installed"]
    assert len(probes) == 2  # a name not asked before is probed
    assert missing_libraries(python, ["bcb_not_installed"]) == ["bcb_not_installed"]
    assert len(probes) == 2  # and then known, missing or not

    _pip(venv, "uninstall", "--yes", "bcb_tiny_pkg")
    with pytest.raises(MissingLibrariesError, match="bcb_tiny_pkg"):
        require_libraries(python, "--python", ["bcb_tiny_pkg", "json"])
    assert len(probes) == 3
    _settle()
    assert missing_libraries(python, ["bcb_tiny_pkg"]) == ["bcb_tiny_pkg"]
    assert missing_libraries(python, ["bcb_tiny_pkg"]) == ["bcb_tiny_pkg"]
    assert len(probes) == 4  # the removal was too recent to cache at once; then cached

    _pip(venv, "install", "--no-index", "--no-deps", str(_wheel(tmp_path)))
    assert missing_libraries(python, ["bcb_tiny_pkg"]) == []
    assert len(probes) == 5


def test_library_check_from_a_corrupt_cache_probes_again(venv: Path, probes: list[str]) -> None:
    python = str(venv)
    _settle()
    assert missing_libraries(python, ["json", "bcb_not_installed"]) == ["bcb_not_installed"]
    cache = filecache.cache_dir() / "environment-imports.json"
    document = json.loads(cache.read_text())
    (entry,) = document["entries"].values()
    entry["value"]["missing"] = "bcb_not_installed"
    cache.write_text(json.dumps(document))
    assert missing_libraries(python, ["json", "bcb_not_installed"]) == ["bcb_not_installed"]
    assert len(probes) == 2
