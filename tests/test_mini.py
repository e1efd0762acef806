"""bcb-mini, the bundled benchmark: every canonical solution passes its own tests in a real
interpreter, a stub solution fails them, the docstring examples are true, every record has the
official BigCodeBench shape (the rest of bcb reads it exactly like a released file), and its derived
fields follow from its `complete_prompt` by the official rules."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import pytest

from bcb.dataset import load_dataset, write_tasks
from bcb.dataset.mini import LIB_DOMAINS, RECORDS
from bcb.dataset.task import FIELDS, check_code, parse_task
from bcb.evaluation import reference_samples
from helpers import shared_file

IDS = [r["task_id"] for r in RECORDS]
BY_ID = {r["task_id"]: r for r in RECORDS}

#: Libraries the mini benchmark promises to exercise.
REQUIRED_LIBS = {
    "pandas",
    "numpy",
    "matplotlib",
    "re",
    "json",
    "datetime",
    "collections",
    "os",
    "pathlib",
    "csv",
    "hashlib",
    "itertools",
    "sqlite3",
    "zipfile",
    "statistics",
    "textwrap",
    "urllib",
    "html",
}
OFFICIAL_DOMAINS = {"Computation", "Cryptography", "General", "Network", "System", "Time", "Visualization"}
DOC_KEYS = ["description", "notes", "params", "returns", "reqs", "raises", "examples"]
MIN_TESTS = 5

_MAIN = "\nif __name__ == '__main__':\n    import unittest; unittest.main()"
_DOCTEST = (
    "\nimport doctest, sys\n"
    "_result = doctest.testmod(optionflags=doctest.NORMALIZE_WHITESPACE)\n"
    "sys.exit(1 if _result.failed or not _result.attempted else 0)\n"
)
_RAN = re.compile(r"^Ran (\d+) tests? in ([\d.]+)s$", re.MULTILINE)

# The official docstring layout: section header -> doc_struct key; lines of the dashed sections
# lose a leading "- ".
_SECTIONS = {
    "Parameters:": "params",
    "Returns:": "returns",
    "Raises:": "raises",
    "Note:": "notes",
    "Requirements:": "reqs",
    "Example:": "examples",
    "Examples:": "examples",
}
_DASHED = ("params", "returns", "reqs", "raises")


def _program(record: dict[str, str], variant: str) -> str:
    if variant == "canonical":
        return record["complete_prompt"] + "\n" + record["canonical_solution"] + "\n" + record["test"] + _MAIN
    if variant == "stub":
        return record["complete_prompt"] + "\n    return None\n" + record["test"] + _MAIN
    if variant == "doctest":
        return record["complete_prompt"] + "\n" + record["canonical_solution"] + "\n" + _DOCTEST
    raise ValueError(variant)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    #: Files the program left in its working directory or its private temporary directory.
    leftovers: tuple[str, ...] = ()

    @property
    def tests_run(self) -> int:
        match = _RAN.search(self.stderr)
        return int(match.group(1)) if match else 0

    @property
    def test_seconds(self) -> float:
        match = _RAN.search(self.stderr)
        return float(match.group(2)) if match else float("inf")

    def explain(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"


def _execute(task_id: str, variant: str) -> Run:
    with tempfile.TemporaryDirectory(prefix="bcb-mini-") as workdir:
        # A private TMPDIR, so that files the tests fail to clean up from tempfile show up too.
        private_tmp = os.path.join(workdir, "tmp")
        os.mkdir(private_tmp)
        env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1", TMPDIR=private_tmp)
        with open(os.path.join(workdir, "program.py"), "w", encoding="utf-8") as handle:
            handle.write(_program(BY_ID[task_id], variant))
        proc = subprocess.run(
            [sys.executable, "program.py"],
            check=False,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        leftovers = sorted(set(os.listdir(workdir)) - {"program.py", "tmp"}) + [
            f"tmp/{n}" for n in os.listdir(private_tmp)
        ]
    return Run(proc.returncode, proc.stdout, proc.stderr, tuple(leftovers))


@cache
def _all_runs() -> dict[tuple[str, str], Run]:
    """Every (task, variant) process, run once per session in a small pool (each is I/O-light but
    pays an interpreter start and, for some, a pandas/matplotlib import)."""
    jobs = [(task_id, variant) for task_id in IDS for variant in ("canonical", "stub", "doctest")]
    with ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2))) as pool:
        runs = list(pool.map(lambda job: _execute(*job), jobs))
    return dict(zip(jobs, runs))


def run(task_id: str, variant: str) -> Run:
    return _all_runs()[(task_id, variant)]


# -- the tasks behave ----------------------------------------------------------------------------


@pytest.mark.parametrize("task_id", IDS)
def test_canonical_solution_passes_its_tests(task_id: str) -> None:
    result = run(task_id, "canonical")
    assert result.returncode == 0, result.explain()
    assert result.tests_run >= MIN_TESTS, result.explain()
    assert "OK" in result.stderr.splitlines()[-1], result.explain()
    # The unittest-reported time excludes interpreter start and imports; generous bound for slow CI.
    assert result.test_seconds < 3.0, result.explain()


@pytest.mark.parametrize("task_id", IDS)
def test_tests_leave_no_files_behind(task_id: str) -> None:
    # Docstring examples may write into the working directory; the tests themselves may not.
    assert run(task_id, "canonical").leftovers == ()
    assert run(task_id, "stub").leftovers == ()


@pytest.mark.parametrize("task_id", IDS)
def test_stub_solution_fails_its_tests(task_id: str) -> None:
    result = run(task_id, "stub")
    assert result.returncode != 0, result.explain()
    # It must fail inside the tests, not by crashing before them.
    assert result.tests_run >= MIN_TESTS, result.explain()
    assert "FAILED" in result.stderr, result.explain()


@pytest.mark.parametrize("task_id", IDS)
def test_docstring_examples_hold(task_id: str) -> None:
    result = run(task_id, "doctest")
    assert result.returncode == 0, result.explain()


# -- the records have the official shape ---------------------------------------------------------


def test_enough_tasks_with_consecutive_unique_ids() -> None:
    assert len(RECORDS) >= 32
    assert IDS == [f"bcb-mini/{i}" for i in range(len(RECORDS))]
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("task_id", IDS)
def test_record_fields_and_parsing(task_id: str) -> None:
    record = BY_ID[task_id]
    assert list(record) == list(FIELDS)
    assert all(isinstance(value, str) for value in record.values())
    assert record["entry_point"] == "task_func"
    task = parse_task(record)
    check_code(task)
    assert task.to_record() == record


@pytest.mark.parametrize("task_id", IDS)
def test_field_layout_matches_official_files(task_id: str) -> None:
    record = BY_ID[task_id]
    prompt = record["complete_prompt"]
    # The complete prompt ends right after the docstring; the solution is an indented body.
    assert prompt.endswith('    """\n')
    assert prompt.count('"""') == 2
    body = record["canonical_solution"]
    assert not body.endswith("\n") and not record["test"].endswith("\n")
    assert all(line.startswith("    ") for line in body.splitlines() if line.strip())
    assert record["test"].startswith("import unittest\n")


@pytest.mark.parametrize("task_id", IDS)
def test_code_prompt_is_the_prompt_head(task_id: str) -> None:
    record = BY_ID[task_id]
    code_prompt, complete_prompt = record["code_prompt"], record["complete_prompt"]
    assert code_prompt.endswith(":\n")
    *imports, signature = code_prompt.splitlines()
    assert signature.startswith("def task_func(")
    assert imports and all(line.startswith(("import ", "from ")) for line in imports)
    # complete_prompt starts with the same import lines (blank lines aside) and has the same def.
    head = [line for line in complete_prompt.split('"""')[0].splitlines() if line.strip()]
    assert head == imports + [signature]
    assert complete_prompt.startswith(imports[0] + "\n")
    assert "\n" + signature + "\n" in complete_prompt


@pytest.mark.parametrize("task_id", IDS)
def test_doc_struct_and_instruct_prompt(task_id: str) -> None:
    record = BY_ID[task_id]
    doc = json.loads(record["doc_struct"])
    assert list(doc) == DOC_KEYS
    assert all(
        isinstance(v, list) and all(isinstance(s, str) and s == s.strip() and s for s in v) for v in doc.values()
    )
    for key in ("description", "params", "returns", "reqs", "examples"):
        assert doc[key], f"{task_id}: empty {key}"
    assert not any(line.startswith("- ") for key in ("params", "returns", "reqs", "raises") for line in doc[key])
    # Every raises entry is promised in the instruct prompt too, as the official files do.
    instruct = record["instruct_prompt"]
    assert instruct.startswith(" ".join(doc["description"]) + "\n")
    if doc["raises"]:
        assert "\nThe function should raise the exception for: " + " ".join(doc["raises"]) + "\n" in instruct
    assert "\nThe function should output with:\n    " + "\n    ".join(doc["returns"]) + "\n" in instruct
    assert instruct.endswith(
        "\nYou should write self-contained code starting with:\n```\n" + record["code_prompt"] + "```"
    )


def derived_fields(complete_prompt: str) -> dict[str, str]:
    """`code_prompt`, `doc_struct` and `instruct_prompt` as the official files derive them from
    the complete prompt, so a task is written once (its prompt, solution, tests) and the file's
    other fields cannot drift from it."""
    doc: dict[str, list[str]] = {key: [] for key in DOC_KEYS}
    section = "description"
    for raw in complete_prompt.split('"""')[1].splitlines():
        line = raw.strip()
        if line in _SECTIONS:
            section = _SECTIONS[line]
        elif line:
            doc[section].append(line[2:] if section in _DASHED and line.startswith("- ") else line)
    head = complete_prompt.split('"""')[0]
    code_prompt = "\n".join(line for line in head.rstrip().splitlines() if line.strip()) + "\n"
    parts = [" ".join(doc["description"])]
    if doc["notes"]:
        parts.append("Note that: " + " ".join(doc["notes"]))
    if doc["raises"]:
        parts.append("The function should raise the exception for: " + " ".join(doc["raises"]))
    parts.append("The function should output with:\n    " + "\n    ".join(doc["returns"]))
    parts.append("You should write self-contained code starting with:\n```\n" + code_prompt + "```")
    return {"code_prompt": code_prompt, "doc_struct": json.dumps(doc), "instruct_prompt": "\n".join(parts)}


@pytest.mark.parametrize("task_id", IDS)
def test_derived_fields_follow_from_the_prompt(task_id: str) -> None:
    record = BY_ID[task_id]
    expected = derived_fields(record["complete_prompt"])
    assert {key: record[key] for key in expected} == expected


def test_derivation_notices_a_drifted_field() -> None:
    record = dict(BY_ID["bcb-mini/0"])
    record["complete_prompt"] = record["complete_prompt"].replace("Returns:", "Raises:", 1)
    assert derived_fields(record["complete_prompt"])["doc_struct"] != record["doc_struct"]
    assert derived_fields(record["complete_prompt"])["instruct_prompt"] != record["instruct_prompt"]


def test_the_loader_reads_the_bundled_file_in_order(tmp_path: Path) -> None:
    """bcb-mini is package data: the loaded dataset is the file's lines, in order, as tasks, and
    the file is exactly what `bcb data export` writes for them (so edits keep the canonical form)."""
    bundled = files("bcb.dataset") / "data" / "bcb-mini.jsonl"
    lines = bundled.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == list(RECORDS)
    mini = load_dataset("bcb-mini")
    assert [t.to_record() for t in mini] == list(RECORDS)
    assert [t.task_id for t in mini] == IDS and len(mini) == 32
    assert write_tasks(tmp_path / "mini.jsonl", mini).read_bytes() == bundled.read_bytes()


@pytest.mark.parametrize("task_id", IDS)
def test_libs_are_the_imported_libraries(task_id: str) -> None:
    record = BY_ID[task_id]
    libs = ast.literal_eval(record["libs"])
    assert isinstance(libs, list) and record["libs"] == repr(libs)
    imported = set()
    for node in ast.parse(record["complete_prompt"]).body:
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert set(libs) == imported
    reqs = json.loads(record["doc_struct"])["reqs"]
    assert {req.split(".")[0] for req in reqs} == set(libs)


@pytest.mark.parametrize("task_id", IDS)
def test_test_class_has_enough_methods(task_id: str) -> None:
    tree = ast.parse(BY_ID[task_id]["test"])
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TestCases"]
    methods = [n.name for n in cls.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    assert len(methods) >= MIN_TESTS
    assert "plt.show" not in BY_ID[task_id]["canonical_solution"]


def test_libraries_covered() -> None:
    used = {lib for r in RECORDS for lib in ast.literal_eval(r["libs"])}
    assert REQUIRED_LIBS <= used
    assert sum(len(ast.literal_eval(r["libs"])) >= 2 for r in RECORDS) >= 5


def test_lib_domains_cover_exactly_the_used_libraries() -> None:
    used = {lib for r in RECORDS for lib in ast.literal_eval(r["libs"])}
    assert set(LIB_DOMAINS) == used
    # Every official domain has tasks, so per-domain views of a mini run have no empty rows.
    assert set(LIB_DOMAINS.values()) == OFFICIAL_DOMAINS


def test_flawed_reference_model_keeps_every_flaw() -> None:
    """The demo's flawed model must show each mistake bcb judges (the README lists them) several
    times, and its answers must differ from the canonical ones except where it is meant to be right."""
    tasks = list(load_dataset("bcb-mini"))
    rows = reference_samples.flawed(tasks)
    assert [r["task_id"] for r in rows] == IDS
    counts = Counter(r["flaw"] for r in rows)
    assert set(counts) == set(reference_samples.FLAWS) and min(counts.values()) >= 5
    for row, task in zip(rows, tasks):
        assert (row["solution"] == task.solution) == (row["flaw"] == "correct"), row["task_id"]


@pytest.mark.shared_data
def test_lib_domains_agree_with_the_official_map() -> None:
    official = json.loads(shared_file("lib2domain.json").read_text(encoding="utf-8"))
    assert {lib: official.get(lib) for lib in LIB_DOMAINS} == LIB_DOMAINS
