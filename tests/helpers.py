"""Where the test suite finds the BigCodeBench files: ../shared/data, never the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("BCB_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()


def shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} not present (set BCB_SHARED_DATA to the directory holding the BigCodeBench files)")
    return path
