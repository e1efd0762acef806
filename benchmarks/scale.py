"""Scale-out: the local executor against the Ray executor with one and with two worker nodes.

On one machine Ray cannot be faster (the nodes share the same cores); what this measures is what
Ray costs. Every configuration gets the same number of workers in total:

- ``local``: :class:`LocalExecutor` with W workers;
- ``ray-1``: a Ray cluster on this machine, a head without CPUs plus one node with W CPUs;
- ``ray-2``: the same head plus two nodes with W/2 CPUs each.

Each cluster is started on loopback addresses for its round and stopped after it (only its own
processes). The workload: canonical solutions (calibrated, as the official default) of a typical
slice of real tasks, whose ground truth runs well under a second; an untimed first pass on the
local executor keeps only those that pass here within 10 s, so that one hanging task (a 241 s
timeout) does not drown the overhead being measured. Timed: the run phase with warm workers
(samples/s), and start-up (connect, environment check, workers' preload) apart. Rounds alternate
the configurations; reported are medians, and Ray's overhead over local as the median of the
per-round ratios (a round's runs are minutes apart at most, so a busy machine slows them alike).

The machine may be shared, which makes wall-clock times noisy; so the CPU time that the whole
configuration consumed during the run is measured too (this process, and every process of the
cluster and its workers, samples included): what Ray adds in CPU is its overhead on a full machine.

    python benchmarks/scale.py [--n 150] [--rounds 5] [--workers 2] [--python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bcb.dataset import read_tasks
from bcb.execution import Job, LocalExecutor, official_time_limit, preload_modules, program_modules
from bcb.execution.ray_cluster import LocalRayCluster, _group_members
from bcb.execution.ray_executor import RayExecutor

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BCB_SHARED", REPO.parent / "shared"))


def pick_slice(task_ids: list[str], gt_times: dict[str, float], n: int) -> list[str]:
    """``n`` tasks spread over the id range whose ground truth passed in under half a second."""
    fast = [t for t in task_ids if gt_times.get(t, 1.0) < 0.5] if gt_times else task_ids
    step = max(1, len(fast) // n)
    return fast[::step][:n]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            tree.setdefault(int(stat[stat.rfind(")") + 2 :].split()[1]), []).append(int(entry))
    return tree


def cpu_ticks(roots: list[int]) -> dict[int, int]:
    """CPU ticks (user + system, plus those of reaped children) of ``roots`` and everything below."""
    tree, todo, seen = _children(), list(roots), set()
    ticks: dict[int, int] = {}
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(tree.get(pid, []))
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[pid] = sum(int(f) for f in fields[11:15])
    return ticks


def timed_run(executor: Any, jobs: list[Job], roots: list[int]) -> tuple[float, float, dict[str, str]]:
    """Wall seconds, CPU seconds of the process trees under ``roots``, and the verdicts."""
    before = cpu_ticks(roots)
    t0 = time.monotonic()
    statuses = {r.key: r.status for r in executor.run(jobs)}
    wall = time.monotonic() - t0
    after = cpu_ticks(roots)
    cpu = sum(t - before.get(pid, 0) for pid, t in after.items()) / os.sysconf("SC_CLK_TCK")
    return wall, cpu, statuses


def run_local(args: argparse.Namespace, preload: list[str], jobs: list[Job]) -> dict[str, Any]:
    t0 = time.monotonic()
    with LocalExecutor(python=args.python, workers=args.workers, preload=preload) as ex:
        startup = time.monotonic() - t0
        wall, cpu, statuses = timed_run(ex, jobs, [os.getpid()])
    return {"startup_s": startup, "run_s": wall, "cpu_s": cpu, "statuses": statuses}


def run_ray(args: argparse.Namespace, preload: list[str], jobs: list[Job], nodes: int) -> dict[str, Any]:
    per_node = args.workers // nodes
    t0 = time.monotonic()
    with LocalRayCluster(fast_failure_detection=False) as cluster:
        cluster.start_head(cpus=0)
        for _ in range(nodes):
            cluster.add_node(cpus=per_node)
        cluster_s = time.monotonic() - t0
        t1 = time.monotonic()
        with RayExecutor(python=args.python, preload=preload, address=cluster.address) as ex:
            startup = time.monotonic() - t1
            groups = [pid for node in cluster.nodes for pid in _group_members(node.pgid)]
            wall, cpu, statuses = timed_run(ex, jobs, [os.getpid(), *groups])
            described = ex.describe()
    return {
        "cluster_start_s": cluster_s,
        "startup_s": startup,
        "run_s": wall,
        "cpu_s": cpu,
        "statuses": statuses,
        "samples_per_node": {n["address"]: n["samples"] for n in described["nodes"]},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default="/work/venvs/task-env/bin/python", help="the task environment's interpreter")
    ap.add_argument("--workers", type=int, default=2, help="workers in total, in every configuration (even)")
    ap.add_argument("--n", type=int, default=150, help="samples per run")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--gt-times",
        type=Path,
        default=REPO / "benchmarks" / "results" / "fidelity.json",
        help="a fidelity report, for picking fast tasks",
    )
    ap.add_argument("--report", type=Path, default=REPO / "benchmarks" / "results" / "scale.json")
    args = ap.parse_args(argv)
    if args.workers < 2 or args.workers % 2:
        ap.error("--workers must be even (two nodes share them) and >= 2")

    tasks = {t.task_id: t for t in read_tasks(SHARED / "data" / "BigCodeBench-v0.1.4.jsonl.gz", check=False)}
    ids = sorted(tasks, key=lambda t: int(t.rsplit("/", 1)[1]))
    gt_times: dict[str, float] = {}
    if args.gt_times.is_file():
        rows = json.loads(args.gt_times.read_text()).get("gt", {}).get("results", {})
        gt_times = {tid: r["duration_s"] for tid, r in rows.items() if r.get("bcb") == "pass"}
    candidates = pick_slice(ids, gt_times, args.n + args.n // 5)  # some spare for the first pass
    preload = preload_modules(program_modules(t) for t in tasks.values())

    def job(tid: str, limit: float) -> Job:
        return Job(
            tid,
            tid,
            tasks[tid].code_prompt + "\n    pass\n" + tasks[tid].solution,
            tasks[tid].test,
            limit,
            gt_times.get(tid, 0.0),
        )

    with LocalExecutor(python=args.python, workers=args.workers, preload=preload) as ex:
        passing = {r.key for r in ex.run([job(tid, 10.0) for tid in candidates]) if r.status == "pass"}
    chosen = [tid for tid in candidates if tid in passing][: args.n]
    print(f"first pass: {len(passing)} of {len(candidates)} candidates pass here; timing {len(chosen)}")
    jobs = [job(tid, official_time_limit(None)) for tid in chosen]
    print(
        f"{len(jobs)} samples, {args.workers} workers in every configuration, {args.rounds} rounds, python {args.python}"
    )

    configs = {
        "local": lambda: run_local(args, preload, jobs),
        "ray-1": lambda: run_ray(args, preload, jobs, 1),
        "ray-2": lambda: run_ray(args, preload, jobs, 2),
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    for round_ in range(args.rounds):
        for name, run in configs.items():
            outcome = run()
            runs[name].append(outcome)
            print(
                f"round {round_ + 1} {name:6s} run {outcome['run_s']:6.1f} s  {len(jobs) / outcome['run_s']:5.2f} samples/s  "
                f"cpu {outcome['cpu_s']:6.1f} s  start-up {outcome['startup_s']:5.1f} s",
                flush=True,
            )

    reference = runs["local"][0]["statuses"]
    summary: dict[str, Any] = {}
    local = runs["local"]
    for name, outcomes in runs.items():
        run_s = statistics.median(o["run_s"] for o in outcomes)
        summary[name] = {
            "run_s_median": run_s,
            "samples_per_s": len(jobs) / run_s,
            "cpu_s_median": statistics.median(o["cpu_s"] for o in outcomes),
            "startup_s_median": statistics.median(o["startup_s"] for o in outcomes),
            "run_s_all": [round(o["run_s"], 2) for o in outcomes],
            "cpu_s_all": [round(o["cpu_s"], 2) for o in outcomes],
            "verdicts_identical_to_local": all(o["statuses"] == reference for o in outcomes),
        }
        if name != "local":
            summary[name]["cluster_start_s_median"] = statistics.median(o["cluster_start_s"] for o in outcomes)
            summary[name]["overhead_vs_local"] = (
                statistics.median(o["run_s"] / base["run_s"] for o, base in zip(outcomes, local, strict=True)) - 1
            )
            summary[name]["cpu_overhead_vs_local"] = (
                statistics.median(o["cpu_s"] / base["cpu_s"] for o, base in zip(outcomes, local, strict=True)) - 1
            )
            summary[name]["samples_per_node_last_round"] = outcomes[-1]["samples_per_node"]
    print(
        f"\n{'config':8s} {'samples/s':>10s} {'run (median)':>13s} {'CPU (median)':>13s} {'start-up':>9s} "
        f"{'wall vs local':>14s} {'CPU vs local':>13s}  verdicts"
    )
    for name, s in summary.items():
        vs = f"{s['overhead_vs_local']:+.1%}" if "overhead_vs_local" in s else "-"
        cpu_vs = f"{s['cpu_overhead_vs_local']:+.1%}" if "cpu_overhead_vs_local" in s else "-"
        same = "identical" if s["verdicts_identical_to_local"] else "DIFFER"
        print(
            f"{name:8s} {s['samples_per_s']:10.2f} {s['run_s_median']:12.1f}s {s['cpu_s_median']:12.1f}s "
            f"{s['startup_s_median']:8.1f}s {vs:>14s} {cpu_vs:>13s}  {same}"
        )
    report = {
        "n": len(jobs),
        "workers": args.workers,
        "rounds": args.rounds,
        "python": args.python,
        "cpus": os.cpu_count(),
        "summary": summary,
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=1))
    print(f"report: {args.report}")
    ok = (
        all(s["verdicts_identical_to_local"] for s in summary.values())
        and summary["ray-1"]["overhead_vs_local"] <= 0.15
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
