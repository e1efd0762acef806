"""`bcb errors`, the leaderboard's api+import column and `bcb compare`'s category flips, run as real
processes on results files built from real verdicts (tests/data/real_failures.json), in bcb's and
the official layout; and the shared official Qwen verdicts classified end to end."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from bcb.dataset import load_dataset
from bcb.evaluation.failures import CATEGORIES, classify
from bcb.evaluation.laziness import lazy_reason
from bcb.evaluation.results import EvalResults, SampleResult, write_eval_results
from helpers import shared_file
from test_analysis import run_cli

FIXTURE = json.loads((Path(__file__).parent / "data" / "real_failures.json").read_text())["samples"]
MINI = load_dataset("bcb-mini")
MANIFEST = {
    "dataset": {
        "name": "bcb-mini",
        "version": None,
        "subset": "full",
        "content_hash": MINI.content_hash,
        "source": "bundled",
        "verified": True,
    },
    "split": "complete",
    "calibrated": True,
    "ground_truth": {"checked": True, "pass_rate": 1.0, "failed_tasks": []},
}


def _canonical(task_id: str) -> dict:
    task = MINI.by_id[task_id]
    return {
        "task_id": task_id,
        "solution": task.code_prompt + "\n    pass\n" + task.solution,
        "status": "pass",
        "details": {},
        "lazy": None,
    }


def _bcb_results(path: Path, cases: list[dict], model: str) -> Path:
    table: dict[str, list[SampleResult]] = {}
    for case in cases:
        rows = table.setdefault(case["task_id"], [])
        rows.append(
            SampleResult(
                case["task_id"], case["solution"], case["status"], case["details"], index=len(rows), lazy=case["lazy"]
            )
        )
    manifest = {**MANIFEST, "samples": str(path.with_name(f"{model}.jsonl"))}
    write_eval_results(path, EvalResults("2026-12-04 20:00", table, {"manifest": manifest}))
    return path


def _official_results(path: Path, cases: list[dict]) -> Path:
    table: dict[str, list[dict]] = {}
    for case in cases:
        table.setdefault(case["task_id"], []).append({k: case[k] for k in ("task_id", "solution", "status", "details")})
    path.write_text(json.dumps({"date": "2024-12-25 02:52", "eval": table}, indent=2))
    # The official evaluator names the model after the samples file: `model-b.jsonl` keeps its suffix.
    passk = {
        "pass@1": 0.0,
        "model": path.name.removesuffix("_eval_results.json"),
        "split": "complete",
        "subset": "full",
        "calibrated": True,
        "gt_pass_rate": 1.0,
        "failed_tasks": [],
    }
    path.with_name(path.name.replace("_eval_results.json", "_pass_at_k.json")).write_text(json.dumps(passk))
    return path


@pytest.fixture()
def two_models(tmp_path: Path) -> tuple[Path, Path]:
    """A (bcb file): invents DataFrame.append on 24, imports a missing module on 15, a syntax error
    on 6, a wrong result on 5. B (official file): solves 24 and 6, the same failures on 15 and 5."""
    a = _bcb_results(
        tmp_path / "model-a_eval_results.json",
        [FIXTURE[k] for k in ("api-removed", "import", "syntax", "assertion")],
        "model-a",
    )
    b_cases = [_canonical("bcb-mini/24"), FIXTURE["import"], _canonical("bcb-mini/6"), FIXTURE["assertion"]]
    b = _official_results(tmp_path / "model-b.jsonl_eval_results.json", b_cases)
    return a, b


def test_errors_json_counts_categories_and_libraries(bcb_cmd: list[str], two_models: tuple[Path, Path]) -> None:
    a, b = two_models
    done = run_cli(bcb_cmd, "errors", str(a), str(b), "--dataset", "bcb-mini", "--format", "json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["version"] == 1 and payload["categories"] == list(CATEGORIES)
    first, second = payload["models"]
    assert (first["label"], second["label"]) == ("model-a", "model-b")  # no .jsonl, no _eval_results.json
    assert {c: n for c, n in first["categories"].items() if n} == {"api": 1, "import": 1, "syntax": 1, "assertion": 1}
    assert {c: n for c, n in second["categories"].items() if n} == {"import": 1, "assertion": 1}
    assert set(first["categories"]) == set(CATEGORIES)
    assert sum(first["categories"].values()) == first["unsolved"] == 4
    assert first["libraries"] == {"pandas": {"api": 1}, "scipy_stats_extra": {"import": 1}}
    assert {"library": "pandas", "attribute": "DataFrame.append", "category": "api", "count": 1} in first["attributes"]
    assert first["library_failures"] == 2 and first["library_failure_rate"] == 0.5


def test_errors_table_markdown_and_csv(bcb_cmd: list[str], two_models: tuple[Path, Path]) -> None:
    a, b = two_models
    table = run_cli(bcb_cmd, "errors", str(a), str(b), "--dataset", "bcb-mini")
    assert table.returncode == 0, table.stderr
    assert "DataFrame.append x1" in table.stdout and "api+import %" in table.stdout
    md = run_cli(bcb_cmd, "errors", str(a), str(b), "--dataset", "bcb-mini", "--format", "markdown").stdout
    assert (
        "| category | model-a | model-b |" in md and "| api | 1 | 0 |" in md and "| api+import % | 50.0 | 25.0 |" in md
    )
    rows = list(
        csv.DictReader(
            io.StringIO(run_cli(bcb_cmd, "errors", str(a), str(b), "--dataset", "bcb-mini", "--format", "csv").stdout)
        )
    )
    assert {
        "kind": "attribute",
        "label": "model-a",
        "category": "api",
        "library": "pandas",
        "attribute": "DataFrame.append",
        "count": "1",
        "samples": "4",
    } in rows
    bad = run_cli(bcb_cmd, "errors", str(a), "--format", "yaml")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "--format" in bad.stderr


def test_errors_for_one_task_across_models(bcb_cmd: list[str], two_models: tuple[Path, Path]) -> None:
    a, b = two_models
    done = run_cli(bcb_cmd, "errors", str(a), str(b), "--dataset", "bcb-mini", "--task", "24", "--format", "json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["task_id"] == "bcb-mini/24"
    first, second = payload["samples"]
    assert (first["label"], first["category"], first["library"], first["attribute"]) == (
        "model-a",
        "api",
        "pandas",
        "DataFrame.append",
    )
    assert first["tests"] and all(t["category"] == "api" for t in first["tests"])
    assert (second["label"], second["status"], second["category"]) == ("model-b", "pass", None)
    missing = run_cli(bcb_cmd, "errors", str(a), "--task", "999")
    assert (
        missing.returncode != 0
        and "no results file holds this task" in missing.stderr
        and "Traceback" not in missing.stderr
    )


def test_compare_says_which_category_flipped_to_pass(bcb_cmd: list[str], two_models: tuple[Path, Path]) -> None:
    a, b = two_models
    done = run_cli(bcb_cmd, "compare", str(a), str(b), "--dataset", "bcb-mini", "--format", "json")
    assert done.returncode == 0, done.stderr
    flips = {f["task_id"]: (f["from"], f["to"]) for f in json.loads(done.stdout)["only_b"]}
    assert flips == {"bcb-mini/24": ("api", "pass"), "bcb-mini/6": ("syntax", "pass")}
    table = run_cli(bcb_cmd, "compare", str(a), str(b), "--dataset", "bcb-mini").stdout
    assert "api -> pass" in table and "syntax -> pass" in table


def test_leaderboard_shows_the_api_import_share(bcb_cmd: list[str], two_models: tuple[Path, Path]) -> None:
    a, b = two_models
    done = run_cli(bcb_cmd, "leaderboard", str(a), str(b), "--dataset", "bcb-mini", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = {r["label"]: r for r in json.loads(done.stdout)["rows"]}
    assert (rows["model-a"]["library_failures"], rows["model-a"]["library_failure_rate"]) == (2, 0.5)
    assert (rows["model-b"]["library_failures"], rows["model-b"]["library_failure_rate"]) == (1, 0.25)
    table = run_cli(bcb_cmd, "leaderboard", str(a), str(b), "--dataset", "bcb-mini", "--sort", "api-import").stdout
    assert "api+import %" in table and "50.0" in table


# -- the shared official Qwen verdicts, end to end --------------------------------------------------


def official_from_fidelity(split: str, directory: Path) -> tuple[Path, dict]:
    """The shared verdicts as an official `*_eval_results.json`: the sample calibrated as the
    official evaluator ran it, each failing test with an empty traceback (the shared file keeps
    only the names), and the sibling `_pass_at_k.json` naming the tasks whose ground truth failed."""
    from bcb.dataset import load_dataset as load

    official = json.loads(shared_file(f"../fidelity/official-Qwen2.5-Coder-7B-Instruct-{split}-full.json").read_text())
    samples_path = shared_file(f"../fidelity/samples-Qwen2.5-Coder-7B-Instruct-{split}-full.jsonl")
    index = json.loads(shared_file("../fidelity/index.json").read_text())
    gt_failed = next(e["gt_failed_tasks"] for e in index if e["split"] == split)
    dataset = load("bigcodebench", version="v0.1.2", data_dir=shared_file("BigCodeBench-v0.1.2.jsonl.gz").parent)
    solutions = {r["task_id"]: r["solution"] for r in map(json.loads, samples_path.read_text().splitlines())}
    table = {}
    for task_id, (status,) in official["verdicts"].items():
        failing = official["failing_tests"].get(task_id, [[]])[0]
        program = dataset.by_id[task_id].code_prompt + "\n    pass\n" + solutions[task_id]
        table[task_id] = [
            {"task_id": task_id, "solution": program, "status": status, "details": {t: "" for t in failing}}
        ]
    stem = f"Qwen2.5-Coder-7B-Instruct--bigcodebench-{split}--vllm-0-1-sanitized_calibrated"
    path = directory / f"{stem}_eval_results.json"
    path.write_text(json.dumps({"date": "2024-12-25 02:52", "eval": table}))
    passk = {
        "pass@1": 0.0,
        "model": f"Qwen2.5-Coder-7B-Instruct-{split}",
        "split": split,
        "subset": "full",
        "calibrated": True,
        "gt_pass_rate": 0.997,
        "failed_tasks": gt_failed,
    }
    (directory / f"{stem}_pass_at_k.json").write_text(json.dumps(passk))
    return path, official


@pytest.mark.shared_data
def test_the_shared_official_qwen_results_classify_end_to_end(bcb_cmd: list[str], tmp_path: Path) -> None:
    """Every sample that is not a solve gets exactly one category, and the categories add up to
    the failures, through `bcb errors` and sample by sample."""
    paths, officials = [], []
    for split in ("complete", "instruct"):
        path, official = official_from_fidelity(split, tmp_path)
        paths.append(path)
        officials.append(official)
    data_dir = str(shared_file("BigCodeBench-v0.1.2.jsonl.gz").parent)
    done = run_cli(
        bcb_cmd,
        "errors",
        *map(str, paths),
        "--version",
        "v0.1.2",
        "--data-dir",
        data_dir,
        "--format",
        "json",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    models = json.loads(done.stdout)["models"]
    gt_failed = {"BigCodeBench/363", "BigCodeBench/823", "BigCodeBench/1005"}
    for model, official, path in zip(models, officials, paths):
        table = json.loads(path.read_text())["eval"]
        counted: Counter[str] = Counter()
        for task_id, (row,) in table.items():
            lazy = lazy_reason(row["solution"], "task_func")
            diagnosis = classify(
                row["status"],
                row["details"],
                row["solution"],
                lazy=lazy,
                gt_failed=task_id in gt_failed,
                calibrated=True,
            )
            if row["status"] != "pass":
                assert diagnosis is not None and diagnosis.category in CATEGORIES, task_id
            if diagnosis is not None:
                counted[diagnosis.category] += 1
        failures = sum(1 for (s,) in official["verdicts"].values() if s != "pass")
        lazy_passes = sum(
            1
            for t, (s,) in official["verdicts"].items()
            if s == "pass" and lazy_reason(table[t][0]["solution"], "task_func")
        )
        assert model["samples"] == 1140
        assert model["unsolved"] == sum(model["categories"].values()) == failures + lazy_passes
        assert {c: n for c, n in model["categories"].items() if n} == dict(counted)
        assert model["categories"]["environment"] >= 1  # 363, 823 and 1005 failed their ground truth there


def test_tracebacks_for_people_lose_bcb_frames_and_machine_paths() -> None:
    from bcb.analysis.errors import in_test_order, test_order, trim_traceback

    case = FIXTURE["api-stdlib"]
    task = MINI.by_id[case["task_id"]]
    raw = case["details"]["test_custom_separator"]
    assert "_sandbox.py" in raw and "/lib/python3" in raw  # what the run stored
    trimmed = trim_traceback(raw, case["solution"] + "\n" + task.test)
    assert "_sandbox.py" not in trimmed and "entry_point" not in trimmed
    assert 'File "<python>/json/__init__.py", line 359, in loads' in trimmed
    assert "return json.loads(json_text, strict_keys=True)" in trimmed  # the sample's own line, shown
    assert trimmed.endswith("TypeError: JSONDecoder.__init__() got an unexpected keyword argument 'strict_keys'")
    message = FIXTURE["import-name"]["details"]["ALL"]
    assert (
        trim_traceback(message)
        == "cannot import name 'moving_window_view' from 'numpy' (<site-packages>/numpy/__init__.py)"
    )
    order = test_order(task.test)
    assert in_test_order(["test_invalid_json_raises", "test_example (x=1)", "ALL", "nowhere"], order) == [
        "ALL",
        "test_example (x=1)",
        "test_invalid_json_raises",
        "nowhere",
    ]
