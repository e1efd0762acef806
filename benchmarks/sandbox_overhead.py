"""Per-sample cost of the hardening layers: the same samples through the engine with every layer on
and with the sandbox disabled (``--unsafe``), same worker count; prints both and the ratio, and
checks that the verdicts are identical (the canonical solutions must all pass with the layers on).

Samples: the canonical solutions of bcb-mini (bundled), repeated ``--repeat`` times, plus, when the
BigCodeBench files are in ../shared/data, the first ``--n`` tasks' ground truths (calibrated).

    python benchmarks/sandbox_overhead.py [--workers 2] [--repeat 5] [--n 40] [--python PY]
"""

from __future__ import annotations

import argparse
import ast
import statistics
import sys
import time
from pathlib import Path

from bcb.execution import Job, LocalExecutor
from bcb.execution.limits import official_time_limit
from bcb.execution.preload import preload_modules
from bcb.execution.sandbox import SandboxOptions

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def mini_jobs(repeat: int) -> tuple[list[Job], list[str]]:
    from bcb.dataset.mini import RECORDS

    jobs, libs = [], []
    for rec in RECORDS:
        libs += list(ast.literal_eval(rec["libs"])) if isinstance(rec.get("libs"), str) else list(rec.get("libs") or [])
        for i in range(repeat):
            jobs.append(Job(key=f"{rec['task_id']}#{i}", task_id=rec["task_id"], solution=rec["code_prompt"] + "\n    pass\n" + rec["canonical_solution"],
                            test=rec["test"], time_limit=official_time_limit(None)))
    return jobs, libs


def bcb_jobs(n: int) -> tuple[list[Job], list[str]]:
    path = SHARED / "data" / "BigCodeBench-v0.1.4.jsonl.gz"
    if n <= 0 or not path.is_file():
        return [], []
    from bcb.dataset import read_tasks

    tasks = sorted(read_tasks(path, check=False), key=lambda t: int(t.task_id.rsplit("/", 1)[1]))[:n]
    jobs = [Job(key=t.task_id, task_id=t.task_id, solution=t.code_prompt + "\n    pass\n" + t.solution, test=t.test, time_limit=official_time_limit(None)) for t in tasks]
    return jobs, [lib for t in tasks for lib in t.libs]


def run(jobs: list[Job], libs: list[str], python: str, workers: int, sandbox: SandboxOptions) -> tuple[dict, float, dict]:
    with LocalExecutor(python=python, workers=workers, preload=preload_modules(libs), sandbox=sandbox) as ex:
        list(ex.run(jobs[:workers]))  # warm-up
        t0 = time.monotonic()
        results = {r.key: r for r in ex.run(jobs)}
        return results, time.monotonic() - t0, dict(ex.sandbox_report)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--python", default=str(Path("/work/venvs/task-env/bin/python")) if Path("/work/venvs/task-env/bin/python").exists() else sys.executable)
    args = ap.parse_args(argv)
    mj, ml = mini_jobs(args.repeat)
    bj, bl = bcb_jobs(args.n)
    jobs, libs = mj + bj, ml + bl
    print(f"{len(jobs)} samples ({len(mj)} bcb-mini canonical, {len(bj)} BigCodeBench ground truths), {args.workers} workers")
    on, t_on, report = run(jobs, libs, args.python, args.workers, SandboxOptions())
    off, t_off, _ = run(jobs, libs, args.python, args.workers, SandboxOptions(enabled=False, unsafe=True))
    print("layers:", {k: v for k, v in report.items() if k != "notes"})
    per_on = statistics.median(r.duration_s for r in on.values()) * 1000
    per_off = statistics.median(r.duration_s for r in off.values()) * 1000
    print(f"without layers: {t_off:.2f} s wall, median {per_off:.1f} ms/sample")
    print(f"with layers:    {t_on:.2f} s wall, median {per_on:.1f} ms/sample")
    print(f"ratio (wall): {t_on / t_off:.3f}   ratio (median per sample): {per_on / per_off:.3f}   (+{per_on - per_off:.1f} ms)")
    differ = sorted(k for k in on if (on[k].status, sorted(on[k].details)) != (off[k].status, sorted(off[k].details)))
    mini_not_pass = sorted(k for k in on if "#" in k and on[k].status != "pass")
    print(f"verdicts differing: {len(differ)} {differ[:20]}")
    for k in differ[:10]:
        print(" ", k, "on:", on[k].status, {d: v[-300:] for d, v in on[k].details.items()}, "| off:", off[k].status)
    print(f"bcb-mini canonical solutions not passing with layers on: {mini_not_pass}")
    return 1 if differ or mini_not_pass else 0


if __name__ == "__main__":
    sys.exit(main())
