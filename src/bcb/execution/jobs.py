"""What an executor is asked to run and what it answers: plain, immutable records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "timeout"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "timeout")


@dataclass(frozen=True)
class Job:
    """One sample to judge.

    ``solution`` is the program exactly as the official evaluator executes it (after calibration,
    if any: the caller prepends ``code_prompt + "\\n    pass\\n"``); the executor runs
    ``solution + "\\n" + test``. ``time_limit`` is T of :func:`bcb.execution.limits.official_time_limit`
    or a fixed override. ``expected_time`` only orders the work: longest first, so that the slow
    samples do not all land at the end of a run. ``coverage`` runs the program under coverage.py in
    branch mode (dataset QA; coverage.py must be installed in the task environment): the result
    then carries the solution's line and branch coverage.
    """

    key: str
    task_id: str
    solution: str
    test: str
    time_limit: float
    expected_time: float = 0.0
    coverage: bool = False

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ValueError(f"{self.key}: time_limit must be > 0, got {self.time_limit!r}")


@dataclass(frozen=True)
class ExecutionResult:
    """The verdict on one :class:`Job`, with the official evaluator's semantics.

    - ``pass``: the module ran and no test failed or errored.
    - ``fail``: some test failed or errored (``details`` maps each such test method's name to its
      traceback), or compiling/executing the module raised (``details == {"ALL": str(exc)}``).
    - ``timeout``: the sample was killed at its deadline, or its process ended without reporting
      (the official verdict for e.g. ``os._exit`` or a segfault: its status stays unknown, which
      it maps to ``timeout``); ``details`` is then empty, as the official evaluator's would be.

    ``note`` says, for humans, why a sample ended as it did when that is not obvious (killed at the
    deadline, exited with status N, the worker died and the sample was re-run); it never affects
    the verdict. ``attempts`` counts runs of this sample (more than one only when a worker died).
    ``node`` says where it ran when an executor spans machines (the Ray executor: host, address and
    node id); empty for this machine's workers. Like ``note``, it is never part of the verdict.
    """

    key: str
    task_id: str
    status: Status
    details: dict[str, str]
    duration_s: float
    peak_rss_mb: float | None
    tests_run: int | None
    attempts: int
    note: str = field(default="", compare=False)
    node: str = field(default="", compare=False)
    #: For a :attr:`Job.coverage` job: ``executed_lines``, ``missing_lines``, ``executed_branches``
    #: and ``missing_branches`` of the solution's lines (coverage.py's JSON report), or ``error``.
    coverage: dict[str, Any] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "key": self.key,
            "task_id": self.task_id,
            "status": self.status,
            "details": dict(self.details),
            "duration_s": self.duration_s,
            "peak_rss_mb": self.peak_rss_mb,
            "tests_run": self.tests_run,
            "attempts": self.attempts,
            "note": self.note,
            "node": self.node,
        }
        if self.coverage is not None:
            out["coverage"] = self.coverage
        return out
