"""`bcb doctor` against real interpreters: the dev venv (which lacks most task libraries) and the
task environment (whose versions differ from the official pins where Python 3.11 forces it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bcb.execution.doctor import (
    KNOWN_NEEDS,
    LibraryReport,
    LibraryStatus,
    SandboxProbe,
    TaskNeeds,
    diagnose,
    normalize_dist,
    official_pins,
    probe_libraries,
    task_needs,
)
from helpers import TASK_PYTHON, TASK_PYTHON_ABSENT

BCB = [sys.executable, "-m", "bcb"]
TASK_ENV = TASK_PYTHON


def record(number: int, libs: list[str], imports: str, body: str) -> dict[str, str]:
    complete = f'{imports}\ndef task_func():\n    """Do it."""\n'
    test = "import unittest\nclass TestCases(unittest.TestCase):\n    def test_it(self):\n        self.assertTrue(task_func() is not None)\n"
    return {
        "task_id": f"Custom/{number}",
        "complete_prompt": complete,
        "instruct_prompt": "Do it.",
        "canonical_solution": f"    {body}\n",
        "code_prompt": f"{imports}\ndef task_func():\n",
        "test": test,
        "entry_point": "task_func",
        "doc_struct": json.dumps({"description": ["Do it."]}),
        "libs": repr(libs),
    }


def write_dataset(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def doctor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BCB, "doctor", *args], check=False, capture_output=True, text=True, cwd=cwd, timeout=300)


def test_official_pins_are_the_bundled_facts() -> None:
    pins = official_pins()
    assert pins["numpy"] == "1.21.2"
    assert pins["scikit-learn"] == "1.3.1"
    assert pins["flask-login"] == "0.6.3"  # written flask_login officially
    assert pins["selenium"] is None  # "4.15." is no version
    assert pins["python-levenshtein-wheels"] is None
    assert normalize_dist("Flask_Login") == normalize_dist("flask.login") == "flask-login"


def test_nltk_needs_are_read_from_code_not_docstrings() -> None:
    solution = (
        "import nltk\nfrom nltk.corpus import stopwords\n"
        "def task_func(text):\n"
        '    """>>> SentimentIntensityAnalyzer()\n    >>> nltk.word_tokenize(text)"""\n'
        "    # pos_tag would need the tagger\n"
        "    return [w for w in text.split() if w not in stopwords.words('english')]\n"
    )
    needs = task_needs("T/1", ["nltk"], solution, "")
    assert needs.nltk_data == ("corpora/stopwords",)
    assert task_needs("T/2", ["nltk"], "from nltk.corpus import words\nW = set(words.words())\n", "").nltk_data == (
        "corpora/words",
    )
    assert task_needs(
        "T/3", ["textblob"], "from textblob import TextBlob\nx = TextBlob('a b').words\n", ""
    ).nltk_data == ("tokenizers/punkt",)
    assert task_needs("T/4", [], "x = 1\n", "").known == ()
    assert set(KNOWN_NEEDS.values()) >= {("network",), ("non_root",)}


def test_diagnosis_counts_each_doomed_task_once() -> None:
    tasks = [
        TaskNeeds("T/1", ("scipy", "nltk"), ("corpora/stopwords",)),
        TaskNeeds("T/2", ("nltk",), ("corpora/stopwords", "tokenizers/punkt")),
        TaskNeeds("T/3", ("os",), (), ("network",)),
        TaskNeeds("T/4", ("os",)),
    ]
    libraries = LibraryReport(
        [LibraryStatus("scipy", "scipy", None, "1.7.2", True), LibraryStatus("nltk", "nltk", "3.8", "3.8", False)],
        [],
        ["os"],
    )
    probe = SandboxProbe({}, None, False, "no route", False, {"corpora/stopwords": False, "tokenizers/punkt": True})
    diagnosis = diagnose(tasks, libraries, probe)
    assert {c.name: c.tasks for c in diagnosis.causes} == {
        "missing library scipy": ["T/1"],
        "NLTK data corpora/stopwords": ["T/1", "T/2"],
        "no network in the sandbox": ["T/3"],
    }
    assert diagnosis.doomed == ["T/1", "T/2", "T/3"]
    assert diagnosis.best_gt_rate == 0.25 and not diagnosis.ok
    refused = diagnose(tasks[3:], libraries, SandboxProbe({}, "no sandbox", True, "", False))
    assert refused.doomed == [] and not refused.ok


def test_dev_venv_lacking_a_library_reports_its_tasks_and_fails(tmp_path: Path) -> None:
    """The dev venv has numpy but not scipy: the scipy task is doomed, the others are not."""
    dataset = write_dataset(
        tmp_path / "tasks.jsonl",
        [
            record(0, ["scipy", "math"], "import math\nimport scipy", "return scipy.__name__"),
            record(1, ["numpy"], "import numpy as np", "return np.zeros(1)"),
            record(2, ["os"], "import os", "return os.sep"),
        ],
    )
    proc = doctor("--dataset-file", str(dataset), "--python", sys.executable, "--json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    libs = {row["import"]: row for row in report["libraries"]}
    assert libs["scipy"]["missing"] and libs["scipy"]["tasks"] == 1
    assert not libs["numpy"]["missing"]
    assert "math" not in libs and "os" not in libs  # the standard library is not a pin
    causes = {c["cause"]: c["tasks"] for c in report["diagnosis"]["causes"]}
    assert causes == {"missing library scipy": ["Custom/0"]}
    assert report["diagnosis"]["best_gt_pass_rate"] == round(2 / 3, 4)
    sandbox = report["sandbox"]
    assert sandbox["layers"]["enabled"] is True and sandbox["network_reachable"] is False  # isolated by default
    assert report["cached_ground_truth"] is None
    text = doctor("--dataset-file", str(dataset), "--python", sys.executable, "--no-sandbox-probe", cwd=tmp_path)
    assert text.returncode == 1
    assert "missing library scipy" in text.stdout and "scipy" in text.stdout


def test_an_environment_with_everything_passes(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "ok.jsonl", [record(i, ["os"], "import os", "return os.sep") for i in range(3)])
    proc = doctor("--dataset-file", str(dataset), "--python", sys.executable, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["diagnosis"]["doomed"] == []


@pytest.mark.skipif(not TASK_ENV.exists(), reason=TASK_PYTHON_ABSENT)
def test_task_env_versions_that_differ_from_the_official_pins() -> None:
    report = probe_libraries(str(TASK_ENV), ["numpy", "sklearn", "PIL", "cv2", "bs4", "dateutil", "nltk", "json"])
    libs = report.by_import()
    assert libs["numpy"].installed == "1.23.5" and libs["numpy"].official == "1.21.2" and libs["numpy"].differs
    assert libs["sklearn"].dist == "scikit-learn" and not libs["sklearn"].differs
    assert libs["PIL"].dist == "pillow" and libs["PIL"].installed == "10.3.0"
    assert libs["cv2"].dist == "opencv-python-headless" and not libs["cv2"].missing
    assert libs["bs4"].dist == "beautifulsoup4" and libs["dateutil"].dist == "python-dateutil"
    assert not any(lib.missing for lib in report.libraries)
    assert "json" in report.stdlib
    others = {p.dist: p for p in report.other_pins}
    assert others["numba"].installed == "0.57.0" and others["numba"].official == "0.55.0"


def test_a_standard_module_the_interpreter_lacks_is_a_cause() -> None:
    """Debian's python3 ships tkinter apart (python3-tk): `turtle` is found, yet importing it fails
    (task 220's ground truth, when the task environment is built from that interpreter)."""
    import subprocess

    from bcb.execution.doctor import TaskNeeds, diagnose, probe_libraries

    system = "/usr/bin/python3"
    if (
        not os.path.exists(system)
        or subprocess.run([system, "-c", "import tkinter"], capture_output=True, check=False).returncode == 0
    ):
        pytest.skip("needs a system python3 without tkinter")
    report = probe_libraries(system, ["turtle", "json"])
    assert report.stdlib_missing == ["turtle"]
    diagnosis = diagnose(
        [TaskNeeds("BigCodeBench/220", ("turtle", "time")), TaskNeeds("BigCodeBench/1", ("json",))], report, None
    )
    (cause,) = diagnosis.causes
    assert (
        cause.name == "missing standard module turtle"
        and "python3-tk" in cause.detail
        and cause.tasks == ["BigCodeBench/220"]
    )
