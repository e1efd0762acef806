"""Where a run's wall time went, recorded in its manifest so that the next regression in fixed
cost (imports, dataset, fingerprint, worker start) is visible in the results file itself."""

from __future__ import annotations

import os
import time

#: The steps, in the order they happen; each is a point in time, in seconds since the clock's origin.
STEPS = ("startup", "dataset", "fingerprint", "workers_ready", "first_verdict", "last_verdict", "writing_results")


def process_age() -> float:
    """Seconds since this process started (0.0 where /proc does not say), so the interpreter's own
    start and bcb's imports count as start-up."""
    try:
        with open("/proc/self/stat") as fh:
            started_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


class RunClock:
    """Marks each step of a run when it ends. ``origin``: the process's start for a command (the
    default), or a job's start in a long-lived server (``from_now``). A step that did not happen
    (no worker started because every verdict was stored) stays ``None``."""

    def __init__(self, origin: float | None = None) -> None:
        now = time.time()
        self.origin = now - process_age() if origin is None else origin
        self.marks: dict[str, float] = {"startup": now}

    @classmethod
    def from_now(cls) -> RunClock:
        clock = cls(0.0)
        clock.origin = clock.marks["startup"]
        return clock

    def mark(self, step: str) -> None:
        if step not in STEPS:
            raise ValueError(f"unknown step {step!r}")
        self.marks[step] = time.time()

    def mark_once(self, step: str) -> None:
        if step not in self.marks:
            self.mark(step)

    def next_evaluation(self) -> None:
        """Forget the steps one evaluation has to itself (its verdicts, its results), so that the
        next in the same process (``bcb demo`` evaluates two models) records its own; the steps
        they share (start-up, dataset, fingerprint, workers ready) stay as they were."""
        for step in ("first_verdict", "last_verdict", "writing_results"):
            self.marks.pop(step, None)

    def to_json(self) -> dict[str, float | None]:
        """``<step>_s`` for each step, in order: seconds since the origin."""
        return {
            f"{step}_s": None if step not in self.marks else round(self.marks[step] - self.origin, 3) for step in STEPS
        }
