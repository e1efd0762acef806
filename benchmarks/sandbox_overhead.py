"""Per-sample cost of the sandbox, per tier: the same samples through the engine with every layer on
in each tier bcb supports, and with the sandbox disabled (``--unsafe``), same worker count, in one
run. Prints each tier's wall time and median per-sample time, the ratio and the difference to the
root tier (the issue's target: the rootless tiers within +10 ms per sample of root), and checks
that every tier gives the same verdicts.

Tiers are chosen by who runs the samples: ``root`` (this process, when run as root), ``rootless``
(re-run as a normal user, ``--user``), ``no_namespaces`` (that user inside
``tests/tools/no_namespaces.py``, a container's default seccomp profile). The user's runs need an
interpreter it can execute with bcb's dependencies (``--user-python``; bcb itself is taken from this
checkout) and a task interpreter it can execute (``--python``, e.g. a task environment built from
``/usr/bin/python3``).

Samples: the canonical solutions of bcb-mini (bundled), repeated ``--repeat`` times, plus, when the
BigCodeBench files are in ../shared/data, the first ``--n`` tasks' ground truths (calibrated).

    python benchmarks/sandbox_overhead.py [--workers 2] [--repeat 5] [--n 40] [--python PY]
        [--tiers root,rootless,no_namespaces --user bcbci --user-python /home/bcbci/bcb-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bcb.execution import Job, LocalExecutor, SandboxOptions, official_time_limit, preload_modules, program_modules

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tiers import REPO, tier_command

SHARED = Path(os.environ["BCB_SHARED_DATA"]).parent if os.environ.get("BCB_SHARED_DATA") else REPO.parent / "shared"


def mini_jobs(repeat: int) -> tuple[list[Job], list[frozenset[str]]]:
    from bcb.dataset import load_dataset

    jobs: list[Job] = []
    libs: list[frozenset[str]] = []
    for task in load_dataset("bcb-mini").tasks:
        libs.append(program_modules(task))
        for i in range(repeat):
            jobs.append(
                Job(
                    key=f"{task.task_id}#{i}",
                    task_id=task.task_id,
                    solution=task.code_prompt + "\n    pass\n" + task.solution,
                    test=task.test,
                    time_limit=official_time_limit(None),
                )
            )
    return jobs, libs


def bcb_jobs(n: int) -> tuple[list[Job], list[frozenset[str]]]:
    path = SHARED / "data" / "BigCodeBench-v0.1.4.jsonl.gz"
    if n <= 0 or not path.is_file():
        return [], []
    from bcb.dataset import read_tasks

    tasks = sorted(read_tasks(path, check=False), key=lambda t: int(t.task_id.rsplit("/", 1)[1]))[:n]
    jobs = [
        Job(
            key=t.task_id,
            task_id=t.task_id,
            solution=t.code_prompt + "\n    pass\n" + t.solution,
            test=t.test,
            time_limit=official_time_limit(None),
        )
        for t in tasks
    ]
    return jobs, [program_modules(t) for t in tasks]


def measure(args: argparse.Namespace, sandbox: SandboxOptions) -> dict:
    """One engine run over the whole job set: wall time, per-sample times and verdicts."""
    mj, ml = mini_jobs(args.repeat)
    bj, bl = bcb_jobs(args.n)
    jobs, libs = mj + bj, ml + bl
    with LocalExecutor(python=args.python, workers=args.workers, preload=preload_modules(libs), sandbox=sandbox) as ex:
        list(ex.run(jobs[: args.workers]))  # warm-up
        t0 = time.monotonic()
        results = {r.key: r for r in ex.run(jobs)}
        wall = time.monotonic() - t0
        report = dict(ex.sandbox_report)
    return {
        "tier": report.get("tier", "off") if sandbox.enabled else "off",
        "wall_s": wall,
        "median_ms": statistics.median(r.duration_s for r in results.values()) * 1000,
        "verdicts": {k: [r.status, sorted(r.details)] for k, r in results.items()},
        "samples": len(jobs),
        "mini": len(mj),
    }


def run_in_tier(args: argparse.Namespace, tier: str) -> dict:
    """This script again, in ``tier``, printing its measurement as JSON on its last line."""
    argv = [
        str(Path(__file__).resolve()),
        "--measure-only",
        "--python",
        args.python,
        "--workers",
        str(args.workers),
        "--repeat",
        str(args.repeat),
        "--n",
        str(args.n),
    ]
    cmd = tier_command(
        tier,
        argv,
        user=args.user,
        user_python=args.user_python or sys.executable,
        extra_env={"BCB_SHARED_DATA": str(SHARED / "data")},
    )
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"the {tier} run failed (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument(
        "--python",
        default=str(Path("/work/venvs/task-env/bin/python"))
        if Path("/work/venvs/task-env/bin/python").exists()
        else sys.executable,
    )
    ap.add_argument("--tiers", default="root", help="comma-separated: root, rootless, no_namespaces")
    ap.add_argument("--user", default="bcbci", help="the normal user the rootless and no_namespaces tiers run as")
    ap.add_argument(
        "--user-python", help="an interpreter --user can run, with bcb's dependencies (bcb is taken from this checkout)"
    )
    ap.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure_only:
        print(json.dumps(measure(args, SandboxOptions())))
        return 0
    tiers = [t for t in args.tiers.split(",") if t]
    if any(t != "root" for t in tiers) and not args.user_python:
        ap.error("--user-python is needed for the rootless and no_namespaces tiers")
    runs: dict[str, dict] = {}
    runs["off"] = measure(args, SandboxOptions(enabled=False, unsafe=True))
    for tier in tiers:
        runs[tier] = measure(args, SandboxOptions()) if tier == "root" else run_in_tier(args, tier)
        if runs[tier]["tier"] != tier:
            raise SystemExit(f"asked for tier {tier}, the workers gave {runs[tier]['tier']}")
    first = runs["off"]
    print(
        f"{first['samples']} samples ({first['mini']} bcb-mini canonical, {first['samples'] - first['mini']} BigCodeBench ground truths), "
        f"{args.workers} workers, task interpreter {args.python}"
    )
    base = runs.get("root", runs["off"])
    print(
        f"{'tier':14} {'wall s':>8} {'median ms/sample':>17} {'vs root':>9} {'+ms vs root':>12}  verdicts differing from the unsandboxed run"
    )
    status = 0
    for name, run in runs.items():
        differ = sorted(k for k in run["verdicts"] if run["verdicts"][k] != first["verdicts"].get(k))
        ratio = run["median_ms"] / base["median_ms"]
        print(
            f"{name:14} {run['wall_s']:8.2f} {run['median_ms']:17.1f} {ratio:9.3f} {run['median_ms'] - base['median_ms']:+12.1f}  {len(differ)} {differ[:12]}"
        )
        mini_not_pass = sorted(k for k in run["verdicts"] if "#" in k and run["verdicts"][k][0] != "pass")
        if mini_not_pass:
            print(f"  bcb-mini canonical solutions not passing in {name}: {mini_not_pass}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
