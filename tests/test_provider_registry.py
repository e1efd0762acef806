"""A provider declared in one place: registered here, from the test, and nowhere else, it is a
`bcb generate --backend` choice with its own key variable, stops, options and install hint."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import ClassVar, Iterator, Sequence

import pytest
from typer.testing import CliRunner

from bcb.cli import app
from bcb.generation.errors import GenerationError
from bcb.generation.manifest import manifest_path
from bcb.generation.prompts import Prompt
from bcb.generation.providers import Completion, api_key
from bcb.generation.registry import ProviderSpec, provider_names, register, unregister
from bcb.generation.settings import GenerationSettings, Sampling

MINI_TASKS = 32
KEY_ENV = "TINY_PROVIDER_KEY"
STOPS = ("\n# tiny stop",)


class TinyProvider:
    """Answers each prompt with a program that returns how many characters the prompt had."""

    name = "tiny"
    max_batch = 1
    max_n = 1
    owns_template = False
    direct_completion = False
    calls: ClassVar[list[tuple[str, Sampling]]] = []
    lock = threading.Lock()

    def __init__(self, settings: GenerationSettings) -> None:
        self.key = api_key("tiny", settings, required=True)

    def generate(self, prompts: Sequence[Prompt], n: int, sampling: Sampling) -> list[list[Completion]]:
        out = []
        for prompt in prompts:
            with self.lock:
                self.calls.append((prompt.text, sampling))
            text = f"```python\ndef task_func(*args, **kwargs):\n    return {len(prompt.text)}\n```{STOPS[0]}\ntrailing"
            out.append(
                [Completion(text=text, input_tokens=len(prompt.text.split()), output_tokens=7, finish_reason="stop")]
            )
        return out

    def close(self) -> None:
        pass


def preflight(settings: GenerationSettings) -> None:
    api_key("tiny", settings, required=True)


def check(settings: GenerationSettings) -> None:
    if settings.model == "refused":
        raise GenerationError("the tiny backend refuses the model 'refused'")


@pytest.fixture
def tiny() -> Iterator[ProviderSpec]:
    TinyProvider.calls = []
    spec = register(
        ProviderSpec(
            name="tiny",
            build=TinyProvider,
            api=True,
            key_env=KEY_ENV,
            stops=STOPS,
            options=("thinking_budget",),
            check=check,
            preflight=preflight,
        )
    )
    yield spec
    unregister("tiny")


def generate(root: Path, *args: str, key: str | None = "k-tiny"):  # type: ignore[no-untyped-def]
    env = {"COLUMNS": "200", "NO_COLOR": "1", KEY_ENV: key}
    return CliRunner().invoke(
        app, ["generate", "--model", "org/tiny-model", "--dataset", "bcb-mini", "--root", str(root), *args], env=env
    )


def test_a_provider_registered_in_one_place_runs_bcb_generate_end_to_end(tiny: ProviderSpec, tmp_path: Path) -> None:
    assert provider_names()[:4] == ("openai", "anthropic", "vllm", "hf") and provider_names()[-1] == "tiny"
    root = tmp_path / "results"

    missing = generate(root, "--backend", "tiny", key=None)
    assert missing.exit_code != 0
    assert missing.output.strip() == f"error: the tiny backend needs an API key: set the environment variable {KEY_ENV}"
    assert not root.exists() and TinyProvider.calls == []

    result = generate(root, "--backend", "tiny", "--split", "instruct")
    assert result.exit_code == 0, result.output
    path = root / "org--tiny-model--main--bcb-mini-instruct--tiny-0-1-sanitized_calibrated.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == MINI_TASKS == len(TinyProvider.calls)
    prompts = {text for text, _ in TinyProvider.calls}
    assert len(prompts) == MINI_TASKS  # each task's own instruct prompt
    for record in records:
        assert record["solution"].startswith("def task_func(*args, **kwargs):\n    return ")
        assert "trailing" not in record["solution"]
    # The runner sent the stops this provider declared, and counted its tokens.
    assert {sampling.stop for _, sampling in TinyProvider.calls} == {STOPS}
    assert f"{7 * MINI_TASKS:,} output tokens" in result.output
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["settings"]["backend"] == "tiny"

    again = generate(root, "--backend", "tiny", "--split", "instruct", "--no-resume")
    assert again.exit_code == 0, again.output
    assert len(TinyProvider.calls) == MINI_TASKS, "a rerun is answered from the cache, keyed by the provider's name"
    assert f"{MINI_TASKS} from the cache" in again.output


def test_the_registry_drives_choices_options_checks_and_install_hints(tiny: ProviderSpec, tmp_path: Path) -> None:
    unknown = generate(tmp_path, "--backend", "nope")
    assert unknown.output.strip() == "error: unknown backend 'nope': choose one of openai, anthropic, vllm, hf, tiny"
    # An option the provider declares is its own; another provider's is refused, naming both.
    settings = GenerationSettings(model="m", backend="tiny", thinking_budget=5, max_new_tokens=9).checked()
    assert settings.thinking_budget == 5  # anthropic's own bounds are anthropic's check, not the tiny one's
    with pytest.raises(
        GenerationError,
        match=r"^--reasoning-effort is an option of the openai backend; for tiny use --thinking-budget$",
    ):
        GenerationSettings(model="m", backend="tiny", reasoning_effort="low").checked()
    with pytest.raises(GenerationError, match="--thinking-budget is an option of the anthropic and tiny backends"):
        GenerationSettings(model="m", backend="openai", thinking_budget=2048).checked()
    refused = generate(tmp_path, "--backend", "tiny", "--model", "refused")
    assert refused.output.strip() == "error: the tiny backend refuses the model 'refused'"
    with pytest.raises(GenerationError, match="already registered"):
        register(ProviderSpec(name="tiny", build=TinyProvider))


def test_a_provider_without_its_library_names_what_to_install(tmp_path: Path) -> None:
    register(ProviderSpec(name="needs-lib", build=TinyProvider, libraries=("bcb_no_such_library_xyz",)))
    try:
        result = generate(tmp_path, "--backend", "needs-lib")
        assert result.exit_code != 0
        assert result.output.strip() == (
            "error: the needs-lib backend needs the bcb_no_such_library_xyz package "
            "(No module named 'bcb_no_such_library_xyz'): pip install bcb_no_such_library_xyz"
        )
    finally:
        unregister("needs-lib")
    assert "needs-lib" not in provider_names()
