"""The two ways a generation request fails: worth retrying, or not."""

from __future__ import annotations

from bcb.errors import BcbError


class GenerationError(BcbError):
    """A run that cannot go on; the message is one line the user can act on."""


class ProviderError(GenerationError):
    """A failed request. `retryable` requests (429, 5xx, timeouts, dropped connections) are tried
    again after `retry_after` seconds when the server said so, else after a backoff.
    `unreachable` marks a connection that never opened: before any request has succeeded that
    means a wrong URL or a server that is down, and waiting would not help."""

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None, unreachable: bool = False
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.unreachable = unreachable


class Stopped(GenerationError):
    """The run is stopping (another request failed, or the user interrupted): give up quietly."""
