"""Dataset quality and task authoring: are a benchmark's tests worth their verdicts?

BigCodeBench claims 5+ tests per task, ~99% branch coverage of the canonical solutions and
deterministic ground truth. :func:`assess` measures each claim per task by running the ground
truth through the executor: once under coverage.py in branch mode (inside the sandboxed child,
counting only the solution's own lines) and ``runs`` more times plain, to list the tests whose
outcome varies. :func:`check_tasks` turns the same measurements into an author's checklist
(``bcb task check``), and :func:`scaffold_task` writes a task to start from (``bcb task new``).
"""

from __future__ import annotations

import ast
import json
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bcb.dataset.task import Task
from bcb.evaluation.evaluate import EvalProgress, SilentEvalProgress
from bcb.evaluation.plan import JobRunner
from bcb.execution import OFFICIAL_TIMEOUT_FLOOR_S, ExecutionResult, Job, count_test_methods

#: The published bar: every task has at least this many test methods.
MIN_TESTS = 5
#: `bcb task check`'s coverage bar, in percent (coverage.py's branch-mode total).
MIN_COVERAGE = 95.0
#: The ground truth's time limit: the official GT check's fixed floor (240 s) plus one second.
GT_TIME_LIMIT = OFFICIAL_TIMEOUT_FLOOR_S + 1
#: How a timed-out run is named among a run's failing tests (it names none of its own).
TIMEOUT_MARK = "(timeout)"


def as_runner(executor: Any) -> JobRunner:
    """An executor (anything with ``run(jobs)``) or a runner callable, as a runner."""
    run = getattr(executor, "run", None)
    return run if callable(run) else executor


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Coverage:
    """The canonical solution's coverage under its tests, as coverage.py's branch mode counts it
    (lines of the solution only; arcs as ``(from, to)`` with negative ``to`` for an exit)."""

    executed_lines: tuple[int, ...]
    missing_lines: tuple[int, ...]
    executed_branches: tuple[tuple[int, int], ...]
    missing_branches: tuple[tuple[int, int], ...]

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> Coverage:
        return cls(
            tuple(int(n) for n in report.get("executed_lines") or ()),
            tuple(int(n) for n in report.get("missing_lines") or ()),
            tuple((int(a), int(b)) for a, b in report.get("executed_branches") or ()),
            tuple((int(a), int(b)) for a, b in report.get("missing_branches") or ()),
        )

    @property
    def statements(self) -> int:
        return len(self.executed_lines) + len(self.missing_lines)

    @property
    def branches(self) -> int:
        return len(self.executed_branches) + len(self.missing_branches)

    @property
    def percent(self) -> float:
        """coverage.py's total in branch mode: covered statements and branches over all of them
        (what ``coverage report --branch`` prints, and what the published ~99% refers to)."""
        total = self.statements + self.branches
        return 100.0 if total == 0 else 100.0 * (len(self.executed_lines) + len(self.executed_branches)) / total

    @property
    def branch_percent(self) -> float:
        """Branches alone: taken branch arcs over all branch arcs (100 with no branch)."""
        return 100.0 if self.branches == 0 else 100.0 * len(self.executed_branches) / self.branches

    def to_json(self) -> dict[str, Any]:
        return {
            "percent": round(self.percent, 2),
            "branch_percent": round(self.branch_percent, 2),
            "statements": self.statements,
            "branches": self.branches,
            "missing_lines": list(self.missing_lines),
            "missing_branches": [list(a) for a in self.missing_branches],
        }


@dataclass(frozen=True)
class TaskQuality:
    """One task's measurements. ``statuses`` and ``failing`` hold one entry per plain run;
    ``failing`` names each run's failing tests (``ALL`` when the module itself failed,
    :data:`TIMEOUT_MARK` for a timed-out run)."""

    task_id: str
    tests: int | None
    statuses: tuple[str, ...]
    failing: tuple[tuple[str, ...], ...]
    durations: tuple[float, ...]
    coverage: Coverage | None = None
    coverage_error: str = ""
    coverage_status: str = ""
    coverage_duration: float | None = None
    coverage_failing: tuple[str, ...] = ()
    tests_run: int | None = None

    @property
    def test_count(self) -> int | None:
        """The static count of test methods, else how many ran."""
        return self.tests if self.tests is not None else self.tests_run

    @property
    def few_tests(self) -> bool:
        return self.test_count is None or self.test_count < MIN_TESTS

    @property
    def runs(self) -> int:
        return len(self.statuses)

    @property
    def passes(self) -> int:
        return sum(s == "pass" for s in self.statuses)

    @property
    def passed(self) -> bool:
        """Every plain run passed."""
        return bool(self.statuses) and self.passes == self.runs

    @property
    def flaky_tests(self) -> tuple[str, ...]:
        """Tests that failed in some runs and not in others."""
        if not self.failing:
            return ()
        seen = {name for names in self.failing for name in names}
        return tuple(sorted(seen - set(self.always_failing)))

    @property
    def always_failing(self) -> tuple[str, ...]:
        if not self.failing:
            return ()
        first, *rest = (set(names) for names in self.failing)
        return tuple(sorted(first.intersection(*rest)))

    @property
    def flaky(self) -> bool:
        return len(set(self.statuses)) > 1 or bool(self.flaky_tests)

    @property
    def gt_time(self) -> float | None:
        """Median duration of the passing runs (of all runs when none passed)."""
        chosen = [d for d, s in zip(self.durations, self.statuses) if s == "pass"] or list(self.durations)
        return statistics.median(chosen) if chosen else None

    @property
    def coverage_agrees(self) -> bool:
        """The coverage run failed the same tests as some plain run (so tracing changed nothing)."""
        if not self.coverage_status or not self.failing:
            return True
        return self.coverage_failing in self.failing

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "tests": self.test_count,
            "few_tests": self.few_tests,
            "coverage": self.coverage.to_json() if self.coverage else None,
            "coverage_error": self.coverage_error or None,
            "coverage_run": {"status": self.coverage_status, "duration_s": self.coverage_duration}
            if self.coverage_status
            else None,
            "gt_passes": self.passes,
            "gt_runs": self.runs,
            "gt_passed": self.passed,
            "gt_time_s": None if self.gt_time is None else round(self.gt_time, 4),
            "statuses": list(self.statuses),
            "flaky": self.flaky,
            "flaky_tests": list(self.flaky_tests),
            "failing_tests": list(self.always_failing),
        }


@dataclass(frozen=True)
class QualitySummary:
    """Dataset-level figures of :func:`summarize`, the ones the published claims are about."""

    tasks: int
    runs: int
    coverage_measured: int
    mean_coverage: float | None
    mean_branch_coverage: float | None
    min_tests_share: float
    mean_tests: float | None
    flaky_tasks: tuple[str, ...]
    gt_pass_rate: float
    gt_all_runs_pass_rate: float
    failed_tasks: tuple[str, ...]
    few_test_tasks: tuple[str, ...]
    coverage_disagreements: tuple[str, ...] = field(default=())
    coverage_overhead: float | None = None

    def to_json(self) -> dict[str, Any]:
        def rounded(x: float | None, digits: int = 2) -> float | None:
            return None if x is None else round(x, digits)

        return {
            "tasks": self.tasks,
            "runs_per_task": self.runs,
            "coverage_measured": self.coverage_measured,
            "mean_branch_coverage": rounded(self.mean_coverage),
            "mean_branch_only_coverage": rounded(self.mean_branch_coverage),
            "share_min_tests": rounded(self.min_tests_share, 4),
            "min_tests": MIN_TESTS,
            "mean_tests": rounded(self.mean_tests),
            "flaky_tasks": list(self.flaky_tasks),
            "gt_pass_rate": rounded(self.gt_pass_rate, 4),
            "gt_all_runs_pass_rate": rounded(self.gt_all_runs_pass_rate, 4),
            "failed_tasks": list(self.failed_tasks),
            "few_test_tasks": list(self.few_test_tasks),
            "coverage_run_disagreements": list(self.coverage_disagreements),
            "coverage_overhead": rounded(self.coverage_overhead),
        }


# ---------------------------------------------------------------------------------------------
# Measuring


def _failing(result: ExecutionResult) -> tuple[str, ...]:
    if result.status == "timeout":
        return (TIMEOUT_MARK,)
    return tuple(sorted(result.details))


def assess(
    tasks: Sequence[Task],
    executor: Any,
    *,
    runs: int = 5,
    coverage: bool = True,
    time_limit: float = GT_TIME_LIMIT,
    progress: EvalProgress | None = None,
) -> list[TaskQuality]:
    """Measure every task: one coverage run (when ``coverage``), then ``runs`` plain runs.

    All jobs go through ``executor`` (one set of warm workers). The first pass (the coverage run,
    or the first plain run) has no durations to order by; every later run is scheduled longest
    measured task first, all of them in one batch, so no worker idles behind a slow tail.
    """
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    run = as_runner(executor)
    progress = progress or SilentEvalProgress()
    by_key: dict[str, ExecutionResult] = {}
    first_plain = 0 if coverage else 1
    progress.start(
        "ground truth" + (" with coverage" if coverage else ""), len(tasks) * (runs + (1 if coverage else 0))
    )
    try:
        first = [
            Job(
                f"{'cov' if coverage else 'gt0'}:{t.task_id}",
                t.task_id,
                t.solution,
                t.test,
                time_limit,
                coverage=coverage,
            )
            for t in tasks
        ]
        for result in run(first):
            by_key[result.key] = result
            progress.advance(result.status)
        measured = {j.task_id: by_key[j.key].duration_s for j in first}
        later = [
            Job(
                f"gt{i}:{t.task_id}",
                t.task_id,
                t.solution,
                t.test,
                time_limit,
                expected_time=measured.get(t.task_id, 0.0),
            )
            for i in range(first_plain, runs)
            for t in tasks
        ]
        if later:
            for result in run(later):
                by_key[result.key] = result
                progress.advance(result.status)
    finally:
        progress.stop()
    return [_task_quality(t, by_key, runs, coverage) for t in tasks]


def _task_quality(task: Task, by_key: Mapping[str, ExecutionResult], runs: int, coverage: bool) -> TaskQuality:
    plain = [by_key[f"gt{i}:{task.task_id}"] for i in range(runs)]
    cov_result = by_key.get(f"cov:{task.task_id}") if coverage else None
    cov: Coverage | None = None
    cov_error = ""
    if cov_result is not None:
        report = cov_result.coverage
        if report is None:
            cov_error = (
                "no coverage reported (the run ended before reporting)"
                if cov_result.status == "timeout"
                else "no coverage reported"
            )
        elif report.get("error"):
            cov_error = str(report["error"])
        else:
            cov = Coverage.from_report(report)
    tests_run = next((r.tests_run for r in plain if r.tests_run is not None), None)
    return TaskQuality(
        task_id=task.task_id,
        tests=count_test_methods(task.test),
        statuses=tuple(r.status for r in plain),
        failing=tuple(_failing(r) for r in plain),
        durations=tuple(r.duration_s for r in plain),
        coverage=cov,
        coverage_error=cov_error,
        coverage_status=cov_result.status if cov_result is not None else "",
        coverage_duration=cov_result.duration_s if cov_result is not None else None,
        coverage_failing=_failing(cov_result) if cov_result is not None else (),
        tests_run=tests_run,
    )


def summarize(qualities: Sequence[TaskQuality]) -> QualitySummary:
    n = len(qualities)
    covered = [q.coverage for q in qualities if q.coverage is not None]
    counts = [q.test_count for q in qualities if q.test_count is not None]
    total_runs = sum(q.runs for q in qualities)
    with_cov = [q for q in qualities if q.coverage_duration is not None and q.gt_time]
    overhead = None
    if with_cov:
        overhead = sum(q.coverage_duration or 0.0 for q in with_cov) / sum(q.gt_time or 0.0 for q in with_cov)
    return QualitySummary(
        tasks=n,
        runs=max((q.runs for q in qualities), default=0),
        coverage_measured=len(covered),
        mean_coverage=statistics.fmean(c.percent for c in covered) if covered else None,
        mean_branch_coverage=statistics.fmean(c.branch_percent for c in covered) if covered else None,
        min_tests_share=(sum(not q.few_tests for q in qualities) / n) if n else 0.0,
        mean_tests=statistics.fmean(counts) if counts else None,
        flaky_tasks=tuple(q.task_id for q in qualities if q.flaky),
        gt_pass_rate=(sum(q.passes for q in qualities) / total_runs) if total_runs else 0.0,
        gt_all_runs_pass_rate=(sum(q.passed for q in qualities) / n) if n else 0.0,
        failed_tasks=tuple(q.task_id for q in qualities if q.passes == 0),
        few_test_tasks=tuple(q.task_id for q in qualities if q.few_tests),
        coverage_disagreements=tuple(q.task_id for q in qualities if not q.coverage_agrees),
        coverage_overhead=overhead,
    )


# ---------------------------------------------------------------------------------------------
# Task authoring checks


@dataclass(frozen=True)
class TaskCheck:
    """What an author must fix in one task (nothing when ``ok``)."""

    task_id: str
    problems: tuple[str, ...]
    quality: TaskQuality | None = None
    stub_status: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "ok": self.ok,
            "problems": list(self.problems),
            "stub_status": self.stub_status or None,
            "quality": self.quality.to_json() if self.quality else None,
        }


def stub_solution(task: Task) -> str | None:
    """The task's solution with the entry point's body replaced by ``pass`` (``None`` when the
    solution has no top-level function of that name). Tests that pass it check nothing."""
    try:
        tree = ast.parse(task.solution)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == task.entry_point:
            node.body = [ast.Pass()]
            return ast.unparse(tree) + "\n"
    return None


def imported_modules(source: str) -> set[str]:
    """Top-level names of every absolute import in ``source`` (function-level ones included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _mentions(text: str, lib: str) -> bool:
    return re.search(r"(?<![\w.])" + re.escape(lib) + r"(?!\w)", text) is not None


def static_problems(task: Task, *, min_tests: int = MIN_TESTS) -> list[str]:
    """Everything checkable without running: test count, libraries in the prompts and imports."""
    problems: list[str] = []
    tests = count_test_methods(task.test)
    if tests is None:
        problems.append("tests: no TestCases(unittest.TestCase) class whose test methods can be counted")
    elif tests < min_tests:
        problems.append(f"tests: {tests} test method(s), need at least {min_tests}")
    for name in ("complete_prompt", "instruct_prompt", "code_prompt"):
        missing = [lib for lib in task.libs if not _mentions(getattr(task, name), lib)]
        if missing:
            problems.append(f"libs: {name} does not mention {', '.join(missing)}")
    try:
        imported = imported_modules(task.solution)
    except SyntaxError as exc:
        problems.append(f"solution: does not compile ({exc.msg}, line {exc.lineno})")
    else:
        unlisted, unused = sorted(imported - set(task.libs)), sorted(set(task.libs) - imported)
        if unlisted:
            problems.append(f"libs: the solution imports {', '.join(unlisted)}, missing from libs")
        if unused:
            problems.append(f"libs: {', '.join(unused)} listed in libs but never imported by the solution")
    if stub_solution(task) is None:
        problems.append(f"entry_point: the solution defines no top-level function {task.entry_point!r}")
    return problems


def check_tasks(
    tasks: Sequence[Task],
    executor: Any,
    runs: int = 5,
    *,
    min_tests: int = MIN_TESTS,
    min_coverage: float = MIN_COVERAGE,
    time_limit: float = GT_TIME_LIMIT,
    progress: EvalProgress | None = None,
) -> list[TaskCheck]:
    """``bcb task check``: static checks, then the ground truth (coverage run plus ``runs``
    plain runs, all passing) and a stubbed solution (which must not pass), through ``executor``."""
    run = as_runner(executor)
    qualities = {
        q.task_id: q for q in assess(tasks, run, runs=runs, coverage=True, time_limit=time_limit, progress=progress)
    }
    stubs = {t.task_id: stub_solution(t) for t in tasks}
    stub_jobs = [
        Job(f"stub:{t.task_id}", t.task_id, s, t.test, time_limit) for t in tasks if (s := stubs[t.task_id]) is not None
    ]
    stub_status = {r.task_id: r.status for r in run(stub_jobs)} if stub_jobs else {}
    checks = []
    for task in tasks:
        problems = static_problems(task, min_tests=min_tests)
        q = qualities[task.task_id]
        if not q.passed:
            failing = ", ".join(q.always_failing or q.flaky_tests) or "-"
            problems.append(f"ground truth: passed {q.passes} of {q.runs} runs (failing: {failing})")
        elif q.flaky:
            problems.append(f"ground truth: flaky tests {', '.join(q.flaky_tests)}")
        if q.coverage is None:
            problems.append(f"coverage: not measured ({q.coverage_error or 'no report'})")
        elif q.coverage.percent < min_coverage:
            where = [f"line {n}" for n in q.coverage.missing_lines] + [
                f"branch {a}->{b if b > 0 else 'exit'}" for a, b in q.coverage.missing_branches
            ]
            problems.append(f"coverage: {q.coverage.percent:.1f}% < {min_coverage:g}%, not covered: {', '.join(where)}")
        status = stub_status.get(task.task_id, "")
        if status == "pass":
            problems.append(
                "tests: a stub solution (entry point body replaced by pass) passes them; they must check results"
            )
        checks.append(TaskCheck(task.task_id, tuple(problems), q, status))
    return checks


# ---------------------------------------------------------------------------------------------
# Scaffold

_SCAFFOLD_PROMPT = '''import math

def task_func(values):
    """
    TODO: describe what the function does, precisely enough that the tests follow from it.

    Parameters:
    - values (list of float): TODO: describe each parameter.

    Returns:
    float: TODO: describe the result.

    Raises:
    - ValueError: TODO: when does it raise?

    Requirements:
    - math

    Example:
    >>> task_func([1.0, 4.0])
    TODO
    """
'''

_SCAFFOLD_TEST = """import unittest


class TestCases(unittest.TestCase):
    def test_todo(self):
        # TODO: at least 5 test methods that check results, covering every branch of the solution.
        self.fail("TODO: write the tests")
"""


def scaffold_task(name: str) -> dict[str, str]:
    """A record in the official schema, with placeholders: it parses, and ``bcb task check``
    fails on it until the author writes the solution, the tests and the docstring."""
    task_id = name if re.search(r"\d+$", name) else f"{name}/0"
    code_prompt = "import math\n\ndef task_func(values):\n"
    doc = {
        "description": ["TODO: describe what the function does, precisely enough that the tests follow from it."],
        "notes": [],
        "params": ["values (list of float): TODO: describe each parameter."],
        "returns": ["float: TODO: describe the result."],
        "reqs": ["math"],
        "raises": ["ValueError: TODO: when does it raise?"],
        "examples": [">>> task_func([1.0, 4.0])", "TODO"],
    }
    instruct = "\n".join(
        [
            " ".join(doc["description"]),
            "The function should raise the exception for: " + " ".join(doc["raises"]),
            "The function should output with:\n    " + "\n    ".join(doc["returns"]),
            "You should write self-contained code starting with:\n```\n" + code_prompt + "```",
        ]
    )
    return {
        "task_id": task_id,
        "complete_prompt": _SCAFFOLD_PROMPT,
        "instruct_prompt": instruct,
        "canonical_solution": "    raise NotImplementedError('TODO: write the canonical solution')",
        "code_prompt": code_prompt,
        "test": _SCAFFOLD_TEST,
        "entry_point": "task_func",
        "doc_struct": json.dumps(doc),
        "libs": "['math']",
    }
