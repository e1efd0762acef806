"""Mistakes a user makes, each through the real CLI (a real process): one clear line, exit 2, no
traceback, nothing silently wrong and nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bcb.execution.environment import DEFAULT_TASK_ENV, find_task_python

BCB = [sys.executable, "-m", "bcb"]


def bcb(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "BCB_PYTHON"}
    full.update(COLUMNS="120", NO_COLOR="1", **(env or {}))
    return subprocess.run(
        [*BCB, *args], capture_output=True, text=True, cwd=cwd, env=full, timeout=timeout, input=stdin, check=False
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The contract for a user mistake: exit 2, no traceback, one `error:` line on stderr."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def record(
    number: int, libs: list[str], body: str = "return 1", test_body: str = "self.assertEqual(task_func(), 1)"
) -> dict[str, str]:
    return {
        "task_id": f"Custom/{number}",
        "complete_prompt": 'def task_func():\n    """Do it."""\n',
        "instruct_prompt": "Do it.",
        "canonical_solution": f"    {body}\n",
        "code_prompt": "def task_func():\n",
        "test": f"import unittest\nclass TestCases(unittest.TestCase):\n    def test_it(self):\n        {test_body}\n",
        "entry_point": "task_func",
        "doc_struct": json.dumps({"description": ["Do it."]}),
        "libs": repr(libs),
    }


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# --- the task environment trap -------------------------------------------------------------------


def test_evaluate_refuses_an_interpreter_without_the_tasks_libraries(tmp_path: Path) -> None:
    data = write_jsonl(
        tmp_path / "tasks.jsonl", [record(0, ["json", "bcb_no_such_lib", "bcb_other_missing"]), record(1, ["os"])]
    )
    samples = write_jsonl(
        tmp_path / "s.jsonl", [{"task_id": "Custom/0", "solution": "def task_func():\n    return 1\n"}]
    )
    result = bcb(
        "evaluate",
        "--dataset-file",
        str(data),
        "--samples",
        str(samples),
        "--root",
        str(tmp_path / "root"),
        "--allow-partial",
        cwd=tmp_path,
    )
    line = one_line_error(result)
    assert "bcb_no_such_lib, bcb_other_missing" in line and "json" not in line.split("(", 2)[2]
    assert "bcb env create" in line and "BCB_PYTHON" in line and "--allow-missing-libs" in line
    assert not (tmp_path / "s_eval_results.json").exists() and not (tmp_path / "root").exists()

    forced = bcb(
        "evaluate",
        "--dataset-file",
        str(data),
        "--samples",
        str(samples),
        "--root",
        str(tmp_path / "root"),
        "--allow-partial",
        "--allow-missing-libs",
        "--no-gt",
        cwd=tmp_path,
    )
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "s_eval_results.json").is_file()


def test_the_task_interpreter_comes_from_the_flag_the_variable_or_the_default_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_task_python(None) == (sys.executable, "bcb's own interpreter")
    built = tmp_path / DEFAULT_TASK_ENV
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(built)], check=True)
    found, source = find_task_python(None)
    assert found == str(built / "bin" / "python") and "bcb env create" in source
    monkeypatch.setenv("BCB_PYTHON", "/elsewhere/python")
    assert find_task_python(None) == ("/elsewhere/python", "$BCB_PYTHON")
    assert find_task_python("/given/python") == ("/given/python", "--python")


def test_evaluate_uses_bcb_python(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "tasks.jsonl", [record(0, ["bcb_probe_lib"])])
    samples = write_jsonl(
        tmp_path / "s.jsonl",
        [{"task_id": "Custom/0", "solution": "import bcb_probe_lib\ndef task_func():\n    return bcb_probe_lib.ONE\n"}],
    )
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env_dir)], check=True)
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    (site / "bcb_probe_lib.py").write_text("ONE = 1\n")
    result = bcb(
        "evaluate",
        "--dataset-file",
        str(data),
        "--samples",
        str(samples),
        "--root",
        str(tmp_path / "root"),
        "--no-gt",
        "--parallel",
        "1",
        cwd=tmp_path,
        env={"BCB_PYTHON": str(env_dir / "bin" / "python")},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "s_pass_at_k.json").read_text())["pass@1"] == 1.0


# --- malformed options and inputs, each one line through the real CLI -----------------------------


def _mini_samples(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "m.jsonl", [{"task_id": "bcb-mini/0", "solution": "def task_func():\n    return 1\n"}]
    )


MINI = ("--dataset", "bcb-mini", "--allow-partial")

#: (case id, argv after `bcb`, words the error line must contain). `{s}` is a one-sample file for
#: bcb-mini, `{tmp}` the test's directory. Nothing in this table may run a sample.
CASES: list[tuple[str, list[str], list[str]]] = [
    ("timeout-overflows-poll", ["evaluate", *MINI, "--samples", "{s}", "--timeout", "2147484"], ["--timeout", "86400"]),
    ("timeout-inf", ["evaluate", *MINI, "--samples", "{s}", "--timeout", "inf"], ["--timeout"]),
    ("timeout-1e308", ["evaluate", *MINI, "--samples", "{s}", "--timeout", "1e308"], ["--timeout"]),
    ("timeout-nan", ["evaluate", *MINI, "--samples", "{s}", "--timeout", "nan"], ["--timeout"]),
    ("min-time-limit-nan", ["evaluate", *MINI, "--samples", "{s}", "--min-time-limit", "nan"], ["--min-time-limit"]),
    (
        "min-time-limit-negative",
        ["evaluate", *MINI, "--samples", "{s}", "--min-time-limit", "-5"],
        ["--min-time-limit"],
    ),
    ("min-time-limit-huge", ["evaluate", *MINI, "--samples", "{s}", "--min-time-limit", "1e308"], ["--min-time-limit"]),
    ("demo-timeout-inf", ["demo", "--root", "{tmp}/demo", "--timeout", "inf"], ["--timeout"]),
    (
        "export-onto-its-input",
        ["data", "export", "--dataset-file", "{d}", "--selective-evaluate", "0", "-o", "{d}"],
        ["also the input"],
    ),
    ("perturb-onto-its-input", ["perturb", "--dataset-file", "{d}", "--seed", "1", "-o", "{d}"], ["also the input"]),
    (
        "perturb-into-a-directory",
        ["perturb", "--dataset-file", "{d}", "--seed", "1", "-o", "{tmp}"],
        ["is a directory"],
    ),
    (
        "pass-k-above-the-samples",
        ["evaluate", *MINI, "--samples", "{s}", "--pass-k", "1,100"],
        ["pass@100", "pass k <= 1"],
    ),
    ("parallel-minus-one", ["evaluate", *MINI, "--samples", "{s}", "--parallel", "-1"], ["--parallel -1"]),
    (
        "parallel-minus-three-perturb",
        ["perturb", "--dataset-file", "{d}", "--seed", "1", "-o", "{tmp}/p.jsonl", "--parallel", "-3"],
        ["--parallel -3"],
    ),
    (
        "selective-evaluate-commas",
        ["evaluate", *MINI, "--samples", "{s}", "--selective-evaluate", ",,,"],
        ["names no task"],
    ),
    (
        "recheck-gt-with-no-gt",
        ["evaluate", *MINI, "--samples", "{s}", "--recheck-gt", "--no-gt"],
        ["--recheck-gt", "--no-gt"],
    ),
    ("resamples-zero", ["leaderboard", "{tmp}/none_eval_results.json", "--resamples", "0"], ["--resamples 0"]),
    ("resamples-negative-report", ["report", "{tmp}/none_eval_results.json", "--resamples", "-1"], ["--resamples -1"]),
    (
        "resamples-zero-contamination",
        ["contamination", "{tmp}/a.json", "{tmp}/b.json", "--resamples", "0"],
        ["--resamples 0"],
    ),
    (
        "transforms-commas",
        ["perturb", "--dataset-file", "{d}", "--seed", "1", "-o", "{tmp}/p.jsonl", "--transforms", ","],
        ["names no transform"],
    ),
    (
        "sanitize-entry-point-nowhere",
        ["sanitize", "--samples", "{s}", "--entry-point", "nothing_here"],
        ["nothing_here", "defines"],
    ),
    (
        "sanitize-entry-point-not-a-name",
        ["sanitize", "--samples", "{s}", "--entry-point", "1 2"],
        ["not a Python function name"],
    ),
    (
        "python-does-not-exist",
        ["evaluate", *MINI, "--samples", "{s}", "--python", "/nonexistent/python"],
        ["/nonexistent/python", "--python"],
    ),
    (
        "python-is-not-python",
        ["evaluate", *MINI, "--samples", "{s}", "--python", "/bin/true"],
        ["not a Python interpreter"],
    ),
    ("env-info-python-is-not-python", ["env", "info", "--python", "/bin/ls"], ["not a Python interpreter"]),
    ("root-is-a-file", ["evaluate", *MINI, "--samples", "{s}", "--root", "{d}"], ["--root", "pass a directory"]),
    ("libs-is-a-number", ["data", "info", "--dataset-file", "{tmp}/libs-number.jsonl"], ["'libs' must be a list"]),
    ("leaderboard-of-a-device", ["leaderboard", "/dev/zero"], ["/dev/zero", "not a regular file"]),
    ("leaderboard-of-deep-json", ["leaderboard", "{tmp}/deep_eval_results.json"], ["nested too deeply"]),
    (
        "export-where-nothing-can-be-written",
        ["data", "export", "--dataset-file", "{d}", "-o", "/proc/bcb-cannot-write.jsonl"],
        ["cannot write", "/proc/bcb-cannot-write.jsonl"],
    ),
    (
        "sanitize-where-nothing-can-be-written",
        ["sanitize", "--samples", "{s}", "-o", "/proc/bcb-cannot-write.jsonl"],
        ["cannot write", "/proc/bcb-cannot-write.jsonl"],
    ),
    ("report-into-a-directory", ["report", "{tmp}/none_eval_results.json", "-o", "{tmp}"], ["is a directory"]),
    (
        "task-with-a-lone-surrogate",
        ["data", "info", "--dataset-file", "{tmp}/surrogate-task.jsonl"],
        ["lone surrogate", "'test'"],
    ),
    (
        "sample-with-a-huge-integer",
        ["evaluate", *MINI, "--samples", "{tmp}/big-int.jsonl"],
        ["big-int.jsonl:1", "not valid JSON"],
    ),
    ("results-with-a-huge-integer", ["leaderboard", "{tmp}/big_eval_results.json"], ["not a JSON results file"]),
    (
        "results-path-is-a-directory",
        ["evaluate", "--dataset-file", "{d}", "--samples", "{tmp}/blocked.jsonl", "--allow-partial"],
        ["results file", "is a directory"],
    ),
]


@pytest.mark.parametrize(("argv", "words"), [pytest.param(argv, words, id=name) for name, argv, words in CASES])
def test_each_mistake_is_one_line(tmp_path: Path, argv: list[str], words: list[str]) -> None:
    samples = _mini_samples(tmp_path)
    data = write_jsonl(tmp_path / "tasks.jsonl", [record(n, ["json"]) for n in range(3)])
    write_jsonl(tmp_path / "blocked.jsonl", [{"task_id": "Custom/0", "solution": "def task_func():\n    return 1\n"}])
    (tmp_path / "blocked_eval_results.json").mkdir()
    write_jsonl(tmp_path / "libs-number.jsonl", [{**record(0, []), "libs": 5}])
    (tmp_path / "deep_eval_results.json").write_text("[" * 100_000 + "]" * 100_000)
    write_jsonl(tmp_path / "surrogate-task.jsonl", [{**record(0, []), "test": record(0, [])["test"] + "# \ud800\n"}])
    (tmp_path / "big-int.jsonl").write_text(
        '{"task_id": "bcb-mini/0", "solution": "x = 1\\n", "n": ' + "9" * 5000 + "}\n"
    )
    (tmp_path / "big_eval_results.json").write_text('{"eval": ' + "9" * 5000 + "}")
    before = data.read_bytes()
    args = [a.replace("{s}", str(samples)).replace("{d}", str(data)).replace("{tmp}", str(tmp_path)) for a in argv]
    line = one_line_error(bcb(*args, cwd=tmp_path))
    for word in words:
        assert word in line, line
    assert not (tmp_path / "root").exists() and not (tmp_path / "bcb_results").exists()
    assert data.read_bytes() == before
    assert not (tmp_path / "p.jsonl").exists() and not (tmp_path / "m-sanitized.jsonl").exists()


def test_the_api_refuses_a_time_limit_that_overflows() -> None:
    from bcb.dataset import load_dataset
    from bcb.evaluation.api import evaluate_solutions
    from bcb.execution.limits import LimitError

    mini = load_dataset("bcb-mini")
    for bad in (float("inf"), float("nan"), 2147484.0, -1.0):
        with pytest.raises(LimitError):
            evaluate_solutions(mini, [("BigCodeBench/0", "x = 1\n")], time_limit=bad)


# --- hostile input files -------------------------------------------------------------------------


def test_a_device_as_samples_is_refused_at_once(tmp_path: Path) -> None:
    result = bcb(
        "evaluate", *MINI, "--samples", "/dev/zero", "--root", str(tmp_path / "root"), cwd=tmp_path, timeout=30
    )
    assert "/dev/zero" in one_line_error(result) and "not a regular file" in result.stderr


def test_a_file_without_newlines_is_read_only_up_to_the_line_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bcb.dataset import loading
    from bcb.dataset.task import DatasetError

    endless = tmp_path / "endless.jsonl"
    endless.write_text("x" * 1000)
    monkeypatch.setattr(loading, "MAX_LINE_CHARS", 100)
    with pytest.raises(DatasetError, match="longer than"):
        list(loading.read_records(endless))


def test_lone_surrogate_and_deep_nesting_are_one_line_and_sanitize_writes_nothing(tmp_path: Path) -> None:
    surrogate = tmp_path / "surrogate.jsonl"
    surrogate.write_text('{"task_id": "BigCodeBench/0", "solution": "x = \\"\\ud800\\"\\n"}\n')
    line = one_line_error(bcb("sanitize", "--samples", str(surrogate), "--dataset", "bcb-mini", cwd=tmp_path))
    assert "surrogate" in line and "surrogate.jsonl:1" in line
    assert not (tmp_path / "surrogate-sanitized.jsonl").exists()
    one_line_error(bcb("evaluate", *MINI, "--samples", str(surrogate), cwd=tmp_path))

    deep = tmp_path / "deep.jsonl"
    deep.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    assert "nested too deeply" in one_line_error(bcb("evaluate", *MINI, "--samples", str(deep), cwd=tmp_path))
    assert "nested too deeply" in one_line_error(bcb("data", "info", "--dataset-file", str(deep), cwd=tmp_path))


# --- one verdict fingerprint for the API and the CLI ----------------------------------------------


def test_the_cli_reuses_the_apis_verdicts_and_network_runs_key_apart(tmp_path: Path) -> None:
    from bcb.dataset import load_dataset
    from bcb.evaluation.api import evaluate_solutions
    from bcb.evaluation.store import ResultStore
    from bcb.execution.sandbox import SandboxOptions

    mini = load_dataset("bcb-mini")
    first, second, third = list(mini)[:3]
    store = ResultStore(tmp_path / "root" / "bcb.sqlite")
    try:
        isolated = list(
            evaluate_solutions(
                mini, [(first.task_id, first.solution), (second.task_id, second.solution)], workers=1, store=store
            )
        )
        networked = list(
            evaluate_solutions(
                mini,
                [(third.task_id, third.solution)],
                workers=1,
                store=store,
                sandbox=SandboxOptions(allow_network=True),
            )
        )
    finally:
        store.close()
    assert [v.status for v in isolated + networked] == ["pass"] * 3

    samples = write_jsonl(
        tmp_path / "s.jsonl", [{"task_id": t.task_id, "solution": t.solution} for t in (first, second, third)]
    )
    result = bcb(
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(samples),
        "--allow-partial",
        "--no-gt",
        "--parallel",
        "1",
        "--root",
        str(tmp_path / "root"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "1 run, 2 from the store" in result.stdout, result.stdout


def test_a_store_damaged_mid_file_is_one_line_naming_it_and_the_way_out(tmp_path: Path) -> None:
    from bcb.evaluation.store import ResultStore, StoredVerdict, VerdictKey

    path = tmp_path / "root" / "bcb.sqlite"
    with ResultStore(path) as store:
        for i in range(3000):
            store.put_verdict(
                VerdictKey("d", f"t{i}", "p" * 64, "e" * 64, "{}"),
                StoredVerdict("pass", {"x": "y" * 100}, 1.0, 1.0, 1, ""),
            )
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with path.open("r+b") as handle:  # the pages after the header: the tables' roots
        handle.seek(4096)
        handle.write(b"\xff" * 4096 * 4)
    samples = _mini_samples(tmp_path)
    line = one_line_error(
        bcb("evaluate", *MINI, "--samples", str(samples), "--no-gt", "--root", str(tmp_path / "root"), cwd=tmp_path)
    )
    assert str(path) in line and "damaged" in line and "move it away" in line


def test_a_user_error_no_command_caught_is_still_one_line(tmp_path: Path) -> None:
    """The CLI-wide rule holds for a command that forgets `user_errors` (a new one, say)."""
    script = (
        "import sys\n"
        "from bcb.cli import app, main\n"
        "from bcb.errors import BcbError\n"
        "@app.command('forgetful')\n"
        "def forgetful() -> None:\n"
        "    raise BcbError('what to do about it')\n"
        "sys.argv = ['bcb', 'forgetful']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
        timeout=60,
    )
    assert one_line_error(result) == "error: what to do about it"


def test_a_data_dir_that_does_not_exist_is_named_not_ignored(tmp_path: Path) -> None:
    line = one_line_error(
        bcb("data", "info", "--data-dir", str(tmp_path / "nowhere"), cwd=tmp_path, env={"HF_HUB_OFFLINE": "1"})
    )
    assert f"the data directory {tmp_path / 'nowhere'} (--data-dir or BCB_DATA_DIR) does not exist" in line
    line = one_line_error(
        bcb("data", "info", cwd=tmp_path, env={"HF_HUB_OFFLINE": "1", "BCB_DATA_DIR": str(tmp_path / "nowhere")})
    )
    assert "BCB_DATA_DIR" in line


def test_bigcodebench_in_bcbs_own_interpreter_stops_before_a_wrong_score(tmp_path: Path) -> None:
    """The case that wrote pass@1 0.667 for the ground truth of the first 12 tasks: now one line."""
    from helpers import SHARED_DATA, shared_file

    shared_file("BigCodeBench-v0.1.4.jsonl.gz")
    from bcb.dataset import load_dataset

    tasks = list(load_dataset("bigcodebench", data_dir=SHARED_DATA))[:12]
    samples = write_jsonl(tmp_path / "gt.jsonl", [{"task_id": t.task_id, "solution": t.solution} for t in tasks])
    result = bcb(
        "evaluate",
        "--samples",
        str(samples),
        "--data-dir",
        str(SHARED_DATA),
        "--id-range",
        "0-12",
        "--root",
        str(tmp_path / "root"),
        cwd=tmp_path,
    )
    line = one_line_error(result)
    assert "cannot import" in line and "bcb env create" in line
    assert not (tmp_path / "gt_eval_results.json").exists()


def test_run_checks_the_evaluation_before_it_generates(tmp_path: Path) -> None:
    """`bcb run` stops on an evaluation mistake before the first request, not after hours of generation."""
    data = write_jsonl(tmp_path / "tasks.jsonl", [record(0, ["bcb_no_such_lib"])])
    common = (
        "run",
        "--model",
        "m",
        "--backend",
        "openai",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--dataset-file",
        str(data),
        "--root",
        str(tmp_path / "root"),
    )
    line = one_line_error(bcb(*common, cwd=tmp_path, env={"OPENAI_API_KEY": "unused"}))
    assert "bcb_no_such_lib" in line
    line = one_line_error(bcb(*common, "--eval-timeout", "inf", cwd=tmp_path, env={"OPENAI_API_KEY": "unused"}))
    assert "--timeout" in line
    assert not any((tmp_path / "root").rglob("*.jsonl"))
