"""`bcb.evaluation.api.evaluate_solutions`, the Python API for training loops, on the local
executor (tests/test_ray_cluster.py runs it on a Ray cluster): real workers, no mocks."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from bcb.dataset import load_dataset
from bcb.evaluation.api import Verdict, evaluate_solutions
from bcb.evaluation.samples import SamplesError
from bcb.evaluation.store import ResultStore
from bcb.execution import Limits, LocalExecutor
from helpers import logging_python

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]


@pytest.fixture(scope="module")
def mini():
    return load_dataset("bcb-mini")


@pytest.fixture(scope="module")
def executor():
    with LocalExecutor(
        python=sys.executable, workers=2, preload=("numpy", "pandas", "matplotlib", "matplotlib.pyplot")
    ) as ex:
        yield ex


def test_verdicts_for_every_solution_with_its_index(mini, executor: LocalExecutor) -> None:
    tasks = list(mini)[:4]
    solutions = [
        (tasks[0].task_id, tasks[0].solution),
        {"task_id": tasks[1].task_id, "solution": tasks[1].solution.replace("def task_func", "def other")},
        {
            "task_id": tasks[2].task_id.rsplit("/", 1)[1],
            "completion": tasks[2].canonical_solution,
        },  # a bare number and a completion
        (tasks[3].task_id, tasks[3].solution + "\nraise RuntimeError('boom at import')\n"),
        (tasks[0].task_id, tasks[0].solution),  # the same program again: run once, answered twice
    ]
    verdicts = list(evaluate_solutions(mini, solutions, executor, time_limit=30))
    by_index = {v.index: v for v in verdicts}
    assert sorted(by_index) == [0, 1, 2, 3, 4] and len(verdicts) == 5
    assert [by_index[i].status for i in range(5)] == ["pass", "fail", "pass", "fail", "pass"]
    assert by_index[3].details == {"ALL": "boom at import"} and by_index[3].reward == 0.0
    assert by_index[0].reward == 1.0 and by_index[0].passed and not by_index[0].reused
    assert by_index[0].program_sha == by_index[4].program_sha and by_index[2].task_id == tasks[2].task_id
    assert all(isinstance(v, Verdict) and v.node == "" for v in verdicts)


def test_verdicts_arrive_as_they_finish(mini, executor: LocalExecutor) -> None:
    task = next(iter(mini))
    slow = task.solution + "\nimport time\ntime.sleep(3)\n"
    started = time.monotonic()
    seen = []
    for verdict in evaluate_solutions(
        [task], [(task.task_id, slow), (task.task_id, task.solution)], executor, time_limit=30
    ):
        seen.append((verdict.index, time.monotonic() - started))
    assert [index for index, _ in seen] == [1, 0]  # the fast one is not held back by the slow one
    assert seen[0][1] < 2.5 <= seen[1][1]


def test_calibration_is_on_by_default_as_in_bcb_evaluate(mini, executor: LocalExecutor) -> None:
    task = next(t for t in mini if t.libs)
    body_only = "\n".join(line for line in task.solution.splitlines() if not line.startswith(("import ", "from ")))
    (calibrated,) = evaluate_solutions([task], [(task.task_id, body_only)], executor, time_limit=30)
    (raw,) = evaluate_solutions([task], [(task.task_id, body_only)], executor, time_limit=30, calibrated=False)
    assert calibrated.status == "pass" and raw.status == "fail"  # the code_prompt's imports were prepended


def test_a_store_shares_verdicts_between_calls(mini, executor: LocalExecutor, tmp_path: Path) -> None:
    tasks = list(mini)[:3]
    solutions = [(t.task_id, t.solution) for t in tasks]
    with ResultStore(tmp_path / "bcb.sqlite") as store:
        first = list(evaluate_solutions(mini, solutions, executor, time_limit=30, store=store))
        assert not any(v.reused for v in first) and store.count_verdicts() == 3
        again = list(evaluate_solutions(mini, solutions, executor, time_limit=30, store=store))
        assert all(v.reused for v in again) and store.count_verdicts() == 3
        assert sorted((v.index, v.status) for v in again) == sorted((v.index, v.status) for v in first)
        other_limit = list(evaluate_solutions(mini, solutions[:1], executor, time_limit=20, store=store))
        assert not other_limit[0].reused  # the limits are part of the key, as in bcb evaluate


def test_a_call_whose_verdicts_are_all_stored_starts_no_worker(mini, tmp_path: Path) -> None:
    """An executor built for the call, with a store: the second call finds every verdict under
    the sandbox probe the first one remembered beside the store, and starts nothing."""
    tasks = list(mini)[:2]
    solutions = [(t.task_id, t.solution) for t in tasks]
    with ResultStore(tmp_path / "root" / "bcb.sqlite") as store:
        first = list(
            evaluate_solutions(mini, solutions, "local", python=sys.executable, workers=1, time_limit=30, store=store)
        )
        assert not any(v.reused for v in first)
        wrapper, log = logging_python(tmp_path)
        again = list(
            evaluate_solutions(mini, solutions, "local", python=str(wrapper), workers=1, time_limit=30, store=store)
        )
        assert all(v.reused for v in again) and sorted((v.index, v.status) for v in again) == sorted(
            (v.index, v.status) for v in first
        )
        assert log.read_text() and "_zygote" not in log.read_text()
        new = list(
            evaluate_solutions(
                mini,
                [(tasks[0].task_id, tasks[0].solution + "\n# new\n")],
                "local",
                python=str(wrapper),
                workers=1,
                time_limit=30,
                store=store,
            )
        )
        assert new[0].status == "pass" and not new[0].reused and "_zygote" in log.read_text()


def test_an_executor_built_for_the_call_is_closed_after_it(mini) -> None:
    task = next(iter(mini))
    stream = evaluate_solutions([task], [(task.task_id, task.solution)], "local", workers=1, time_limit=30)
    (verdict,) = list(stream)
    assert verdict.status == "pass"


def test_bad_input_is_refused_before_anything_runs(mini, executor: LocalExecutor) -> None:
    with pytest.raises(SamplesError, match="no task 'nope'"):
        evaluate_solutions(mini, [("nope", "x = 1")], executor)
    with pytest.raises(SamplesError, match="expected a \\(task_id, solution\\) pair"):
        evaluate_solutions(mini, ["x = 1"], executor)  # type: ignore[list-item]
    with pytest.raises(SamplesError, match="must be text"):
        evaluate_solutions(mini, [{"task_id": "bcb-mini/0"}], executor)
    with pytest.raises(ValueError, match="time_limit"):
        evaluate_solutions(mini, [("bcb-mini/0", "x = 1")], executor, time_limit=0)
    with pytest.raises(ValueError, match="set them on the executor"):
        evaluate_solutions(mini, [("bcb-mini/0", "x = 1")], executor, workers=3)
    with pytest.raises(ValueError, match="differ from the executor"):
        evaluate_solutions(mini, [("bcb-mini/0", "x = 1")], executor, limits=Limits(max_stack_mb=1))
    assert list(evaluate_solutions(mini, [], executor)) == []
