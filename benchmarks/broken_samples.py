"""Deliberately broken solutions, derived reproducibly from BigCodeBench v0.1.4 canonical solutions.

They exercise the verdict paths a ground-truth comparison never reaches (wrong results, missing
imports, exceptions at call and import time, syntax errors, infinite loops, stubs, exits, floods of
output), so that ``benchmarks/fidelity.py --official-results`` can compare bcb's verdicts with the
official evaluator's on them, sample by sample.

Two files are written, because the official evaluator applies calibration to a whole run:

* ``broken-calibrated.jsonl``: every kind, evaluated calibrated (the official default), where
  ``code_prompt`` (with the task's imports) is prepended, so a dropped import is *not* an error;
* ``broken-uncalibrated.jsonl``: the missing-import samples again plus a few controls, evaluated
  ``--no-calibrated``, where a dropped import is a ``NameError``.

Each line is ``{"task_id", "solution", "kind"}`` (the official evaluator ignores ``kind``). The same
seed always gives the same files; tasks whose ground truth fails here are never used, and fast
tasks (ground truth under 2 s in the last fidelity report) are preferred so the official run stays
short (each infinite loop costs it 241 s, so there are only three).

    python benchmarks/broken_samples.py [--out DIR] [--seed N]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bcb.dataset import Task, read_tasks

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BCB_SHARED", REPO.parent / "shared"))

#: Ground truth fails here (README's list) or failed the official GT check on this machine.
GT_FAILS_HERE = {
    f"BigCodeBench/{n}"
    for n in (
        101,
        111,
        176,
        177,
        205,
        276,
        290,
        314,
        332,
        334,
        363,
        376,
        383,
        590,
        633,
        635,
        655,
        658,
        726,
        734,
        806,
        808,
        812,
        823,
        832,
        849,
        940,
        1005,
        1012,
        1040,
        1109,
    )
}

#: kind -> number of samples in the calibrated file.
CALIBRATED_COUNTS = {
    "ground_truth": 6,
    "wrong_result": 14,
    "off_by_one": 12,
    "missing_import": 10,
    "raise_at_call": 10,
    "raise_at_import": 6,
    "syntax_error": 8,
    "infinite_loop": 2,
    "infinite_loop_at_import": 1,
    "stub": 10,
    "sys_exit_at_call": 6,
    "sys_exit_at_import": 2,
    "os_exit_at_call": 2,
    "keyboard_interrupt": 2,
    "print_heavy": 6,
}
#: kind -> number of samples in the uncalibrated file (the missing-import tasks are the calibrated ones).
UNCALIBRATED_COUNTS = {"ground_truth": 3, "missing_import": 10, "raise_at_call": 2, "stub": 2}


def entry_function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def first_statement(fn: ast.FunctionDef) -> ast.stmt | None:
    """The first statement of the body after its docstring (None when there is nothing else)."""
    body = fn.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return body[0] if body else None


def insert_at_call(task: Task, code: str, lines_to_insert: list[str]) -> str | None:
    """The solution with `lines_to_insert` run first thing in the entry point."""
    src = task.solution
    tree = ast.parse(src)
    fn = entry_function(tree, task.entry_point)
    first = fn and first_statement(fn)
    if first is None:
        return None
    lines = src.splitlines(keepends=True)
    line = lines[first.lineno - 1]
    indent = line[: len(line) - len(line.lstrip())]
    if len(indent) != first.col_offset:
        return None
    new = [indent + ln + "\n" for ln in lines_to_insert]
    return "".join(lines[: first.lineno - 1] + new + lines[first.lineno - 1 :])


def wrong_result(task: Task) -> str | None:
    """The entry point's return value, changed so that it is plausibly but visibly wrong."""
    return task.solution + (
        "\n\n_broken_original = " + task.entry_point + "\n\n"
        "def _broken_mutate(r):\n"
        "    if isinstance(r, bool):\n        return not r\n"
        "    if isinstance(r, (int, float)):\n        return r + 1\n"
        "    if isinstance(r, str):\n        return r + ' '\n"
        "    if isinstance(r, list):\n        return r[:-1] if r else [0]\n"
        "    if isinstance(r, tuple):\n        return r[:-1] if len(r) > 1 else r + (None,)\n"
        "    if isinstance(r, dict):\n        return {**r, '_broken': 1}\n"
        "    if isinstance(r, (set, frozenset)):\n        return set(r) | {'_broken'}\n"
        "    if hasattr(r, 'iloc'):\n        return r.iloc[:-1] if len(r) > 1 else r.iloc[:0]\n"
        "    if hasattr(r, 'dtype') and hasattr(r, 'shape'):\n        return r[:-1] if getattr(r, 'ndim', 0) and len(r) > 1 else r * 0 + 1\n"
        "    return None\n\n"
        f"def {task.entry_point}(*args, **kwargs):\n"
        "    return _broken_mutate(_broken_original(*args, **kwargs))\n"
    )


def off_by_one(task: Task) -> str | None:
    """The first integer literal of the entry point's body (not its docstring), plus one."""
    src = task.solution
    tree = ast.parse(src)
    fn = entry_function(tree, task.entry_point)
    first = fn and first_statement(fn)
    if fn is None or first is None:
        return None
    lines = src.splitlines(keepends=True)
    for node in sorted(
        ast.walk(ast.Module(body=fn.body[fn.body.index(first) :], type_ignores=[])),
        key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)),
    ):
        if isinstance(node, ast.Constant) and type(node.value) is int and node.lineno == node.end_lineno:
            line = lines[node.lineno - 1]
            b = len(line.encode()[: node.col_offset].decode())
            e = len(line.encode()[: node.end_col_offset].decode())
            if line[b:e] != repr(node.value):
                continue
            lines[node.lineno - 1] = line[:b] + repr(node.value + 1) + line[e:]
            return "".join(lines)
    return None


def missing_import(task: Task) -> str | None:
    """The solution without its top-level import statements (a model that forgot them)."""
    src = task.solution
    tree = ast.parse(src)
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            drop.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    if not drop:
        return None
    return "".join(ln for n, ln in enumerate(src.splitlines(keepends=True), 1) if n not in drop)


def raise_at_import(task: Task) -> str | None:
    return task.solution + "\n\nraise RuntimeError('broken sample: fails at import')\n"


def syntax_error(task: Task) -> str | None:
    """Output cut off mid-way (a truncated generation), or an unclosed bracket if every cut parses."""
    src = task.solution
    for frac in (0.8, 0.75, 0.7, 0.85, 0.9):
        cut = src[: int(len(src) * frac)]
        try:
            compile(cut, "<cut>", "exec")
        except SyntaxError:
            return cut
    return src + "\n_broken = (\n"


def stub(task: Task) -> str | None:
    """The entry point's body replaced by `pass`, keeping its docstring and everything around it."""
    src = task.solution
    tree = ast.parse(src)
    fn = entry_function(tree, task.entry_point)
    first = fn and first_statement(fn)
    if fn is None or first is None or fn.end_lineno is None:
        return None
    lines = src.splitlines(keepends=True)
    line = lines[first.lineno - 1]
    indent = line[: len(line) - len(line.lstrip())]
    return "".join(lines[: first.lineno - 1] + [indent + "pass\n"] + lines[fn.end_lineno :])


def at_call(*stmts: str) -> Callable[[Task], str | None]:
    return lambda task: insert_at_call(task, task.solution, list(stmts))


MAKERS: dict[str, Callable[[Task], str | None]] = {
    "ground_truth": lambda task: task.solution,
    "wrong_result": wrong_result,
    "off_by_one": off_by_one,
    "missing_import": missing_import,
    "raise_at_call": at_call("raise RuntimeError('broken sample: fails when called')"),
    "raise_at_import": raise_at_import,
    "syntax_error": syntax_error,
    "infinite_loop": at_call("while True:", "    pass"),
    "infinite_loop_at_import": lambda task: task.solution + "\n\nwhile True:\n    pass\n",
    "stub": stub,
    "sys_exit_at_call": at_call("import sys as _broken_sys", "_broken_sys.exit(0)"),
    "sys_exit_at_import": lambda task: task.solution + "\n\nimport sys as _broken_sys\n_broken_sys.exit(0)\n",
    "os_exit_at_call": at_call("import os as _broken_os", "_broken_os._exit(0)"),
    "keyboard_interrupt": at_call("raise KeyboardInterrupt"),
    "print_heavy": at_call(
        "import sys as _broken_sys",
        "for _broken_i in range(20000):",
        "    print('flood ' * 40)",
        "    print('err ' * 40, file=_broken_sys.stderr)",
    ),
}


def eligible_tasks(data: Path, report: Path) -> list[Task]:
    tasks = [
        t for t in read_tasks(data / "BigCodeBench-v0.1.4.jsonl.gz", check=False) if t.task_id not in GT_FAILS_HERE
    ]
    fast: set[str] | None = None
    if report.is_file():
        rows = json.loads(report.read_text()).get("gt", {}).get("results", {})
        fast = {tid for tid, r in rows.items() if r.get("bcb") == "pass" and r.get("duration_s", 99) < 2.0}
    return [t for t in tasks if fast is None or t.task_id in fast]


def generate(tasks: list[Task], seed: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """One distinct task per calibrated sample as far as the pool lasts (spread over the benchmark)."""
    rng = random.Random(seed)
    pool = sorted(tasks, key=lambda t: int(t.task_id.rsplit("/", 1)[1]))
    rng.shuffle(pool)
    used: set[str] = set()
    calibrated: list[dict[str, str]] = []
    missing_import_tasks: list[Task] = []
    for kind, count in CALIBRATED_COUNTS.items():
        made = 0
        for task in pool:
            if made == count:
                break
            if task.task_id in used:
                continue
            solution = MAKERS[kind](task)
            if solution is None or solution == task.solution and kind != "ground_truth":
                continue
            used.add(task.task_id)
            calibrated.append({"task_id": task.task_id, "solution": solution, "kind": kind})
            if kind == "missing_import":
                missing_import_tasks.append(task)
            made += 1
    uncalibrated = [
        {"task_id": t.task_id, "solution": MAKERS["missing_import"](t) or "", "kind": "missing_import"}
        for t in missing_import_tasks
    ]
    for kind, count in UNCALIBRATED_COUNTS.items():
        if kind == "missing_import":
            continue
        made = 0
        for task in pool:
            if made == count:
                break
            if task.task_id in used:
                continue
            solution = MAKERS[kind](task)
            if solution is None:
                continue
            used.add(task.task_id)
            uncalibrated.append({"task_id": task.task_id, "solution": solution, "kind": kind})
            made += 1
    calibrated.sort(key=lambda s: int(s["task_id"].rsplit("/", 1)[1]))
    uncalibrated.sort(key=lambda s: int(s["task_id"].rsplit("/", 1)[1]))
    return calibrated, uncalibrated


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "broken")
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument(
        "--gt-times",
        type=Path,
        default=REPO / "benchmarks" / "results" / "fidelity.json",
        help="a fidelity report, for picking fast tasks",
    )
    args = ap.parse_args(argv)
    calibrated, uncalibrated = generate(eligible_tasks(args.shared / "data", args.gt_times), args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("broken-calibrated.jsonl", calibrated), ("broken-uncalibrated.jsonl", uncalibrated)):
        with open(args.out / name, "w") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
        kinds = Counter(r["kind"] for r in rows)
        print(f"{args.out / name}: {len(rows)} samples over {len({r['task_id'] for r in rows})} tasks: {dict(kinds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
