"""Results of slow work over files (a dataset's content hash, an environment's package list), kept
in bcb's cache directory and reused while the files they came from are unchanged.

An entry is stored with a stamp of its files (size, mtime, ctime, inode of each) and reused only
while the stamp is the same, so any write to a file, a package installed into a directory, or a
file replaced by another means the work is done again. A cache file that is missing, corrupt, from
another bcb, or unwritable only means the work is done again: never an error, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bcb.fileio import write_atomic

#: Bumped when the layout of a cache file changes; a file of another format is ignored.
FORMAT = 1

#: How many entries one cache file keeps (the most recently stored); the rest are forgotten.
MAX_ENTRIES = 256

#: A file whose last change is this recent when the work starts is not cached: file systems keep
#: times only as finely as their clock ticks (a second on some), so a second write within the same
#: tick, of the same size, would leave the stamp as it was.
SETTLE_S = 1.0


def cache_dir() -> Path:
    """Where downloads and cached results are kept; BCB_CACHE_DIR moves it (CI, shared machines)."""
    import platformdirs

    return Path(os.environ.get("BCB_CACHE_DIR") or platformdirs.user_cache_dir("bcb"))


def stamp(paths: Iterable[str | os.PathLike[str]]) -> list[list[Any]]:
    """What identifies the present state of `paths`: size, mtime, ctime and inode of each (None for
    one that does not exist). ctime cannot be set back by a user, so a file edited and given its old
    mtime again still stamps differently. A pipe or a device has no such state: ValueError."""
    stamped: list[list[Any]] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            stamped.append([os.fspath(path), None])
            continue
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise ValueError(f"{os.fspath(path)} is neither a file nor a directory")
        stamped.append([os.fspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev])
    return stamped


def _digest(stamped: list[list[Any]]) -> str:
    return hashlib.sha256(json.dumps(stamped, separators=(",", ":")).encode("utf-8")).hexdigest()


def _settled(stamped: list[list[Any]], started: float) -> bool:
    """Every stamped file last changed well before the work on it started."""
    limit = int((started - SETTLE_S) * 1e9)
    return all(entry[1] is None or max(entry[2], entry[3]) < limit for entry in stamped)


class FileCache:
    """One JSON file in the cache directory, mapping a key to a value and the stamp of the files
    the value was computed from."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def path(self) -> Path:
        return cache_dir() / f"{self.name}.json"

    def _entries(self) -> dict[str, Any]:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        if (
            not isinstance(document, dict)
            or document.get("format") != FORMAT
            or not isinstance(document.get("entries"), dict)
        ):
            return {}
        return document["entries"]

    def get(
        self, key: str, paths: Callable[[Any], Iterable[str | os.PathLike[str]]], valid: Callable[[Any], bool]
    ) -> Any | None:
        """The value stored under `key` if it is `valid` and the files `paths(value)` names are as
        they were when it was stored; else None."""
        entry = self._entries().get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("stamp"), str) or "value" not in entry:
            return None
        value = entry["value"]
        try:
            if not valid(value):
                return None
            current = _digest(stamp(paths(value)))
        except (TypeError, ValueError, KeyError, AttributeError, OSError):
            return None
        return value if current == entry["stamp"] else None

    def put(self, key: str, paths: Iterable[str | os.PathLike[str]], value: Any, started: float) -> None:
        """Store `value`, computed from `paths` by work that began at `started` (time.time()),
        unless a file changed too recently to be told apart from a later change. A cache that
        cannot be written is left as it is."""
        try:
            stamped = stamp(paths)
        except ValueError:
            return
        if not _settled(stamped, started):
            return
        entries = self._entries()
        entries.pop(key, None)
        entries[key] = {"stamp": _digest(stamped), "value": value}
        kept = dict(list(entries.items())[-MAX_ENTRIES:])
        try:
            write_atomic(self.path, (json.dumps({"format": FORMAT, "entries": kept}) + "\n").encode("utf-8"))
        except (OSError, ValueError, TypeError):
            pass
