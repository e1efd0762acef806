"""`bcb evaluate` end to end on bcb-mini: real workers, a real SQLite store, real kills."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bcb.dataset import load_dataset
from bcb.evaluation.results import read_eval_results, result_paths
from helpers import logging_python


def run(cmd: list[str], *args: str, timeout: float = 300, stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="150", NO_COLOR="1")
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, env=env, timeout=timeout, stdin=stdin, check=False
    )


def write_samples(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def mini():
    return load_dataset("bcb-mini")


def canonical(mini) -> list[dict]:
    return [{"task_id": t.task_id, "solution": t.solution} for t in mini]


def test_canonical_and_flawed_models(bcb_cmd: list[str], tmp_path: Path, mini) -> None:
    good = write_samples(tmp_path / "good.jsonl", canonical(mini))
    result = run(bcb_cmd, "evaluate", "--dataset", "bcb-mini", "--samples", str(good), "--root", str(tmp_path / "root"))
    assert result.returncode == 0, result.stderr
    eval_path, passk_path = result_paths(good)
    passk = json.loads(passk_path.read_text())
    assert passk["pass@1"] == 1.0 and passk["gt_pass_rate"] == 1.0 and passk["failed_tasks"] == []
    assert "pass@5" not in passk  # one sample per task: k > n is omitted
    loaded = read_eval_results(eval_path)
    assert all(r.status == "pass" and r.details == {} for rows in loaded.eval.values() for r in rows)
    assert loaded.bcb["manifest"]["dataset"]["content_hash"] == mini.content_hash

    rows = []
    for i, task in enumerate(mini):
        if i % 3 == 0:
            rows.append({"task_id": task.task_id, "solution": task.code_prompt + "    # your code here\n    pass\n"})
        elif i % 3 == 1:
            rows.append({"task_id": task.task_id, "solution": task.solution.replace("def task_func", "def other_name")})
        else:
            rows.append(
                {"task_id": task.task_id, "solution": task.solution + "\nraise RuntimeError('boom at import')\n"}
            )
    flawed = write_samples(tmp_path / "flawed.jsonl", rows)
    result = run(
        bcb_cmd, "evaluate", "--dataset", "bcb-mini", "--samples", str(flawed), "--root", str(tmp_path / "root")
    )
    assert result.returncode == 0, result.stderr
    loaded = read_eval_results(result_paths(flawed)[0])
    flat = [r for rows_ in loaded.eval.values() for r in rows_]
    assert json.loads(result_paths(flawed)[1].read_text())["pass@1"] == 0.0
    assert all(r.lazy for r in flat[0::3]) and all(r.lazy for r in flat[1::3])
    assert all(r.status == "fail" and r.details == {"ALL": "boom at import"} for r in flat[2::3])


def test_identical_solutions_execute_once(bcb_cmd: list[str], tmp_path: Path, mini) -> None:
    tasks = list(mini)[:4]
    rows = []
    for task in tasks:
        for i in range(10):  # 10 samples per task, only 3 distinct programs each
            body = task.solution + f"\n# variant {i % 3}\n"
            rows.append({"task_id": task.task_id, "solution": body})
    samples = write_samples(tmp_path / "many.jsonl", rows)
    ids = ",".join(t.task_id for t in tasks)
    result = run(
        bcb_cmd,
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(samples),
        "--root",
        str(tmp_path / "root"),
        "--selective-evaluate",
        ids,
        "--no-gt",
    )
    assert result.returncode == 0, result.stderr
    manifest = read_eval_results(result_paths(samples)[0]).bcb["manifest"]
    assert manifest["distinct_programs"] == 12 and manifest["executed"] == 12
    passk = json.loads(result_paths(samples)[1].read_text())
    assert passk["pass@1"] == passk["pass@5"] == passk["pass@10"] == 1.0


def _verdicts(path: Path) -> dict[str, list[tuple[str, dict]]]:
    return {t: [(r.status, dict(r.details)) for r in rows] for t, rows in read_eval_results(path).eval.items()}


@pytest.mark.slow
def test_sigkill_ten_times_then_resume_gives_the_uninterrupted_result(bcb_cmd: list[str], tmp_path: Path, mini) -> None:
    rows = []
    for task in mini:
        for i in range(3):
            # Distinct programs that take a moment each, so kills land mid-run.
            rows.append(
                {"task_id": task.task_id, "solution": task.solution + f"\nimport time\ntime.sleep(0.05)\n# {i}\n"}
            )
    rows[5]["solution"] = rows[5]["solution"].replace("return", "return None  #", 1)
    samples = write_samples(tmp_path / "killed.jsonl", rows)
    reference = write_samples(tmp_path / "reference.jsonl", rows)
    args = ["evaluate", "--dataset", "bcb-mini", "--timeout", "20"]

    baseline = run(bcb_cmd, *args, "--samples", str(reference), "--root", str(tmp_path / "root-ref"))
    assert baseline.returncode == 0, baseline.stderr

    rng = random.Random(1234)
    env = dict(os.environ, NO_COLOR="1")
    store = tmp_path / "root-killed" / "bcb.sqlite"
    for _ in range(10):
        proc = subprocess.Popen(
            [*bcb_cmd, *args, "--samples", str(samples), "--root", str(store.parent)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.3, 3.0))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the harness and its workers, as a crash would
        proc.wait()
    final = run(bcb_cmd, *args, "--samples", str(samples), "--root", str(store.parent))
    assert final.returncode == 0, final.stderr
    assert _verdicts(result_paths(samples)[0]) == _verdicts(result_paths(reference)[0])
    assert (
        json.loads(result_paths(samples)[1].read_text())["pass@1"]
        == json.loads(result_paths(reference)[1].read_text())["pass@1"]
    )


# -- bad input: one line, naming file and line, non-zero exit, no prompt --------------------------


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"task_id": "bcb-mini/0", "solution": "x"}\n{not json\n', "bad.jsonl:2: not valid JSON"),
        ('{"solution": "x"}\n', "bad.jsonl:1: sample has no task_id"),
        ('{"task_id": "bcb-mini/77", "solution": "x"}\n', "bad.jsonl:1: no task 'bcb-mini/77'"),
        ("\n", "bad.jsonl: holds no samples"),
        (
            '{"task_id": "bcb-mini/0", "solution": "x"}\n',
            "tasks have no sample (first: bcb-mini/1); pass --allow-partial",
        ),
    ],
)
def test_bad_samples_files(bcb_cmd: list[str], tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    result = run(bcb_cmd, "evaluate", "--dataset", "bcb-mini", "--samples", str(path), "--root", str(tmp_path / "root"))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_selective_evaluate_requires_only_the_selected(bcb_cmd: list[str], tmp_path: Path, mini) -> None:
    task = mini.tasks[3]
    path = write_samples(tmp_path / "one.jsonl", [{"task_id": task.task_id, "solution": task.solution}])
    result = run(
        bcb_cmd,
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(path),
        "--root",
        str(tmp_path / "r"),
        "--selective-evaluate",
        "3",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result_paths(path)[1].read_text())["pass@1"] == 1.0
    partial = run(
        bcb_cmd,
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(path),
        "--root",
        str(tmp_path / "r"),
        "--allow-partial",
    )
    assert partial.returncode == 0, partial.stderr


def test_directory_in_the_wrong_layout(bcb_cmd: list[str], tmp_path: Path) -> None:
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "0.py").write_text("print(1)")
    result = run(
        bcb_cmd, "evaluate", "--dataset", "bcb-mini", "--samples", str(tmp_path / "flat"), "--root", str(tmp_path / "r")
    )
    assert result.returncode == 2 and "one folder per task" in result.stderr


def test_check_gt_only(bcb_cmd: list[str], tmp_path: Path) -> None:
    result = run(bcb_cmd, "evaluate", "--dataset", "bcb-mini", "--check-gt-only", "--root", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    assert "Ground-truth pass rate: 1.000" in result.stdout


# -- an existing results file: reused or overwritten by flag, never by asking ---------------------


def test_existing_results_reused_by_flag_else_overwritten_with_a_backup(
    bcb_cmd: list[str], tmp_path: Path, mini
) -> None:
    tasks = list(mini)[:2]
    path = write_samples(tmp_path / "s.jsonl", [{"task_id": t.task_id, "solution": t.solution} for t in tasks])
    eval_path, passk_path = result_paths(path)
    args = [
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(path),
        "--root",
        str(tmp_path / "root"),
        "--selective-evaluate",
        "0,1",
        "--no-gt",
    ]

    first = run(bcb_cmd, *args, "--reuse-results")  # nothing to reuse yet: evaluates
    assert first.returncode == 0, first.stderr
    assert json.loads(passk_path.read_text())["pass@1"] == 1.0
    original = eval_path.read_bytes()

    write_samples(
        path,
        [
            {"task_id": tasks[0].task_id, "solution": tasks[0].solution},
            {"task_id": tasks[1].task_id, "solution": tasks[1].solution + "\nraise RuntimeError('x')\n"},
        ],
    )
    reused = run(bcb_cmd, *args, "--reuse-results", stdin=subprocess.DEVNULL)
    assert reused.returncode == 0, reused.stderr
    assert "reused" in reused.stdout
    assert eval_path.read_bytes() == original  # the stale file wins, as in the official evaluator
    assert json.loads(passk_path.read_text())["pass@1"] == 1.0

    overwritten = run(bcb_cmd, *args, stdin=subprocess.DEVNULL)  # the default: evaluate again
    assert overwritten.returncode == 0, overwritten.stderr
    assert json.loads(passk_path.read_text())["pass@1"] == 0.5
    assert [r.status for r in read_eval_results(eval_path).eval[tasks[1].task_id]] == ["fail"]
    backup = eval_path.with_name(eval_path.name + ".bak")
    assert backup.read_bytes() == original
    assert str(backup) in overwritten.stdout.replace("\n", "")


def test_reuse_scores_an_official_results_file_without_running(bcb_cmd: list[str], tmp_path: Path, mini) -> None:
    tasks = list(mini)[:2]
    path = write_samples(
        tmp_path / "m--bigcodebench-complete.jsonl", [{"task_id": t.task_id, "solution": t.solution} for t in tasks]
    )
    eval_path, passk_path = result_paths(path)
    official = {
        "date": "2024-06-01 12:00",
        "eval": {
            tasks[0].task_id: [{"task_id": tasks[0].task_id, "solution": "s", "status": "pass", "details": {}}],
            tasks[1].task_id: [{"task_id": tasks[1].task_id, "solution": "s", "status": "timeout", "details": {}}],
        },
    }
    eval_path.write_text(json.dumps(official, indent=2))
    result = run(
        bcb_cmd,
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(path),
        "--root",
        str(tmp_path / "root"),
        "--selective-evaluate",
        "0,1",
        "--reuse-results",
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    passk = json.loads(passk_path.read_text())
    assert passk["pass@1"] == 0.5 and passk["model"] == "m" and passk["timeouts"] == 1 and passk["gt_checked"] is False
    assert json.loads(eval_path.read_text()) == official
    assert not (tmp_path / "root").exists()  # no store opened, no worker started


def test_reuse_of_a_corrupt_results_file_is_one_line_naming_it(bcb_cmd: list[str], tmp_path: Path, mini) -> None:
    path = write_samples(tmp_path / "s.jsonl", canonical(mini))
    eval_path = result_paths(path)[0]
    eval_path.write_text('{"date": "x", "eval": {')
    result = run(
        bcb_cmd,
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(path),
        "--root",
        str(tmp_path / "root"),
        "--reuse-results",
    )
    assert result.returncode == 2
    assert str(eval_path) in result.stderr.replace("\n", "") and "--overwrite-results" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_annotations_are_evaluated_as_officially(bcb_cmd: list[str], tmp_path: Path, mini) -> None:
    # Officially an annotation naming something undefined fails at import; bcb's runner module
    # must not lend the sample its own `from __future__ import annotations`.
    task = mini.tasks[0]
    path = write_samples(
        tmp_path / "a.jsonl",
        [{"task_id": task.task_id, "solution": task.solution + "\n\ndef _helper() -> NotImported:\n    pass\n"}],
    )
    result = run(
        bcb_cmd,
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(path),
        "--root",
        str(tmp_path / "root"),
        "--selective-evaluate",
        "0",
        "--no-gt",
    )
    assert result.returncode == 0, result.stderr
    [row] = read_eval_results(result_paths(path)[0]).eval[task.task_id]
    assert (row.status, dict(row.details)) == ("fail", {"ALL": "name 'NotImported' is not defined"})


def test_a_run_whose_verdicts_are_all_stored_starts_no_worker(bcb_cmd: list[str], tmp_path: Path, mini) -> None:
    tasks = list(mini)[:3]
    samples = write_samples(tmp_path / "s.jsonl", [{"task_id": t.task_id, "solution": t.solution} for t in tasks])
    ids = ",".join(t.task_id for t in tasks)
    common = (
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(samples),
        "--root",
        str(tmp_path / "root"),
        "--selective-evaluate",
        ids,
    )
    first = run(bcb_cmd, *common, "--python", sys.executable)
    assert first.returncode == 0, first.stderr
    before = read_eval_results(result_paths(samples)[0])
    assert before.bcb["manifest"]["executed"] == 3

    wrapper, log = logging_python(tmp_path)
    again = run(bcb_cmd, *common, "--python", str(wrapper))
    assert again.returncode == 0, again.stderr
    after = read_eval_results(result_paths(samples)[0])
    manifest = after.bcb["manifest"]
    assert manifest["executed"] == 0 and manifest["reused_from_store"] == 3
    assert manifest["executor"] == {"kind": "local", "started": False}
    assert manifest["timing"]["workers_ready_s"] is None and manifest["timing"]["first_verdict_s"] is None
    assert {t: [(r.status, r.details, r.solution) for r in rows] for t, rows in after.eval.items()} == {
        t: [(r.status, r.details, r.solution) for r in rows] for t, rows in before.eval.items()
    }
    starts = log.read_text().splitlines()
    assert starts, "the interpreter was not used at all: this test would prove nothing"
    assert not [s for s in starts if "_zygote" in s], starts

    # The same observation sees a worker start as soon as one program is new.
    changed = write_samples(
        tmp_path / "s2.jsonl", [{"task_id": t.task_id, "solution": t.solution + "\n# new\n"} for t in tasks[:1]]
    )
    third = run(
        bcb_cmd,
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(changed),
        "--root",
        str(tmp_path / "root"),
        "--selective-evaluate",
        tasks[0].task_id,
        "--python",
        str(wrapper),
    )
    assert third.returncode == 0, third.stderr
    assert [s for s in log.read_text().splitlines() if "_zygote" in s]
    assert read_eval_results(result_paths(changed)[0]).bcb["manifest"]["executed"] == 1


def test_every_run_records_its_timing_in_order(bcb_cmd: list[str], tmp_path: Path, mini) -> None:
    task = list(mini)[0]
    samples = write_samples(tmp_path / "one.jsonl", [{"task_id": task.task_id, "solution": task.solution}])
    result = run(
        bcb_cmd,
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(samples),
        "--root",
        str(tmp_path / "root"),
        "--selective-evaluate",
        task.task_id,
    )
    assert result.returncode == 0, result.stderr
    timing = read_eval_results(result_paths(samples)[0]).bcb["manifest"]["timing"]
    steps = [
        "startup_s",
        "dataset_s",
        "fingerprint_s",
        "workers_ready_s",
        "first_verdict_s",
        "last_verdict_s",
        "writing_results_s",
    ]
    assert list(timing) == steps
    assert all(isinstance(timing[s], float) for s in steps), timing  # a cold run: every step happened
    # The workers start in the background while the environment is fingerprinted: ready after the
    # dataset (which decides what they preload), before the first verdict.
    in_turn = [timing[s] for s in steps if s != "workers_ready_s"]
    assert in_turn[0] > 0 and in_turn == sorted(in_turn), timing
    assert timing["dataset_s"] <= timing["workers_ready_s"] <= timing["first_verdict_s"], timing
