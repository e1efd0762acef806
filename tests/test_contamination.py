"""`bcb contamination` on hand-made results files whose gap is known."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bcb.analysis import AnalysisError, load_run
from bcb.analysis.contamination import memorisation_gap


def write_results(path: Path, outcomes: dict[str, list[str]], *, bcb_manifest: dict | None = None) -> Path:
    """Official layout: {"date", "eval": {task: [{task_id, solution, status, details}]}}."""
    table = {
        task: [
            {
                "task_id": task,
                "solution": "def f():\n    return 1\n",
                "status": s,
                "details": {} if s == "pass" else {"test_a": "AssertionError"},
            }
            for s in rows
        ]
        for task, rows in outcomes.items()
    }
    payload: dict = {"date": "2026-01-01 00:00", "eval": table}
    if bcb_manifest is not None:
        payload["bcb"] = {"manifest": bcb_manifest}
    path.write_text(json.dumps(payload))
    return path


def ids(numbers) -> list[str]:
    return [f"BigCodeBench/{n}" for n in numbers]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """20 common tasks: 14 solved in both forms, 6 in the original only, 1 in the perturbed only,
    the rest in neither. The original file has a task the perturbed one lacks (dropped by
    `bcb perturb`)."""
    original = {t: ["pass"] for t in ids(range(0, 20))}
    perturbed = {t: ["pass"] for t in ids(range(0, 14))}
    perturbed.update({t: ["fail"] for t in ids(range(14, 20))})
    for t in ids([18, 19]):
        original[t] = ["fail"]
    perturbed[ids([19])[0]] = ["pass"]
    original[ids([20])[0]] = ["pass"]
    (tmp_path / "orig").mkdir()
    (tmp_path / "pert").mkdir()
    return write_results(tmp_path / "orig" / "m_eval_results.json", original), write_results(
        tmp_path / "pert" / "m_eval_results.json", perturbed
    )


def test_gap_counts_and_lists(files: tuple[Path, Path]) -> None:
    result = memorisation_gap(load_run(files[0]), load_run(files[1]), seed=0)
    assert len(result.tasks) == 20
    assert result.pass_original == pytest.approx(18 / 20) and result.pass_perturbed == pytest.approx(15 / 20)
    assert result.gap.estimate == pytest.approx(0.15)
    assert -0.1 <= result.gap.low < 0.15 < result.gap.high <= 0.4
    assert result.only_original == tuple(ids(range(14, 18)))
    assert result.only_perturbed == tuple(ids([19]))
    assert (result.both, result.neither) == (14, 1)
    assert result.test.only_a == 4 and result.test.only_b == 1
    assert result.notes == ("1 task(s) only in the original results left out (e.g. BigCodeBench/20)",)
    # seeded: the same files give the same interval
    again = memorisation_gap(load_run(files[0]), load_run(files[1]), seed=0)
    assert again.gap == result.gap


def test_several_samples_per_task_use_per_task_rates(tmp_path: Path) -> None:
    a = write_results(tmp_path / "a_eval_results.json", {"T/1": ["pass", "pass"], "T/2": ["pass", "fail"]})
    b = write_results(tmp_path / "b_eval_results.json", {"T/1": ["pass", "fail"], "T/2": ["fail", "fail"]})
    result = memorisation_gap(load_run(a), load_run(b))
    assert result.gap.estimate == pytest.approx(((1 - 0.5) + (0.5 - 0)) / 2)
    # majority rule, as `bcb compare`: T/1 is solved in the original only; T/2 in neither
    assert result.only_original == ("T/1",) and result.neither == 1


def test_no_common_task_is_an_error(tmp_path: Path) -> None:
    a = write_results(tmp_path / "a_eval_results.json", {"T/1": ["pass"]})
    b = write_results(tmp_path / "b_eval_results.json", {"T/2": ["pass"]})
    with pytest.raises(AnalysisError, match="no task in common"):
        memorisation_gap(load_run(a), load_run(b))


def test_same_dataset_is_flagged(tmp_path: Path) -> None:
    manifest = {
        "dataset": {"name": "bigcodebench", "version": "v0.1.4", "subset": "full", "content_hash": "ab" * 32},
        "ground_truth": {"checked": False},
    }
    a = write_results(tmp_path / "a_eval_results.json", {"T/1": ["pass"]}, bcb_manifest=manifest)
    b = write_results(tmp_path / "b_eval_results.json", {"T/1": ["fail"]}, bcb_manifest=manifest)
    result = memorisation_gap(load_run(a), load_run(b))
    assert any("same dataset" in n for n in result.notes)


def run(cmd: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="160", NO_COLOR="1")
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_json_and_table(bcb_cmd: list[str], files: tuple[Path, Path]) -> None:
    out = run(bcb_cmd, "contamination", str(files[0]), str(files[1]), "--format", "json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["tasks"] == 20 and payload["gap"]["estimate"] == pytest.approx(0.15)
    assert payload["solved_only_original"] == ids(range(14, 18)) and payload["solved_only_perturbed"] == ids([19])
    table = run(bcb_cmd, "contamination", str(files[0]), str(files[1]))
    assert table.returncode == 0, table.stderr
    assert "+15.0 points" in table.stdout and "Solved only in the original form (4)" in table.stdout
    bad = run(bcb_cmd, "contamination", str(files[0]), str(files[1]), "--format", "csv")
    assert bad.returncode == 2 and "unknown --format" in bad.stderr
