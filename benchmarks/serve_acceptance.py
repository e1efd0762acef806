"""The acceptance check of `bcb serve` with the official client, unchanged.

The official `bigcodebench` package (0.2.5, in its own venv, never a dependency of bcb) runs
`bigcodebench.evaluate --execution gradio --gradio_endpoint URL` as four clients at once, each
sending ~30 real model samples (Qwen2.5-Coder-7B-Instruct, from ../shared/fidelity) for its own
tasks; their written verdicts are compared with the official evaluator's published ones. Then a
garbage upload must be refused while the server stays up, and after `kill -9` and a restart on the
same `--root` the same four requests must be answered from the store with the same verdicts.

Tasks are the first of the dataset whose official verdict is not a timeout (a timeout holds a
worker for the official 241 s) and whose ground truth is not known to be slow or networked.

    python benchmarks/serve_acceptance.py --official /tmp/official-venv/bin/bigcodebench.evaluate \
        --python /work/venvs/task-env/bin/python --data-dir ../shared/data --version v0.1.2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BCB_SHARED", REPO.parent / "shared"))
FIDELITY = SHARED / "fidelity"
#: Slow or networked ground truths (see benchmarks/throughput.py), left out to keep the check short.
SKIP = {0, 102, 195, 220, 289, 417, 461, 821, 823, 1005, 1103, 1104}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, root: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "bcb",
        "serve",
        "--port",
        str(port),
        "--root",
        str(root),
        "--parallel",
        str(args.parallel),
        "--data-dir",
        str(args.data_dir),
        "--version",
        args.version,
        "--python",
        args.python,
    ]
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"bcb serve exited; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)


def official_clients(
    args: argparse.Namespace, url: str, files: list[tuple[Path, list[str]]]
) -> list[subprocess.Popen[str]]:
    procs = []
    for path, ids in files:
        for done in (path.with_name(path.stem + "_eval_results.json"), path.with_name(path.stem + "_pass_at_k.json")):
            done.unlink(missing_ok=True)  # the official client asks before overwriting; no one would answer
        command = [
            args.official,
            "--execution",
            "gradio",
            "--gradio_endpoint",
            url,
            "--split",
            "complete",
            "--subset",
            "full",
            "--samples",
            str(path),
            "--selective_evaluate",
            ",".join(i.split("/")[1] for i in ids),
        ]
        procs.append(
            subprocess.Popen(
                command,
                cwd=path.parent,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    return procs


def run_clients(
    args: argparse.Namespace, url: str, files: list[tuple[Path, list[str]]]
) -> tuple[float, dict[str, str]]:
    started = time.perf_counter()
    procs = official_clients(args, url, files)
    outputs = [p.communicate(timeout=3600)[0] for p in procs]
    took = time.perf_counter() - started
    for proc, out in zip(procs, outputs):
        if proc.returncode != 0:
            raise SystemExit(f"an official client failed ({proc.returncode}):\n{out[-2000:]}")
    got: dict[str, str] = {}
    for path, _ in files:
        results = json.loads(path.with_name(path.stem + "_eval_results.json").read_text())
        got.update({t: rows[0]["status"] for t, rows in results["eval"].items()})
    return took, got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--official", required=True, help="the official package's bigcodebench.evaluate script")
    parser.add_argument("--python", required=True, help="the task environment's interpreter")
    parser.add_argument("--data-dir", type=Path, default=SHARED / "data")
    parser.add_argument("--version", default="v0.1.2")
    parser.add_argument("--per-client", type=int, default=30)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()

    official: dict[str, list[str]] = json.loads(
        (FIDELITY / "official-Qwen2.5-Coder-7B-Instruct-complete-full.json").read_text()
    )["verdicts"]
    samples = {
        json.loads(line)["task_id"]: line
        for line in (FIDELITY / "samples-Qwen2.5-Coder-7B-Instruct-complete-full.jsonl").read_text().splitlines()
        if line.strip()
    }
    ids = [t for t in samples if official.get(t, ["timeout"])[0] != "timeout" and int(t.split("/")[1]) not in SKIP][
        : 4 * args.per_client
    ]
    work = Path(tempfile.mkdtemp(prefix="bcb-serve-accept-"))
    report: dict[str, Any] = {"tasks": len(ids), "clients": 4}
    try:
        files = []
        for i in range(4):
            part = ids[i::4]
            folder = work / f"client{i}"
            folder.mkdir()
            path = folder / f"Qwen2.5-Coder-7B-Instruct--bigcodebench-complete--part{i}.jsonl"
            path.write_text("".join(samples[t] + "\n" for t in part))
            files.append((path, part))
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        root = work / "root"
        server = start_server(args, root, port, work / "serve.log")
        try:
            took, got = run_clients(args, url, files)
            agree = sum(got[t] == official[t][0] for t in ids)
            report["first"] = {
                "wall_s": round(took, 1),
                "agree": agree,
                "of": len(ids),
                "differ": {t: [got[t], official[t][0]] for t in ids if got[t] != official[t][0]},
            }
            print(f"4 official clients: {agree}/{len(ids)} verdicts as the official evaluator's ({took:.0f} s)")

            garbage = work / "garbage--bigcodebench-complete.jsonl"
            garbage.write_bytes(os.urandom(8192))
            refused = subprocess.run(
                [
                    args.official,
                    "--execution",
                    "gradio",
                    "--gradio_endpoint",
                    url,
                    "--split",
                    "complete",
                    "--subset",
                    "full",
                    "--samples",
                    str(garbage),
                ],
                cwd=work,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=300,
            )
            with urllib.request.urlopen(f"{url}api/v1/health", timeout=10) as health:
                alive = health.status == 200
            report["garbage"] = {
                "client_exit": refused.returncode,
                "server_alive": alive,
                "message": (refused.stdout + refused.stderr).strip().splitlines()[-1][:300],
            }
            print(f"garbage upload: client exit {refused.returncode}, server alive: {alive}")
        finally:
            server.send_signal(signal.SIGKILL)
            server.wait()
        server = start_server(args, root, port, work / "serve.log")
        try:
            again_s, again = run_clients(args, url, files)
            report["after_kill9"] = {"wall_s": round(again_s, 1), "same_verdicts": again == got}
            print(f"after kill -9 and restart: same verdicts {again == got} ({again_s:.1f} s, answered from the store)")
        finally:
            server.terminate()
            server.wait(timeout=60)
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
