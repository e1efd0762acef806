"""`bcb serve --executor ray` on a real Ray cluster of two nodes on this machine (``ray start
--head`` plus ``ray start --address``, one CPU each), through the JSON API: the same verdicts as
a local ``bcb evaluate``; two clients' jobs both finish, the small one while the big one still
runs; a cancelled job's queued samples never run. The cluster and the server are started by the
test and stopped by their own process groups.

Skipped, saying so, when Ray is not installed (``pip install 'bcb[ray]'``).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="Ray is not installed: bcb serve --executor ray needs `pip install 'bcb[ray]'`")

from bcb.dataset import load_dataset
from bcb.execution.ray_cluster import LocalRayCluster
from test_serve import Server, local_evaluate, quick_flawed, verdicts, write_samples

pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]


@pytest.fixture(scope="module")
def ray_server(tmp_path_factory: pytest.TempPathFactory, module_bcb_cmd: list[str]) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("ray_server")
    os.environ.setdefault("BCB_CACHE_DIR", str(base / "cache"))
    (base / "ray-logs").mkdir()
    with LocalRayCluster(log_dir=base / "ray-logs") as cluster:
        cluster.start_head(cpus=1)
        cluster.add_node(cpus=1)
        server = Server(
            module_bcb_cmd,
            base / "root",
            base / "serve.log",
            "--plain",
            "--executor",
            "ray",
            "--ray-address",
            cluster.address,
            "--parallel",
            "1",  # one worker per node
        )
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def module_bcb_cmd() -> list[str]:
    import shutil
    import sys

    script = shutil.which("bcb", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "bcb"]


def submit(server: Server, query: str, rows: list[dict], path: Path, client: str) -> str:
    code, status = server.call(
        "POST", f"/api/v1/jobs?{query}", write_samples(path, rows).read_bytes(), {"X-BCB-Client": client}
    )
    assert code == 202, status
    return str(status["job"])


def test_ray_server_gives_the_local_verdicts(ray_server: Server, tmp_path: Path, bcb_cmd: list[str]) -> None:
    log = ray_server.log.read_text()
    assert "2 warm workers on the Ray cluster" in log, log
    code, health = ray_server.call("GET", "/api/v1/health")
    assert code == 200 and health["workers"] == 2 and health["sandbox"], health
    job = submit(
        ray_server,
        "split=complete&subset=full&pass_k=1&timeout=20&filename=ray--bcb-mini-complete.jsonl",
        quick_flawed(),
        tmp_path / "ray.jsonl",
        "alice",
    )
    final = ray_server.wait_done(job)
    assert final["state"] == "done" and final["samples"] == 32, final
    code, results = ray_server.call("GET", f"/api/v1/jobs/{job}/eval_results")
    assert code == 200
    code, pass_at_k = ray_server.call("GET", f"/api/v1/jobs/{job}/pass_at_k")
    assert code == 200 and pass_at_k["gt_pass_rate"] == 1.0

    (tmp_path / "local").mkdir()
    local_copy = write_samples(tmp_path / "local" / "ray--bcb-mini-complete.jsonl", quick_flawed())
    local_results, local_passk = local_evaluate(bcb_cmd, local_copy, tmp_path / "local_root", "--timeout", "20")
    assert verdicts(results) == verdicts(local_results)
    assert pass_at_k["pass@1"] == pytest.approx(local_passk["pass@1"]) and 0 < pass_at_k["pass@1"] < 1
    ran = results["bcb"]["manifest"]["executor"]  # the job says where it ran: two nodes, one worker each
    assert ran["kind"] == "bcb serve" and ran["workers"] == 2 and ran["ray"]["kind"] == "ray", ran
    assert [n["workers"] for n in ran["ray"]["nodes"]] == [1, 1] and sum(n["samples"] for n in ran["ray"]["nodes"]) > 0


def test_two_clients_take_turns_on_the_ray_workers(ray_server: Server, tmp_path: Path) -> None:
    tasks = list(load_dataset("bcb-mini").tasks)
    # A big job of slow passing samples, then a small job of another client: the small one is
    # answered while the big one still runs, and both finish with the right verdicts.
    big = [
        {"task_id": t.task_id, "solution": t.solution + f"\nimport time\ntime.sleep(3)  # {i}\n"}
        for i, t in enumerate(tasks[:12])
    ]
    small = [
        {"task_id": tasks[0].task_id, "solution": tasks[0].solution + "\n# small\n"},
        {"task_id": tasks[1].task_id, "solution": "def task_func(:\n"},
    ]
    query = "allow_partial=true&no_gt=true&timeout=20"
    big_job = submit(ray_server, query, big, tmp_path / "big.jsonl", "bob")
    time.sleep(1.0)
    started = time.monotonic()
    small_job = submit(ray_server, query, small, tmp_path / "small.jsonl", "carol")
    small_done = ray_server.wait_done(small_job)
    # Behind at most one 3-second sample of bob's on each worker; a feeder that took bob's samples
    # ahead of time would hold carol behind 12 x 3 s / 2 workers.
    assert time.monotonic() - started < 10
    big_then = ray_server.call("GET", f"/api/v1/jobs/{big_job}")[1]
    assert small_done["state"] == "done", small_done
    assert big_then["state"] == "running", big_then  # carol did not wait for bob's dozen slow samples
    assert verdicts(ray_server.call("GET", f"/api/v1/jobs/{small_job}/eval_results")[1]) == {
        tasks[0].task_id: ["pass"],
        tasks[1].task_id: ["fail"],
    }
    big_done = ray_server.wait_done(big_job)
    assert big_done["state"] == "done", big_done
    got = verdicts(ray_server.call("GET", f"/api/v1/jobs/{big_job}/eval_results")[1])
    assert got == {t.task_id: ["pass"] for t in tasks[:12]}


def test_cancel_on_ray_drops_the_queued_samples(ray_server: Server, tmp_path: Path) -> None:
    tasks = list(load_dataset("bcb-mini").tasks)
    sleepers = [
        {"task_id": t.task_id, "solution": f"import time\ntime.sleep(4)  # {i}\n"} for i, t in enumerate(tasks[:10])
    ]
    job = submit(ray_server, "allow_partial=true&no_gt=true&timeout=20", sleepers, tmp_path / "s.jsonl", "dave")
    time.sleep(2.0)
    code, cancelled = ray_server.call("DELETE", f"/api/v1/jobs/{job}")
    assert code == 200 and cancelled["state"] == "cancelled"
    # The two samples running finish (at most 4 s); the eight queued ones never start, so a
    # new job is answered well before 10 x 4 s / 2 workers.
    started = time.monotonic()
    after = submit(
        ray_server,
        "allow_partial=true&no_gt=true&timeout=20",
        [{"task_id": tasks[0].task_id, "solution": tasks[0].solution + "\n# after cancel\n"}],
        tmp_path / "after.jsonl",
        "dave",
    )
    assert ray_server.wait_done(after)["state"] == "done"
    assert time.monotonic() - started < 15


def test_other_memory_limits_are_refused_on_ray(ray_server: Server) -> None:
    code, refused = ray_server.call(
        "POST", "/api/v1/jobs?allow_partial=true&max_as_limit=2048", b'{"task_id": "bcb-mini/0", "solution": "x"}\n'
    )
    assert code == 400 and "official memory limits" in refused["error"], refused


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--executor", "slurm"], "unknown --executor 'slurm': choose one of local, ray"),
        (["--ray-address", "127.0.0.1:6379"], "--ray-address and --allow-mixed-env apply to --executor ray only"),
        (["--allow-mixed-env"], "--ray-address and --allow-mixed-env apply to --executor ray only"),
    ],
)
def test_ray_flags_are_checked_in_one_line(tmp_path: Path, bcb_cmd: list[str], args: list[str], message: str) -> None:
    done = subprocess.run(
        [*bcb_cmd, "serve", "--dataset", "bcb-mini", "--root", str(tmp_path / "root"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
