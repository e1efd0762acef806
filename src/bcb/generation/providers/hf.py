"""Hugging Face transformers on local hardware: the fallback when vLLM is not available.

Thin on purpose (see vllm.py): argument mapping and output cutting are plain functions.
"""

from __future__ import annotations

from typing import Any, Sequence

from bcb.generation.prompts import EOS, Prompt, render_chat, truncate_at_stop
from bcb.generation.providers import Completion, require
from bcb.generation.registry import ProviderSpec, register
from bcb.generation.settings import GenerationSettings, Sampling

DEFAULT_BATCH = 8


def generate_kwargs(n: int, sampling: Sampling, *, pad_token_id: Any = None) -> dict[str, Any]:
    """model.generate() arguments besides the inputs: greedy unless the temperature is positive,
    then nucleus sampling at the official top_p."""
    kwargs: dict[str, Any] = {
        "max_new_tokens": sampling.max_new_tokens,
        "do_sample": sampling.temperature > 0,
        "num_return_sequences": n,
        "pad_token_id": pad_token_id,
        "stop_strings": list(sampling.stop),
    }
    if sampling.temperature > 0:
        kwargs["temperature"] = sampling.temperature
        kwargs["top_p"] = sampling.top_p or 1.0
    return kwargs


def clean(text: str, stops: tuple[str, ...]) -> str:
    """transformers stops after a stop string but keeps it: cut there, and tabs become spaces."""
    return truncate_at_stop(text, stops).replace("\t", "    ")


class HFProvider:
    name = "hf"
    owns_template = True
    max_n = 1 << 20

    def __init__(self, model: Any, tokenizer: Any, *, direct_completion: bool, max_batch: int) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_batch = max_batch
        self.direct_completion = direct_completion or getattr(tokenizer, "chat_template", None) is None

    @classmethod
    def from_settings(cls, settings: GenerationSettings) -> HFProvider:
        transformers = require("hf")
        import torch  # type: ignore[import-not-found,unused-ignore]  # optional: bcb[hf]

        tokenizer = transformers.AutoTokenizer.from_pretrained(
            settings.tokenizer_name or settings.model,
            use_fast=False,
            legacy=settings.tokenizer_legacy,
            revision=settings.revision,
            trust_remote_code=settings.trust_remote_code,
        )
        tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"  # decoder-only: pad on the left so every prompt ends at the same place
        model = transformers.AutoModelForCausalLM.from_pretrained(
            settings.model,
            device_map="auto",
            torch_dtype=torch.bfloat16,
            trust_remote_code=settings.trust_remote_code,
            revision=settings.revision,
        )
        return cls(model, tokenizer, direct_completion=settings.direct_completion, max_batch=settings.batch_size or DEFAULT_BATCH)

    def render(self, prompt: Prompt) -> str:
        return render_chat(self.tokenizer, prompt)

    def generate(self, prompts: Sequence[Prompt], n: int, sampling: Sampling) -> list[list[Completion]]:
        import torch

        inputs = self.tokenizer([self.render(p) for p in prompts], return_tensors="pt", padding=True).to(self.model.device)
        width = inputs["input_ids"].shape[-1]
        with torch.inference_mode():
            output = self.model.generate(
                **inputs, tokenizer=self.tokenizer, **generate_kwargs(n, sampling, pad_token_id=self.tokenizer.eos_token_id)
            )
        texts = self.tokenizer.batch_decode(output[:, width:], skip_special_tokens=True)
        result = []
        for i in range(len(prompts)):
            chunk = texts[i * n : (i + 1) * n]
            result.append([Completion(text=clean(t, sampling.stop), input_tokens=width if j == 0 else 0) for j, t in enumerate(chunk)])
        return result

    def close(self) -> None:
        pass


PROVIDER = register(
    ProviderSpec(
        name="hf",
        build=HFProvider.from_settings,
        libraries=("transformers", "torch"),
        extra="hf",
        default_batch=DEFAULT_BATCH,
        stops=EOS,
    )
)
