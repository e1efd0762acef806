"""The pieces under `bcb generate` that need no server: settings, naming, retry timing, the cache,
the samples file, the manifest."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from email.utils import formatdate
from pathlib import Path

import pytest

from bcb.dataset import load_dataset
from bcb.generation.cache import ResponseCache, cache_key
from bcb.generation.errors import GenerationError, ProviderError, Stopped
from bcb.generation.manifest import Manifest, RunStats, manifest_path
from bcb.generation.prompts import DIRECT_COMPLETION_EOS, Prompt
from bcb.generation.providers import Completion, api_key, make_provider, preflight, sdk_error
from bcb.generation.retry import RetryPolicy, call_with_retries, parse_retry_after
from bcb.generation.samples import Sample, SamplesFile, format_temperature, samples_file_name
from bcb.generation.settings import GenerationSettings, Sampling, public_url

# ---------------------------------------------------------------------------------------------
# Settings and naming


def test_greedy_rule_matches_the_official_harness() -> None:
    s = GenerationSettings(model="m", backend="openai", temperature=0.8, n_samples=5, greedy=True).checked()
    assert (s.temperature, s.n_samples, s.greedy) == (0.0, 1, True)
    s = GenerationSettings(model="m", backend="openai").checked()
    assert s.greedy and s.n_samples == 1
    s = GenerationSettings(model="m", backend="openai", temperature=0.8, n_samples=5).checked()
    assert (s.temperature, s.n_samples, s.greedy) == (0.8, 5, False)
    with pytest.raises(GenerationError, match="--greedy"):
        GenerationSettings(model="m", backend="openai", n_samples=5).checked()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"backend": "gemini"}, "unknown backend 'gemini'"),
        ({"split": "both"}, "unknown split"),
        ({"direct_completion": True, "split": "instruct"}, "--split complete"),
        ({"direct_completion": True, "backend": "anthropic"}, "chat models only"),
        ({"reasoning_effort": "huge"}, "unknown --reasoning-effort"),
        ({"reasoning_effort": "high", "backend": "anthropic"}, "--thinking-budget"),
        ({"thinking_budget": 2048, "backend": "openai"}, "--reasoning-effort"),
        ({"thinking_budget": 2048, "backend": "anthropic"}, "must exceed --thinking-budget"),
        ({"concurrency": 0}, "--concurrency"),
        ({"top_p": 1.5}, "--top-p"),
    ],
)
def test_settings_errors_are_one_line(changes: dict, message: str) -> None:
    base = {"model": "m", "backend": "openai"}
    with pytest.raises(GenerationError, match=message) as info:
        GenerationSettings(**{**base, **changes}).checked()
    assert "\n" not in str(info.value)


def test_file_names_follow_the_official_pattern() -> None:
    assert (
        samples_file_name("meta-llama/Llama-3-8B-Instruct", backend="vllm", split="complete")
        == "meta-llama--Llama-3-8B-Instruct--main--bigcodebench-complete--vllm-0-1-sanitized_calibrated.jsonl"
    )
    assert (
        samples_file_name(
            "gpt-4o", backend="openai", split="instruct", subset="hard", temperature=0.8, n_samples=5, revision="v2"
        )
        == "gpt-4o--v2--bigcodebench-hard-instruct--openai-0.8-5-sanitized_calibrated.jsonl"
    )
    assert samples_file_name("o3-mini", backend="openai", split="complete").startswith("o3-mini--medium--main--")
    assert samples_file_name("o1-preview", backend="openai", split="complete", reasoning_effort="high").startswith(
        "o1-preview--high--main--"
    )
    assert "--bcb-mini-complete--" in samples_file_name("m", backend="openai", split="complete", dataset="bcb-mini")
    assert [format_temperature(t) for t in (0.0, 1.0, 0.8, 0.25)] == ["0", "1", "0.8", "0.25"]


def test_public_url_drops_credentials() -> None:
    assert public_url("https://user:secret@host.example:8443/v1?key=abc#x") == "https://host.example:8443/v1"
    assert public_url(None) is None


# ---------------------------------------------------------------------------------------------
# Keys and backends


def test_missing_keys_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_KEY", "OPENAI_BASE_URL", "MY_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(GenerationError, match="OPENAI_API_KEY"):
        preflight(GenerationSettings(model="gpt-4o", backend="openai").checked())
    preflight(
        GenerationSettings(model="local", backend="openai", base_url="http://127.0.0.1:9/v1").checked()
    )  # local servers need none
    with pytest.raises(GenerationError, match="ANTHROPIC_API_KEY"):
        preflight(GenerationSettings(model="claude", backend="anthropic").checked())
    with pytest.raises(GenerationError, match="MY_KEY"):
        preflight(GenerationSettings(model="x", backend="anthropic", api_key_env="MY_KEY").checked())
    monkeypatch.setenv("ANTHROPIC_KEY", "k-official-name")
    assert api_key("anthropic", GenerationSettings(model="x", backend="anthropic"), required=True) == "k-official-name"


@pytest.mark.parametrize("backend, extra", [("vllm", "vllm"), ("hf", "hf")])
def test_local_backends_without_their_libraries_say_what_to_install(backend: str, extra: str) -> None:
    try:
        __import__("vllm" if backend == "vllm" else "transformers")
        pytest.skip(f"{backend}'s library is installed here")
    except ImportError:
        pass
    with pytest.raises(GenerationError, match=rf"pip install 'bcb\[{extra}\]'"):
        make_provider(GenerationSettings(model="org/model", backend=backend).checked())


def test_openai_request_mapping_for_openai_itself_and_other_servers() -> None:
    from bcb.generation.providers.openai_compat import OpenAIProvider

    sampling = Sampling(temperature=0.0, max_new_tokens=99, top_p=0.95, stop=DIRECT_COMPLETION_EOS)
    official = OpenAIProvider(None, "gpt-4o", direct_completion=False, base_url=None, key_env="OPENAI_API_KEY")
    chat = official.request(Prompt("hi", chat=True), 1, Sampling(temperature=0.0, max_new_tokens=99, top_p=0.95))
    assert chat == {
        "model": "gpt-4o", "temperature": 0.0, "top_p": 0.95, "messages": [{"role": "user", "content": "hi"}],
        "extra_body": {"max_completion_tokens": 99},
    }  # fmt: skip
    assert official.request(Prompt("def f():", chat=False), 3, sampling)["stop"] == list(DIRECT_COMPLETION_EOS[:4])
    local = OpenAIProvider(
        None, "m", direct_completion=True, base_url="http://127.0.0.1:8000/v1", key_env="OPENAI_API_KEY"
    )
    completion = local.request(Prompt("def f():", chat=False), 3, sampling)
    assert completion == {
        "model": "m", "n": 3, "temperature": 0.0, "top_p": 0.95, "prompt": "def f():", "max_tokens": 99, "stop": list(DIRECT_COMPLETION_EOS),
    }  # fmt: skip


def test_sdk_errors_map_to_retryable_or_not() -> None:
    import openai

    try:  # openai>=3 speaks through httpx2, earlier versions through httpx
        import httpx2 as httpx
    except ImportError:
        import httpx  # type: ignore[no-redef]

    request = httpx.Request("POST", "http://x/v1/chat/completions")

    def status(code: int, headers: dict[str, str] | None = None) -> ProviderError:
        response = httpx.Response(code, headers=headers or {}, request=request, json={"error": {"message": f"m{code}"}})
        exc = openai.APIStatusError(f"Error code: {code}", response=response, body={"error": {"message": f"m{code}"}})
        return sdk_error(exc, backend="openai", base_url="http://x/v1", key_env="OPENAI_API_KEY")

    assert status(429, {"retry-after": "3"}).retryable and status(429, {"retry-after": "3"}).retry_after == 3
    assert status(503).retryable and status(408).retryable
    for code in (400, 401, 404):
        assert not status(code).retryable
    assert "OPENAI_API_KEY" in str(status(401)) and "m404" in str(status(404))
    timeout = sdk_error(openai.APITimeoutError(request=request), backend="openai", base_url=None, key_env="K")
    assert timeout.retryable and not timeout.unreachable
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as cause:
            raise openai.APIConnectionError(request=request) from cause
    except openai.APIConnectionError as exc:
        refused = sdk_error(exc, backend="openai", base_url="http://u:pw@x/v1", key_env="K")
    assert (
        refused.retryable
        and refused.unreachable
        and "cannot reach http://x/v1: [Errno 111] Connection refused" == str(refused)
    )
    dropped = sdk_error(
        openai.APIConnectionError(request=request), backend="openai", base_url="http://x/v1", key_env="K"
    )
    assert dropped.retryable and not dropped.unreachable


# ---------------------------------------------------------------------------------------------
# Retries


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base=1.0, cap=8.0)
    rng = random.Random(1)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 8.0)]:
        delays = [policy.delay(attempt, rng=rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not constant
    assert 5.0 <= policy.delay(0, retry_after=5.0, rng=rng) <= 5.1
    assert policy.delay(0, retry_after=10_000) <= policy.max_retry_after + 0.1


def test_retry_after_header_forms() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    date = formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (parse_retry_after({"retry-after": date}) or 0) <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_call_with_retries_retries_only_what_is_retryable() -> None:
    calls: list[int] = []
    waits: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ProviderError("busy", retryable=True)
        return "ok"

    policy = RetryPolicy(max_retries=5, base=0.001, cap=0.002)
    assert call_with_retries(flaky, policy, on_retry=lambda e, w: waits.append(w)) == "ok"
    assert len(calls) == 3 and len(waits) == 2

    def fatal() -> str:
        raise ProviderError("bad request")

    with pytest.raises(ProviderError, match="bad request"):
        call_with_retries(fatal, policy)

    def always() -> str:
        raise ProviderError("still busy", retryable=True)

    with pytest.raises(ProviderError, match="still busy"):
        call_with_retries(always, RetryPolicy(max_retries=2, base=0.001))


def test_a_stop_cuts_a_backoff_short() -> None:
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Stopped):
        call_with_retries(
            lambda: (_ for _ in ()).throw(ProviderError("x", retryable=True, retry_after=30)), RetryPolicy(), stop=stop
        )
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------------------------------------
# Cache


def test_cache_key_covers_what_changes_the_answer() -> None:
    prompt = Prompt("p", chat=True)
    base = cache_key("openai", "m", {"temperature": 0.8}, prompt, 0)
    assert base == cache_key("openai", "m", {"temperature": 0.8}, Prompt("p", chat=True), 0)
    assert len({
        base,
        cache_key("openai", "m", {"temperature": 0.8}, prompt, 1),
        cache_key("openai", "m", {"temperature": 0.7}, prompt, 0),
        cache_key("openai", "m2", {"temperature": 0.8}, prompt, 0),
        cache_key("anthropic", "m", {"temperature": 0.8}, prompt, 0),
        cache_key("openai", "m", {"temperature": 0.8}, Prompt("p", chat=True, prefill="x"), 0),
    }) == 6  # fmt: skip


def test_cache_survives_reopening_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = ResponseCache(path)
    cache.put(
        "k", "openai", "m", Completion("answer", reasoning="why", input_tokens=3, output_tokens=4, finish_reason="stop")
    )
    cache.close()
    again = ResponseCache(path)
    assert again.get("k") == Completion(
        "answer", reasoning="why", input_tokens=3, output_tokens=4, finish_reason="stop"
    )
    assert again.get("other") is None and len(again) == 1
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_cache_lives_in_the_bcb_cache_dir(isolated_cache: Path) -> None:
    cache = ResponseCache()
    assert cache.path.parent == isolated_cache
    cache.close()


def test_unopenable_cache_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(GenerationError, match="cannot open the response cache"):
        ResponseCache(blocker / "c.sqlite3")


# ---------------------------------------------------------------------------------------------
# Samples file and manifest


def test_samples_file_counts_repairs_and_appends(tmp_path: Path) -> None:
    path = tmp_path / "out" / "s.jsonl"
    first = SamplesFile(path, resume=True)
    first.append(Sample(task_id="T/1", index=0, solution="def f(): pass", raw_solution="raw"))
    first.append(Sample(task_id="T/1", index=1, solution="s", raw_solution="r"))
    first.append(Sample(task_id="T/2", index=0, solution="s", raw_solution="r"))
    first.close()
    with open(path, "ab") as handle:
        handle.write(b'{"task_id": "T/2", "solu')  # what a kill mid-write leaves
    resumed = SamplesFile(path, resume=True)
    assert resumed.counts == {"T/1": 2, "T/2": 1} and resumed.repaired > 0
    resumed.append(Sample(task_id="T/2", index=1, solution="s2", raw_solution="r2"))
    resumed.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(line) for line in lines)
    assert json.loads(lines[0]) == {"task_id": "T/1", "solution": "def f(): pass", "raw_solution": "raw"}

    fresh = SamplesFile(path, resume=False)
    assert fresh.counts == {} and path.read_text() == ""
    fresh.close()


def test_one_sample_record_written_by_generation_and_read_back_by_evaluation(tmp_path: Path) -> None:
    """Generation and evaluation share one keyword-only `Sample`: a file generation writes reads
    back as the same records, and no caller can pass its strings in the wrong order."""
    from bcb.evaluation.samples import read_samples

    with pytest.raises(TypeError):
        Sample("T/1", 0, "solution", "raw")  # type: ignore[misc]
    path = tmp_path / "s.jsonl"
    written = [
        Sample(task_id="T/1", index=0, solution="a", raw_solution="A"),
        Sample(task_id="T/1", index=1, solution="b", raw_solution="B"),
    ]
    samples = SamplesFile(path, resume=False)
    for sample in written:
        samples.append(sample)
    samples.close()
    read = read_samples(path, {})
    assert [type(s) for s in read] == [Sample, Sample]
    assert [(s.task_id, s.index, s.solution, s.raw_solution) for s in read] == [
        (s.task_id, s.index, s.solution, s.raw_solution) for s in written
    ]
    assert read[1].where == f"{path}:2"


def test_a_corrupt_middle_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"task_id": "T/1", "solution": "", "raw_solution": ""}\nnot json\n{"task_id": "T/1"}\n')
    with pytest.raises(GenerationError, match=r"s\.jsonl:2: not a sample line"):
        SamplesFile(path, resume=True)


def test_manifest_records_runs_and_no_secrets(tmp_path: Path) -> None:
    samples = tmp_path / "m--main--bcb-mini-complete--openai-0-1-sanitized_calibrated.jsonl"
    samples.write_text("")
    settings = GenerationSettings(model="m", backend="openai", base_url="https://u:sk-secret@h/v1").checked()
    dataset = load_dataset("bcb-mini")
    first = Manifest(samples, settings=settings.to_manifest(), dataset=dataset, extra={}, resume=True)
    first.update(RunStats(tasks=2, generated=2, output_tokens=20), "failed", error="boom")
    second = Manifest(samples, settings=settings.to_manifest(), dataset=dataset, extra={}, resume=True)
    second.update(RunStats(tasks=2, cached=2), "complete")
    path = manifest_path(samples)
    assert path.name == "m--main--bcb-mini-complete--openai-0-1-sanitized_calibrated.manifest.json"
    data = json.loads(path.read_text())
    assert [r["status"] for r in data["runs"]] == ["failed", "complete"]
    assert data["runs"][0]["token_usage"] == {"input_tokens": 0, "output_tokens": 20}
    assert data["dataset"]["content_hash"] == dataset.content_hash and data["bcb_version"]
    assert data["settings"]["base_url"] == "https://h/v1" and "sk-secret" not in path.read_text()
    assert all(r["started"] and r["ended"] for r in data["runs"])
