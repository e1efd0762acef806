"""What a new user trips over, each through the real CLI: tables that fit the terminal, ties,
intervals honest for a handful of samples, help text."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bcb.evaluation.passk import pass_at_1_ci

BCB = [sys.executable, "-m", "bcb"]


def bcb(
    *args: str, columns: int = 120, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("BCB_PYTHON", "BCB_DATA_DIR")}
    full.update(COLUMNS=str(columns), NO_COLOR="1", **(env or {}))
    return subprocess.run(
        [*BCB, *args], capture_output=True, text=True, env=full, cwd=cwd, timeout=timeout, check=False
    )


def write_results(path: Path, statuses: list[str]) -> Path:
    table = {
        f"BigCodeBench/{i}": [
            {"task_id": f"BigCodeBench/{i}", "solution": "def task_func():\n    return 1\n", "status": s, "details": {}}
        ]
        for i, s in enumerate(statuses)
    }
    path.write_text(json.dumps({"date": "2026-01-01 00:00", "eval": table}))
    return path


@pytest.fixture
def models(tmp_path: Path) -> list[Path]:
    """Four models with long names, two of them tied on every task."""
    names = {
        "deepseek-coder-v2-instruct-0724": ["pass"] * 30 + ["fail"] * 10,
        "zeta-tied-model-with-a-long-name": ["pass"] * 20 + ["fail"] * 20,
        "alpha-tied-model-with-a-long-name": ["pass"] * 20 + ["fail"] * 20,
        "claude-3-5-sonnet-20240620": ["pass"] * 10 + ["fail"] * 30,
    }
    return [write_results(tmp_path / f"{name}_eval_results.json", rows) for name, rows in names.items()]


@pytest.mark.parametrize("columns", [80, 100, 120])
def test_the_leaderboard_fits_the_terminal_and_shows_every_model(models: list[Path], columns: int) -> None:
    result = bcb("leaderboard", *map(str, models), columns=columns)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line[:1] in "┏┃┡│└"]  # notes wrap in the terminal
    assert lines and max(len(line) for line in lines) <= columns, result.stdout
    table = "\n".join(lines)
    for path in models:
        assert path.name.removesuffix("_eval_results.json") in table, table
    assert "pass@1 %" in table and "95% CI" in table
    if columns < 120:
        assert "not shown at" in result.stdout


def test_ties_share_a_rank_and_list_by_name(models: list[Path]) -> None:
    for order in ("--descending", "--ascending"):
        rows = list(csv.DictReader(io.StringIO(bcb("leaderboard", *map(str, models), "--format", "csv", order).stdout)))
        tied = [(r["rank"], r["label"]) for r in rows if "tied" in r["label"]]
        assert tied == [("2", "alpha-tied-model-with-a-long-name"), ("2", "zeta-tied-model-with-a-long-name")], rows
    ranks = [
        r["rank"] for r in csv.DictReader(io.StringIO(bcb("leaderboard", *map(str, models), "--format", "csv").stdout))
    ]
    assert ranks == ["1", "2", "2", "4"]
    markdown = bcb("leaderboard", *map(str, models), "--format", "markdown").stdout
    assert markdown.index("alpha-tied") < markdown.index("zeta-tied")
    table = bcb("leaderboard", *map(str, models), columns=160).stdout
    assert table.index("alpha-tied") < table.index("zeta-tied")


def test_the_interval_is_honest_for_a_few_samples() -> None:
    three = pass_at_1_ci({"a": (1, 1), "b": (1, 1), "c": (1, 1)})
    assert three.estimate == 1.0 and three.high == 1.0 and three.low < 0.6  # Wilson: 0.438
    none = pass_at_1_ci({str(i): (1, 0) for i in range(10)})
    assert none.low == 0.0 and none.high > 0.2  # Wilson: 0.278
    full = pass_at_1_ci({str(i): (1, i % 2) for i in range(1140)})
    assert 0.02 < full.high - full.low < 0.07  # a full run keeps its ~+-3 points


class Recorded:
    """A progress display that keeps what it was shown."""

    def __init__(self) -> None:
        self.starts: list[tuple[int, list[str]]] = []
        self.advances: list[str] = []

    def start(self, phase: str, total: int, done=()) -> None:
        self.starts.append((total, list(done)))

    def advance(self, status: str) -> None:
        self.advances.append(status)

    def stop(self) -> None:
        pass


def test_the_progress_counts_every_sample_including_those_from_the_store(tmp_path: Path) -> None:
    from bcb.cli.evaluate import SharedExecutor
    from bcb.dataset import load_dataset
    from bcb.evaluation.evaluate import EvalConfig, evaluate
    from bcb.evaluation.store import ResultStore
    from bcb.execution.environment import environment_fingerprint
    from bcb.generation.samples import Sample

    mini = load_dataset("bcb-mini")
    tasks = list(mini)[:3]
    config = EvalConfig(timeout=20, no_gt=True, allow_partial=True)
    runner = SharedExecutor(sys.executable, 1, config.limits, [])
    store = ResultStore(tmp_path / "bcb.sqlite")
    try:
        fingerprint = runner.prepare(environment_fingerprint(sys.executable))
        first = [Sample(task_id=t.task_id, index=0, solution=t.solution, where="first") for t in tasks[:2]]
        evaluate(mini, tasks, first, config, store, fingerprint, runner, Recorded(), samples_origin="first")
        # The two known programs twice each (one from the store, shared by two samples), one new one.
        second = [
            *first,
            *(Sample(task_id=s.task_id, index=1, solution=s.solution, where="again") for s in first),
            Sample(task_id=tasks[2].task_id, index=0, solution=tasks[2].solution, where="new"),
        ]
        shown = Recorded()
        outcome = evaluate(mini, tasks, second, config, store, fingerprint, runner, shown, samples_origin="second")
    finally:
        runner.close()
        store.close()
    assert outcome.reused == 2 and outcome.executed == 1
    assert shown.starts == [(5, ["pass"] * 4)] and shown.advances == ["pass"]


def test_evaluate_help_fits_80_columns_and_keeps_its_brackets() -> None:
    result = bcb("evaluate", "--help", columns=80)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) <= 130, len(lines)
    assert max(len(line) for line in lines) <= 80
    assert "…" not in result.stdout  # no option name or word cut off
    assert "bcb[ray]" in result.stdout.replace("│", "").replace(" ", "")  # rich markup would swallow [ray]
    for panel in ("Dataset", "Limits", "Ground truth", "Results", "Execution"):
        assert f"─ {panel} ─" in result.stdout


def test_no_test_hard_codes_a_machine_path() -> None:
    """Paths outside the repository come from tests/helpers.py: a variable with a default beside it."""
    here = Path(__file__).parent
    offenders = [
        f"{path.name}:{n}"
        for path in sorted(here.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "/work/" in line and path.name != "test_new_user.py"
    ]
    assert offenders == []
