"""Sanitizer speed on long answers: bcb against a cubic extractor and the official sanitizer.

The official `code_extract` parses every (start, end) line span and keeps the longest valid one:
O(n^2) parses of O(n) lines. The baseline here is that straightforward algorithm, written out
below; bcb's extractor must choose the same span (checked) in a handful of parses.

Answers are synthetic but shaped like real ones: prose, a fenced solution (imports, a helper, the
entry point), more prose, an example-usage block. Sizes are total lines. A run that would exceed
the budget is not finished: its time is estimated from a random sample of spans (marked `~`),
which is what the cubic loop would spend on average times the number of spans.

    python benchmarks/sanitize.py [--sizes 100,300,1000] [--budget 60] [--agreement]

With `--agreement` and the official venv, also the agreement with the official sanitizer on the
real answers in ../shared/fidelity (as given, and wrapped the ways chat models answer).
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

from bcb.generation.sanitize import extract_code, sanitize

OFFICIAL_PYTHON = Path("/work/venvs/official/bin/python")
FIDELITY = Path(__file__).resolve().parents[2] / "shared" / "fidelity"


def answer(lines: int) -> str:
    """A chat answer of about `lines` lines, most of them in the solution block."""
    prose = [f"Step {k}: the function below handles case {k} and explains why." for k in range(max(2, lines // 20))]
    body_lines = max(4, lines - 2 * len(prose) - 16)
    body = [f"    total += values[{k % 7}] * {k}  # term {k}" for k in range(body_lines)]
    code = [
        "import math",
        "",
        "SCALE = 3",
        "",
        "def helper(x):",
        "    return math.sqrt(abs(x)) * SCALE",
        "",
        "def task_func(values):",
        "    total = 0",
        *body,
        "    return helper(total)",
    ]
    return "\n".join(
        [
            "Here is a solution.",
            *prose,
            "```python",
            *code,
            "```",
            *prose,
            "Example:",
            "```python",
            "print(task_func([1, 2, 3, 4, 5, 6, 7]))",
            "```",
        ]
    )


def _valid(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
        return True
    except (SyntaxError, MemoryError, RecursionError, ValueError):
        return False


def cubic_extract(text: str, budget: float) -> tuple[str | None, float]:
    """Try every (start, end) span of two or more lines; keep the one with the most non-blank lines.
    Returns (span text, seconds), or (None, seconds so far) when the budget runs out."""
    lines = text.split("\n")
    best, best_len = (0, 0), 0
    started = time.perf_counter()
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            if _valid("\n".join(lines[i : j + 1])):
                length = sum(1 for line in lines[i : j + 1] if line.strip())
                if length > best_len:
                    best, best_len = (i, j), length
        if time.perf_counter() - started > budget:
            return None, time.perf_counter() - started
    return "\n".join(lines[best[0] : best[1] + 1]), time.perf_counter() - started


def cubic_estimate(text: str, samples: int = 3000) -> float:
    """Seconds the cubic loop would take: mean cost of random spans times the number of spans."""
    lines = text.split("\n")
    n = len(lines)
    rng = random.Random(0)
    spans = [tuple(sorted(rng.sample(range(n), 2))) for _ in range(samples)]
    started = time.perf_counter()
    for i, j in spans:
        if _valid("\n".join(lines[i : j + 1])):
            sum(1 for line in lines[i : j + 1] if line.strip())
    return (time.perf_counter() - started) / samples * (n * (n - 1) / 2)


def best_time(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def official_time(text: str, budget: float) -> tuple[str | None, float | None]:
    """The official sanitize on `text` in its venv: (output, seconds), or (None, None) past the budget."""
    script = (
        "import json, sys, time\nfrom bigcodebench.sanitize import sanitize\ntext = sys.stdin.read()\n"
        "t = time.perf_counter()\nout = sanitize(text, 'task_func')\n"
        "print(json.dumps([out, time.perf_counter() - t]))\n"
    )
    try:
        run = subprocess.run(
            [str(OFFICIAL_PYTHON), "-c", script],
            check=False,
            input=text,
            capture_output=True,
            text=True,
            timeout=budget + 30,
        )
    except subprocess.TimeoutExpired:
        return None, None
    if run.returncode != 0:
        return None, None
    out, seconds = json.loads(run.stdout)
    return out, seconds


def wrapped(solution: str) -> dict[str, str]:
    """A sanitized solution as models write it: as is, fenced between prose and an example, bare
    with an `if __name__` demo, and fenced with Windows line endings."""
    return {
        "as given": solution,
        "fenced": f"Here is the implementation:\n\n```python\n{solution}\n```\n\nIt validates the input first.\n\n"
        "Example usage:\n```python\nresult = task_func()\nprint(result)\n```\n",
        "__main__ demo": f'Sure! Below is the code.\n\n{solution}\n\n# Example usage\nif __name__ == "__main__":\n'
        "    output = task_func()\n    print(output)\n",
        "CRLF": f"```python\n{solution}\n```\n".replace("\n", "\r\n"),
    }


def agreement(solutions: list[str]) -> None:
    """Byte and AST agreement with the official sanitizer, per way of wrapping."""
    cases = [(kind, text) for solution in solutions for kind, text in wrapped(solution).items()]
    script = (
        "import json, sys\nfrom bigcodebench.sanitize import sanitize\n"
        "for line in sys.stdin:\n    print(json.dumps(sanitize(json.loads(line), 'task_func')))\n"
    )
    stdin = "".join(json.dumps(text) + "\n" for _, text in cases)
    run = subprocess.run([str(OFFICIAL_PYTHON), "-c", script], check=True, input=stdin, capture_output=True, text=True)
    official = [json.loads(line) for line in run.stdout.splitlines()]
    print("\nagreement with the official sanitizer (byte-equal / AST-equal only / different):")
    for kind in wrapped(""):
        rows = [(sanitize(text), theirs) for (k, text), theirs in zip(cases, official) if k == kind]
        same = sum(ours == theirs for ours, theirs in rows)
        ast_only = sum(ours != theirs and _dump(ours) == _dump(theirs) for ours, theirs in rows)
        print(f"  {kind:<14} {same}/{len(rows)} / {ast_only} / {len(rows) - same - ast_only}")


def _dump(code: str) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.dump(ast.parse(code))
    except (SyntaxError, ValueError):
        return "invalid: " + code


def fmt(seconds: float | None, estimated: bool = False) -> str:
    if seconds is None:
        return "-"
    text = f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.1f} s"
    return ("~" + text) if estimated else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,300,1000", help="Answer lengths in lines.")
    parser.add_argument(
        "--budget", type=float, default=60.0, help="Seconds a cubic run may take before it is estimated instead."
    )
    parser.add_argument(
        "--agreement",
        action="store_true",
        help="Also compare with the official sanitizer on the real answers, as given and wrapped as chat answers (minutes).",
    )
    args = parser.parse_args()
    have_official = OFFICIAL_PYTHON.exists()

    header = f"{'lines':>6} {'bcb sanitize':>13} {'cubic extract':>14} {'ratio':>9}"
    if have_official:
        header += f" {'official sanitize':>18} {'ratio':>9} {'same output':>12}"
    print(header)
    for size in (int(s) for s in args.sizes.split(",")):
        text = answer(size)
        n = len(text.split("\n"))
        ours = best_time(lambda text=text: sanitize(text))
        extracted, cubic = cubic_extract(text, args.budget)
        estimated = extracted is None
        if estimated:
            cubic = cubic_estimate(text)
        else:
            assert extracted == extract_code(text), "bcb chose another span than the cubic extractor"
        row = f"{n:>6} {fmt(ours):>13} {fmt(cubic, estimated):>14} {('~' if estimated else '') + f'{cubic / ours:,.0f}x':>9}"
        if have_official:
            official_out, official = official_time(text, args.budget) if not estimated else (None, None)
            same = "-" if official_out is None else ("yes" if official_out == sanitize(text) else "NO")
            ratio = "-" if official is None else f"{official / ours:,.0f}x"
            shown = fmt(official) if official is not None else ("skipped" if estimated else "> budget")
            row += f" {shown:>18} {ratio:>9} {same:>12}"
        print(row, flush=True)

    real = sorted(FIDELITY.glob("samples-*.jsonl")) if FIDELITY.is_dir() else []
    if real:
        texts = [json.loads(line)["solution"] for path in real for line in path.open(encoding="utf-8")]
        per, unchanged = [], 0
        for text in texts:
            started = time.perf_counter()
            out = sanitize(text)
            per.append(time.perf_counter() - started)
            unchanged += out == text
        print(
            f"\nreal answers ({len(texts)} sanitized solutions, {statistics.mean(len(t.splitlines()) for t in texts):.0f} lines on average): "
            f"mean {statistics.mean(per) * 1000:.2f} ms, max {max(per) * 1000:.2f} ms, total {sum(per):.2f} s; "
            f"unchanged by a second sanitize: {unchanged}/{len(texts)}"
        )
        if args.agreement and have_official:
            agreement(texts)
    print(f"\npython {sys.version.split()[0]}; times are the best of 5 runs for bcb, one run for the others")


if __name__ == "__main__":
    main()
