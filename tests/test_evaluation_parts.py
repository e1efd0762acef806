"""The evaluation layer's parts: pass@k, laziness, sample reading, result files, the store."""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from pathlib import Path
from typing import Iterable

import pytest

from bcb.dataset import load_dataset
from bcb.evaluation.evaluate import EvalConfig, check_ground_truth, evaluate, planned_time
from bcb.evaluation.laziness import lazy_reason
from bcb.evaluation.passk import _bootstrap, bootstrap_ci, estimate_pass_at_k, pass_at_1_ci, pass_at_k
from bcb.evaluation.results import (
    EvalResults,
    SampleResult,
    model_name,
    read_eval_results,
    result_paths,
    write_eval_results,
)
from bcb.evaluation.samples import SamplesError, program, read_samples
from bcb.evaluation.store import GroundTruth, ResultStore, StoredVerdict, StoreError, VerdictKey
from bcb.execution import ExecutionResult, Job, LocalExecutor
from bcb.generation.samples import Sample
from helpers import shared_file

# -- pass@k -------------------------------------------------------------------------------------


def test_pass_at_k_against_hand_computed_values() -> None:
    assert estimate_pass_at_k(10, 3, 1) == pytest.approx(0.3)
    # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert estimate_pass_at_k(5, 2, 2) == pytest.approx(0.7)
    # n=10, c=1, k=5: 1 - C(9,5)/C(10,5) = 1 - 126/252
    assert estimate_pass_at_k(10, 1, 5) == pytest.approx(0.5)
    assert estimate_pass_at_k(10, 0, 5) == 0.0 and estimate_pass_at_k(10, 10, 1) == 1.0
    assert estimate_pass_at_k(4, 2, 3) == 1.0  # n - c < k: any 3 of 4 include a correct one
    with pytest.raises(ValueError):
        estimate_pass_at_k(3, 1, 5)


def test_pass_at_k_over_tasks_omits_k_larger_than_n() -> None:
    counts = {"a": (5, 5), "b": (5, 0), "c": (3, 1)}
    result = pass_at_k(counts, [1, 3, 5, 10])
    assert set(result) == {"pass@1", "pass@3"}  # task c has only 3 samples
    assert result["pass@1"] == pytest.approx((1 + 0 + 1 / 3) / 3)
    assert result["pass@3"] == pytest.approx((1 + 0 + 1) / 3)
    assert pass_at_k({}, [1]) == {}


def test_bootstrap_ci_is_seeded_and_brackets_the_mean() -> None:
    values = [1.0] * 60 + [0.0] * 40
    a = bootstrap_ci(values, seed=3)
    assert bootstrap_ci(tuple(values), seed=3) is a  # computed once: a run writes it and prints it
    _bootstrap.cache_clear()
    b = bootstrap_ci(values, seed=3)
    assert b is not a and a == b and a.low < 0.6 < a.high and a.estimate == pytest.approx(0.6)
    # Standard error of a proportion: sqrt(.6*.4/100) ~ 0.049; the 95% interval spans ~ +-0.096.
    assert 0.15 < a.high - a.low < 0.25
    assert bootstrap_ci([1.0] * 10).low == 1.0
    assert pass_at_1_ci({"a": (2, 1), "b": (2, 2)}).estimate == pytest.approx(0.75)


# -- laziness -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "solution, lazy",
    [
        ("def task_func(x):\n    # your code here\n    pass\n", True),
        ("def task_func(x):\n    ...\n", True),
        ('def task_func(x):\n    """Do it."""\n', True),
        ('def task_func(x):\n    """Do it."""\n    # TODO: implement\n    raise NotImplementedError\n', True),
        ("def task_func(x):\n    raise NotImplementedError('later')\n", True),
        ("import pandas as pd\n", True),
        ("def helper():\n    return 1\n", True),
        ("def task_func(x):\n    return x + 1\n", False),
        ("def task_func(x):\n    raise ValueError('bad input')\n", False),
        ("def task_func(x):\n    return x\ndef task_func(x):\n    pass\n", True),
        ("def task_func(x):\n    pass\ndef task_func(x):\n    return x\n", False),
        ("def task_func(x:\n", False),
        ("task_func = lambda x: x\n", False),
    ],
)
def test_lazy_answers(solution: str, lazy: bool) -> None:
    assert (lazy_reason(solution, "task_func") is not None) is lazy


# -- samples ------------------------------------------------------------------------------------


@pytest.fixture
def mini():
    return load_dataset("bcb-mini")


def test_read_jsonl_with_solution_and_completion(tmp_path: Path, mini) -> None:
    t0, t1 = mini.tasks[0], mini.tasks[1]
    path = tmp_path / "s.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"task_id": t0.task_id, "solution": "A"}),
                "",
                json.dumps({"task_id": t0.task_id, "solution": "B", "raw_solution": "```B```"}),
                json.dumps({"task_id": "1", "completion": "    return 1\n"}),
            ]
        )
    )
    samples = read_samples(path, mini.by_id, resolve_id=mini.resolve_id)
    assert [(s.task_id, s.index) for s in samples] == [(t0.task_id, 0), (t0.task_id, 1), (t1.task_id, 0)]
    assert samples[1].raw_solution == "```B```" and samples[1].where == f"{path}:3"
    assert samples[2].solution == t1.complete_prompt + "    return 1\n"
    assert program(samples[0], t0, calibrated=True) == t0.code_prompt + "\n    pass\n" + "A"
    assert program(samples[0], t0, calibrated=False) == "A"


@pytest.mark.parametrize(
    "lines, message",
    [
        (['{"task_id": "bcb-mini/0", "solution": "x"}', "{oops"], "s.jsonl:2: not valid JSON"),
        (['{"solution": "x"}'], "s.jsonl:1: sample has no task_id"),
        (['{"task_id": "bcb-mini/0"}'], "s.jsonl:1: bcb-mini/0: sample has neither 'solution' nor 'completion'"),
        (['{"task_id": "bcb-mini/0", "solution": ["a", "b"]}'], "bcb-mini/0: 'solution' must be a string"),
        (['{"task_id": "bcb-mini/999", "solution": "x"}'], "s.jsonl:1: no task 'bcb-mini/999'"),
        (["", "  "], "s.jsonl: holds no samples"),
        (["[1, 2]"], "s.jsonl:1: expected a JSON object per line, got list"),
    ],
)
def test_bad_samples_are_one_line_errors(tmp_path: Path, mini, lines: list[str], message: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SamplesError) as info:
        read_samples(path, mini.by_id, resolve_id=mini.resolve_id)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_read_directory_layout(tmp_path: Path, mini) -> None:
    task = mini.tasks[2]
    folder = tmp_path / "samples" / task.task_id.replace("/", "_")
    folder.mkdir(parents=True)
    for i, text in [(0, "zero"), (10, "ten"), (2, "two")]:
        (folder / f"{i}.py").write_text(text)
    (folder / "notes.txt").write_text("ignored")
    samples = read_samples(tmp_path / "samples", mini.by_id, resolve_id=mini.resolve_id)
    assert [(s.task_id, s.index, s.solution) for s in samples] == [
        (task.task_id, 0, "zero"),
        (task.task_id, 1, "two"),
        (task.task_id, 2, "ten"),
    ]
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "0.py").write_text("x")
    with pytest.raises(SamplesError, match="one folder per task"):
        read_samples(tmp_path / "flat", mini.by_id)


# -- result files -------------------------------------------------------------------------------


def test_result_paths_follow_the_official_names(tmp_path: Path) -> None:
    samples = tmp_path / "m--main--bigcodebench-complete--openai-0-1-sanitized_calibrated.jsonl"
    assert [p.name for p in result_paths(samples)] == [
        "m--main--bigcodebench-complete--openai-0-1-sanitized_calibrated_eval_results.json",
        "m--main--bigcodebench-complete--openai-0-1-sanitized_calibrated_pass_at_k.json",
    ]
    assert model_name(samples) == "m--main"
    assert result_paths(tmp_path) == (tmp_path / "eval_results.json", tmp_path / "pass_at_k.json")


def test_results_roundtrip_keeps_official_entries_exact(tmp_path: Path) -> None:
    results = EvalResults(
        "2026-11-26 12:00",
        {
            "BigCodeBench/1": [
                SampleResult("BigCodeBench/1", "code", "fail", {"test_a": "Traceback..."}, 0, 0.5, 60.0, None),
                SampleResult(
                    "BigCodeBench/1", "code2", "pass", {}, 1, 0.2, 50.0, "the body of task_func is a placeholder (pass)"
                ),
            ]
        },
        {"manifest": {"bcb_version": "0.1.0"}},
    )
    path = tmp_path / "x_eval_results.json"
    write_eval_results(path, results)
    raw = json.loads(path.read_text())
    assert raw["eval"]["BigCodeBench/1"][0] == {
        "task_id": "BigCodeBench/1",
        "solution": "code",
        "status": "fail",
        "details": {"test_a": "Traceback..."},
    }
    back = read_eval_results(path)
    assert back.eval == results.eval and back.bcb == results.bcb
    assert back.counts() == {"BigCodeBench/1": (2, 0)}  # the lazy pass is not counted as solved


def test_official_results_file_loads(tmp_path: Path) -> None:
    official = shared_file("../fidelity/official-Qwen2.5-Coder-7B-Instruct-complete-full.json")
    verdicts = json.loads(official.read_text())["verdicts"]
    # Build a file shaped exactly like the official evaluator's output from the reference verdicts.
    payload = {
        "date": "2025-01-01 00:00",
        "eval": {t: [{"task_id": t, "solution": "", "status": s[0], "details": {}}] for t, s in verdicts.items()},
    }
    path = tmp_path / "official_eval_results.json"
    path.write_text(json.dumps(payload, indent=2))
    loaded = read_eval_results(path)
    assert len(loaded.eval) == 1140
    solved = sum(c for _, c in loaded.counts().values())
    assert solved == sum(1 for s in verdicts.values() if s[0] == "pass")


# -- store --------------------------------------------------------------------------------------


def test_store_persists_and_keys_on_everything(tmp_path: Path) -> None:
    db = tmp_path / "root" / "bcb.sqlite"
    key = VerdictKey("hash", "T/1", "sha", "env", "limits")
    with ResultStore(db) as store:
        assert store.schema_version == 3
        store.put_verdict(key, StoredVerdict("fail", {"test_x": "boom"}, 0.1, 40.0, 5, ""))
        store.put_ground_truth("hash", "env", "limits", GroundTruth("T/1", "pass", 0.25, {}))
    with ResultStore(db) as store:
        assert store.get_verdicts([key])[key].details == {"test_x": "boom"}
        for other in (
            VerdictKey("hash", "T/1", "sha", "env2", "limits"),
            VerdictKey("hash", "T/1", "sha", "env", "limits2"),
        ):
            assert store.get_verdicts([other]) == {}
        assert store.get_ground_truth("hash", "env", "limits")["T/1"].gt_time == 0.25
        assert store.get_ground_truth("hash", "env", "other") == {}
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_remembers_ground_truth_times_across_environments(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "bcb.sqlite") as store:
        store.put_ground_truth("hash", "env1", "lim", GroundTruth("T/1", "pass", 0.2, {}))
        store.put_ground_truth("hash", "env2", "lim", GroundTruth("T/1", "pass", 0.5, {}))
        store.put_ground_truth("hash", "env1", "lim", GroundTruth("T/2", "pass", 3.0, {}))
        store.put_ground_truth("hash", "env2", "lim", GroundTruth("T/2", "timeout", None, {}))
        store.put_ground_truth("hash", "env1", "lim", GroundTruth("T/3", "fail", None, {"ALL": "x"}))
        store.put_ground_truth("other", "env1", "lim", GroundTruth("T/4", "pass", 9.0, {}))
        assert store.past_ground_truth_times("hash") == {"T/1": 0.5, "T/2": math.inf}
        assert store.past_ground_truth_times("nothing") == {}


def test_planned_time_covers_ground_truths_that_hit_their_limit() -> None:
    assert planned_time(GroundTruth("T/1", "pass", 1.5, {}), 241.0) == 1.5
    assert planned_time(GroundTruth("T/1", "fail", None, {"ALL": "x"}), 241.0) == 0.0
    assert planned_time(GroundTruth("T/1", "timeout", None, {}), 241.0) == 241.0


def test_ground_truth_check_orders_by_past_times(tmp_path: Path, mini) -> None:
    """A fresh environment has no ground-truth times yet: the check plans with those of earlier
    environments in the store, so the slow ground truths start first."""
    tasks = mini.tasks[:3]
    config = EvalConfig(timeout=30)
    given: list[Job] = []
    with ResultStore(tmp_path / "bcb.sqlite") as store, LocalExecutor(workers=1, preload=()) as executor:
        store.put_ground_truth(mini.content_hash, "old-env", "lim", GroundTruth(tasks[1].task_id, "pass", 2.5, {}))
        store.put_ground_truth(mini.content_hash, "old-env", "lim", GroundTruth(tasks[2].task_id, "timeout", None, {}))

        def runner(jobs: list[Job]) -> Iterable[ExecutionResult]:
            given.extend(jobs)
            return executor.run(jobs)

        gt = check_ground_truth(mini, tasks, config, store, "new-env", runner)
        planned = {tasks[0].task_id: 0.0, tasks[1].task_id: 2.5, tasks[2].task_id: 30.0}
        assert {j.task_id: j.expected_time for j in given} == planned
        assert all(g.passed for g in gt.values())

        # Samples judged without a ground-truth check (--no-gt) are planned the same way, now
        # also with the time just measured for the first task.
        planned[tasks[0].task_id] = gt[tasks[0].task_id].gt_time or -1.0
        given.clear()
        samples = [Sample(task_id=t.task_id, index=0, solution=t.solution, where="test") for t in tasks]
        fingerprint = {"python_version": "3.11", "freeze_sha256": "other-env"}
        evaluation = evaluate(mini, tasks, samples, EvalConfig(timeout=30, no_gt=True), store, fingerprint, runner)
    assert {j.task_id: j.expected_time for j in given} == planned
    assert evaluation.pass_at_k["pass@1"] == 1.0


def test_store_refuses_newer_schema_and_garbage(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    con = sqlite3.connect(newer)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match="newer bcb"):
        ResultStore(newer)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="not a usable bcb result store"):
        ResultStore(garbage)


def test_store_migrates_an_empty_file_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    sqlite3.connect(path).close()  # schema 0: an empty database
    with ResultStore(path) as store:
        assert store.schema_version == 3 and store.count_verdicts() == 0


def test_a_store_written_before_is_reused_as_it_is(tmp_path: Path, mini) -> None:
    """Keys written literally as earlier bcb wrote them (environment hash and limits text
    computed by the code before evaluation/plan.py existed): every verdict and ground truth is
    found, nothing runs, and the stored statuses (one a made-up failure) are what is reported."""
    fingerprint = {
        "python_version": "3.11.7",
        "implementation": "CPython",
        "machine": "x86_64",
        "freeze_sha256": "ab" * 32,
        "sandbox": {"tier": "root", "netns": True},
        "nltk_data_sha256": None,
        "executable": "/somewhere/python",
    }
    env = "af9c9da5fc203205714d37802547a20c"
    limits = '{"max_as_mb":30720,"max_data_mb":30720,"max_stack_mb":10,"time_limit":241.0}'
    tasks = mini.tasks[:2]
    samples = [Sample(task_id=t.task_id, index=0, solution=t.solution, where="test") for t in tasks]
    with ResultStore(tmp_path / "bcb.sqlite") as store:
        stored = [
            StoredVerdict("fail", {"test_stored": "stored, never run here"}, 0.1, None, 1, ""),
            StoredVerdict("pass", {}, 0.1, None, 1, ""),
        ]
        for task, sample, verdict in zip(tasks, samples, stored):
            store.put_ground_truth(mini.content_hash, env, limits, GroundTruth(task.task_id, "pass", 0.5, {}))
            sha = hashlib.sha256(program(sample, task, calibrated=True).encode()).hexdigest()
            store.put_verdict(VerdictKey(mini.content_hash, task.task_id, sha, env, limits), verdict)
        ran: list[Job] = []

        def runner(jobs: list[Job]) -> Iterable[ExecutionResult]:
            ran.extend(jobs)
            return iter(())

        evaluation = evaluate(mini, tasks, samples, EvalConfig(), store, fingerprint, runner)
    assert ran == [] and evaluation.executed == 0 and evaluation.reused == 2
    rows = {t: [(r.status, r.details) for r in rs] for t, rs in evaluation.results.eval.items()}
    assert rows == {
        tasks[0].task_id: [("fail", {"test_stored": "stored, never run here"})],
        tasks[1].task_id: [("pass", {})],
    }
