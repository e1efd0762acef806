"""Two runs side by side: which tasks flipped, why the losing side failed, and whether the
difference is more than noise.

With several samples per task a task counts as solved by a run when most of its samples are; with
the usual one greedy sample that is simply whether it passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from bcb.analysis.runs import DEFAULT_ENTRY_POINT, Run
from bcb.analysis.stats import McNemar, mcnemar
from bcb.evaluation.results import SampleResult

ERROR_WIDTH = 200


@dataclass(frozen=True)
class Failure:
    """The first failing test of a sample and the last line of its traceback (the exception)."""

    test: str
    error: str


@dataclass(frozen=True)
class Flip:
    task_id: str
    solved_by: str
    """Label of the run that solved the task."""
    failure: Failure
    """Why the other run failed it."""
    before: str = "unknown"
    """The task's outcome in run A: `pass`, or the failure category of its failing sample."""
    after: str = "unknown"
    """The same in run B."""

    @property
    def change(self) -> str:
        """`api -> pass`: from run A to run B."""
        return f"{self.before} -> {self.after}"

    def to_json(self) -> dict[str, str]:
        return {
            "task_id": self.task_id, "solved_by": self.solved_by, "failing_test": self.failure.test, "error": self.failure.error,
            "from": self.before, "to": self.after,
        }  # fmt: skip


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    tasks: int
    both: int
    neither: int
    only_a: tuple[Flip, ...]
    only_b: tuple[Flip, ...]
    test: McNemar

    @property
    def verdict(self) -> str:
        better = self.a if len(self.only_a) > len(self.only_b) else self.b
        if not self.only_a and not self.only_b:
            return "no task flipped: the runs solve exactly the same tasks"
        if self.test.significant:
            return f"{better} is better (McNemar exact p = {self.test.p_value:.3g} < 0.05)"
        return f"no significant difference (McNemar exact p = {self.test.p_value:.3g})"

    def to_json(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "tasks": self.tasks,
            "both_solved": self.both,
            "neither_solved": self.neither,
            "only_a": [f.to_json() for f in self.only_a],
            "only_b": [f.to_json() for f in self.only_b],
            "mcnemar": self.test.to_json(),
            "verdict": self.verdict,
        }


def error_line(traceback: str) -> str:
    """The exception line a traceback ends with, shortened to one screen line."""
    lines = [line.strip() for line in str(traceback).splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= ERROR_WIDTH else line[: ERROR_WIDTH - 3] + "..."


def failure_of(sample: SampleResult, lazy: str | None = None) -> Failure:
    """What went wrong with an unsolved sample, in the words of its results entry."""
    if sample.status == "pass" and lazy:
        return Failure("-", f"lazy answer, not counted: {lazy}")
    for test, traceback in sample.details.items():
        return Failure(str(test), error_line(traceback) or sample.status)
    if sample.status == "timeout":
        return Failure("ALL", "timed out")
    if lazy:
        return Failure("-", f"lazy answer: {lazy}")
    return Failure("ALL", sample.note or sample.status)


def _solved(run: Run, task_id: str) -> bool:
    rows = run.results.eval[task_id]
    return 2 * sum(r.solved for r in rows) > len(rows)


def _failure(run: Run, task_id: str, entry_point: str) -> tuple[Failure, str]:
    """Why the run failed the task, and the failure category of that sample."""
    rows = run.results.eval[task_id]
    sample = next((r for r in rows if not r.solved), rows[0])
    return failure_of(sample, run.lazy(sample, entry_point)), run.category(sample, entry_point) or "unknown"


def compare(
    a: Run, b: Run, tasks: Sequence[str], *, labels: tuple[str, str], entry_points: Mapping[str, str] | None = None
) -> Comparison:
    """Flips on `tasks` (which both runs must hold), in task order."""
    entry_points = entry_points or {}
    label_a, label_b = labels
    only_a, only_b = [], []
    both = neither = 0
    for task_id in tasks:
        solved_a, solved_b = _solved(a, task_id), _solved(b, task_id)
        entry = entry_points.get(task_id, DEFAULT_ENTRY_POINT)
        if solved_a and solved_b:
            both += 1
        elif solved_a:
            failure, category = _failure(b, task_id, entry)
            only_a.append(Flip(task_id, label_a, failure, "pass", category))
        elif solved_b:
            failure, category = _failure(a, task_id, entry)
            only_b.append(Flip(task_id, label_b, failure, category, "pass"))
        else:
            neither += 1
    return Comparison(
        label_a, label_b, len(tasks), both, neither, tuple(only_a), tuple(only_b), mcnemar(len(only_a), len(only_b))
    )
