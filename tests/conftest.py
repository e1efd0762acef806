"""Shared fixtures. The BigCodeBench files are read from ../shared/data (never committed);
tests that need them are skipped with a reason when that directory is absent."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or pollutes the user's real cache or data dir."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("BCB_CACHE_DIR", str(cache))
    monkeypatch.delenv("BCB_DATA_DIR", raising=False)
    for var in (
        "BCB_PYTHON",
        "BCB_OFFLINE",
        "HF_HUB_OFFLINE",
        "HF_DATASETS_OFFLINE",
        "BCB_HF_DATASETS_SERVER",
        "BCB_LIB2DOMAIN_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    return cache


@pytest.fixture
def bcb_cmd() -> list[str]:
    """The installed console script, run as a real process."""
    script = shutil.which("bcb", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "bcb"]
