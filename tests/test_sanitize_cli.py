"""`bcb sanitize` and `bcb syncheck`, run in-process on small sample files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcb.cli import app
from bcb.cli.sanitize import sanitized_path
from bcb.dataset import load_dataset
from bcb.generation.sanitize import sanitize

ANSWER = "Here you go:\n```python\nimport os\n\ndef task_func(p):\n    return os.path.exists(p)\n\nprint(task_func('.'))\n```\n"
CLEAN = "import os\ndef task_func(p):\n    return os.path.exists(p)"


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1", "HF_HUB_OFFLINE": "1"})


def write(path: Path, *records: object) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def read(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_output_name_follows_the_official_tool(tmp_path: Path) -> None:
    assert (
        sanitized_path(tmp_path / "m--main--bigcodebench-complete--openai-0-1.jsonl").name
        == "m--main--bigcodebench-complete--openai-0-1-sanitized.jsonl"
    )
    assert sanitized_path(tmp_path / "s.jsonl.gz").name == "s-sanitized.jsonl.gz"
    assert sanitized_path(tmp_path / "answers.txt").name == "answers.txt-sanitized.jsonl"


def test_sanitize_solutions_offline(tmp_path: Path) -> None:
    samples = write(
        tmp_path / "s.jsonl",
        {"task_id": "BigCodeBench/1", "solution": ANSWER, "extra": 7},
        {"task_id": "BigCodeBench/2", "solution": CLEAN, "raw_solution": ANSWER},
    )
    result = run("sanitize", "--samples", str(samples))
    assert result.exit_code == 0, result.output
    assert "sanitized 2 samples (1 changed)" in result.output
    out = read(tmp_path / "s-sanitized.jsonl")
    assert out[0] == {"task_id": "BigCodeBench/1", "solution": CLEAN, "raw_solution": ANSWER, "extra": 7}
    assert out[1] == {
        "task_id": "BigCodeBench/2",
        "solution": CLEAN,
        "raw_solution": ANSWER,
    }  # the real raw text is kept


def test_sanitize_completions_use_the_prompt_and_entry_point(tmp_path: Path) -> None:
    task = load_dataset("bcb-mini").tasks[0]
    completion = "    return []\n\nprint(task_func('a', 1))\n"
    samples = write(tmp_path / "c.jsonl", {"task_id": task.task_id, "completion": completion})
    out_path = tmp_path / "out.jsonl.gz"
    result = run("sanitize", "--samples", str(samples), "--dataset", "bcb-mini", "-o", str(out_path))
    assert result.exit_code == 0, result.output
    with gzip.open(out_path, "rt", encoding="utf-8") as handle:
        (record,) = [json.loads(line) for line in handle]
    raw = task.complete_prompt + "\n" + completion
    assert record == {"task_id": task.task_id, "solution": sanitize(raw, task.entry_point), "raw_solution": raw}
    assert "print(" not in record["solution"] and record["solution"].rstrip().endswith("return []")


def test_custom_entry_point(tmp_path: Path) -> None:
    samples = write(
        tmp_path / "s.jsonl", {"task_id": "x/1", "solution": "def f():\n    return 1\ndef task_func():\n    return 2\n"}
    )
    assert run("sanitize", "--samples", str(samples), "--entry-point", "f").exit_code == 0
    assert read(tmp_path / "s-sanitized.jsonl")[0]["solution"] == "def f():\n    return 1"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"task_id": "BigCodeBench/1", "solution": ', "s.jsonl:2: not valid JSON"),
        ('["a list"]', "s.jsonl:2: expected a JSON object"),
        ('{"solution": "x = 1"}', "s.jsonl:2: sample has no task_id"),
        ('{"task_id": "BigCodeBench/1"}', "s.jsonl:2: BigCodeBench/1: sample has neither 'solution' nor 'completion'"),
        ('{"task_id": "BigCodeBench/1", "solution": ["x"]}', "s.jsonl:2: BigCodeBench/1: 'solution' must be a string"),
    ],
)
def test_bad_lines_are_one_line_errors(tmp_path: Path, line: str, message: str) -> None:
    samples = write(tmp_path / "s.jsonl", {"task_id": "BigCodeBench/0", "solution": CLEAN}, line)
    for command in ("sanitize", "syncheck"):
        result = run(command, "--samples", str(samples))
        assert result.exit_code == 2
        assert message in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_task_missing_from_the_dataset(tmp_path: Path) -> None:
    samples = write(tmp_path / "s.jsonl", {"task_id": "bcb-mini/999", "completion": "    pass\n"})
    result = run("sanitize", "--samples", str(samples), "--dataset", "bcb-mini")
    assert result.exit_code == 2 and "s.jsonl:1: task 'bcb-mini/999' is not in bcb-mini" in result.output


def test_missing_file(tmp_path: Path) -> None:
    result = run("sanitize", "--samples", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2 and "nope.jsonl: no such file" in result.output


def test_syncheck_reports_before_and_after(tmp_path: Path) -> None:
    samples = write(
        tmp_path / "s.jsonl",
        {"task_id": "BigCodeBench/3", "solution": ANSWER},  # fenced: does not parse as given
        {"task_id": "BigCodeBench/4", "solution": CLEAN},
        {"task_id": "BigCodeBench/5", "solution": "def task_func(:\n    pass"},  # broken either way
        {"task_id": "BigCodeBench/6", "solution": ""},
    )
    result = run("syncheck", "--samples", str(samples))
    assert result.exit_code == 0, result.output
    rows = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:5]]
        for line in result.output.splitlines()
        if line.count("│") >= 5
    }
    assert rows["as given"] == ["2", "1", "BigCodeBench/3, BigCodeBench/5, BigCodeBench/6"]
    assert rows["after sanitizing"] == ["1", "1", "BigCodeBench/5, BigCodeBench/6"]
    assert "(4 samples)" in " ".join(result.output.split())
