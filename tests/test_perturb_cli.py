"""`bcb perturb` end to end through the real executor: bcb-mini survives whole, the output is a
custom dataset that `bcb data info` and `bcb evaluate` accept, the same seed gives the same bytes,
and drops are reported by cause."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bcb.dataset import load_dataset, read_tasks, write_tasks
from bcb.evaluation.perturbation_check import provenance_path
from bcb.evaluation.results import result_paths
from helpers import logging_python


def run(cmd: list[str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def perturbed(tmp_path_factory: pytest.TempPathFactory, bcb_cmd_module: list[str]) -> Path:
    out = tmp_path_factory.mktemp("perturb") / "mini-p.jsonl"
    result = run(
        bcb_cmd_module,
        "perturb",
        "--dataset",
        "bcb-mini",
        "--seed",
        "5",
        "-o",
        str(out),
        "--parallel",
        "2",
        "--root",
        str(out.parent / "root"),
    )
    assert result.returncode == 0, result.stderr
    assert "32 of 32 (100.0%)" in result.stdout
    return out


@pytest.fixture(scope="module")
def bcb_cmd_module() -> list[str]:
    import shutil
    import sys

    script = shutil.which("bcb", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "bcb"]


def test_all_mini_tasks_survive_with_provenance(perturbed: Path) -> None:
    mini = load_dataset("bcb-mini")
    tasks = read_tasks(perturbed)
    assert [t.task_id for t in tasks] == [t.task_id for t in mini]
    assert all(t.entry_point != "task_func" and "task_func" not in t.test for t in tasks)
    provenance = json.loads(perturbed.with_name("mini-p.provenance.json").read_text())
    assert provenance["base"] == {
        "name": "bcb-mini",
        "version": None,
        "subset": "full",
        "content_hash": mini.content_hash,
        "source": mini.source,
        "tasks_selected": 32,
    }
    assert provenance["seed"] == 5 and provenance["transforms"] == ["entry-point", "params", "docstring", "locals"]
    assert provenance["recheck"]["kept"] == 32 and provenance["recheck"]["kept_share_of_original_passing"] == 1.0
    assert provenance["dropped"] == []
    first = provenance["tasks"]["bcb-mini/0"]
    assert first["kept"] and first["original_gt"] == first["perturbed_gt"] == "pass"
    assert first["renames"]["entry_point"] == {"task_func": tasks[0].entry_point}


def test_data_info_shows_a_custom_dataset(bcb_cmd_module: list[str], perturbed: Path) -> None:
    info = run(bcb_cmd_module, "data", "info", "--dataset-file", str(perturbed), "--json")
    assert info.returncode == 0, info.stderr
    summary = json.loads(info.stdout)
    provenance = json.loads(perturbed.with_name("mini-p.provenance.json").read_text())
    assert summary["dataset"] == "custom" and summary["verified"] is False and summary["tasks"] == 32
    assert summary["content_hash"] == provenance["output"]["content_hash"]


def test_canonical_solutions_pass_bcb_evaluate(bcb_cmd_module: list[str], perturbed: Path, tmp_path: Path) -> None:
    samples = tmp_path / "canonical.jsonl"
    samples.write_text(
        "".join(json.dumps({"task_id": t.task_id, "solution": t.solution}) + "\n" for t in read_tasks(perturbed))
    )
    result = run(
        bcb_cmd_module,
        "evaluate",
        "--dataset-file",
        str(perturbed),
        "--samples",
        str(samples),
        "--root",
        str(tmp_path / "root"),
        "--parallel",
        "2",
    )
    assert result.returncode == 0, result.stderr
    passk = json.loads(result_paths(samples)[1].read_text())
    assert passk["pass@1"] == 1.0 and passk["gt_pass_rate"] == 1.0


def test_same_seed_gives_the_same_bytes_without_the_store(
    bcb_cmd_module: list[str], perturbed: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again.jsonl.gz"
    result = run(
        bcb_cmd_module,
        "perturb",
        "--dataset",
        "bcb-mini",
        "--seed",
        "5",
        "-o",
        str(again),
        "--parallel",
        "2",
        "--root",
        str(tmp_path / "fresh"),
    )
    assert result.returncode == 0, result.stderr
    assert gzip.decompress(again.read_bytes()) == perturbed.read_bytes()
    first = json.loads(perturbed.with_name("mini-p.provenance.json").read_text())
    second = json.loads(tmp_path.joinpath("again.provenance.json").read_text())
    assert first["tasks"] == second["tasks"] and first["output"]["content_hash"] == second["output"]["content_hash"]


def test_drops_are_reported_by_cause(bcb_cmd_module: list[str], tmp_path: Path) -> None:
    mini = load_dataset("bcb-mini")
    base = list(mini.tasks[:3])
    # The tests name the function by string: the canonical solution fails once it is renamed.
    by_name = dataclasses.replace(
        base[1],
        test=base[1].test.replace(
            "class TestCases(unittest.TestCase):\n",
            "class TestCases(unittest.TestCase):\n    def test_name(self):\n        self.assertEqual(task_func.__name__, 'task_func')\n",
            1,
        ),
    )
    # Fails before any perturbation, as a task needing the network does here.
    broken = dataclasses.replace(
        base[2],
        test=base[2].test.replace(
            "class TestCases(unittest.TestCase):\n",
            "class TestCases(unittest.TestCase):\n    def test_offline(self):\n        raise OSError('network unreachable')\n",
            1,
        ),
    )
    source = write_tasks(tmp_path / "custom.jsonl", [base[0], by_name, broken])
    out = tmp_path / "p.jsonl"
    result = run(
        bcb_cmd_module,
        "perturb",
        "--dataset-file",
        str(source),
        "--seed",
        "1",
        "-o",
        str(out),
        "--parallel",
        "2",
        "--root",
        str(tmp_path / "root"),
    )
    assert result.returncode == 0, result.stderr
    assert "1 of 2 (50.0%)" in result.stdout and "raw: 1 of 3" in result.stdout
    provenance = json.loads(tmp_path.joinpath("p.provenance.json").read_text())
    assert [t.task_id for t in read_tasks(out)] == [base[0].task_id]
    drops = {d["task_id"]: d for d in provenance["dropped"]}
    assert drops[by_name.task_id]["category"] == "perturbation"
    assert (
        drops[by_name.task_id]["reason"].startswith("test_name: AssertionError: ")
        and "'task_func'" in drops[by_name.task_id]["reason"]
    )
    assert drops[broken.task_id] == {
        "task_id": broken.task_id,
        "category": "environment",
        "reason": "original ground truth fails here too: test_offline: OSError: network unreachable",
    }
    assert provenance["base"]["name"] == "custom"
    # a failure is blamed on the perturbation only after a second run beside the original
    assert provenance["tasks"][by_name.task_id]["second_run"] == {"original": "pass", "perturbed": "fail"}
    assert "second_run" not in provenance["tasks"][broken.task_id]

    # Again on the same root: the ground truths come from the store under the remembered probe,
    # and the suspect still runs a second time (the workers start for it alone).
    rerun = run(
        bcb_cmd_module,
        "perturb",
        "--dataset-file",
        str(source),
        "--seed",
        "1",
        "-o",
        str(tmp_path / "p2.jsonl"),
        "--parallel",
        "2",
        "--root",
        str(tmp_path / "root"),
    )
    assert rerun.returncode == 0, rerun.stderr
    again = json.loads(tmp_path.joinpath("p2.provenance.json").read_text())
    assert again["dropped"] == provenance["dropped"] and again["tasks"] == provenance["tasks"]
    assert again["recheck"] == provenance["recheck"]

    bad = run(
        bcb_cmd_module,
        "perturb",
        "--dataset",
        "bcb-mini",
        "--seed",
        "1",
        "-o",
        str(out),
        "--transforms",
        "entry-point,names",
    )
    assert bad.returncode == 2 and "unknown transform 'names'" in bad.stderr


def test_failure_reason_names_the_exception_not_the_last_line() -> None:
    from bcb.evaluation.perturbation_check import failure_reason
    from bcb.evaluation.store import GroundTruth

    diff = "Traceback (most recent call last):\n  File \"__test__.py\", line 3, in test_a\nAssertionError: 'ab' != 'task_func'\n- ab\n+ task_func\n"
    nltk = 'Traceback (most recent call last):\n  File "x.py", line 1, in f\nLookupError: \n*****\n  Resource \x1b[93mpunkt\x1b[0m not found.\n  Please use the NLTK Downloader\n'
    assert (
        failure_reason(GroundTruth("T/1", "fail", None, {"test_a": diff}))
        == "test_a: AssertionError: 'ab' != 'task_func'"
    )
    assert (
        failure_reason(GroundTruth("T/1", "fail", None, {"test_b": nltk}))
        == "test_b: LookupError: Resource punkt not found."
    )
    assert (
        failure_reason(GroundTruth("T/1", "fail", None, {"ALL": "\n*****\n  Resource stopwords not found.\n"}))
        == "ALL: Resource stopwords not found."
    )
    assert failure_reason(GroundTruth("T/1", "timeout", None, {})) == "timed out"


def test_a_rerun_whose_ground_truths_are_all_stored_starts_no_worker(bcb_cmd_module: list[str], tmp_path: Path) -> None:
    ids = ",".join(t.task_id for t in load_dataset("bcb-mini").tasks[:3])

    def perturb(python: str, seed: str, out: Path) -> dict:
        result = run(
            bcb_cmd_module,
            "perturb",
            "--dataset",
            "bcb-mini",
            "--selective-evaluate",
            ids,
            "--seed",
            seed,
            "-o",
            str(out),
            "--parallel",
            "2",
            "--root",
            str(tmp_path / "root"),
            "--python",
            python,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(provenance_path(out).read_text())

    first = perturb(sys.executable, "5", tmp_path / "first.jsonl")
    wrapper, log = logging_python(tmp_path)
    again = perturb(str(wrapper), "5", tmp_path / "again.jsonl")
    assert (tmp_path / "again.jsonl").read_bytes() == (tmp_path / "first.jsonl").read_bytes()
    assert again["recheck"] == first["recheck"] and again["tasks"] == first["tasks"]
    starts = log.read_text().splitlines()
    assert starts, "the interpreter was not used at all: this test would prove nothing"
    assert not [s for s in starts if "_zygote" in s], starts

    # The same observation sees a worker start as soon as a perturbed task is new.
    other = perturb(str(wrapper), "6", tmp_path / "other.jsonl")
    assert other["output"]["content_hash"] != first["output"]["content_hash"]
    assert [s for s in log.read_text().splitlines() if "_zygote" in s]
    assert other["recheck"]["environment"]["key"] == first["recheck"]["environment"]["key"]
