"""`bcb serve` against a local `bcb evaluate` of the same samples, same workers, same environment.

Four measurements, each on a fresh `--root` (nothing reused from a store) and with verdicts checked
identical to the local run's:

1. local: `bcb evaluate` end to end (ground truth of the tasks, then the samples);
2. one client: the whole samples file as one job to a warm `bcb serve`;
3. four clients at once: the samples split by task into four files, one job each, submitted together;
4. latency: one-sample jobs on the warm server (a new program each time, so it runs), from submit
   to results in hand, minus the sample's own run time; the target is within 0.2 s.

Server start-up (worker warm-up) is reported apart from the job times. Run it on an otherwise idle
machine: the numbers are wall times.

    python benchmarks/serve.py --python /work/venvs/task-env/bin/python --data-dir ../shared/data \
        [--samples FILE] [--tasks 100] [--parallel 2] [--timeout 20] [--out benchmarks/results/serve.json]
    python benchmarks/serve.py --dataset bcb-mini      # a quick check that it all works
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BCB_SHARED", REPO.parent / "shared"))
DEFAULT_SAMPLES = SHARED / "fidelity" / "samples-Qwen2.5-Coder-7B-Instruct-complete-full.jsonl"
BCB = [sys.executable, "-m", "bcb"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, method: str = "GET", body: bytes | None = None) -> dict[str, Any]:
    request = urllib.request.Request(url, data=body, method=method)
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def pick_samples(args: argparse.Namespace, work: Path) -> tuple[Path, list[str]]:
    """The first ``--tasks`` tasks' samples of the samples file (or bcb-mini's flawed answers)."""
    if args.dataset == "bcb-mini":
        from bcb.dataset import load_dataset
        from bcb.evaluation.reference_samples import canonical

        rows = canonical(list(load_dataset("bcb-mini").tasks))
    else:
        rows = [json.loads(line) for line in Path(args.samples).read_text().splitlines() if line.strip()]
    ids: list[str] = []
    for row in rows:
        if row["task_id"] not in ids:
            ids.append(row["task_id"])
    ids = ids[: args.tasks]
    kept = [r for r in rows if r["task_id"] in ids]
    path = work / "bench--bigcodebench-complete.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in kept))
    return path, ids


def common_flags(args: argparse.Namespace) -> list[str]:
    flags = ["--dataset", args.dataset]
    if args.data_dir:
        flags += ["--data-dir", str(args.data_dir)]
    if args.version:
        flags += ["--version", args.version]
    return flags


def run_local(args: argparse.Namespace, samples: Path, ids: list[str], root: Path) -> tuple[float, dict[str, Any]]:
    command = [
        *BCB,
        "evaluate",
        *common_flags(args),
        "--samples",
        str(samples),
        "--root",
        str(root),
        "--parallel",
        str(args.parallel),
        "--selective-evaluate",
        ",".join(ids),
        "--overwrite-results",
    ]
    if args.python:
        command += ["--python", args.python]
    if args.timeout:
        command += ["--timeout", str(args.timeout)]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    took = time.perf_counter() - started
    stem = samples.name[: -len(".jsonl")]
    return took, json.loads((samples.parent / f"{stem}_eval_results.json").read_text())


class Server:
    def __init__(self, args: argparse.Namespace, root: Path, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        command = [
            *BCB,
            "serve",
            "--plain",
            *common_flags(args),
            "--port",
            str(self.port),
            "--root",
            str(root),
            "--parallel",
            str(args.parallel),
            "--jobs",
            "4",
            "--max-queued",
            "100",
        ]
        if args.python:
            command += ["--python", args.python]
        started = time.perf_counter()
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"bcb serve exited; see {log}")
            try:
                call(self.base + "/health")
                break
            except OSError:
                time.sleep(0.1)
        self.startup_s = time.perf_counter() - started

    def run_job(self, body: bytes, query: str, poll_s: float = 0.05) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        job = call(f"{self.base}/jobs?{query}", "POST", body)["job"]
        while call(f"{self.base}/jobs/{job}")["state"] in ("queued", "running"):
            time.sleep(poll_s)
        results = call(f"{self.base}/jobs/{job}/eval_results")
        return results, time.perf_counter() - started

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def query(args: argparse.Namespace, ids: list[str], **extra: str) -> str:
    parts = {"selective_evaluate": ",".join(ids), "filename": "bench--bigcodebench-complete.jsonl", **extra}
    if args.timeout:
        parts["timeout"] = str(args.timeout)
    return "&".join(f"{k}={v}" for k, v in parts.items())


def verdicts(results: dict[str, Any]) -> dict[str, list[str]]:
    return {t: [r["status"] for r in rows] for t, rows in sorted(results["eval"].items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES)
    parser.add_argument("--dataset", default="bigcodebench")
    parser.add_argument("--version", default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--python", default=None, help="the task environment's interpreter")
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument(
        "--timeout", type=float, default=None, help="a fixed per-sample limit (default: the official policy)"
    )
    parser.add_argument("--latency-runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bcb-serve-bench-"))
    try:
        samples, ids = pick_samples(args, work)
        lines = samples.read_bytes().splitlines(keepends=True)
        n = len(lines)
        report: dict[str, Any] = {"samples": n, "tasks": len(ids), "parallel": args.parallel, "timeout": args.timeout}

        local_s, local = run_local(args, samples, ids, work / "root-local")
        report["local"] = {"wall_s": round(local_s, 2), "samples_per_s": round(n / local_s, 2)}
        print(f"local bcb evaluate: {local_s:.1f} s ({n / local_s:.2f} samples/s)")

        server = Server(args, work / "root-one", work / "serve-one.log")
        try:
            one, one_s = server.run_job(samples.read_bytes(), query(args, ids))
        finally:
            server.stop()
        assert verdicts(one) == verdicts(local), "one client: verdicts differ from the local run"
        report["one_client"] = {
            "startup_s": round(server.startup_s, 2),
            "wall_s": round(one_s, 2),
            "samples_per_s": round(n / one_s, 2),
        }
        print(
            f"bcb serve, 1 client: {one_s:.1f} s ({n / one_s:.2f} samples/s; start-up {server.startup_s:.1f} s apart)"
        )

        quarters = [ids[i::4] for i in range(4)]
        server = Server(args, work / "root-four", work / "serve-four.log")
        try:
            answers: list[dict[str, Any]] = [{} for _ in quarters]

            def client(i: int) -> None:
                part = [line for line in lines if json.loads(line)["task_id"] in quarters[i]]
                answers[i], _ = server.run_job(b"".join(part), query(args, quarters[i]))

            started = time.perf_counter()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(4) if quarters[i]]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            four_s = time.perf_counter() - started
            merged = {"eval": {t: rows for a in answers for t, rows in a.get("eval", {}).items()}}
            assert verdicts(merged) == verdicts(local), "four clients: verdicts differ from the local run"
            report["four_clients"] = {
                "startup_s": round(server.startup_s, 2),
                "wall_s": round(four_s, 2),
                "samples_per_s": round(n / four_s, 2),
            }
            print(f"bcb serve, 4 clients: {four_s:.1f} s ({n / four_s:.2f} samples/s)")

            # One-sample jobs on the warm server: a new program each time (a comment differs), on a
            # task whose ground truth is already in the store.
            first = json.loads(lines[0])
            overheads = []
            for i in range(args.latency_runs):
                row = {**first, "solution": first["solution"] + f"\n# latency probe {i} {time.time()}\n"}
                results, took = server.run_job(
                    (json.dumps(row) + "\n").encode(), query(args, [first["task_id"]]), poll_s=0.01
                )
                own = results["bcb"]["samples"][first["task_id"]][0]["duration_s"] or 0.0
                overheads.append(took - own)
            report["one_sample_latency"] = {
                "runs": len(overheads),
                "median_overhead_s": round(statistics.median(overheads), 3),
                "max_overhead_s": round(max(overheads), 3),
                "target_s": 0.2,
            }
            print(
                f"one-sample job on a warm server: median {statistics.median(overheads):.3f} s over the sample's own run time (target 0.2 s)"
            )
        finally:
            server.stop()
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"the server refused a request: {exc.code} {exc.read().decode(errors='replace')}") from None
