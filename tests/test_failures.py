"""The failure taxonomy on real verdicts: one sample per category (tests/data/real_failures.json,
tracebacks exactly as the results file stored them), from `bcb evaluate` runs on bcb-mini, from
bcb's run of the shared Qwen samples (`environment`), and from the shared official verdicts
(`unknown`: they keep only the names of failing tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bcb.dataset import load_dataset
from bcb.evaluation.failures import CATEGORIES, answer_text, classify, library_of, parse_traceback

FIXTURE = json.loads((Path(__file__).parent / "data" / "real_failures.json").read_text())["samples"]
MINI = load_dataset("bcb-mini")


def _diagnose(case: dict, **extra):
    extra.setdefault("gt_failed", case.get("gt_failed", False))
    return classify(case["status"], case["details"], case["solution"], lazy=case["lazy"], **extra)


def _code_prompt(case: dict) -> str:
    return case.get("code_prompt") or MINI.by_id[case["task_id"]].code_prompt


@pytest.mark.parametrize("name", sorted(FIXTURE))
def test_each_real_failure_gets_its_category(name: str) -> None:
    case = FIXTURE[name]
    diagnosis = _diagnose(case)
    assert diagnosis is not None
    assert diagnosis.category == case["expected"], diagnosis
    assert diagnosis.library == case["library"]
    assert diagnosis.attribute == case["attribute"]
    # The exact prefix from the dataset gives the same answer as recognising it by its shape.
    assert _diagnose(case, code_prompt=_code_prompt(case)) == diagnosis


def test_every_category_has_a_real_sample() -> None:
    seen = {case["expected"] for case in FIXTURE.values()}
    assert seen == set(CATEGORIES)


def test_named_libraries_and_attributes() -> None:
    assert (_diagnose(FIXTURE["api-removed"]).library, _diagnose(FIXTURE["api-removed"]).attribute) == (
        "pandas",
        "DataFrame.append",
    )
    assert _diagnose(FIXTURE["api"]).attribute == "numpy.moving_average"
    assert _diagnose(FIXTURE["api-typeerror"]).attribute == "DataFrame.from_records"
    assert _diagnose(FIXTURE["api-stdlib"]).library == "json"
    assert _diagnose(FIXTURE["import-module-level"]).attribute == "numpy_financial_extras"
    assert _diagnose(FIXTURE["name"]).attribute == "combos"


def test_environment_wins_over_what_the_tests_said() -> None:
    """The task's ground truth failed here: whatever the tests said says nothing about the model,
    but code that does not parse, or a stub, still is the model's."""
    assert _diagnose(FIXTURE["assertion"], gt_failed=True).category == "environment"
    assert _diagnose(FIXTURE["api"], gt_failed=True).category == "environment"
    assert _diagnose(FIXTURE["syntax"], gt_failed=True).category == "syntax"
    assert _diagnose(FIXTURE["lazy"], gt_failed=True).category == "lazy"


def test_a_pass_has_no_category_unless_lazy() -> None:
    assert classify("pass", {}, "def task_func():\n    return 1\n") is None
    assert (
        classify(
            "pass", {}, "def task_func():\n    pass\n", lazy="the body of task_func is a placeholder (pass)"
        ).category
        == "lazy"
    )


def test_failing_tests_without_tracebacks_are_unknown() -> None:
    """Files that keep only the names of failing tests say which tests failed, not why."""
    diagnosis = classify("fail", {"test_a": "", "test_b": ""}, "def task_func():\n    return 1\n")
    assert diagnosis.category == "unknown"
    assert [t.test for t in diagnosis.tests] == ["test_a", "test_b"]


def test_the_most_decisive_test_decides() -> None:
    """An import failing in one test outranks assertion failures in the others."""
    details = {**FIXTURE["assertion"]["details"], **FIXTURE["import"]["details"]}
    diagnosis = classify("fail", details, FIXTURE["import"]["solution"])
    assert diagnosis.category == "import"
    assert {t.category for t in diagnosis.tests} == {"import", "assertion"}


def test_official_module_level_messages() -> None:
    """The official procedure keeps only `str(exc)` for a module-level error."""
    program = "import numpy as np\ndef task_func():\n    return 1\n"
    assert (
        classify("fail", {"ALL": "No module named 'tensorflow.keras.layers.experimental'"}, program).attribute
        == "tensorflow.keras.layers.experimental"
    )
    missing = classify("fail", {"ALL": "name 'pd' is not defined"}, program)
    assert (missing.category, missing.library, missing.detail) == (
        "name",
        "pandas",
        "pd is not defined (a missing import of pandas)",
    )
    assert classify("fail", {"ALL": "name 'os' is not defined"}, program).library == "os"
    found = classify("fail", {"ALL": "module 'numpy' has no attribute 'float'"}, program)
    assert (found.category, found.library, found.attribute) == ("api", "numpy", "numpy.float")
    assert classify("fail", {"ALL": "division by zero"}, program).category == "exception"


def test_no_code_is_recognised_by_the_calibration_prefix() -> None:
    program = "import json\ndef task_func(json_text, sep='.'):\n\n    pass\n"
    assert answer_text(program) == ""
    assert classify("fail", {"test_a": "x"}, program, lazy="no definition of task_func").category == "no_code"
    # A real one-line body is the model's answer, not a prefix.
    assert answer_text("def task_func(x):\n    return x\n") == "def task_func(x):\n    return x\n"


def test_library_of_paths() -> None:
    assert library_of("/x/.venv/lib/python3.11/site-packages/pandas/core/generic.py") == "pandas"
    assert library_of("/root/.pyenv/versions/3.11.7/lib/python3.11/json/__init__.py") == "json"
    assert library_of("/usr/lib/python3/dist-packages/six.py") == "six"
    assert library_of("__test__.py") is None


def test_parse_traceback_takes_the_last_chained_exception() -> None:
    text = (
        "Traceback (most recent call last):\n  File \"__test__.py\", line 3, in task_func\nKeyError: 'a'\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        'Traceback (most recent call last):\n  File "__test__.py", line 5, in task_func\nValueError: bad\n  detail\n'
    )
    frames, kind, message = parse_traceback(text)
    assert [f.line for f in frames] == [5]
    assert (kind, message) == ("ValueError", "bad\n  detail")


# -- the category in bcb's results and in the store ------------------------------------------------


def _raw_samples() -> list:
    """The fixture's answers as the model gave them (the calibration prefix taken off)."""
    from bcb.generation.samples import Sample

    picked = [FIXTURE[k] for k in ("syntax", "api-removed", "import", "assertion", "lazy")]
    out = [
        Sample(
            task_id=c["task_id"],
            index=i,
            solution=answer_text(c["solution"], MINI.by_id[c["task_id"]].code_prompt),
            where="fixture",
        )
        for i, c in enumerate(picked)
    ]
    return out + [Sample(task_id="bcb-mini/0", index=0, solution=MINI.by_id["bcb-mini/0"].solution, where="fixture")]


def test_evaluate_records_the_category_in_results_and_store_and_migrates_old_stores(tmp_path: Path) -> None:
    """A run writes each sample's category (None for a solve) into its results and the store; a
    store from before categories (schema 2) is migrated in place, keeps its verdicts, and a run
    that reuses them fills their categories in."""
    import sqlite3

    from bcb.evaluation.evaluate import EvalConfig, evaluate
    from bcb.evaluation.results import read_eval_results, write_eval_results
    from bcb.evaluation.store import ResultStore
    from bcb.execution import LocalExecutor

    samples = _raw_samples()
    tasks = [MINI.by_id[t] for t in dict.fromkeys(s.task_id for s in samples)]
    config = EvalConfig(timeout=20)
    fingerprint = {"python_version": "test", "freeze_sha256": "categories"}
    db = tmp_path / "bcb.sqlite"
    with LocalExecutor(workers=1, preload=()) as executor, ResultStore(db) as store:
        first = evaluate(MINI, tasks, samples, config, store, fingerprint, executor.run)
    got = {r.task_id + f"#{r.index}": r.category for rows in first.results.eval.values() for r in rows}
    assert sorted(c for c in got.values() if c) == ["api", "assertion", "import", "lazy", "syntax"]
    assert got["bcb-mini/0#0"] is None
    path = tmp_path / "x_eval_results.json"
    write_eval_results(path, first.results)
    raw = json.loads(path.read_text())
    assert raw["bcb"]["samples"]["bcb-mini/24"][0]["category"] == "api"
    assert set(raw["eval"]["bcb-mini/24"][0]) == {"task_id", "solution", "status", "details"}  # official keys unchanged
    assert read_eval_results(path).eval == first.results.eval

    stored = dict(sqlite3.connect(db).execute("SELECT task_id, category FROM verdicts").fetchall())
    assert stored["bcb-mini/24"] == "api" and stored["bcb-mini/0"] is None

    # Make it a schema-2 store, as bcb wrote them before categories.
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE verdicts DROP COLUMN category")
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()
    with ResultStore(db) as store:
        assert store.schema_version == 3
        assert set(store.category_counts()) == {None}  # migrated: verdicts kept, not classified yet
        with LocalExecutor(workers=1, preload=()) as executor:
            again = evaluate(MINI, tasks, samples, config, store, fingerprint, executor.run)
        assert again.executed == 0 and again.reused == len(samples)
        counts = store.category_counts()
    assert {r.task_id + f"#{r.index}": r.category for rows in again.results.eval.values() for r in rows} == got
    assert counts == {None: 1, "api": 1, "assertion": 1, "import": 1, "lazy": 1, "syntax": 1}


def test_an_answer_of_imports_only_is_no_code() -> None:
    """What the sanitizer leaves when it found no entry point: the imports alone."""
    program = "import random\ndef task_func(n):\n\n    pass\nimport random\nimport math\n"
    diagnosis = classify("fail", {"test_a": ""}, program, lazy="the body of task_func is a placeholder (pass)")
    assert (diagnosis.category, diagnosis.detail) == ("no_code", "the answer is only imports")


def test_library_attribution_details() -> None:
    assert library_of("/usr/lib/python3.11/posixpath.py") == "os"
    program = "import pandas as pd\ndef task_func(x):\n    return pd.to_datetime(x, fmt='%Y')\n"
    trace = (
        'Traceback (most recent call last):\n  File "__test__.py", line 9, in test_a\n  File "__test__.py", line 3, in task_func\n'
        '  File "/v/lib/python3.11/site-packages/pandas/core/tools/datetimes.py", line 10, in wrapper\n'
        '  File "/v/lib/python3.11/site-packages/pandas/core/tools/datetimes.py", line 99, in _convert\n'
        "TypeError: unsupported format\n"
    )
    found = classify("fail", {"test_a": trace}, program)
    assert (found.category, found.library, found.attribute) == ("api", "pandas", "pandas.to_datetime")
