"""Analyses on hand-made results files whose answers are known: the leaderboard (pass@1, CIs, GT
policy, calibrated vs raw, references, formats), Elo, strengths by domain/library/stack, compare.

The builders at the top write results in the official layout (file-name rule, sibling
`_pass_at_k.json`) and in bcb's (manifest under `bcb`); test_analysis_report.py reuses them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pytest

from bcb.analysis import (
    AnalysisError,
    build_leaderboard,
    compare,
    elo_ratings,
    error_line,
    fit_bradley_terry,
    load_run,
    load_runs,
    mcnemar,
    pair_runs,
    parse_reference,
    parse_stack,
    rank_on_stack,
    scope_for,
    sort_rows,
)
from bcb.analysis.elo import ELO_SCALE
from bcb.dataset import Dataset, DatasetError, load_dataset
from bcb.dataset.mini import LIB_DOMAINS
from bcb.evaluation.results import EvalResults, SampleResult, write_eval_results
from helpers import SHARED_DATA, shared_file

# ---------------------------------------------------------------------------------------------
# Builders


def traceback(test: str, error: str) -> str:
    return f'Traceback (most recent call last):\n  File "__test__.py", line 12, in {test}\n    self.assertEqual(result, 3)\n{error}\n'


def _sample(task_id: str, outcome: object, index: int) -> dict:
    """outcome: "pass", "fail", "timeout", or (status, {failing test: traceback})."""
    status, details = (outcome, {}) if isinstance(outcome, str) else outcome  # type: ignore[misc]
    if status == "fail" and not details:
        details = {"test_case_1": traceback("test_case_1", "AssertionError: 2 != 3")}
    return {
        "task_id": task_id,
        "solution": f"def task_func():\n    return {index}\n",
        "status": status,
        "details": dict(details),
    }


def official_files(
    directory: Path,
    model: str,
    outcomes: Mapping[str, Sequence[object]],
    *,
    split: str = "complete",
    calibrated: bool = True,
    failed_tasks: Iterable[str] = (),
    pass_at_k: bool = True,
) -> Path:
    """`<model>--bigcodebench-<split>--vllm-0-1-sanitized[_calibrated]_eval_results.json` and its
    `_pass_at_k.json`, shaped as the official evaluator writes them."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{model}--bigcodebench-{split}--vllm-0-1-sanitized" + ("_calibrated" if calibrated else "")
    path = directory / f"{stem}_eval_results.json"
    table = {t: [_sample(t, o, i) for i, o in enumerate(samples)] for t, samples in outcomes.items()}
    path.write_text(json.dumps({"date": "2024-12-25 02:52", "eval": table}, indent=2))
    if pass_at_k:
        failed = list(failed_tasks)
        payload = {
            "pass@1": float(np.mean([sum(s == "pass" for s in v) / len(v) for v in outcomes.values()])),
            "model": model,
            "split": split,
            "subset": "full",
            "calibrated": calibrated,
            "gt_pass_rate": 1 - len(failed) / len(outcomes),
            "failed_tasks": failed,
        }
        (directory / f"{stem}_pass_at_k.json").write_text(json.dumps(payload, indent=2))
    return path


def bcb_file(
    path: Path,
    dataset: Dataset,
    outcomes: Mapping[str, Sequence[object]],
    *,
    model: str,
    split: str = "complete",
    gt_failed: Sequence[str] | None = (),
    lazy: Mapping[str, str] | None = None,
    content_hash: str | None = None,
) -> Path:
    """A results file as `bcb evaluate` writes it: official entries plus the manifest under `bcb`."""
    lazy = lazy or {}
    table = {}
    for task_id, samples in outcomes.items():
        rows = []
        for i, outcome in enumerate(samples):
            raw = _sample(task_id, outcome, i)
            rows.append(
                SampleResult(task_id, raw["solution"], raw["status"], raw["details"], index=i, lazy=lazy.get(task_id))
            )
        table[task_id] = rows
    manifest = {
        "dataset": {
            "name": dataset.name,
            "version": dataset.version,
            "subset": dataset.subset,
            "content_hash": content_hash or dataset.content_hash,
            "source": dataset.source,
            "verified": True,
            "tasks_evaluated": len(outcomes),
        },
        "split": split,
        "calibrated": True,
        "samples": str(path.with_name(f"{model}--bigcodebench-{split}--bcb-0-1.jsonl")),
        "ground_truth": {"checked": gt_failed is not None, "pass_rate": None, "failed_tasks": list(gt_failed or [])},
    }
    write_eval_results(path, EvalResults("2025-01-01 10:00", table, {"manifest": manifest}))
    return path


def ids(n: int) -> list[str]:
    return [f"BigCodeBench/{i}" for i in range(n)]


def run_cli(bcb_cmd: list[str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", HF_HUB_OFFLINE="1", BCB_OFFLINE="1")
    return subprocess.run([*bcb_cmd, *args], capture_output=True, text=True, env=env, timeout=timeout)


def direct_bootstrap(values: Sequence[float], resamples: int = 20000, seed: int = 12345) -> tuple[float, float]:
    """An independent percentile bootstrap (numpy, another seed, ten times the resamples)."""
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


@pytest.fixture(scope="module")
def mini() -> Dataset:
    return load_dataset("bcb-mini")


@pytest.fixture
def three_models(tmp_path: Path) -> dict[str, Path]:
    """60 tasks: strong solves 45, middle 30 (one sample each); sampled has 5 samples per task,
    i % 5 of them passing (pass@1 0.4); weak fails every task. BigCodeBench/7's ground truth failed."""
    tasks = ids(60)
    strong = {t: ["pass" if i % 4 else "fail"] for i, t in enumerate(tasks)}
    middle = {t: ["pass" if i % 2 else ("timeout" if i % 10 == 0 else "fail")] for i, t in enumerate(tasks)}
    sampled = {t: ["pass"] * (i % 5) + ["fail"] * (5 - i % 5) for i, t in enumerate(tasks)}
    weak = {t: ["fail"] for t in tasks}
    return {
        "strong": official_files(tmp_path, "strong-model", strong, failed_tasks=["BigCodeBench/7"]),
        "middle": official_files(tmp_path, "middle-model", middle, failed_tasks=["BigCodeBench/7"]),
        "sampled": official_files(tmp_path, "sampled-model", sampled, failed_tasks=["BigCodeBench/7"]),
        "weak": official_files(tmp_path, "weak-model", weak),
    }


# ---------------------------------------------------------------------------------------------
# Reading runs


def test_official_file_fields_come_from_pass_at_k_and_the_file_name(tmp_path: Path) -> None:
    outcomes = {t: ["pass"] for t in ids(4)}
    with_sibling = load_run(
        official_files(
            tmp_path / "a", "org--Model-7B--main", outcomes, split="instruct", failed_tasks=["BigCodeBench/1"]
        )
    )
    assert (with_sibling.model, with_sibling.split, with_sibling.subset, with_sibling.calibrated) == (
        "org--Model-7B--main",
        "instruct",
        "full",
        True,
    )
    assert with_sibling.gt_failed == {"BigCodeBench/1"} and not with_sibling.is_bcb

    bare = load_run(
        official_files(tmp_path / "b", "Model", outcomes, split="complete", calibrated=False, pass_at_k=False)
    )
    assert (bare.model, bare.split, bare.calibrated, bare.gt_failed) == ("Model", "complete", None, None)
    hard = tmp_path / "c" / "M--bigcodebench-hard-instruct--openai-0-1-sanitized_calibrated_eval_results.json"
    hard.parent.mkdir()
    hard.write_text(bare.path.read_text())
    assert (load_run(hard).subset, load_run(hard).split, load_run(hard).calibrated) == ("hard", "instruct", True)
    assert load_run(hard, name="renamed").model == "renamed"

    # --no-gt in the official evaluator: rate 0 and every task "failed" means "not checked".
    no_gt = official_files(tmp_path / "d", "M", outcomes, failed_tasks=ids(4))
    assert load_run(no_gt).gt_failed is None


def test_pairing_calibrated_with_raw_and_refusing_ambiguous_runs(tmp_path: Path) -> None:
    outcomes = {t: ["pass"] for t in ids(3)}
    calibrated = official_files(tmp_path / "a", "M", outcomes)
    raw = official_files(tmp_path / "b", "M", {t: ["fail"] for t in ids(3)}, calibrated=False)
    entries = pair_runs(load_runs([raw, calibrated]))
    assert len(entries) == 1 and entries[0].run.calibrated is True and entries[0].raw is not None
    with pytest.raises(AnalysisError, match="--name"):
        pair_runs(load_runs([calibrated, official_files(tmp_path / "c", "M", outcomes)]))
    assert len(pair_runs(load_runs([calibrated, official_files(tmp_path / "c", "M", outcomes)], ["", "M2"]))) == 2


# ---------------------------------------------------------------------------------------------
# Leaderboard numbers


def test_leaderboard_pass_at_1_and_ci_match_a_direct_computation(three_models: dict[str, Path]) -> None:
    entries = pair_runs(load_runs(list(three_models.values())))
    board = build_leaderboard(entries, scope_for(entries), elo_resamples=100)
    rows = {r.model: r for r in board.rows}
    assert [r.model for r in board.rows] == ["strong-model", "middle-model", "sampled-model", "weak-model"]
    assert rows["strong-model"].pass_at_1 == pytest.approx(45 / 60)
    assert rows["middle-model"].pass_at_1 == pytest.approx(30 / 60)
    expected_sampled = np.mean([(i % 5) / 5 for i in range(60)])
    assert rows["sampled-model"].pass_at_1 == pytest.approx(expected_sampled)
    # None solved: the bootstrap alone says [0, 0]; the Wilson bound for 0 of 60 is z^2 / (60 + z^2).
    assert rows["weak-model"].pass_at_1 == 0.0 and rows["weak-model"].ci_low == 0.0
    assert rows["weak-model"].ci_high == pytest.approx(1.96**2 / (60 + 1.96**2), abs=1e-4)
    for model, per_task in {
        "strong-model": [float(i % 4 != 0) for i in range(60)],
        "sampled-model": [(i % 5) / 5 for i in range(60)],
    }.items():
        low, high = direct_bootstrap(per_task)
        assert rows[model].ci_low == pytest.approx(low, abs=0.025) and rows[model].ci_high == pytest.approx(
            high, abs=0.025
        )
        p = rows[model].pass_at_1
        assert rows[model].ci_low < p < rows[model].ci_high
    # The normal approximation agrees too for a 0/1 outcome: p +- 1.96 sqrt(p(1-p)/n).
    half = 1.96 * math.sqrt(0.75 * 0.25 / 60)
    assert rows["strong-model"].ci_low == pytest.approx(0.75 - half, abs=0.03)
    assert rows["middle-model"].timeouts == 6 and rows["strong-model"].timeouts == 0
    assert rows["strong-model"].gt_failing == 1 and rows["weak-model"].gt_failing == 1
    assert board.scope.exclude_gt_failures is False and "flagged" in board.scope.policy

    excluded = build_leaderboard(entries, scope_for(entries, exclude_gt_failures=True), elo=False)
    strong = next(r for r in excluded.rows if r.model == "strong-model")
    assert strong.tasks == 59 and strong.pass_at_1 == pytest.approx(44 / 59) and "excluded" in excluded.scope.policy


def test_sorting_by_any_column(three_models: dict[str, Path]) -> None:
    entries = pair_runs(load_runs(list(three_models.values())))
    board = build_leaderboard(entries, scope_for(entries), elo_resamples=50)
    assert [r.model for r in sort_rows(board.rows, "model")] == [
        "middle-model",
        "sampled-model",
        "strong-model",
        "weak-model",
    ]
    assert [r.model for r in sort_rows(board.rows, "pass@1", descending=False)][0] == "weak-model"
    assert sort_rows(board.rows, "timeouts")[0].model == "middle-model"
    assert [r.elo for r in sort_rows(board.rows, "elo")] == sorted((r.elo for r in board.rows), reverse=True)
    with pytest.raises(AnalysisError, match="unknown sort column"):
        sort_rows(board.rows, "shoe size")


def test_references_are_reported_not_measured() -> None:
    human = parse_reference("human")
    assert human.pass_at_1 == 0.97 and "reported" in human.source and "not measured" in human.source
    assert parse_reference("Team baseline=62%").pass_at_1 == pytest.approx(0.62)
    assert parse_reference("x=0.5").label == "x"
    for bad in ("nonsense", "x=1.5", "x=abc"):
        with pytest.raises(AnalysisError):
            parse_reference(bad)


# ---------------------------------------------------------------------------------------------
# Elo


def test_bradley_terry_recovers_known_strengths() -> None:
    truth = np.array([1.2, 0.4, -0.3, -1.3])
    games = 4000
    p = 1 / (1 + np.exp(-(truth[:, None] - truth[None, :])))
    wins = games * p
    np.fill_diagonal(wins, 0)
    fitted = fit_bradley_terry(wins)
    assert fitted == pytest.approx(truth - truth.mean(), abs=1e-3)


def test_elo_orders_a_dominance_chain_and_ignores_input_order() -> None:
    # A solves a superset of B's tasks, B of C's, C of D's: every decisive duel goes up the chain.
    tasks = ids(80)
    solved = {"A": 60, "B": 45, "C": 30, "D": 10}
    outcomes = {m: {t: float(i < k) for i, t in enumerate(tasks)} for m, k in solved.items()}
    ratings = elo_ratings(outcomes, tasks, resamples=200, seed=3)
    order = sorted(ratings, key=lambda m: -ratings[m].elo)
    assert order == ["A", "B", "C", "D"]
    assert np.mean([r.elo for r in ratings.values()]) == pytest.approx(1000.0)
    for r in ratings.values():
        assert r.low <= r.elo <= r.high
    assert ratings["A"].losses == 0 and ratings["D"].wins == 0 and math.isfinite(ratings["A"].elo)

    shuffled = {m: dict(reversed(list(outcomes[m].items()))) for m in ["C", "A", "D", "B"]}
    again = elo_ratings(shuffled, list(reversed(tasks)), resamples=200, seed=3)
    assert {m: (r.elo, r.low, r.high) for m, r in again.items()} == {
        m: (r.elo, r.low, r.high) for m, r in ratings.items()
    }


def test_elo_of_equal_models_is_equal_and_scale_is_elo() -> None:
    tasks = ids(40)
    # X beats Y on 30 tasks, Y beats X on 10: odds 3, so X - Y = 400 log10(3) Elo points.
    x = {t: float(i < 30) for i, t in enumerate(tasks)}
    y = {t: float(i >= 30) for i, t in enumerate(tasks)}
    ratings = elo_ratings({"X": x, "Y": y}, tasks, resamples=0)
    assert ratings["X"].elo - ratings["Y"].elo == pytest.approx(400 * math.log10(3), abs=1.0)
    assert ELO_SCALE == pytest.approx(400 / math.log(10))
    same = elo_ratings({"P": x, "Q": dict(x)}, tasks, resamples=20)
    assert same["P"].elo == pytest.approx(1000.0) and same["Q"].elo == pytest.approx(1000.0)


# ---------------------------------------------------------------------------------------------
# Strengths and stacks (bcb-mini: bundled, with its own domain map)

STACK_TASKS = {"bcb-mini/1", "bcb-mini/5", "bcb-mini/10", "bcb-mini/11", "bcb-mini/15", "bcb-mini/24", "bcb-mini/25"}
"""The mini tasks whose libraries lie within numpy + pandas + matplotlib + the standard library."""


def specialist_and_generalist(tmp_path: Path, mini: Dataset) -> list[Path]:
    all_ids = [t.task_id for t in mini]
    generalist = {t: ["fail" if t in STACK_TASKS else "pass"] for t in all_ids}  # 25/32, stack 0/7
    specialist = {
        t: ["pass" if t in STACK_TASKS or t in ("bcb-mini/0", "bcb-mini/2") else "fail"] for t in all_ids
    }  # 9/32, stack 7/7
    middle = {t: ["pass" if i % 2 == 0 else "fail"] for i, t in enumerate(all_ids)}  # 16/32, stack 2/7 (tasks 10, 24)
    return [
        bcb_file(tmp_path / "generalist_eval_results.json", mini, generalist, model="generalist"),
        bcb_file(tmp_path / "specialist_eval_results.json", mini, specialist, model="specialist"),
        bcb_file(tmp_path / "middle_eval_results.json", mini, middle, model="middle", gt_failed=["bcb-mini/3"]),
    ]


def test_stack_parsing_from_list_and_requirements(tmp_path: Path, mini: Dataset) -> None:
    listed = parse_stack("pandas,numpy,matplotlib")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# our stack\npandas>=2.0\nnumpy==1.26 ; python_version > '3.8'\n-r other.txt\nmatplotlib\n\nscikit-learn[all]\n"
    )
    from_file = parse_stack(str(requirements))
    assert from_file.libraries == {"pandas", "numpy", "matplotlib", "mpl_toolkits", "sklearn"}
    assert {t.task_id for t in mini if listed.covers(t)} == STACK_TASKS
    assert {t.task_id for t in mini if from_file.covers(t)} == STACK_TASKS
    # Strict: the standard library must be listed too, so pandas+datetime (task 11) drops out.
    strict = parse_stack("pandas,numpy,matplotlib", include_stdlib=False)
    assert {t.task_id for t in mini if strict.covers(t)} == STACK_TASKS - {"bcb-mini/11"}
    assert parse_stack("beautifulsoup4, python-dateutil, Pillow").libraries == {"bs4", "dateutil", "PIL"}
    with pytest.raises(DatasetError, match="no such file"):
        parse_stack("missing/requirements.txt")


def test_stack_score_ranks_models_differently_from_pass_at_1(tmp_path: Path, mini: Dataset) -> None:
    entries = pair_runs(load_runs(specialist_and_generalist(tmp_path, mini)))
    scope = scope_for(entries, dataset=mini)
    outcomes = {e.label: e.run.rates(scope.common) for e in entries}
    board = build_leaderboard(entries, scope, elo=False)
    assert [r.label for r in board.rows] == ["generalist", "middle", "specialist"]
    ranking, tasks = rank_on_stack(outcomes, scope.common, mini, parse_stack("pandas,numpy,matplotlib"))
    assert tasks == len(STACK_TASKS)
    assert [r.label for r in ranking] == ["specialist", "middle", "generalist"]
    scores = {r.label: r.score for r in ranking}
    assert (
        scores["specialist"].rate == 1.0
        and scores["generalist"].rate == 0.0
        and scores["middle"].rate == pytest.approx(2 / 7)
    )
    assert all(s.tasks == 7 for s in scores.values())
    assert {r.label: r.overall_rank for r in ranking} == {"generalist": 1, "middle": 2, "specialist": 3}


def test_a_domain_without_tasks_is_still_listed(mini: Dataset) -> None:
    """Tasks that touch no Network library: the Network row is there, with zero tasks and no rate."""
    from bcb.analysis.strengths import domain_groups, scores

    offline = [t for t in mini.tasks if "Network" not in {LIB_DOMAINS.get(lib) for lib in t.libs}]
    assert 0 < len(offline) < len(mini.tasks)
    groups = domain_groups(offline, LIB_DOMAINS)
    assert groups["Network"] == [] and sum(map(len, groups.values())) >= len(offline)
    network = scores(groups, {t.task_id: 1.0 for t in offline}, resamples=50)["Network"]
    assert network.tasks == 0 and network.to_json()["rate"] is None


def test_strengths_cli_by_domain_library_and_stack(bcb_cmd: list[str], tmp_path: Path, mini: Dataset) -> None:
    files = [str(p) for p in specialist_and_generalist(tmp_path, mini)]
    result = run_cli(bcb_cmd, "strengths", *files, "--stack", "pandas,numpy,matplotlib", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["stack"]["tasks"] == 7 and [r["label"] for r in data["stack"]["ranking"]] == [
        "specialist",
        "middle",
        "generalist",
    ]
    domains = data["domains"]["generalist"]
    assert set(domains) == set(LIB_DOMAINS.values()) and domains["Network"]["tasks"] == 3  # html, ipaddress, urllib
    # Time: tasks 3, 8, 11, 17, 30 (datetime, calendar); the generalist fails only 11 of them.
    assert domains["Time"]["tasks"] == 5 and domains["Time"]["rate"] == pytest.approx(4 / 5)
    assert data["libraries"]["specialist"]["pandas"] == {
        "group": "pandas",
        "tasks": 4,
        "rate": 1.0,
        "low": 1.0,
        "high": 1.0,
    }
    table = run_cli(bcb_cmd, "strengths", *files, "--stack", "pandas,numpy,matplotlib")
    assert table.returncode == 0, table.stderr
    assert "rests on 7 tasks" in table.stdout and "Pass rate by domain" in table.stdout and "flagged" in table.stdout


# ---------------------------------------------------------------------------------------------
# Compare


def test_mcnemar_exact_values() -> None:
    assert mcnemar(8, 1).p_value == pytest.approx(2 * (1 + 9) / 2**9)
    assert mcnemar(0, 0).p_value == 1.0 and mcnemar(5, 5).p_value == 1.0
    assert mcnemar(3, 0).p_value == pytest.approx(0.25)
    assert mcnemar(40, 10).statistic == pytest.approx((30 - 1) ** 2 / 50)
    assert error_line(traceback("t", "ValueError: bad input")) == "ValueError: bad input"


def test_compare_lists_flips_with_failing_test_and_error(bcb_cmd: list[str], tmp_path: Path) -> None:
    tasks = ids(20)
    base = {t: ["pass" if i < 10 else "fail"] for i, t in enumerate(tasks)}
    new: dict[str, list[object]] = {t: ["pass" if i < 10 else "fail"] for i, t in enumerate(tasks)}
    for i in range(10, 19):  # nine tasks newly solved
        new[tasks[i]] = ["pass"]
    base_path = official_files(tmp_path / "old", "model-v1", base)
    new[tasks[0]] = [
        ("fail", {"test_empty_input": traceback("test_empty_input", "KeyError: 'missing'"), "test_case_2": "x"})
    ]
    new_path = official_files(tmp_path / "new", "model-v2", new)

    a, b = load_run(base_path), load_run(new_path)
    result = compare(a, b, tasks, labels=("v1", "v2"))
    assert [f.task_id for f in result.only_b] == tasks[10:19] and [f.task_id for f in result.only_a] == [tasks[0]]
    flip = result.only_a[0]
    assert (flip.solved_by, flip.failure.test, flip.failure.error) == ("v1", "test_empty_input", "KeyError: 'missing'")
    assert result.only_b[0].failure.error == "AssertionError: 2 != 3"
    assert result.test.p_value == pytest.approx(2 * (1 + 10) / 2**10) and result.test.significant
    assert (result.both, result.neither) == (9, 1)

    out = run_cli(bcb_cmd, "compare", str(base_path), str(new_path))
    assert out.returncode == 0, out.stderr
    assert "test_empty_input" in out.stdout and "KeyError: 'missing'" in out.stdout and "McNemar" in out.stdout
    assert "model-v2 is better" in out.stdout
    as_json = json.loads(run_cli(bcb_cmd, "compare", str(base_path), str(new_path), "--format", "json").stdout)
    assert as_json["mcnemar"]["only_a"] == 1 and as_json["mcnemar"]["only_b"] == 9 and len(as_json["only_b"]) == 9


# ---------------------------------------------------------------------------------------------
# bcb leaderboard end to end


def test_leaderboard_cli_on_official_files(bcb_cmd: list[str], three_models: dict[str, Path], tmp_path: Path) -> None:
    raw_twin = official_files(
        tmp_path / "raw",
        "strong-model",
        {t: ["pass" if i % 3 else "fail"] for i, t in enumerate(ids(60))},
        calibrated=False,
    )
    files = [str(p) for p in [*three_models.values(), raw_twin]]
    result = run_cli(bcb_cmd, "leaderboard", *files, "--format", "json", "--reference", "human", "--resamples", "100")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    rows = {r["model"]: r for r in data["rows"]}
    assert len(rows) == 4 and rows["strong-model"]["pass_at_1"] == pytest.approx(0.75)
    assert rows["strong-model"]["calibrated_pass_at_1"] == pytest.approx(0.75) and rows["strong-model"][
        "raw_pass_at_1"
    ] == pytest.approx(40 / 60)
    assert rows["weak-model"]["raw_pass_at_1"] is None
    assert data["gt_failures"]["policy"] == "flagged" and data["gt_failures"]["tasks"] == ["BigCodeBench/7"]
    assert data["references"][0]["measured"] is False and data["references"][0]["pass@1"] == 0.97
    assert data["order"][0] == "Human experts (reported, not measured)"
    assert all(r["elo"] is not None for r in data["rows"]) and data["elo"]["tasks"] == 60

    table = run_cli(bcb_cmd, "leaderboard", *files, "--reference", "human", "--sort", "model", "--resamples", "100")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    positions = [
        next(i for i, line in enumerate(lines) if f" {m} " in line)
        for m in ("middle-model", "sampled-model", "strong-model", "weak-model")
    ]
    assert positions == sorted(positions)
    assert "raw pass@1" in table.stdout and "reported, not measured" in table.stdout and "flagged" in table.stdout

    excluded = run_cli(bcb_cmd, "leaderboard", *files, "--exclude-gt-failures", "--no-elo", "--format", "csv")
    assert excluded.returncode == 0, excluded.stderr
    parsed = list(csv.DictReader(io.StringIO(excluded.stdout)))
    strong = next(r for r in parsed if r["model"] == "strong-model")
    assert strong["tasks"] == "59" and float(strong["pass@1"]) == pytest.approx(44 / 59) and strong["elo"] == ""

    markdown = run_cli(bcb_cmd, "leaderboard", *files, "--format", "markdown", "--reference", "Intern=0.4", "--no-elo")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("| # | model |") and "*Intern (reported, not measured)*" in markdown.stdout
    assert "- GT-failing tasks: 1 task whose ground truth failed: flagged" in markdown.stdout

    bad = run_cli(bcb_cmd, "leaderboard", files[0], "--sort", "nope")
    assert bad.returncode == 2 and "unknown sort column" in bad.stderr and "Traceback" not in bad.stderr


def test_bcb_files_pick_their_dataset_and_warn_on_mismatch(bcb_cmd: list[str], tmp_path: Path, mini: Dataset) -> None:
    files = specialist_and_generalist(tmp_path, mini)
    other = bcb_file(
        tmp_path / "other_eval_results.json",
        mini,
        {t.task_id: ["pass"] for t in mini},
        model="other",
        content_hash="0" * 64,
        lazy={"bcb-mini/0": "no definition of task_func"},
    )
    result = run_cli(bcb_cmd, "leaderboard", *map(str, [*files, other]), "--format", "json", "--no-elo")
    assert result.returncode == 0, result.stderr
    assert "not on the loaded bcb-mini" in result.stderr
    rows = {r["model"]: r for r in json.loads(result.stdout)["rows"]}
    # A lazy answer is never solved, even when its tests passed.
    assert rows["other"]["pass_at_1"] == pytest.approx(31 / 32) and rows["other"]["lazy"] == 1
    assert rows["middle"]["gt_failing"] == 1 and rows["generalist"]["gt_checked"] is True


def test_official_files_get_lazy_answers_counted_but_still_scored_as_official(tmp_path: Path) -> None:
    path = official_files(tmp_path, "M", {t: ["pass"] for t in ids(4)})
    payload = json.loads(path.read_text())
    payload["eval"]["BigCodeBench/2"][0]["solution"] = "import os\ndef task_func(x):\n    pass\n"
    path.write_text(json.dumps(payload))
    entries = pair_runs(load_runs([path]))
    (row,) = build_leaderboard(entries, scope_for(entries)).rows
    assert row.pass_at_1 == 1.0 and row.lazy == 1 and row.lazy_rate == 0.25


def test_hard_subset_restricts_scores_to_the_hard_tasks(bcb_cmd: list[str], tmp_path: Path) -> None:
    shared_file("BigCodeBench-v0.1.4.jsonl.gz")
    hard = set(json.loads(shared_file("BigCodeBench-Hard-task-ids.json").read_text()))
    path = official_files(tmp_path, "hard-solver", {t: ["pass" if t in hard else "fail"] for t in ids(1140)})
    result = run_cli(
        bcb_cmd, "leaderboard", str(path), "--subset", "hard", "--data-dir", str(SHARED_DATA), "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["rows"]
    assert (row["tasks"], row["pass_at_1"], row["subset"]) == (len(hard), 1.0, "hard")
    full = json.loads(
        run_cli(bcb_cmd, "leaderboard", str(path), "--data-dir", str(SHARED_DATA), "--format", "json").stdout
    )
    assert full["rows"][0]["pass_at_1"] == pytest.approx(len(hard) / 1140)
