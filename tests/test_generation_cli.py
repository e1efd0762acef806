"""`bcb generate` as a real process against a loopback server: killed mid-run and resumed, and
every user mistake a one-line error that loses nothing."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest

pytest.importorskip("openai")

from generation_server import FakeLLMServer

MINI_TASKS = 32
SECRET = "sk-secret-never-written-anywhere"


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    fake = FakeLLMServer().start()
    yield fake
    fake.stop()


def env(**extra: str) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_KEY", "OPENAI_BASE_URL")
    }
    return {**base, "COLUMNS": "200", "NO_COLOR": "1", **extra}


def run(cmd: list[str], *args: str, timeout: float = 60, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cmd, "generate", *args], capture_output=True, text=True, env=env(**extra), timeout=timeout)


def openai_args(server_url: str, root: Path, *more: str) -> list[str]:
    return [
        "--model",
        "test/model",
        "--backend",
        "openai",
        "--base-url",
        server_url + "/v1",
        "--dataset",
        "bcb-mini",
        "--root",
        str(root),
        *more,
    ]


def lines(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    text = result.stderr.strip()
    assert len(text.splitlines()) == 1, text
    assert text.startswith("error: ") and "Traceback" not in text
    return text


@pytest.mark.slow
def test_killed_mid_run_then_resumed_loses_and_repeats_nothing(
    bcb_cmd: list[str], server: FakeLLMServer, tmp_path: Path
) -> None:
    server.delay = 0.25
    root = tmp_path / "results"
    args = openai_args(server.url, root, "--n-samples", "2", "--temperature", "0.8", "--concurrency", "2")
    out = root / "test--model--main--bcb-mini-complete--openai-0.8-2-sanitized_calibrated.jsonl"
    process = subprocess.Popen(
        [*bcb_cmd, "generate", *args], env=env(OPENAI_API_KEY=SECRET), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if out.exists() and out.read_text().count("\n") >= 8:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    before = out.read_bytes()
    written_before = before.count(b"\n")
    assert 8 <= written_before < 2 * MINI_TASKS, "the kill was meant to land mid-run"
    sent_before = len(server.requests)

    server.delay = 0.0
    result = run(bcb_cmd, *args, "--resume", OPENAI_API_KEY=SECRET)
    assert result.returncode == 0, result.stderr
    after = out.read_bytes()
    assert after.startswith(before[: before.rfind(b"\n") + 1])  # what was on disk stays, untouched
    samples = lines(out)
    assert Counter(s["task_id"] for s in samples) == {f"bcb-mini/{i}": 2 for i in range(MINI_TASKS)}
    assert len({s["raw_solution"] for s in samples}) == 2 * MINI_TASKS  # every answer once
    # One request per task (n=2 in one request). Tasks on disk are not asked again; only requests
    # in flight at the kill (at most --concurrency) can be paid twice, and answers that reached
    # the cache but not the file come from the cache.
    sent_after = len(server.requests) - sent_before
    last_run = json.loads(out.with_name(out.name.replace(".jsonl", ".manifest.json")).read_text())["runs"][-1]
    on_disk = Counter(json.loads(line)["task_id"] for line in before.decode().splitlines()[:written_before])
    half_done = sum(1 for count in on_disk.values() if count == 1)
    from_cache_whole = (last_run["samples_from_cache"] - half_done) // 2
    assert sent_after == last_run["requests"] == MINI_TASKS - len(on_disk) - from_cache_whole
    assert len(server.requests) <= MINI_TASKS + 2

    manifest = json.loads(out.with_name(out.name.replace(".jsonl", ".manifest.json")).read_text())
    assert [r["status"] for r in manifest["runs"]] == ["running", "complete"]  # the killed run never got to say more
    last = manifest["runs"][-1]
    assert last["samples_already_written"] == written_before
    assert last["samples_already_written"] + last["samples_from_cache"] + last["samples_generated"] == 2 * MINI_TASKS
    for path in [*root.iterdir(), *Path(os.environ["BCB_CACHE_DIR"]).rglob("*")]:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_official_underscore_flags_and_file_name(bcb_cmd: list[str], server: FakeLLMServer, tmp_path: Path) -> None:
    root = tmp_path / "r"
    result = run(
        bcb_cmd, "--model", "org/m", "--backend", "openai", "--base_url", server.url + "/v1", "--dataset", "bcb-mini",
        "--root", str(root), "--n_samples", "2", "--temperature", "0.5", "--id_range", "3-5", "--max_new_tokens=64",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = root / "org--m--main--bcb-mini-complete--openai-0.5-2-sanitized_calibrated.jsonl"
    assert [s["task_id"] for s in lines(out)] in (
        ["bcb-mini/3"] * 2 + ["bcb-mini/4"] * 2,
        ["bcb-mini/4"] * 2 + ["bcb-mini/3"] * 2,
    )
    assert {r.body["max_tokens"] for r in server.requests} == {64} and {r.body["n"] for r in server.requests} == {2}
    assert "wrote" in result.stdout and "2 tasks" in result.stdout

    greedy = run(
        bcb_cmd,
        *openai_args(server.url, root, "--greedy", "--n-samples", "5", "--temperature", "0.9", "--id-range", "0-1"),
    )
    assert greedy.returncode == 0, greedy.stderr
    assert len(lines(root / "test--model--main--bcb-mini-complete--openai-0-1-sanitized_calibrated.jsonl")) == 1


def test_user_mistakes_are_one_line_and_lose_nothing(bcb_cmd: list[str], server: FakeLLMServer, tmp_path: Path) -> None:
    root = tmp_path / "r"
    first = run(bcb_cmd, *openai_args(server.url, root, "--id-range", "0-3"))
    assert first.returncode == 0, first.stderr
    out = root / "test--model--main--bcb-mini-complete--openai-0-1-sanitized_calibrated.jsonl"
    kept = out.read_bytes()
    assert kept.count(b"\n") == 3

    closed = FakeLLMServer()
    dead_url = closed.url
    closed.httpd.server_close()
    unreachable = one_line_error(run(bcb_cmd, *openai_args(dead_url, root)))
    assert f"cannot reach {dead_url}/v1" in unreachable and "3 samples kept" in unreachable

    no_key = one_line_error(
        run(bcb_cmd, "--model", "test/model", "--backend", "openai", "--dataset", "bcb-mini", "--root", str(root))
    )
    assert "OPENAI_API_KEY" in no_key
    no_anthropic_key = one_line_error(
        run(bcb_cmd, "--model", "claude", "--backend", "anthropic", "--dataset", "bcb-mini", "--root", str(root))
    )
    assert "ANTHROPIC_API_KEY" in no_anthropic_key
    if importlib.util.find_spec("vllm") is None:
        no_vllm = one_line_error(run(bcb_cmd, *openai_args(server.url, root, "--backend", "vllm")))
        assert "pip install 'bcb[vllm]'" in no_vllm
    unknown = one_line_error(run(bcb_cmd, *openai_args(server.url, root, "--backend", "gemini")))
    assert "unknown backend 'gemini'" in unknown
    bad_range = one_line_error(run(bcb_cmd, *openai_args(server.url, root, "--id-range", "9-2")))
    assert "bad id range '9-2'" in bad_range
    empty_range = one_line_error(run(bcb_cmd, *openai_args(server.url, root, "--id-range", "500-600")))
    assert "keeps no task" in empty_range

    assert out.read_bytes() == kept
    assert sorted(p.name for p in root.iterdir()) == sorted([out.name, out.name.replace(".jsonl", ".manifest.json")])
    manifest = json.loads(out.with_name(out.name.replace(".jsonl", ".manifest.json")).read_text())
    assert [r["status"] for r in manifest["runs"]] == ["complete", "failed"]
    assert "cannot reach" in manifest["runs"][-1]["error"]
