"""The one error type every layer raises for a mistake the user can fix (a bad option, a malformed
file, a missing environment): the CLI prints its message as one line and exits 2, never a
traceback. Anything else escaping is a bug in bcb and keeps its traceback."""

from __future__ import annotations


class BcbError(Exception):
    """A mistake the user can fix; the message says what to do."""
