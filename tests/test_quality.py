"""Dataset QA and task authoring (`bcb qa`, `bcb task new/check`): real workers, hand-written
tasks with known coverage, a test whose outcome alternates, and one task per check failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bcb.dataset import load_dataset
from bcb.dataset.task import Task, parse_task
from bcb.evaluation.quality import (
    Coverage,
    assess,
    check_tasks,
    scaffold_task,
    stub_solution,
    summarize,
)
from bcb.execution import Job, LocalExecutor
from bcb.execution.sandbox import SandboxOptions
from helpers import TASK_PYTHON, TASK_PYTHON_ABSENT

pytest.importorskip("coverage")

TASK_ENV = TASK_PYTHON
PRELOAD = ["numpy", "pandas", "matplotlib", "matplotlib.pyplot", "coverage"]


def make_task(
    number: int,
    solution: str,
    tests: list[str],
    *,
    head: str = "import math\n\ndef task_func(x):\n",
    libs: tuple[str, ...] = ("math",),
    instruct: str | None = None,
) -> Task:
    """A task in the official shape: `head` is the code prompt (imports and signature)."""
    test = "import unittest\n\nclass TestCases(unittest.TestCase):\n" + "".join(
        f"    def test_{i}(self):\n        {body}\n" for i, body in enumerate(tests)
    )
    uses = " and ".join(libs) or "nothing"
    record = {
        "task_id": f"qa/{number}",
        "complete_prompt": head
        + f'    """Uses {uses}.\n    Requirements:\n'
        + "".join(f"    - {lib}\n" for lib in libs)
        + '    """\n',
        "instruct_prompt": instruct
        if instruct is not None
        else f"Uses {uses}.\nYou should write self-contained code starting with:\n```\n{head}```",
        "canonical_solution": solution,
        "code_prompt": head,
        "test": test,
        "entry_point": "task_func",
        "doc_struct": "{}",
        "libs": repr(list(libs)),
    }
    return parse_task(record)


# Lines of the program (complete_prompt + "\n" + canonical_solution): the docstring ends on line
# 7, line 8 is the blank joint, the body starts on line 9.
BRANCHY = "    if x > 0:\n        return math.floor(x)\n    return -1\n"
GOOD = make_task(
    0,
    "    if x > 0:\n        return math.floor(x)\n    return -1\n",
    [
        "self.assertEqual(task_func(2.5), 2)",
        "self.assertEqual(task_func(-1), -1)",
        "self.assertEqual(task_func(0), -1)",
        "self.assertEqual(task_func(7), 7)",
        "self.assertEqual(task_func(0.5), 0)",
    ],
)


@pytest.fixture(scope="module")
def executor() -> Iterator[LocalExecutor]:
    with LocalExecutor(python=sys.executable, workers=2, preload=PRELOAD) as ex:
        yield ex


def test_branch_coverage_counts_only_the_solution_and_is_exact(executor: LocalExecutor) -> None:
    only_positive = make_task(1, BRANCHY, [f"self.assertEqual(task_func({v}), {v})" for v in (1, 2, 3, 4, 5)])
    [quality] = assess([only_positive], executor, runs=1)
    assert quality.coverage_error == ""
    cov = quality.coverage
    assert cov is not None
    # Statements: the import (1), the def (3), the if (9), both returns (10, 11); 11 is never run.
    assert cov.executed_lines == (1, 3, 9, 10)
    assert cov.missing_lines == (11,)
    assert cov.executed_branches == ((9, 10),)
    assert cov.missing_branches == ((9, 11),)
    assert (cov.statements, cov.branches) == (5, 2)
    assert cov.percent == pytest.approx(100 * (4 + 1) / (5 + 2))
    assert cov.branch_percent == 50.0
    assert quality.passed and quality.tests == 5 and not quality.few_tests and not quality.flaky
    # Both branches taken: full coverage.
    [full] = assess([GOOD], executor, runs=1)
    assert full.coverage is not None and full.coverage.percent == 100.0 and full.coverage.missing_branches == ()


def test_coverage_is_off_unless_a_job_asks(executor: LocalExecutor) -> None:
    plain, traced = executor.run(
        [Job("p", "t", GOOD.solution, GOOD.test, 30), Job("c", "t", GOOD.solution, GOOD.test, 30, coverage=True)]
    )
    by_key = {r.key: r for r in (plain, traced)}
    assert by_key["p"].coverage is None and "coverage" not in by_key["p"].to_dict()
    assert Coverage.from_report(by_key["c"].coverage or {}).percent == 100.0


def test_a_test_whose_outcome_alternates_is_listed_as_flaky() -> None:
    # A counter file outside the sample's own directory, writable through the sandbox's Landlock
    # allowance: each run flips it, so test_flip fails on every other run.
    counter_dir = Path(tempfile.mkdtemp(prefix="bcbqa", dir="/var/tmp" if os.access("/var/tmp", os.W_OK) else None))
    try:
        counter = counter_dir / "n"
        counter.write_text("0")
        flip = f"n = int(open({str(counter)!r}).read()); open({str(counter)!r}, 'w').write(str(n + 1)); self.assertEqual(n % 2, 0)"
        task = make_task(2, BRANCHY, [flip] + ["self.assertEqual(task_func(1), 1)"] * 4)
        with LocalExecutor(
            python=sys.executable,
            workers=1,
            preload=["coverage"],
            sandbox=SandboxOptions(write_paths=(str(counter_dir),)),
        ) as ex:
            [quality] = assess([task], ex, runs=4, coverage=False)
        assert counter.read_text() == "4"
    finally:
        shutil.rmtree(counter_dir)
    assert quality.statuses == ("pass", "fail", "pass", "fail")
    assert quality.flaky and quality.flaky_tests == ("test_0",) and quality.always_failing == ()
    summary = summarize([quality])
    assert summary.flaky_tasks == ("qa/2",) and summary.gt_pass_rate == 0.5 and summary.gt_all_runs_pass_rate == 0.0


def test_task_check_names_each_failure_kind(executor: LocalExecutor) -> None:
    five_positive = [f"self.assertEqual(task_func({v}), {v})" for v in (1, 2, 3, 4, 5)]
    tasks = [
        GOOD,
        make_task(3, BRANCHY, ["self.assertEqual(task_func(1), 1)", "self.assertEqual(task_func(-1), -1)"]),
        make_task(4, BRANCHY, five_positive),
        make_task(
            5,
            BRANCHY,
            ["self.assertTrue(callable(task_func))"] * 3
            + ["self.assertIn(task_func(2), (None, 2))", "self.assertIn(task_func(-2), (None, -1))"],
        ),
        make_task(
            6,
            BRANCHY,
            ["self.assertEqual(task_func(2.5), 2)", "self.assertEqual(task_func(-1), -1)"] * 3,
            instruct="No library named here.\n```\ndef task_func(x):\n```",
        ),
        make_task(
            7,
            "    import re\n" + BRANCHY,
            ["self.assertEqual(task_func(2.5), 2)", "self.assertEqual(task_func(-1), -1)"] * 3,
        ),
        make_task(8, "    return 1 / 0\n", ["self.assertEqual(task_func(1), 1)"] * 5),
    ]
    checks = {c.task_id: c for c in check_tasks(tasks, executor, runs=2)}
    assert checks["qa/0"].ok, checks["qa/0"].problems
    assert checks["qa/0"].stub_status == "fail"

    def kinds(task_id: str) -> list[str]:
        return [p.split(":")[0] for p in checks[task_id].problems]

    assert kinds("qa/3") == ["tests"] and "2 test method(s)" in checks["qa/3"].problems[0]
    assert (
        kinds("qa/4") == ["coverage"]
        and "line 11" in checks["qa/4"].problems[0]
        and "branch 9->11" in checks["qa/4"].problems[0]
    )
    assert kinds("qa/5") == ["tests"] and "stub" in checks["qa/5"].problems[0]
    assert kinds("qa/6") == ["libs"] and "instruct_prompt does not mention math" in checks["qa/6"].problems[0]
    assert kinds("qa/7") == ["libs"] and "imports re" in checks["qa/7"].problems[0]
    assert "ground truth" in kinds("qa/8") and "passed 0 of 2 runs" in " ".join(checks["qa/8"].problems)


def test_stub_replaces_only_the_entry_point_body() -> None:
    stub = stub_solution(GOOD)
    assert stub is not None
    assert "def task_func(x):\n    pass" in stub and "import math" in stub and "floor" not in stub


def test_every_bcb_mini_task_passes_task_check(executor: LocalExecutor) -> None:
    tasks = load_dataset("bcb-mini").tasks
    failures = {c.task_id: c.problems for c in check_tasks(tasks, executor, runs=2) if not c.ok}
    assert failures == {}


def test_task_new_scaffold_parses_and_fails_task_check(tmp_path: Path, bcb_cmd: list[str]) -> None:
    parse_task(scaffold_task("demo"))
    made = subprocess.run(
        [*bcb_cmd, "task", "new", "demo", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    path = tmp_path / "demo.json"
    assert parse_task(json.loads(path.read_text())).task_id == "demo/0"
    again = subprocess.run(
        [*bcb_cmd, "task", "new", "demo", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert again.returncode == 2 and "exists" in again.stderr
    checked = subprocess.run(
        [*bcb_cmd, "task", "check", str(path), "--runs", "1", "--parallel", "1", "--python", sys.executable],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "1 test method(s), need at least 5" in checked.stdout
    assert "ground truth: passed 0 of 1 runs" in checked.stdout


def test_qa_cli_writes_the_summary_json(tmp_path: Path, bcb_cmd: list[str]) -> None:
    out = tmp_path / "qa.json"
    done = subprocess.run(
        [
            *bcb_cmd,
            "qa",
            "--dataset",
            "bcb-mini",
            "--selective-evaluate",
            "bcb-mini/0,bcb-mini/1,bcb-mini/2",
            "--runs",
            "2",
            "--parallel",
            "2",
            "--python",
            sys.executable,
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(out.read_text())
    summary = payload["summary"]
    for key in ("mean_branch_coverage", "share_min_tests", "flaky_tasks", "gt_pass_rate", "tasks"):
        assert key in summary
    assert summary["tasks"] == 3 and summary["runs_per_task"] == 2 and summary["gt_pass_rate"] == 1.0
    assert [t["task_id"] for t in payload["tasks"]] == ["bcb-mini/0", "bcb-mini/1", "bcb-mini/2"]
    assert all(t["coverage"]["percent"] > 50 and t["gt_runs"] == 2 for t in payload["tasks"])
    assert "dataset quality" in done.stdout


@pytest.mark.skipif(not TASK_ENV.exists(), reason=TASK_PYTHON_ABSENT)
def test_coverage_in_the_task_environment() -> None:
    with LocalExecutor(python=str(TASK_ENV), workers=1, preload=["coverage"]) as ex:
        [quality] = assess(
            [make_task(9, BRANCHY, [f"self.assertEqual(task_func({v}), {v})" for v in (1, 2, 3, 4, 5)])], ex, runs=1
        )
    assert quality.coverage_error == "" and quality.coverage is not None
    assert quality.coverage.missing_branches == ((9, 11),)
