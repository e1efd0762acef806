"""bcb's own retry loop, so that how long a run waits on a busy API is decided (and tested) here
rather than inside each SDK."""

from __future__ import annotations

import email.utils
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, TypeVar

from bcb.generation.errors import ProviderError, Stopped

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt k waits between half and all of base * 2**k,
    capped. Jitter keeps many concurrent requests that failed together from retrying together.
    A server's Retry-After wins over the backoff, up to `max_retry_after`."""

    max_retries: int = 6
    base: float = 1.0
    cap: float = 60.0
    max_retry_after: float = 600.0

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        uniform = (rng or random).uniform
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after) + uniform(0, 0.1)
        ceiling = min(self.cap, self.base * 2**attempt)
        return ceiling / 2 + uniform(0, ceiling / 2)


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def call_with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    *,
    stop: threading.Event | None = None,
    on_retry: Callable[[ProviderError, float], None] | None = None,
    give_up: Callable[[ProviderError], bool] | None = None,
) -> T:
    """Run `call` until it succeeds, fails for good, or retries run out (the last error is raised).
    Waits are cut short when `stop` is set, so a failing run ends without sitting out a backoff."""
    stop = stop or threading.Event()
    attempt = 0
    while True:
        if stop.is_set():
            raise Stopped("stopped")
        try:
            return call()
        except ProviderError as exc:
            if not exc.retryable or attempt >= policy.max_retries or (give_up is not None and give_up(exc)):
                raise
            wait = policy.delay(attempt, exc.retry_after)
            if on_retry is not None:
                on_retry(exc, wait)
            attempt += 1
            if stop.wait(wait):
                raise Stopped("stopped") from None
