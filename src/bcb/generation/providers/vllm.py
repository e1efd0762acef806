"""vLLM's offline engine on local GPUs: all prompts of a batch in one call, tensor parallel.

Thin on purpose: it cannot run without a GPU, so what can go wrong without one (prompt assembly,
argument mapping) lives in plain functions the tests reach.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from bcb.generation.prompts import EOS, Prompt, render_chat
from bcb.generation.providers import Completion, require
from bcb.generation.registry import ProviderSpec, register
from bcb.generation.settings import GenerationSettings, Sampling

DEFAULT_BATCH = 256


def sampling_kwargs(n: int, sampling: Sampling) -> dict[str, Any]:
    """vllm.SamplingParams arguments, as the official harness sets them: nucleus sampling only
    when sampling, special tokens kept in the text."""
    return {
        "n": n,
        "temperature": sampling.temperature,
        "max_tokens": sampling.max_new_tokens,
        "top_p": (sampling.top_p or 1.0) if sampling.temperature > 0 else 1.0,
        "stop": list(sampling.stop),
        "skip_special_tokens": False,
    }


def engine_kwargs(settings: GenerationSettings) -> dict[str, Any]:
    """vllm.LLM arguments. VLLM_N_GPUS overrides --tp, as in the official harness."""
    return {
        "model": settings.model,
        "tokenizer": settings.tokenizer_name or settings.model,
        "tensor_parallel_size": int(os.environ.get("VLLM_N_GPUS", settings.tp)),
        "dtype": "bfloat16",
        "trust_remote_code": settings.trust_remote_code,
        "revision": settings.revision,
    }


class VllmProvider:
    name = "vllm"
    owns_template = True
    max_n = 1 << 20

    def __init__(
        self, llm: Any, tokenizer: Any, *, direct_completion: bool, max_batch: int, sampling_params: Any = None
    ) -> None:
        self.llm = llm
        self.tokenizer = tokenizer
        self.max_batch = max_batch
        self.sampling_params = sampling_params  # vllm.SamplingParams; a parameter so tests can run without vllm
        # A tokenizer without a chat template marks a base model, as in the official harness.
        self.direct_completion = direct_completion or getattr(tokenizer, "chat_template", None) is None

    @classmethod
    def from_settings(cls, settings: GenerationSettings) -> VllmProvider:
        vllm = require("vllm")
        from transformers import AutoTokenizer  # type: ignore[import-not-found,unused-ignore]  # optional: bcb[vllm]

        tokenizer = AutoTokenizer.from_pretrained(
            settings.tokenizer_name or settings.model,
            revision=settings.revision,
            trust_remote_code=settings.trust_remote_code,
            legacy=settings.tokenizer_legacy,
        )
        llm = vllm.LLM(**engine_kwargs(settings))
        llm.set_tokenizer(tokenizer)
        return cls(
            llm,
            tokenizer,
            direct_completion=settings.direct_completion,
            max_batch=settings.batch_size or DEFAULT_BATCH,
            sampling_params=vllm.SamplingParams,
        )

    def render(self, prompt: Prompt) -> str:
        return render_chat(self.tokenizer, prompt)

    def generate(self, prompts: Sequence[Prompt], n: int, sampling: Sampling) -> list[list[Completion]]:
        params = self.sampling_params(**sampling_kwargs(n, sampling))
        outputs = self.llm.generate([self.render(p) for p in prompts], params, use_tqdm=False)
        return [completions(output) for output in outputs]

    def close(self) -> None:
        pass


def completions(output: Any) -> list[Completion]:
    """One vLLM RequestOutput as Completions (tabs become four spaces, as officially)."""
    prompt_tokens = len(getattr(output, "prompt_token_ids", None) or [])
    return [
        Completion(
            text=o.text.replace("\t", "    "),
            input_tokens=prompt_tokens if i == 0 else 0,
            output_tokens=len(getattr(o, "token_ids", None) or []),
            finish_reason=getattr(o, "finish_reason", None),
        )
        for i, o in enumerate(output.outputs)
    ]


PROVIDER = register(
    ProviderSpec(
        name="vllm",
        build=VllmProvider.from_settings,
        libraries=("vllm",),
        extra="vllm",
        default_batch=DEFAULT_BATCH,
        stops=EOS,
    )
)
