"""The one error type every layer raises for a mistake the user can fix (a bad option, a malformed
file, a missing environment): the CLI prints its message as one line and exits 2, never a
traceback. Anything else escaping is a bug in bcb and keeps its traceback."""

from __future__ import annotations


class BcbError(Exception):
    """A mistake the user can fix; the message says what to do."""


def one_line(text: object, limit: int = 300) -> str:
    """``text`` with its white space folded, cut to ``limit`` characters: how every layer quotes a
    message it did not write (a provider's, a worker's, a sample's) inside one line of its own."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
