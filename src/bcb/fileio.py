"""Atomic file writes, shared by every layer: a reader (or a run killed mid-write) sees the old
file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> Path:
    """Write `data` to a temporary file beside `path`, then rename it over `path`. The mode is set
    explicitly: `mkstemp` creates files readable by their owner only, which results are not."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | os.PathLike[str], payload: Any, *, ensure_ascii: bool = True) -> Path:
    """JSON as the official tools write it (indent 2), plus a final newline."""
    text = json.dumps(payload, indent=2, ensure_ascii=ensure_ascii) + "\n"
    return write_atomic(path, text.encode("utf-8"))
