"""The real openai and anthropic client libraries against a real HTTP server on loopback: what is
sent, how failures are retried, and what the cache saves."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

pytest.importorskip("openai")
pytest.importorskip("anthropic")

from bcb.dataset import Task, load_dataset
from bcb.generation.cache import ResponseCache
from bcb.generation.errors import GenerationError
from bcb.generation.manifest import RunStats
from bcb.generation.prompts import DIRECT_COMPLETION_EOS, EOS, build_prompt
from bcb.generation.providers import make_provider
from bcb.generation.retry import RetryPolicy
from bcb.generation.runner import GenerationRunner
from bcb.generation.samples import SamplesFile, read_sample_records
from bcb.generation.settings import GenerationSettings
from generation_server import Action, FakeLLMServer, answer_text, continuation_text

FAST = RetryPolicy(max_retries=4, base=0.01, cap=0.05)


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    fake = FakeLLMServer().start()
    yield fake
    fake.stop()


@pytest.fixture
def tasks() -> tuple[Task, ...]:
    return load_dataset("bcb-mini").tasks


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def generate(
    settings: GenerationSettings,
    tasks: tuple[Task, ...] | list[Task],
    out: Path,
    *,
    resume: bool = True,
    read_cache: bool = True,
    policy: RetryPolicy = FAST,
) -> tuple[RunStats, list[dict[str, str]]]:
    settings = settings.checked()
    provider = make_provider(settings)
    cache = ResponseCache()
    samples = SamplesFile(out, resume=resume)
    try:
        stats = GenerationRunner(settings, provider, cache, samples, read_cache=read_cache, policy=policy).run(tasks)
    finally:
        samples.close()
        cache.close()
        provider.close()
    return stats, [r.fields for r in read_sample_records(out)]


def openai_settings(server: FakeLLMServer, **changes: Any) -> GenerationSettings:
    return GenerationSettings(
        **{"model": "test-model", "backend": "openai", "base_url": server.url + "/v1", "concurrency": 4, **changes}
    )


def anthropic_settings(server: FakeLLMServer, **changes: Any) -> GenerationSettings:
    return GenerationSettings(
        **{"model": "claude-test", "backend": "anthropic", "base_url": server.url, "concurrency": 4, **changes}
    )


# ---------------------------------------------------------------------------------------------
# OpenAI-compatible


def test_openai_chat_sends_the_official_prompt_alone(
    server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path
) -> None:
    from bcb.generation.sanitize import sanitize

    chosen = tasks[:3]
    stats, samples = generate(openai_settings(server), chosen, tmp_path / "s.jsonl")
    assert server.paths() == ["/v1/chat/completions"] * 3
    bodies = {r.body["messages"][0]["content"]: r for r in server.requests}
    for task in chosen:
        seen = bodies[build_prompt(task, "complete").text]
        assert seen.body["messages"] == [{"role": "user", "content": build_prompt(task, "complete").text}]
        assert seen.body["temperature"] == 0 and seen.body["top_p"] == 0.95 and seen.body["max_tokens"] == 1280
        assert "n" not in seen.body and "stop" not in seen.body
        assert seen.headers["authorization"] == "Bearer sk-test-openai"
        assert seen.headers.get("x-stainless-retry-count", "0") == "0"
    assert sorted(s["task_id"] for s in samples) == sorted(t.task_id for t in chosen)
    answers = {answer_text(k) for k in range(3)}
    for sample in samples:
        assert set(sample) == {"task_id", "solution", "raw_solution"}
        assert sample["raw_solution"] in answers
        assert sample["solution"] == sanitize(sample["raw_solution"], "task_func")
        assert "Here is the solution" not in sample["solution"] and "def task_func" in sample["solution"]
    assert (stats.generated, stats.cached, stats.requests, stats.output_tokens) == (3, 0, 3, 30)


def test_openai_samples_n_per_request_and_asks_again_when_a_server_ignores_n(
    server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path
) -> None:
    chosen = tasks[:2]
    settings = openai_settings(server, n_samples=3, temperature=0.8)
    _, samples = generate(settings, chosen, tmp_path / "a.jsonl")
    assert len(server.requests) == 2 and all(r.body["n"] == 3 and r.body["temperature"] == 0.8 for r in server.requests)
    assert len(samples) == 6 and len({s["raw_solution"] for s in samples}) == 6

    server.requests.clear()
    server.ignore_n = True
    stats, samples = generate(
        settings.__class__(**{**settings.__dict__, "model": "other-model"}), chosen, tmp_path / "b.jsonl"
    )
    assert len(server.requests) == 6  # 3 asked, 1 answered; then 2, then 1
    assert [
        r.body.get("n", 1) for r in server.requests if r.body["messages"] == server.requests[0].body["messages"]
    ] == [3, 2, 1]
    assert len(samples) == 6 and stats.generated == 6


def test_openai_direct_completion_uses_the_completions_api(
    server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path
) -> None:
    from bcb.generation.sanitize import sanitize

    task = tasks[0]
    _, samples = generate(openai_settings(server, direct_completion=True), [task], tmp_path / "s.jsonl")
    (seen,) = server.requests
    assert seen.path == "/v1/completions"
    assert seen.body["prompt"] == task.complete_prompt and seen.body["stop"] == list(DIRECT_COMPLETION_EOS)
    assert seen.body["max_tokens"] == 1280 and "messages" not in seen.body
    (sample,) = samples
    # As officially: the prompt plus the continuation, cut at the first stop, then sanitized.
    assert sample["raw_solution"] == task.complete_prompt + continuation_text(0).split("\ndef ")[0]
    assert sample["solution"] == sanitize(sample["raw_solution"], task.entry_point)


def test_reasoning_is_cached_but_never_part_of_the_answer(
    server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path, isolated_cache: Path
) -> None:
    stats, samples = generate(openai_settings(server, model="deepseek-reasoner"), tasks[:1], tmp_path / "s.jsonl")
    assert "thinking about" not in json.dumps(samples)
    assert stats.reasoning_samples == 1
    rows = (
        sqlite3.connect(isolated_cache / "generations.sqlite3").execute("SELECT reasoning FROM completions").fetchall()
    )
    assert rows == [("thinking about sample 0",)]


def test_reasoning_effort_replaces_temperature(server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path) -> None:
    generate(openai_settings(server, reasoning_effort="high"), tasks[:1], tmp_path / "s.jsonl")
    (seen,) = server.requests
    assert seen.body["reasoning_effort"] == "high"
    assert "temperature" not in seen.body and "top_p" not in seen.body


def test_429_waits_as_long_as_retry_after_says(server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path) -> None:
    server.then(Action(429, headers={"retry-after": "1"}))
    stats, samples = generate(openai_settings(server), tasks[:1], tmp_path / "s.jsonl")
    first, second = server.requests
    assert second.at - first.at >= 0.95  # the policy's own backoff would have been ~0.01 s
    assert stats.retries == 1 and stats.requests == 2 and len(samples) == 1


def test_500s_are_retried_with_backoff(server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path) -> None:
    server.then(Action(500), Action(503))
    stats, samples = generate(openai_settings(server, concurrency=1), tasks[:1], tmp_path / "s.jsonl")
    assert len(server.requests) == 3 and stats.retries == 2 and len(samples) == 1


def test_a_response_slower_than_the_timeout_is_retried(
    server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path
) -> None:
    server.then(Action(sleep=2.0))
    started = time.monotonic()
    stats, samples = generate(openai_settings(server, timeout=0.5), tasks[:1], tmp_path / "s.jsonl")
    assert time.monotonic() - started < 1.9  # the client gave up on the slow answer and asked again
    assert len(server.requests) == 2 and stats.retries == 1 and len(samples) == 1


def test_exhausted_retries_end_the_run_and_keep_what_arrived(
    server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path
) -> None:
    server.then(Action(200), Action(500), Action(500))
    out = tmp_path / "s.jsonl"
    with pytest.raises(GenerationError, match="HTTP 500") as info:
        generate(openai_settings(server, concurrency=1), tasks[:3], out, policy=RetryPolicy(max_retries=1, base=0.01))
    assert "\n" not in str(info.value)
    assert [s["task_id"] for s in (r.fields for r in read_sample_records(out))] == [tasks[0].task_id]
    assert len(server.requests) == 3  # nothing sent after the failure


def test_a_client_error_is_not_retried(server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path) -> None:
    server.then(Action(400))
    with pytest.raises(GenerationError, match="HTTP 400: injected HTTP 400"):
        generate(openai_settings(server, concurrency=1), tasks[:3], tmp_path / "s.jsonl")
    assert len(server.requests) == 1


def test_an_unreachable_server_fails_at_once(tasks: tuple[Task, ...], tmp_path: Path) -> None:
    closed = FakeLLMServer()
    url = closed.url + "/v1"
    closed.httpd.server_close()  # the port was bound, and is now closed: connections are refused
    started = time.monotonic()
    with pytest.raises(GenerationError, match=f"cannot reach {url}"):
        generate(
            GenerationSettings(model="m", backend="openai", base_url=url),
            tasks[:2],
            tmp_path / "s.jsonl",
            policy=RetryPolicy(),
        )
    assert time.monotonic() - started < 5


def test_a_rerun_is_answered_by_the_cache(server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path) -> None:
    settings = openai_settings(server, n_samples=2, temperature=0.5)
    first_stats, first = generate(settings, tasks[:4], tmp_path / "s.jsonl")
    sent = len(server.requests)
    assert first_stats.generated == 8 and sent == 4
    stats, again = generate(settings, tasks[:4], tmp_path / "s.jsonl", resume=False)
    assert len(server.requests) == sent  # no second request
    assert stats.cached == 8 and stats.generated == 0 and stats.output_tokens == 0
    assert sorted((s["task_id"], s["raw_solution"]) for s in again) == sorted(
        (s["task_id"], s["raw_solution"]) for s in first
    )

    # Another URL for the same model is still the same answers; other parameters are not.
    generate(
        settings.__class__(**{**settings.__dict__, "base_url": server.url.replace("127.0.0.1", "localhost") + "/v1"}),
        tasks[:4],
        tmp_path / "t.jsonl",
    )
    assert len(server.requests) == sent
    generate(settings.__class__(**{**settings.__dict__, "max_new_tokens": 100}), tasks[:1], tmp_path / "u.jsonl")
    assert len(server.requests) == sent + 1
    stats, _ = generate(settings, tasks[:1], tmp_path / "v.jsonl", read_cache=False)
    assert stats.generated == 2 and len(server.requests) == sent + 2


def test_samples_of_a_task_are_written_in_index_order(
    server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path
) -> None:
    from bcb.generation.cache import cache_key
    from bcb.generation.runner import sampling_for

    settings = anthropic_settings(server, n_samples=4, temperature=1.0, concurrency=4).checked()
    server.then(Action(sleep=0.6), Action(sleep=0.4), Action(sleep=0.2))  # the first requests in answer last
    _, samples = generate(settings, tasks[:1], tmp_path / "s.jsonl")
    arrival = [int(s.split("return ")[1].split("\n")[0]) for s in (x["raw_solution"] for x in samples)]
    assert sorted(arrival) == [0, 1, 2, 3]
    # Whatever order the answers came in, line i of the task is sample i (the cache knows which is which).
    provider = make_provider(settings)
    params = {
        **sampling_for(settings, provider).key(),
        "direct_completion": False,
        "revision": "main",
        "tokenizer": None,
    }
    prompt = build_prompt(tasks[0], "complete")
    cache = ResponseCache()
    expected = [cache.get(cache_key("anthropic", settings.model, params, prompt, i)) for i in range(4)]
    assert [c.text if c else None for c in expected] == [s["raw_solution"] for s in samples]


# ---------------------------------------------------------------------------------------------
# Anthropic


def test_anthropic_sends_the_official_request(server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path) -> None:
    chosen = tasks[:2]
    stats, samples = generate(
        anthropic_settings(server, n_samples=2, temperature=0.7, split="instruct"), chosen, tmp_path / "s.jsonl"
    )
    assert server.paths() == ["/v1/messages"] * 4  # no n in this API: one request per sample
    for seen in server.requests:
        key = seen.headers.get("x-api-key") or seen.headers.get("authorization", "").removeprefix("Bearer ")
        assert key == "sk-ant-test" and "anthropic-version" in seen.headers
        assert seen.body["stop_sequences"] == list(EOS) and seen.body["temperature"] == 0.7
        assert seen.body["max_tokens"] == 1280 and "top_p" not in seen.body and "thinking" not in seen.body
    sent = sorted(r.body["messages"][0]["content"] for r in server.requests)
    assert sent == sorted([build_prompt(t, "instruct").text for t in chosen] * 2)
    assert all(len(r.body["messages"]) == 1 for r in server.requests)
    assert len(samples) == 4 and stats.input_tokens == 4 * 120 and stats.output_tokens == 4 * 12


def test_anthropic_thinking_budget_and_reasoning_kept_apart(
    server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path, isolated_cache: Path
) -> None:
    stats, samples = generate(
        anthropic_settings(server, thinking_budget=2048, max_new_tokens=4096), tasks[:1], tmp_path / "s.jsonl"
    )
    (seen,) = server.requests
    assert seen.body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert "temperature" not in seen.body and seen.body["max_tokens"] == 4096
    assert samples[0]["raw_solution"] == answer_text(0) and stats.reasoning_samples == 1
    rows = (
        sqlite3.connect(isolated_cache / "generations.sqlite3").execute("SELECT reasoning FROM completions").fetchall()
    )
    assert rows == [("careful thoughts 0",)]


def test_anthropic_retries_429_and_overload(server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path) -> None:
    server.then(Action(429, headers={"retry-after": "1"}), Action(529))
    stats, samples = generate(anthropic_settings(server, concurrency=1), tasks[:1], tmp_path / "s.jsonl")
    first, second, _ = server.requests
    assert second.at - first.at >= 0.95
    assert stats.retries == 2 and len(samples) == 1


def test_anthropic_slow_answer_is_retried(server: FakeLLMServer, tasks: tuple[Task, ...], tmp_path: Path) -> None:
    server.then(Action(sleep=2.0))
    stats, samples = generate(anthropic_settings(server, timeout=0.5), tasks[:1], tmp_path / "s.jsonl")
    assert len(server.requests) == 2 and stats.retries == 1 and len(samples) == 1
