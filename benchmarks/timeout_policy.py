"""Timeout policy: would a faster per-sample limit than the official one change any verdict?

The official limit is ``max(240, gt_time) + 1`` seconds for every task, so a sample stuck in an
infinite loop costs a worker four minutes, while nearly all tests run in well under a second. A
policy ``max(floor, factor * gt_time) + 1`` ("scaled") would free that time, but it is only worth
proposing if it changes no verdict on real samples: a slow but correct solution must not turn
into a timeout.

This reads a fidelity report (``benchmarks/fidelity.py`` output: per-sample durations of real
model samples under the official limits, and the ground truths' own durations), and for a grid of
floors and factors counts the samples whose verdict would change (a sample that was not a
timeout but ran longer than the scaled limit) and the worker time the policy saves on samples
that timed out anyway. Printed: the grid, and the smallest floor that changes nothing.

    python benchmarks/timeout_policy.py [--report benchmarks/results/fidelity.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OFFICIAL_FLOOR_S = 240.0
FLOORS = (5.0, 10.0, 20.0, 30.0, 60.0, 75.0, 90.0, 120.0)
FACTORS = (5.0, 10.0, 20.0, 50.0)


def scaled_limit(gt_time: float, floor: float, factor: float) -> float:
    return max(floor, factor * gt_time) + 1


def evaluate_policy(
    samples: list[tuple[str, float, str]], gt: dict[str, float], floor: float, factor: float
) -> dict[str, Any]:
    """``samples``: (task id, duration under the official limits, bcb verdict)."""
    changed, saved = [], 0.0
    for task_id, duration, verdict in samples:
        official = max(OFFICIAL_FLOOR_S, gt.get(task_id, 20.0)) + 1
        limit = min(official, scaled_limit(gt.get(task_id, 20.0), floor, factor))
        # A sample that ran into the official limit (a timeout, or a fail by the in-process alarm
        # one second earlier) meets the scaled limit the same way, only sooner.
        if verdict == "timeout" or duration >= official - 1.5:
            saved += max(0.0, min(duration, official) - limit)
        elif duration > limit:
            changed.append(task_id)
    return {"floor": floor, "factor": factor, "changed": changed, "saved_s": saved}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--report", type=Path, default=REPO / "benchmarks" / "results" / "fidelity.json", help="a fidelity.py report"
    )
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "timeout_policy.json")
    args = ap.parse_args(argv)
    if not args.report.is_file():
        sys.exit(f"{args.report}: no fidelity report; run benchmarks/fidelity.py first")
    report = json.loads(args.report.read_text())
    gt = {tid: row["duration_s"] for tid, row in report["gt"]["results"].items() if row["bcb"] == "pass"}
    samples = [
        (tid, row["duration_s"], row["bcb"])
        for split in report["splits"].values()
        for tid, row in split["results"].items()
    ]
    timeouts = sum(1 for _, _, v in samples if v == "timeout")
    print(f"{len(samples)} reference samples ({timeouts} timeouts), {len(gt)} ground-truth times")
    print(f"{'floor s':>8} {'factor':>7} {'verdicts changed':>17} {'worker time saved':>18}  changed tasks")
    rows = []
    for floor in FLOORS:
        for factor in FACTORS:
            row = evaluate_policy(samples, gt, floor, factor)
            rows.append(row)
            print(
                f"{floor:8.0f} {factor:7.0f} {len(row['changed']):17d} {row['saved_s']:17.0f}s  {' '.join(sorted(set(row['changed'])))[:60]}"
            )
    safe = [r for r in rows if not r["changed"]]
    best = min(safe, key=lambda r: (r["floor"], r["factor"])) if safe else None
    if best:
        print(
            f"smallest floor that changes no verdict: max({best['floor']:.0f}, {best['factor']:.0f} x gt_time) + 1 s, "
            f"saving {best['saved_s']:.0f} s of worker time on these samples"
        )
    else:
        print("every policy in the grid changes at least one verdict: keep the official policy")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "source": str(args.report),
                "samples": len(samples),
                "timeouts": timeouts,
                "grid": rows,
                "smallest_safe": best,
            },
            indent=1,
        )
    )
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
