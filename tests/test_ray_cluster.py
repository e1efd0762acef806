"""The Ray executor on a real Ray cluster of two nodes on this machine (``ray start --head`` plus
``ray start --address``, each with its own CPU and loopback address): same verdicts as the local
executor on bcb-mini and on a slice of the real dataset, through the Python API and through
``bcb evaluate``; a node whose raylet is killed mid-run; a sample that kills its Ray worker; the
environment check. Every cluster is started by the test and stopped by its own process groups.

Skipped, saying so, when Ray is not installed (``pip install 'bcb[ray]'``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip(
    "ray", reason="Ray is not installed: the Ray executor's cluster tests need `pip install 'bcb[ray]'`"
)

from bcb.dataset import Task, load_dataset, read_tasks
from bcb.evaluation.api import Verdict, evaluate_solutions
from bcb.evaluation.results import read_eval_results, result_paths
from bcb.execution import Job, LocalExecutor, preload_modules, program_modules
from bcb.execution.environment import environment_fingerprint
from bcb.execution.ray_cluster import LocalRayCluster
from bcb.execution.ray_executor import RayExecutor
from bcb.execution.ray_nodes import MixedEnvironmentError
from bcb.execution.sandbox import SandboxOptions
from helpers import shared_file

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

#: Real tasks whose libraries the test environment has (stdlib, numpy, pandas, matplotlib) and
#: whose ground truth runs in well under a second, spread over the id range.
REAL_SLICE = (1, 19, 69, 104, 127, 154, 190, 212, 254, 273, 306, 333, 394, 436, 475, 525, 553, 603, 636, 671)
TIME_LIMIT = 30.0


def variants(task: Task, real: bool) -> list[tuple[str, str]]:
    """A pass, a fail on every test (a NameError traceback each) and, for real tasks, a module
    that raises at import."""
    out = [(task.task_id, task.solution), (task.task_id, task.solution.replace("def task_func", "def renamed_func"))]
    if real:
        out.append((task.task_id, task.solution + "\nraise ValueError('broken at import')\n"))
    return out


@pytest.fixture(scope="module")
def workload() -> tuple[list[Task], list[tuple[str, str]]]:
    tasks = list(load_dataset("bcb-mini"))
    solutions = [s for t in tasks for s in variants(t, real=False)]
    solutions.append((tasks[0].task_id, "import os\nos._exit(3)\n"))  # ends without reporting: timeout
    try:
        path = shared_file("BigCodeBench-v0.1.4.jsonl.gz")
    except pytest.skip.Exception:
        return tasks, solutions  # the real slice needs ../shared/data
    by_number = {t.number: t for t in read_tasks(path, check=False)}
    real = [by_number[n] for n in REAL_SLICE]
    return tasks + real, solutions + [s for t in real for s in variants(t, real=True)]


def preload_for(tasks: list[Task]) -> list[str]:
    return preload_modules(program_modules(t) for t in tasks)


@pytest.fixture(scope="module")
def local_verdicts(workload) -> dict[int, Verdict]:
    tasks, solutions = workload
    with LocalExecutor(python=sys.executable, workers=2, preload=preload_for(tasks)) as ex:
        return {v.index: v for v in evaluate_solutions(tasks, solutions, ex, time_limit=TIME_LIMIT)}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """Head with one CPU on 127.0.0.2, a second node with one CPU on 127.0.0.3."""
    with LocalRayCluster(log_dir=tmp_path_factory.mktemp("ray-logs")) as c:
        c.start_head(cpus=1)
        c.add_node(cpus=1)
        yield c


def comparable(verdict: Verdict) -> tuple[str, dict[str, str]]:
    """Status and details, with the sample's private temporary paths (random on every run, as in
    the official evaluator's /tmp/tmpXXXXXXXX) blanked out of the tracebacks."""
    tmp = "|".join(re.escape(d) for d in {tempfile.gettempdir(), "/tmp", "/var/tmp"})
    return verdict.status, {
        test: re.sub(f"(?:{tmp})/[^\\s'\"]*", "<tmp>", text) for test, text in verdict.details.items()
    }


def same_verdicts(got: dict[int, Verdict], expected: dict[int, Verdict]) -> None:
    assert sorted(got) == sorted(expected)
    differ = [
        (i, comparable(expected[i]), comparable(got[i]))
        for i in expected
        if comparable(got[i]) != comparable(expected[i])
    ]
    assert differ == []


def test_two_nodes_give_the_local_executors_verdicts(cluster: LocalRayCluster, workload, local_verdicts) -> None:
    tasks, solutions = workload
    assert {v.status for v in local_verdicts.values()} == {"pass", "fail", "timeout"}
    with RayExecutor(python=sys.executable, preload=preload_for(tasks), address=cluster.address) as rx:
        got = {v.index: v for v in evaluate_solutions(tasks, solutions, rx, time_limit=TIME_LIMIT)}
        described = rx.describe()
    same_verdicts(got, local_verdicts)
    nodes = {n["address"]: n for n in described["nodes"]}
    assert sorted(nodes) == ["127.0.0.2", "127.0.0.3"]
    assert all(
        n["workers"] == 1 and n["samples"] > 0 and n["environment"] == "same as the driver's" for n in nodes.values()
    )
    assert {v.node for v in got.values()} == {n["node"] for n in nodes.values()}  # every verdict says where it ran
    assert described["mixed_env"] is False and described["refused"] == []
    sandboxes = [n["sandbox"] for n in nodes.values()]
    assert sandboxes[0] == sandboxes[1] and sandboxes[0]["enabled"]  # the same layers, and memory cap, on both nodes


def test_a_node_killed_mid_run_changes_no_verdict(workload, local_verdicts, tmp_path: Path) -> None:
    tasks, solutions = workload
    # Four 2-second samples go first, two per node, so the doomed node is surely busy when it dies.
    sleepers = [(tasks[0].task_id, tasks[0].solution + f"\nimport time\ntime.sleep(2)  # {i}\n") for i in range(4)]
    with LocalRayCluster(log_dir=tmp_path) as own:
        own.start_head(cpus=1)
        doomed = own.add_node(cpus=1)
        with RayExecutor(python=sys.executable, preload=preload_for(tasks), address=own.address) as rx:
            killer = threading.Timer(1.0, own.kill_raylet, [doomed])
            killer.start()
            try:
                got = {v.index: v for v in evaluate_solutions(tasks, sleepers + solutions, rx, time_limit=TIME_LIMIT)}
            finally:
                killer.cancel()
            described = rx.describe()
    assert [got[i].status for i in range(4)] == ["pass"] * 4
    same_verdicts({i - 4: v for i, v in got.items() if i >= 4}, local_verdicts)
    assert any("127.0.0.3" in event and "died" in event for event in described["events"]), json.dumps(described)
    rerun = [v for v in got.values() if "re-run after: the Ray worker on" in v.note]
    assert rerun and all("127.0.0.2" in v.node for v in rerun)  # the dead node's unfinished samples ran on the other
    nodes = {n["address"]: n for n in described["nodes"]}
    assert nodes["127.0.0.2"]["samples"] + nodes["127.0.0.3"]["samples"] == len(
        sleepers + solutions
    )  # all distinct programs


def _ancestor_in(pid: int, wanted: set[int]) -> int | None:
    while pid > 1:
        if pid in wanted:
            return pid
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        pid = int(stat[stat.rfind(")") + 2 :].split()[1])
    return None


KILLER_NAME = "bcbraykiller"


def _killer_actor(actors: set[int], done: list[int]) -> int | None:
    """The Ray worker (by this machine's pids) running the sample named ``KILLER_NAME``."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as fh:
                if fh.read().strip() != KILLER_NAME:
                    continue
        except OSError:
            continue
        actor = _ancestor_in(int(entry), actors)
        if actor is not None and actor not in done:
            return actor
    return None


def test_a_sample_that_kills_its_ray_worker_is_failed_not_retried_forever(
    cluster: LocalRayCluster, tmp_path: Path
) -> None:
    marks = tmp_path / "started"
    killer = textwrap.dedent(
        f"""
        import ctypes, os, time
        def task_func():
            # Named so the test finds it from outside: it may run in its worker's own PID namespace.
            ctypes.CDLL(None).prctl(15, b"{KILLER_NAME}", 0, 0, 0)
            with open({str(marks)!r}, "a") as fh:
                fh.write(f"{{os.getpid()}}\\n")
            time.sleep(60)
        """
    )
    test = "import unittest\nclass TestCases(unittest.TestCase):\n    def test_x(self):\n        task_func()\n"
    add = "def task_func():\n    return 2\n"
    jobs = [Job("killer", "T/0", killer, test, 120.0)] + [Job(f"ok{i}", "T/1", add, test, 30.0) for i in range(5)]
    killed: list[int] = []
    sandbox = SandboxOptions(write_paths=[str(tmp_path)])  # the sample reports its pid through a file
    with RayExecutor(python=sys.executable, preload=(), address=cluster.address, max_attempts=3, sandbox=sandbox) as rx:
        stop = threading.Event()

        def kill_its_worker_whenever_it_starts() -> None:
            seen = 0
            while not stop.is_set():
                pids = marks.read_text().split() if marks.exists() else []
                for _ in pids[seen:]:
                    deadline = time.monotonic() + 10
                    while (
                        actor := _killer_actor(set(rx.actor_pids()), killed)
                    ) is None and time.monotonic() < deadline:
                        time.sleep(0.05)
                    if actor is not None:
                        os.kill(actor, signal.SIGKILL)
                        killed.append(actor)
                seen = len(pids)
                time.sleep(0.05)

        thread = threading.Thread(target=kill_its_worker_whenever_it_starts, daemon=True)
        thread.start()
        try:
            results = {r.key: r for r in rx.run(jobs)}
        finally:
            stop.set()
            thread.join()
        described = rx.describe()
    assert len(killed) in (3, 4)  # once with company (then each suspect runs alone), three times alone
    culprit = results["killer"]
    assert culprit.status == "fail" and culprit.details["ALL"].startswith(
        "the Ray worker running this sample died 3 times"
    )
    assert culprit.attempts == len(killed)
    assert all(results[f"ok{i}"].status == "pass" for i in range(5))
    assert all(not n["retired_workers"] for n in described["nodes"])  # its workers were replaced, not given up


def test_nodes_with_another_environment_are_refused_unless_allowed(cluster: LocalRayCluster) -> None:
    other = dict(environment_fingerprint(sys.executable), freeze_sha256="0" * 64)  # as if the driver had other packages
    refused = RayExecutor(python=sys.executable, preload=(), address=cluster.address, reference_fingerprint=other)
    with pytest.raises(MixedEnvironmentError) as info:
        refused.connect()
    refused.close()
    message = str(info.value)
    assert "installed packages (pip freeze hash)" in message and "instead of 000000000000..." in message
    assert "--allow-mixed-env" in message and "\n" not in message
    allowed = RayExecutor(
        python=sys.executable, preload=(), address=cluster.address, reference_fingerprint=other, allow_mixed_env=True
    )
    try:
        allowed.connect()
        described = allowed.describe()
        keyed = allowed.store_fingerprint(other)
    finally:
        allowed.close()
    assert described["mixed_env"] is True and len(described["nodes"]) == 2
    assert all(n["environment"].startswith("differs: installed packages") for n in described["nodes"])
    assert keyed["freeze_sha256"].startswith("mixed-") and len(keyed["mixed_environments"]) == 2


def run_cli(cmd: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=240)


def test_bcb_evaluate_on_the_cluster_matches_a_local_run(
    cluster: LocalRayCluster, bcb_cmd: list[str], tmp_path: Path
) -> None:
    mini = load_dataset("bcb-mini")
    rows = [{"task_id": tid, "solution": text} for t in mini for tid, text in variants(t, real=False)]
    paths = {}
    for where in ("local", "ray"):
        (tmp_path / where).mkdir()
        paths[where] = tmp_path / where / "model.jsonl"
        paths[where].write_text("".join(json.dumps(r) + "\n" for r in rows))
    common = ["evaluate", "--dataset", "bcb-mini", "--pass-k", "1,2"]
    local = run_cli(bcb_cmd, *common, "--samples", str(paths["local"]), "--root", str(tmp_path / "root-local"))
    assert local.returncode == 0, local.stderr
    remote = run_cli(
        bcb_cmd,
        *common,
        "--samples",
        str(paths["ray"]),
        "--root",
        str(tmp_path / "root-ray"),
        "--executor",
        "ray",
        "--ray-address",
        cluster.address,
    )
    assert remote.returncode == 0, remote.stderr
    expected, got = (read_eval_results(result_paths(paths[w])[0]) for w in ("local", "ray"))
    flat = lambda results: {(tid, r.index): comparable(r) for tid, rs in results.eval.items() for r in rs}  # type: ignore[arg-type]  # noqa: E731
    assert flat(got) == flat(expected) and len(flat(got)) == len(rows)
    assert (
        json.loads(result_paths(paths["ray"])[1].read_text())["pass@1"]
        == json.loads(result_paths(paths["local"])[1].read_text())["pass@1"]
    )
    executor = got.bcb["manifest"]["executor"]
    assert executor["kind"] == "ray" and sorted(n["address"] for n in executor["nodes"]) == ["127.0.0.2", "127.0.0.3"]
    assert expected.bcb["manifest"]["executor"]["kind"] == "local"
    ran = sum(n["samples"] for n in executor["nodes"])
    assert ran == got.bcb["manifest"]["executed"] + len(mini)  # the samples plus the ground truth
    nodes = sqlite3.connect(tmp_path / "root-ray" / "bcb.sqlite").execute("SELECT node FROM verdicts").fetchall()
    assert len(nodes) == got.bcb["manifest"]["executed"] and all(n[0] and "node " in n[0] for n in nodes)
    local_nodes = (
        sqlite3.connect(tmp_path / "root-local" / "bcb.sqlite").execute("SELECT DISTINCT node FROM verdicts").fetchall()
    )
    assert local_nodes == [(None,)]
