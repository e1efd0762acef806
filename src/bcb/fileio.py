"""Atomic file writes, shared by every layer: a reader (or a run killed mid-write) sees the old
file or the new one, never half of one. And the one reader of whole JSON documents, which meets
hostile input (a device, a directory, JSON nested past the recursion limit) with one line."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from bcb.errors import BcbError


class OutputError(BcbError, OSError):
    """A file that cannot be written (no such directory, no space, a read-only place)."""


class JsonFileError(BcbError, ValueError):
    """A JSON document that cannot be read; the message names the file."""


def read_json(path: str | os.PathLike[str], what: str = "JSON file") -> Any:
    """The document in `path`. Only a regular file: a device (`/dev/zero`) or a pipe would be read
    without end. `what` names the expected content in the messages."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise JsonFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise JsonFileError(f"{path}: cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise JsonFileError(f"{path}: not a regular file, expected a {what}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:  # invalid JSON, not UTF-8, an integer beyond Python's digit limit
        raise JsonFileError(f"{path}: not a {what} ({exc})") from None
    except RecursionError:
        raise JsonFileError(f"{path}: JSON nested too deeply to be a {what}") from None
    except OSError as exc:
        raise JsonFileError(f"{path}: cannot read it ({exc.strerror})") from None


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> Path:
    """Write `data` to a temporary file beside `path`, then rename it over `path`. The mode is set
    explicitly: `mkstemp` creates files readable by their owner only, which results are not."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    return path


def write_json_atomic(path: str | os.PathLike[str], payload: Any, *, ensure_ascii: bool = True) -> Path:
    """JSON as the official tools write it (indent 2), plus a final newline."""
    text = json.dumps(payload, indent=2, ensure_ascii=ensure_ascii) + "\n"
    return write_atomic(path, text.encode("utf-8"))
