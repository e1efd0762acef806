"""The hf backend on a real, tiny, randomly initialised causal LM built here (no hub, no GPU):
answers are text, output tokens are counted, and the model loads without transformers'
`torch_dtype` deprecation warning.

Needs bcb[hf] (transformers, torch, accelerate), which the normal CI does not install: there
these tests skip, saying so."""

from __future__ import annotations

import importlib.util
import json
import logging
import warnings
from pathlib import Path
from typing import Iterator

import pytest

MISSING = [name for name in ("transformers", "torch", "accelerate") if importlib.util.find_spec(name) is None]
if MISSING:
    pytest.skip(f"needs {', '.join(MISSING)} (pip install 'bcb[hf]'), not installed here", allow_module_level=True)

from typer.testing import CliRunner  # noqa: E402

from bcb.cli import app  # noqa: E402
from bcb.dataset import load_dataset  # noqa: E402
from bcb.generation.providers import make_provider  # noqa: E402
from bcb.generation.runner import prompt_for, sampling_for  # noqa: E402
from bcb.generation.settings import GenerationSettings  # noqa: E402

MAX_NEW_TOKENS = 12
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A byte-level BPE tokenizer trained on a few lines, with a chat template, and a two-layer
    Llama of width 32. The end-of-sequence token is suppressed, so every answer is
    MAX_NEW_TOKENS long however the random weights fall."""
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    path = tmp_path_factory.mktemp("tiny-llm")
    corpus = [
        "import numpy as np\nimport pandas as pd\n",
        "def task_func(x):\n    return x + 1\n",
        "Write a self-contained function.",
    ] * 10
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus, trainer)
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(path)
    eos = tokenizer.eos_token_id
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, max_position_embeddings=4096, bos_token_id=eos, eos_token_id=eos, pad_token_id=eos,
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config)
    model.generation_config.suppress_tokens = [eos]
    model.save_pretrained(path)
    return path


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def transformers_log() -> Iterator[Records]:
    """What transformers logs (its own logger does not propagate to pytest's caplog)."""
    handler = Records()
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_hf_answers_count_their_tokens_and_load_without_deprecated_arguments(
    tiny_model: Path, transformers_log: Records
) -> None:
    settings = GenerationSettings(
        model=str(tiny_model), backend="hf", max_new_tokens=MAX_NEW_TOKENS, batch_size=2, n_samples=2, temperature=0.8
    ).checked()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        provider = make_provider(settings)
    said = transformers_log.messages + [str(w.message) for w in caught]
    assert not [m for m in said if "torch_dtype" in m], said
    assert not provider.direct_completion  # the chat template makes it a chat model: prompts are prefilled
    assert str(provider.model.dtype) == "torch.bfloat16"  # type: ignore[attr-defined]  # the dtype argument was understood

    tasks = load_dataset("bcb-mini").tasks[:2]
    prompts = [prompt_for(task, settings, provider) for task in tasks]
    answers = provider.generate(prompts, 2, sampling_for(settings, provider))
    assert [len(a) for a in answers] == [2, 2]
    tokenizer = provider.tokenizer  # type: ignore[attr-defined]
    for prompt, completions in zip(prompts, answers):
        prompt_tokens = len(tokenizer(provider.render(prompt))["input_ids"])  # type: ignore[attr-defined]
        assert [c.input_tokens for c in completions] == [
            prompt_tokens,
            0,
        ]  # the prompt's own, not the padded batch width
        for completion in completions:
            assert completion.text.strip()
            assert completion.output_tokens == MAX_NEW_TOKENS and completion.finish_reason == "length"


def test_bcb_generate_with_hf_reports_the_output_tokens(
    tiny_model: Path, tmp_path: Path, transformers_log: Records
) -> None:
    root = tmp_path / "results"
    args = [
        "generate",
        "--backend",
        "hf",
        "--model",
        str(tiny_model),
        "--dataset",
        "bcb-mini",
        "--id-range",
        "0-3",
        "--root",
        str(root),
    ]
    result = CliRunner().invoke(
        app, [*args, "--max-new-tokens", str(MAX_NEW_TOKENS), "--bs", "2"], env={"COLUMNS": "300", "NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    (path,) = root.glob("*--hf-0-1-sanitized_calibrated.jsonl")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == 3 and all(r["raw_solution"].strip() for r in records)
    assert f"{3 * MAX_NEW_TOKENS:,} output tokens" in result.output
    assert not [m for m in transformers_log.messages if "torch_dtype" in m]


def test_a_model_that_cannot_be_loaded_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    for model in (str(empty), "/nonexistent/model"):
        args = [
            "generate",
            "--backend",
            "hf",
            "--model",
            model,
            "--dataset",
            "bcb-mini",
            "--id-range",
            "0-1",
            "--root",
            str(tmp_path / "r"),
        ]
        result = CliRunner().invoke(app, args, env={"COLUMNS": "300", "NO_COLOR": "1", "HF_HUB_OFFLINE": "1"})
        assert result.exit_code != 0
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: cannot load {model} with transformers: "), result.output
    assert not (tmp_path / "r").exists()
