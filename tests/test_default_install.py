"""What `pip install bcb` (no extras) gives must run bcb's main jobs: built here as a real
interpreter that sees only bcb and the closure of its core dependencies, as pyproject.toml
declares them, taken from the packages installed in this environment."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib", reason="Python 3.11+ reads pyproject.toml with tomllib")

REPO = Path(__file__).resolve().parents[1]


def core_closure() -> set[str]:
    """Distribution names `pip install -e .` pulls in, extras left out."""
    wanted = [Requirement(r) for r in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]]
    seen: set[str] = set()
    while wanted:
        req = wanted.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = req.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            wanted.extend(Requirement(r) for r in md.requires(req.name) or [])
        except md.PackageNotFoundError:
            pytest.skip(
                f"{req.name} is not installed here, so the default install cannot be assembled from this environment"
            )
    return seen


def default_install(root: Path) -> Path:
    """A venv without site packages whose one .pth names a directory of links to bcb's source
    and to every file of the core closure's distributions."""
    site = root / "site"
    site.mkdir()
    (site / "bcb").symlink_to(REPO / "src" / "bcb")
    for name in core_closure():
        dist = md.distribution(name)
        for file in dist.files or []:
            top = file.parts[0]
            if top.endswith(".dist-info") or top == ".." or top.startswith("__pycache__"):
                continue
            source = Path(dist.locate_file(top))
            if source.exists() and not (site / top).exists():
                (site / top).symlink_to(source)
    env = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    lib = next((env / "lib").glob("python3*/site-packages"))
    (lib / "default-install.pth").write_text(str(site) + "\n")
    return env / "bin" / "python"


def write_results(path: Path, outcomes: dict[str, list[str]]) -> Path:
    table = {
        t: [{"task_id": t, "solution": "x = 1\n", "status": s, "details": {}} for s in rows]
        for t, rows in outcomes.items()
    }
    path.write_text(json.dumps({"date": "2026-01-01 00:00", "eval": table}))
    return path


def test_the_leaderboard_works_on_the_default_install(tmp_path: Path) -> None:
    python = default_install(tmp_path)
    extra = subprocess.run([str(python), "-c", "import pandas"], capture_output=True, check=False)
    assert extra.returncode != 0, "the default install must not see the extras' packages"
    ids = [f"BigCodeBench/{n}" for n in range(6)]
    a = write_results(tmp_path / "a_eval_results.json", {t: ["pass" if i < 4 else "fail"] for i, t in enumerate(ids)})
    b = write_results(tmp_path / "b_eval_results.json", {t: ["pass" if i < 2 else "fail"] for i, t in enumerate(ids)})
    result = subprocess.run(
        [str(python), "-m", "bcb", "leaderboard", str(a), str(b), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert [r["model"] for r in rows] == ["a", "b"]
