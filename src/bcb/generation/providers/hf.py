"""Hugging Face transformers on local hardware: the fallback when vLLM is not available.

Thin on purpose (see vllm.py): argument mapping and output cutting are plain functions.
"""

from __future__ import annotations

from typing import Any, Sequence

from bcb.errors import one_line
from bcb.generation.errors import GenerationError
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


def dtype_argument(version: str) -> str:
    """transformers 4.56 renamed from_pretrained's `torch_dtype` to `dtype` and warns on the old
    name; older releases know only the old one."""
    from packaging.version import Version

    return "dtype" if Version(version).release >= (4, 56) else "torch_dtype"


def generated_length(row: Sequence[int], pad_id: Any) -> int:
    """The tokens one output row generated: transformers pads a finished row with the pad token
    (here the end-of-sequence token, as officially), so the answer ends at the first one, which
    is not counted."""
    for i, token in enumerate(row):
        if token == pad_id:
            return i
    return len(row)


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

        # A wrong name or path, a missing file, a model transformers does not know: one line, not a traceback.
        try:
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
                **{dtype_argument(transformers.__version__): torch.bfloat16},
                trust_remote_code=settings.trust_remote_code,
                revision=settings.revision,
            )
        except (OSError, ValueError) as exc:
            raise GenerationError(f"cannot load {settings.model} with transformers: {one_line(str(exc))}") from None
        return cls(
            model,
            tokenizer,
            direct_completion=settings.direct_completion,
            max_batch=settings.batch_size or DEFAULT_BATCH,
        )

    def render(self, prompt: Prompt) -> str:
        return render_chat(self.tokenizer, prompt)

    def generate(self, prompts: Sequence[Prompt], n: int, sampling: Sampling) -> list[list[Completion]]:
        import torch

        inputs = self.tokenizer([self.render(p) for p in prompts], return_tensors="pt", padding=True).to(
            self.model.device
        )
        width = inputs["input_ids"].shape[-1]
        pad_id = self.tokenizer.eos_token_id
        with torch.inference_mode():
            # Only what a causal LM reads: some tokenizers add token_type_ids, which generate() rejects.
            output = self.model.generate(
                input_ids=inputs["input_ids"],
                attention_mask=inputs["attention_mask"],
                tokenizer=self.tokenizer,
                **generate_kwargs(n, sampling, pad_token_id=pad_id),
            )
        answers = output[:, width:]
        texts = self.tokenizer.batch_decode(answers, skip_special_tokens=True)
        lengths = [generated_length(row, pad_id) for row in answers.tolist()]
        prompt_lengths = inputs["attention_mask"].sum(dim=-1).tolist()  # without the left padding
        result = []
        for i in range(len(prompts)):
            result.append(
                [
                    Completion(
                        text=clean(texts[k], sampling.stop),
                        input_tokens=int(prompt_lengths[i]) if j == 0 else 0,
                        output_tokens=lengths[k],
                        finish_reason="length" if lengths[k] >= sampling.max_new_tokens else "stop",
                    )
                    for j, k in enumerate(range(i * n, (i + 1) * n))
                ]
            )
        return result

    def close(self) -> None:
        pass


PROVIDER = register(
    ProviderSpec(
        name="hf",
        build=HFProvider.from_settings,
        libraries=("transformers", "torch", "accelerate"),  # accelerate places the model (device_map="auto")
        extra="hf",
        default_batch=DEFAULT_BATCH,
        stops=EOS,
    )
)
