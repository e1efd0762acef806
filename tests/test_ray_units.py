"""The Ray executor's parts that need no cluster: the driver's batch scheduler, the environment
check, the import guard, the executor factory, the CLI's flags and the store's ``node`` column.
They run whether or not Ray is installed; tests/test_ray_cluster.py runs the real thing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bcb.evaluation.store import ResultStore, StoredVerdict, VerdictKey
from bcb.execution import ExecutionResult, Job, Limits, LocalExecutor
from bcb.execution.protocol import Executor, ExecutorOptions, create_executor, describe_executor
from bcb.execution.ray_batches import BatchScheduler
from bcb.execution.ray_executor import RAY_INSTALL_HINT, RayExecutor, RayUnavailableError, import_ray
from bcb.execution.ray_nodes import (
    MixedEnvironmentError,
    NodeReport,
    RayExecutorError,
    check_environments,
    environment_differences,
    harness_fingerprint,
)


def jobs_with(times: dict[str, float]) -> list[Job]:
    return [Job(key, "T/1", "", "", 10.0, expected) for key, expected in times.items()]


def result_for(job: Job, status: str = "pass", duration: float = 0.1) -> ExecutionResult:
    return ExecutionResult(job.key, job.task_id, status, {}, duration, None, 1, 1)  # type: ignore[arg-type]


# -- scheduling -----------------------------------------------------------------------------------


def test_batches_go_longest_first_and_fill_to_the_target() -> None:
    sched = BatchScheduler(
        jobs_with({"a": 0.1, "b": 5.0, "c": 0.3, "d": 0.0, "e": 0.3, "f": 0.2}),
        target_batch_s=0.5,
        default_estimate_s=0.1,
    )
    first = sched.next_batch()
    assert first is not None and [j.key for j in first.jobs] == ["b"]  # 5 s is a batch by itself
    second = sched.next_batch()
    assert second is not None and [j.key for j in second.jobs] == ["c"]  # c + e would pass the 0.5 s target
    third = sched.next_batch()
    assert third is not None and [j.key for j in third.jobs] == ["e", "f"]  # ties keep submission order
    fourth = sched.next_batch()
    assert fourth is not None and [j.key for j in fourth.jobs] == ["a", "d"]  # d, not measured, counts 0.1
    assert sched.next_batch() is None and sched.in_flight == 6 and not sched.finished
    for batch in (first, second, third, fourth):
        sched.completed(batch, [result_for(j) for j in batch.jobs])
    assert sched.finished and sched.in_flight == 0


def test_batches_are_capped_and_the_tail_is_shared_between_workers() -> None:
    sched = BatchScheduler(jobs_with({str(i): 0.0 for i in range(40)}), max_batch=16, target_batch_s=100.0)
    assert len(sched.next_batch(workers=1) or ()) == 16  # max_batch
    assert len(sched.next_batch(workers=4) or ()) == 6  # 24 left over 4 workers
    assert len(sched.next_batch(workers=9) or ()) == 2


def test_in_flight_is_bounded() -> None:
    sched = BatchScheduler(
        jobs_with({str(i): 0.0 for i in range(100)}), max_in_flight=10, max_batch=4, target_batch_s=100.0
    )
    sizes = []
    while (batch := sched.next_batch()) is not None:
        sizes.append(len(batch))
    assert sizes == [4, 4, 2] and sched.in_flight == 10 and sched.pending == 90


def test_the_mean_duration_sizes_batches_of_unknown_samples() -> None:
    sched = BatchScheduler(jobs_with({str(i): 0.0 for i in range(50)}), target_batch_s=1.0, default_estimate_s=0.5)
    first = sched.next_batch()
    assert first is not None and len(first) == 2  # 0.5 s assumed each
    sched.completed(first, [result_for(j, duration=0.1) for j in first.jobs])
    second = sched.next_batch()
    assert second is not None and len(second) == 10  # 0.1 s measured


def test_a_batch_lost_with_its_node_is_requeued_as_it_was() -> None:
    sched = BatchScheduler(jobs_with({"a": 2.0, "b": 1.0, "c": 0.5}), target_batch_s=10.0)
    batch = sched.next_batch()
    assert batch is not None and len(batch) == 3
    assert sched.lost(batch, "node gone", blame=False) == []
    again = sched.next_batch()
    assert again is not None and [j.key for j in again.jobs] == ["a", "b", "c"]  # still together, same order
    (a, b, c) = (result_for(j) for j in again.jobs)
    out = {r.key: r for r in sched.completed(again, [a, b, c])}
    assert out["a"].attempts == 2 and "re-run after: node gone" in out["a"].note
    assert sched.finished


@pytest.mark.slow
def test_added_samples_keep_the_callers_order_behind_a_lost_one() -> None:
    """`bcb serve` on Ray: samples come one by one in the fair queue's order, not longest first."""
    sched = BatchScheduler((), max_batch=1)
    assert sched.next_batch() is None and sched.finished
    sched.add(jobs_with({"short": 0.1, "long": 5.0}))
    first = sched.next_batch()
    assert first is not None and first.jobs[0].key == "short"
    sched.add(jobs_with({"later": 9.0}))
    assert sched.lost(first, "worker died", blame=False) == []
    order = []
    while (batch := sched.next_batch()) is not None:
        order.append(batch.jobs[0].key)
        sched.completed(batch, [result_for(j) for j in batch.jobs])
    assert order == ["short", "long", "later"] and sched.finished


def test_a_sample_that_keeps_killing_its_worker_is_isolated_then_failed() -> None:
    sched = BatchScheduler(jobs_with({"killer": 1.0, "x": 0.5, "y": 0.5}), target_batch_s=10.0, max_attempts=3)
    batch = sched.next_batch()
    assert batch is not None and len(batch) == 3
    assert sched.lost(batch, "worker died", blame=True) == []  # one of the three did it: no strike yet
    singles = [sched.next_batch() for _ in range(3)]
    assert [[j.key for j in b.jobs] for b in singles if b] == [["killer"], ["x"], ["y"]]  # now one per call
    killer, x, y = singles
    assert killer is not None and x is not None and y is not None
    assert [r.key for r in sched.completed(x, [result_for(x.jobs[0])])] == ["x"]
    assert [r.key for r in sched.completed(y, [result_for(y.jobs[0])])] == ["y"]
    assert sched.lost(killer, "worker died", blame=True) == []  # strike 1
    killer = sched.next_batch()
    assert killer is not None and sched.lost(killer, "worker died", blame=True) == []  # strike 2
    killer = sched.next_batch()
    assert killer is not None
    (failed,) = sched.lost(killer, "worker died (SIGKILL)", blame=True, node="host (1.2.3.4, node abc)")
    assert failed.status == "fail" and failed.details["ALL"].startswith(
        "the Ray worker running this sample died 3 times"
    )
    assert failed.attempts == 4 and failed.node == "host (1.2.3.4, node abc)"
    assert sched.finished and sched.next_batch() is None


def test_a_lone_sample_whose_node_dies_gets_no_strike() -> None:
    sched = BatchScheduler(jobs_with({"a": 1.0}), max_attempts=1)
    for _ in range(5):
        batch = sched.next_batch()
        assert batch is not None and sched.lost(batch, "node gone", blame=False) == []
    batch = sched.next_batch()
    assert batch is not None
    (result,) = sched.completed(batch, [result_for(batch.jobs[0])])
    assert result.attempts == 6 and result.status == "pass"


def test_a_result_missing_from_its_batch_is_run_again() -> None:
    sched = BatchScheduler(jobs_with({"a": 0.0, "b": 0.0}), target_batch_s=10.0)
    batch = sched.next_batch()
    assert batch is not None
    assert [r.key for r in sched.completed(batch, [result_for(batch.jobs[0])])] == ["a"]
    again = sched.next_batch()
    assert again is not None and [j.key for j in again.jobs] == ["b"]


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        BatchScheduler(jobs_with({"a": 0.0}) * 2)


# -- environment check ----------------------------------------------------------------------------

REFERENCE = {
    "python_version": "3.11.7",
    "implementation": "CPython",
    "machine": "x86_64",
    "freeze_sha256": "a" * 64,
    "harness": harness_fingerprint(),
}


def report(name: str, **changes: object) -> NodeReport:
    fingerprint = {**REFERENCE, **changes}
    return NodeReport(
        name * 8, name, f"10.0.0.{len(name)}", 2.0, fingerprint, tuple(environment_differences(REFERENCE, fingerprint))
    )


def test_identical_nodes_pass_the_check() -> None:
    nodes = [report("a"), report("b")]
    assert check_environments(nodes, allow_mixed=False) == nodes
    assert environment_differences(REFERENCE, dict(REFERENCE)) == []


def test_a_node_with_other_packages_is_refused_with_a_clear_message() -> None:
    nodes = [report("a"), report("b", freeze_sha256="b" * 64)]
    with pytest.raises(MixedEnvironmentError) as info:
        check_environments(nodes, allow_mixed=False)
    message = str(info.value)
    assert "\n" not in message
    assert "b (10.0.0.1, node bbbbbbbb)" in message and "installed packages" in message and "bbbbbbbbbbbb..." in message
    assert "--allow-mixed-env" in message
    assert check_environments(nodes, allow_mixed=True) == nodes


def test_python_version_and_sandbox_code_differences_are_named() -> None:
    harness = dict(REFERENCE["harness"], code_sha256="0" * 64, bcb_version="9.9")  # type: ignore[arg-type]
    diffs = environment_differences(REFERENCE, {**REFERENCE, "python_version": "3.12.1", "harness": harness})
    assert diffs == ["python_version 3.12.1 instead of 3.11.7", "bcb's sandbox code (bcb 9.9 instead of 0.1.0)"]


def test_a_node_that_cannot_run_the_interpreter_never_serves() -> None:
    broken = NodeReport("c" * 8, "c", "10.0.0.9", 1.0, error="cannot run the task interpreter /x/python: not found")
    with pytest.raises(MixedEnvironmentError, match="cannot run the task interpreter"):
        check_environments([report("a"), broken], allow_mixed=False)
    assert check_environments([report("a"), broken], allow_mixed=True) == [report("a")]
    with pytest.raises(RayExecutorError, match="no Ray node can run"):
        check_environments([broken], allow_mixed=True)


def test_the_harness_fingerprint_names_the_sandbox_layers() -> None:
    harness = harness_fingerprint()
    assert "step_resource_limits" in harness["layers"] and len(harness["code_sha256"]) == 64


def test_workers_whose_sandbox_layers_differ_are_refused_unless_allowed() -> None:
    from bcb.execution.ray_executor import _Slot

    a, b = report("a"), report("b")
    full = {"enabled": True, "network_isolated": True, "process_cap": True, "memory_mb": 4096}
    for allow in (False, True):
        executor = RayExecutor(preload=(), allow_mixed_env=allow)
        executor.nodes = [a, b]
        executor._slots = [
            _Slot(a, 1.0, ready=True, sandbox=full),
            _Slot(b, 1.0, ready=True, sandbox={**full, "network_isolated": False}),
        ]
        if not allow:
            with pytest.raises(MixedEnvironmentError) as info:
                executor._check_sandboxes()
            assert "b (10.0.0.1, node bbbbbbbb): network_isolated False instead of True" in str(info.value)
            continue
        executor._check_sandboxes()
        described = executor.describe()
        assert described["mixed_env"] is True
        assert [n["sandbox"]["network_isolated"] for n in described["nodes"]] == [True, False]
    uniform = RayExecutor(preload=())
    uniform.nodes = [a, b]
    uniform._slots = [_Slot(a, 1.0, ready=True, sandbox=full), _Slot(b, 1.0, ready=True, sandbox=dict(full))]
    uniform._check_sandboxes()
    assert uniform.describe()["mixed_env"] is False


# -- import guard, factory, CLI -------------------------------------------------------------------


def test_missing_ray_is_one_line_saying_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    with pytest.raises(RayUnavailableError) as info:
        import_ray()
    assert RAY_INSTALL_HINT in str(info.value) and "\n" not in str(info.value)
    executor = RayExecutor(preload=())  # building one does not need Ray; connecting does
    with pytest.raises(RayUnavailableError):
        executor.start()


def test_the_cli_says_how_to_install_ray(bcb_cmd: list[str], tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "ray.py").write_text("raise ImportError('No module named ray (hidden by this test)')\n")
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "bcb-mini/0", "solution": "x = 1"}) + "\n")
    env = dict(os.environ, PYTHONPATH=str(blocker), COLUMNS="200", NO_COLOR="1")
    args = [
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(samples),
        "--allow-partial",
        "--root",
        str(tmp_path / "r"),
    ]
    result = subprocess.run(
        [*bcb_cmd, *args, "--executor", "ray"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert "pip install 'bcb[ray]'" in result.stderr and "Traceback" not in result.stderr
    bad = subprocess.run(
        [*bcb_cmd, *args, "--ray-address", "127.0.0.2:1"], capture_output=True, text=True, env=env, timeout=120
    )
    assert bad.returncode == 2 and "--executor ray only" in bad.stderr
    unknown = subprocess.run(
        [*bcb_cmd, *args, "--executor", "cloud"], capture_output=True, text=True, env=env, timeout=120
    )
    assert unknown.returncode == 2 and "choose one of local, ray" in unknown.stderr


def test_executor_factory_builds_either_kind_without_starting() -> None:
    local = create_executor(ExecutorOptions(kind="local", workers=3, preload=(), limits=Limits(max_stack_mb=8)))
    assert isinstance(local, LocalExecutor) and isinstance(local, Executor)
    assert local.workers == 3 and local.limits == Limits(max_stack_mb=8)
    assert describe_executor(local)["kind"] == "local"
    remote = create_executor(
        ExecutorOptions(kind="ray", workers=2, preload=(), ray_address="127.0.0.2:1", allow_mixed_env=True)
    )
    assert isinstance(remote, RayExecutor) and isinstance(remote, Executor)
    assert (remote.workers_per_node, remote.address, remote.allow_mixed_env) == (2, "127.0.0.2:1", True)
    assert remote.describe()["nodes"] == []
    with pytest.raises(ValueError, match="unknown executor"):
        ExecutorOptions(kind="cloud")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only apply to the ray executor"):
        ExecutorOptions(kind="local", ray_address="x:1")


# -- where each verdict ran, in the store ----------------------------------------------------------


def test_schema_1_stores_migrate_and_keep_their_verdicts(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    from bcb.evaluation.store import _MIGRATIONS

    con.executescript(_MIGRATIONS[1])
    con.execute(
        "INSERT INTO verdicts VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        ("h", "T/1", "sha", "env", "lim", "pass", "{}", 0.5, 10.0, 3, "", 1.0),
    )
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    old = VerdictKey("h", "T/1", "sha", "env", "lim")
    new = VerdictKey("h", "T/2", "sha", "env", "lim")
    with ResultStore(path) as store:
        assert store.schema_version == 3
        assert store.get_verdicts([old])[old] == StoredVerdict("pass", {}, 0.5, 10.0, 3, "", None)
        store.put_verdict(new, StoredVerdict("fail", {"ALL": "x"}, 0.1, None, None, "", "host (10.0.0.3, node abc)"))
    with ResultStore(path) as store:
        assert store.get_verdicts([new])[new].node == "host (10.0.0.3, node abc)"
        store.put_verdict(old, StoredVerdict("pass", {}, 0.5, 10.0, 3, ""))  # no node: NULL, not ""
    assert sqlite3.connect(path).execute("SELECT task_id, node FROM verdicts ORDER BY task_id").fetchall() == [
        ("T/1", None),
        ("T/2", "host (10.0.0.3, node abc)"),
    ]
