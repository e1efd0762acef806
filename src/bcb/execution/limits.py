"""Resource and time limits for one sample, and the official time-limit policy.

The official evaluator (``bigcodebench`` 0.2.5) gives every sample the same rlimits and a time
limit derived from how long the task's ground truth took. bcb reproduces both, because a verdict
near a limit (a slow but correct solution, a memory-hungry one) depends on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bcb.errors import BcbError

#: The official floor for every sample's time limit, in seconds (``TIMEOUT_LIMIT = 240.0`` in the
#: official ``eval/utils.py``). Because of it, nearly every task gets 241 s however fast its ground
#: truth is: only a ground truth slower than 240 s raises a limit. The official evaluator lets the
#: ``BIGCODEBENCH_TIMEOUT_PER_TASK`` environment variable replace it, but 0.2.5 compares that
#: string with a float and crashes, so in practice the floor is fixed.
OFFICIAL_TIMEOUT_FLOOR_S = 240.0

#: The time the official evaluator assumes for a task whose ground truth failed (or was not run):
#: ``expected_time[task_id] if expected_time[task_id] else 20``.
OFFICIAL_UNKNOWN_GT_TIME_S = 20.0

#: The official default for ``--min_time_limit``.
OFFICIAL_MIN_TIME_LIMIT_S = 1.0


#: The longest per-sample time limit bcb accepts, in seconds: a day is far above what any task
#: needs (the official limit is 241 s), and far below where a millisecond wait overflows a C int
#: (~24.8 days), which made every sample "fail" as a dead worker.
MAX_TIME_LIMIT_S = 86400.0


class LimitError(BcbError, ValueError):
    """A time limit no run can use."""


def check_seconds(value: float, name: str, *, zero_ok: bool = False) -> float:
    """``value`` as a time limit, or a :class:`LimitError` saying what is accepted: NaN, infinities,
    negatives and values beyond :data:`MAX_TIME_LIMIT_S` would each make every verdict wrong."""
    low_ok = value >= 0 if zero_ok else value > 0
    if not (math.isfinite(value) and low_ok and value <= MAX_TIME_LIMIT_S):
        low = "0" if zero_ok else "above 0"
        raise LimitError(f"{name} must be a number of seconds from {low} to {MAX_TIME_LIMIT_S:g}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Limits:
    """Per-sample rlimits, in MiB, with the official defaults (``--max_as_limit 30*1024``,
    ``--max_data_limit 30*1024``, ``--max_stack_limit 10``).

    They are applied inside the sample's process just before its code runs, as the official
    ``reliability_guard`` does. A limit is lowered to the process's current hard limit when that
    is smaller, since no process here can raise a hard limit (no ``CAP_SYS_RESOURCE``).
    """

    max_as_mb: int = 30 * 1024
    max_data_mb: int = 30 * 1024
    max_stack_mb: int = 10

    def __post_init__(self) -> None:
        for name in ("max_as_mb", "max_data_mb", "max_stack_mb"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"Limits.{name} must be a non-negative integer (MiB), got {value!r}")

    def to_wire(self) -> dict[str, int]:
        """The form the zygote reads (plain JSON)."""
        return {"max_as_mb": self.max_as_mb, "max_data_mb": self.max_data_mb, "max_stack_mb": self.max_stack_mb}


def official_time_limit(gt_time: float | None, min_time_limit: float = OFFICIAL_MIN_TIME_LIMIT_S) -> float:
    """The time limit the official evaluator gives a sample of a task, in seconds.

    Official rule (``untrusted_check`` with ``gt_time_limit = expected_time or 20``)::

        max(240, max(min_time_limit, gt_time)) + 1

    ``gt_time`` is the ground truth's own test time; ``None`` (or 0: the official code tests its
    truthiness) means the ground truth failed or was not measured, for which the official code
    assumes 20 s.

    The returned value T is used exactly as the official code uses it: the sample's test suite
    runs under a ``SIGALRM`` of T seconds inside the sample's process (a test interrupted by it
    is an *error*, so the verdict is ``fail``), while the parent kills the process T + 1 seconds
    after starting it (then the verdict is ``timeout``). See :func:`kill_after`.
    """
    check_seconds(min_time_limit, "min_time_limit", zero_ok=True)
    gt = gt_time if gt_time else OFFICIAL_UNKNOWN_GT_TIME_S
    return max(OFFICIAL_TIMEOUT_FLOOR_S, max(min_time_limit, gt)) + 1


#: The faster, opt-in policy (``--timeout-policy scaled``): ``max(120, 5 * gt_time) + 1`` s, never
#: more than the official limit. ``benchmarks/timeout_policy.py`` replays the 2,274 reference
#: samples' measured durations against such policies: a floor of 75 s or more changes no verdict
#: (the slowest sample that did not run into the limit took 62.6 s), 120 s leaves a margin for a
#: slower or busier machine; an infinite loop then costs a worker ~2 minutes instead of ~4.
SCALED_TIMEOUT_FLOOR_S = 120.0
SCALED_TIMEOUT_FACTOR = 5.0

TIMEOUT_POLICIES = ("official", "scaled")


def scaled_time_limit(gt_time: float | None, min_time_limit: float = OFFICIAL_MIN_TIME_LIMIT_S) -> float:
    """The ``scaled`` policy's limit; without a measured ground-truth time it is the official one
    (nothing tells how slow a correct solution of that task may be)."""
    official = official_time_limit(gt_time, min_time_limit)
    if not gt_time:
        return official
    return min(official, max(SCALED_TIMEOUT_FLOOR_S, min_time_limit, SCALED_TIMEOUT_FACTOR * gt_time) + 1)


def time_limit_for(policy: str, gt_time: float | None, min_time_limit: float = OFFICIAL_MIN_TIME_LIMIT_S) -> float:
    if policy == "official":
        return official_time_limit(gt_time, min_time_limit)
    if policy == "scaled":
        return scaled_time_limit(gt_time, min_time_limit)
    raise ValueError(f"unknown timeout policy {policy!r}; use one of {', '.join(TIMEOUT_POLICIES)}")


def kill_after(time_limit: float) -> float:
    """When the supervisor kills a sample, counted from its start: one second after the in-process
    alarm, as the official parent's ``p.join(timeout=timeout + 1)``.

    The gap decides ``fail`` against ``timeout``: a test that Python can interrupt (a pure-Python
    loop, ``time.sleep``) gets the alarm's exception and the run goes on to a ``fail``; code that
    never returns to the interpreter (a C loop, module-level code, which runs before the alarm is
    armed) is killed and is a ``timeout``.
    """
    return time_limit + 1.0
