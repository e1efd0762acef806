"""The local backends (vLLM, transformers) without a GPU: how a run's options become engine
arguments, what prompt text reaches the engine, and how the runner batches for them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

import pytest

from bcb.dataset import load_dataset
from bcb.generation.cache import ResponseCache
from bcb.generation.prompts import DIRECT_COMPLETION_EOS, EOS, RESPONSE_PREFIX, Prompt, build_prompt
from bcb.generation.providers import Completion
from bcb.generation.providers.hf import clean, dtype_argument, generate_kwargs, generated_length
from bcb.generation.providers.vllm import VllmProvider, engine_kwargs, sampling_kwargs
from bcb.generation.runner import GenerationRunner, sampling_for
from bcb.generation.samples import SamplesFile, read_sample_records
from bcb.generation.settings import GenerationSettings, Sampling


class Tokenizer:
    """A stand-in for a Hugging Face tokenizer with (or without) a ChatML chat template."""

    def __init__(self, chat: bool = True) -> None:
        self.chat_template = "chatml" if chat else None

    def apply_chat_template(
        self, conversation: list[dict[str, str]], tokenize: bool = True, add_generation_prompt: bool = False
    ) -> str:
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in conversation)
        return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


class Engine:
    """A stand-in for vllm.LLM: records what it is given, answers with numbered code."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def generate(self, texts: list[str], params: dict[str, Any], use_tqdm: bool = True) -> list[Any]:
        self.calls.append((texts, params))
        outputs = []
        for i, _ in enumerate(texts):
            samples = [
                SimpleNamespace(
                    text=f"def task_func(*a):\n\treturn {i}{j}\n", token_ids=[1, 2, 3], finish_reason="stop"
                )
                for j in range(params["n"])
            ]
            outputs.append(SimpleNamespace(prompt_token_ids=[0] * 10, outputs=samples))
        return outputs


def test_vllm_arguments_follow_the_official_harness(monkeypatch: pytest.MonkeyPatch) -> None:
    greedy = Sampling(temperature=0.0, max_new_tokens=1280, top_p=0.95, stop=EOS)
    assert sampling_kwargs(1, greedy) == {
        "n": 1, "temperature": 0.0, "max_tokens": 1280, "top_p": 1.0, "stop": list(EOS), "skip_special_tokens": False,
    }  # fmt: skip
    sampled = sampling_kwargs(5, Sampling(temperature=0.8, max_new_tokens=512, top_p=0.95, stop=DIRECT_COMPLETION_EOS))
    assert (sampled["n"], sampled["temperature"], sampled["top_p"], sampled["stop"]) == (
        5,
        0.8,
        0.95,
        list(DIRECT_COMPLETION_EOS),
    )

    settings = GenerationSettings(
        model="org/m", backend="vllm", tp=4, revision="r1", trust_remote_code=True, tokenizer_name="org/tok"
    ).checked()
    monkeypatch.delenv("VLLM_N_GPUS", raising=False)
    assert engine_kwargs(settings) == {
        "model": "org/m", "tokenizer": "org/tok", "tensor_parallel_size": 4, "dtype": "bfloat16", "trust_remote_code": True, "revision": "r1",
    }  # fmt: skip
    monkeypatch.setenv("VLLM_N_GPUS", "2")
    assert engine_kwargs(settings)["tensor_parallel_size"] == 2


def test_hf_arguments_and_output_cleaning() -> None:
    greedy = generate_kwargs(1, Sampling(temperature=0.0, max_new_tokens=64, top_p=0.95, stop=EOS), pad_token_id=7)
    assert greedy == {
        "max_new_tokens": 64,
        "do_sample": False,
        "num_return_sequences": 1,
        "pad_token_id": 7,
        "stop_strings": list(EOS),
    }
    sampled = generate_kwargs(3, Sampling(temperature=0.6, max_new_tokens=64, top_p=0.9))
    assert (sampled["do_sample"], sampled["temperature"], sampled["top_p"], sampled["num_return_sequences"]) == (
        True,
        0.6,
        0.9,
        3,
    )
    assert clean("x = 1\n\tpass\nif __name__ == '__main__':\n", EOS) == "x = 1\n    pass"


def test_hf_dtype_argument_and_generated_length() -> None:
    assert [dtype_argument(v) for v in ("4.55.4", "4.56.0", "4.57.0.dev0", "5.25.0")] == [
        "torch_dtype",
        "dtype",
        "dtype",
        "dtype",
    ]
    assert generated_length([5, 6, 7, 0, 0], pad_id=0) == 3  # a finished row is padded after its answer
    assert generated_length([5, 6, 7], pad_id=0) == 3  # a row cut at --max-new-tokens
    assert generated_length([0, 0], pad_id=0) == 0


def test_vllm_chat_model_gets_the_templated_prompt_with_prefill() -> None:
    engine = Engine()
    provider = VllmProvider(engine, Tokenizer(), direct_completion=False, max_batch=8, sampling_params=dict)
    task = load_dataset("bcb-mini").task("2")
    settings = GenerationSettings(model="m", backend="vllm").checked()
    sampling = sampling_for(settings, provider)
    assert sampling.stop == EOS + ("\n```\n",)
    prompt = build_prompt(task, "instruct", prefill=True)
    (answers,) = provider.generate([prompt], 2, sampling)
    ((texts, params),) = engine.calls
    assert texts == [
        f"<|im_start|>user\n{prompt.text}<|im_end|>\n<|im_start|>assistant\n{RESPONSE_PREFIX}\n```python\n"
    ]
    assert params["n"] == 2 and params["stop"] == list(EOS) + ["\n```\n"]
    assert [a.text for a in answers] == ["def task_func(*a):\n    return 00\n", "def task_func(*a):\n    return 01\n"]
    assert answers[0].input_tokens == 10 and answers[1].input_tokens == 0 and answers[0].output_tokens == 3


def test_a_tokenizer_without_chat_template_means_a_base_model() -> None:
    provider = VllmProvider(Engine(), Tokenizer(chat=False), direct_completion=False, max_batch=8, sampling_params=dict)
    assert provider.direct_completion
    settings = GenerationSettings(model="m", backend="vllm").checked()
    assert sampling_for(settings, provider).stop == DIRECT_COMPLETION_EOS
    assert VllmProvider(Engine(), Tokenizer(), direct_completion=True, max_batch=8).direct_completion


class LocalProvider:
    """A batched, template-owning backend (what vllm/hf look like to the runner)."""

    name = "vllm"
    max_batch = 3
    max_n = 1 << 20
    owns_template = True

    def __init__(self, direct_completion: bool = False) -> None:
        self.direct_completion = direct_completion
        self.calls: list[tuple[list[Prompt], int]] = []

    def generate(self, prompts: Sequence[Prompt], n: int, sampling: Sampling) -> list[list[Completion]]:
        self.calls.append((list(prompts), n))
        if self.direct_completion:
            return [[Completion(f"    return {j}\nprint('x')\n") for j in range(n)] for _ in prompts]
        return [
            [Completion(f"import os\ndef task_func(*a):\n    return {j}\n```\n") for j in range(n)] for _ in prompts
        ]

    def close(self) -> None:
        pass


def test_runner_batches_prompts_for_local_engines(tmp_path: Path) -> None:
    tasks = load_dataset("bcb-mini").tasks[:7]
    out = tmp_path / "s.jsonl"
    # Two tasks already have one of their two samples: they form their own batch with n=1.
    seed = SamplesFile(out, resume=True)
    from bcb.generation.samples import Sample

    for task in tasks[:2]:
        seed.append(Sample(task_id=task.task_id, index=0, solution="s", raw_solution="r"))
    seed.close()
    settings = GenerationSettings(model="m", backend="vllm", n_samples=2, temperature=0.8).checked()
    provider = LocalProvider()
    samples = SamplesFile(out, resume=True)
    cache = ResponseCache(tmp_path / "c.sqlite3")
    stats = GenerationRunner(settings, provider, cache, samples).run(tasks)
    samples.close()
    assert sorted((len(p), n) for p, n in provider.calls) == [(2, 1), (2, 2), (3, 2)]
    assert all(p.prefill == f"{RESPONSE_PREFIX}\n```python\n" for prompts, _ in provider.calls for p in prompts)
    assert stats.generated == 12 and stats.already_written == 2 and len(read_sample_records(out)) == 14


def test_runner_direct_completion_joins_prompt_and_continuation(tmp_path: Path) -> None:
    from bcb.generation.sanitize import sanitize

    task = load_dataset("bcb-mini").tasks[0]
    settings = GenerationSettings(model="m", backend="vllm").checked()
    provider = LocalProvider(direct_completion=True)
    samples = SamplesFile(tmp_path / "s.jsonl", resume=True)
    GenerationRunner(settings, provider, ResponseCache(tmp_path / "c.sqlite3"), samples).run([task])
    samples.close()
    (((prompt,), _),) = provider.calls
    assert prompt == Prompt(task.complete_prompt, chat=False)
    (sample,) = [r.fields for r in read_sample_records(tmp_path / "s.jsonl")]
    assert sample["raw_solution"] == task.complete_prompt + "    return 0"
    assert sample["solution"] == sanitize(sample["raw_solution"], "task_func")
