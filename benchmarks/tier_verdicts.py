"""Do the sandbox tiers give the same verdicts? Runs the real ``bcb evaluate`` CLI on the same
samples in each tier (see ``_tiers.py``: root, a normal user, that user inside a container-like
confinement), then compares every sample's verdict and failing tests across tiers, and with the
official evaluator's verdicts where the samples come from ``shared/fidelity``.

    python benchmarks/tier_verdicts.py --python /work/venvs/task-env/bin/python \\
        --user bcbci --user-python /home/bcbci/bcb-venv/bin/python [--tiers root,rootless,no_namespaces] \\
        [--samples FILE --version v0.1.2] [--check-gt-only] [--timeout S] [--id-range A-B] [--out DIR]

Default samples: the Qwen2.5-Coder-7B-Instruct complete set of ``shared/fidelity`` (v0.1.2, as the
official run used). ``--check-gt-only`` compares the ground-truth check instead (v0.1.4 by default).
Every tier writes under ``--out/<tier>`` (owned by the user for the user's tiers).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tiers import REPO, TIERS, tier_command

SHARED = Path(os.environ["BCB_SHARED_DATA"]).parent if os.environ.get("BCB_SHARED_DATA") else REPO.parent / "shared"
QWEN = SHARED / "fidelity" / "samples-Qwen2.5-Coder-7B-Instruct-complete-full.jsonl"
OFFICIAL = SHARED / "fidelity" / "official-Qwen2.5-Coder-7B-Instruct-complete-full.json"


def run_tier(tier: str, args: argparse.Namespace) -> tuple[dict[str, tuple[str, tuple[str, ...]]], float]:
    """``{task_id: (status, failing tests)}`` of one tier's run, and its wall time."""
    out = Path(args.out) / tier
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    argv = [
        "-m",
        "bcb",
        "evaluate",
        "--python",
        args.python,
        "--data-dir",
        str(SHARED / "data"),
        "--parallel",
        str(args.parallel),
        "--root",
        str(out / "store"),
    ]
    if args.check_gt_only:
        argv += ["--check-gt-only", "--version", args.version or "v0.1.4"]
    else:
        samples = out / Path(args.samples).name
        shutil.copyfile(args.samples, samples)
        argv += ["--samples", str(samples), "--version", args.version or "v0.1.2", "--no-gt"]
        if args.timeout:
            argv += ["--timeout", str(args.timeout)]
    if args.id_range:
        argv += ["--id-range", args.id_range]
    if tier != "root":
        user = pwd.getpwnam(args.user)
        for path in (out.parent, out, *out.rglob("*")):
            os.chown(path, user.pw_uid, user.pw_gid)
    cmd = tier_command(tier, argv, user=args.user, user_python=args.user_python or sys.executable)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=str(out))
    wall = time.monotonic() - t0
    (out / "stdout.txt").write_text(proc.stdout)
    (out / "stderr.txt").write_text(proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"the {tier} run failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return (_gt_verdicts(out / "store" / "bcb.sqlite") if args.check_gt_only else _sample_verdicts(out)), wall


def _sample_verdicts(out: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    from bcb.evaluation.results import read_eval_results

    (path,) = out.glob("*_eval_results.json")
    results = read_eval_results(path)
    return {t: (rs[0].status, tuple(sorted(rs[0].details))) for t, rs in results.eval.items() if rs}


def _gt_verdicts(store: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    import sqlite3

    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT task_id, status, details FROM ground_truth").fetchall()
    return {task: (status, tuple(sorted(json.loads(details)))) for task, status, details in rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", required=True, help="a task interpreter every tier's user can run")
    ap.add_argument("--tiers", default=",".join(TIERS))
    ap.add_argument("--user", default="bcbci")
    ap.add_argument("--user-python", help="an interpreter --user can run, with bcb's dependencies")
    ap.add_argument("--samples", default=str(QWEN))
    ap.add_argument("--version", default=None)
    ap.add_argument("--check-gt-only", action="store_true")
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="one fixed per-sample limit for every tier (default: the official policy)",
    )
    ap.add_argument("--id-range", default=None, help="only these dataset positions, e.g. 0-570")
    ap.add_argument("--out", default="/var/tmp/bcb-tier-verdicts")
    args = ap.parse_args(argv)
    tiers = [t for t in args.tiers.split(",") if t]
    runs = {}
    for tier in tiers:
        runs[tier], wall = run_tier(tier, args)
        passed = sum(v[0] == "pass" for v in runs[tier].values())
        print(
            f"{tier:14} {len(runs[tier])} verdicts, {passed} pass ({passed / max(1, len(runs[tier])):.3f}), {wall:.0f} s",
            flush=True,
        )
    official = {}
    if not args.check_gt_only and Path(args.samples) == QWEN and OFFICIAL.is_file():
        official = json.loads(OFFICIAL.read_text())["verdicts"]
    base = tiers[0]
    status = 0
    for tier in tiers[1:]:
        differ = sorted(
            (t for t in runs[base] if runs[tier].get(t) != runs[base][t]), key=lambda t: int(t.rsplit("/", 1)[1])
        )
        print(f"\n{tier} vs {base}: {len(differ)} of {len(runs[base])} differ")
        for task in differ:
            ref = f"  official: {official[task][0]}" if task in official else ""
            print(f"  {task}: {base} {runs[base][task]}  {tier} {runs[tier].get(task)}{ref}")
        status |= bool(differ)
    return status


if __name__ == "__main__":
    sys.exit(main())
