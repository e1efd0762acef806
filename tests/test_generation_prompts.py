"""Prompts are pinned: the text sent must be the official harness's, byte for byte."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from bcb.dataset import load_dataset, read_tasks
from bcb.generation.prompts import (
    DIRECT_COMPLETION_EOS,
    EOS,
    INSTRUCTION_PREFIX,
    RESPONSE_PREFIX,
    Prompt,
    build_prompt,
    render_chat,
    truncate_at_stop,
    user_message,
)
from bcb.generation.providers import stop_sequences
from helpers import shared_file

MINI_8_COMPLETE_CHAT = '''Please provide a self-contained Python script that solves the following problem in a markdown code block:
```
from datetime import date, timedelta

def task_func(start, end, holidays=None):
    """
    Count the working days from start up to but not including end. A working day is a Monday to
    Friday that is not one of the holidays. Dates are ISO strings of the form "YYYY-MM-DD".

    Parameters:
    - start (str): The first day of the period (inclusive).
    - end (str): The end of the period (exclusive).
    - holidays (list of str, optional): Days off; a holiday that falls on a weekend changes nothing. Defaults to None.

    Returns:
    int: The number of working days in [start, end).

    Raises:
    - ValueError: If a date string is malformed or end is before start.

    Requirements:
    - datetime

    Example:
    >>> task_func("2024-01-01", "2024-01-08")
    5
    >>> task_func("2024-01-01", "2024-01-08", holidays=["2024-01-01", "2024-01-06"])
    4
    """
```
'''

MINI_8_INSTRUCT_CHAT = """Please provide a self-contained Python script that solves the following problem in a markdown code block:
Count the working days from start up to but not including end. A working day is a Monday to Friday that is not one of the holidays. Dates are ISO strings of the form "YYYY-MM-DD".
The function should raise the exception for: ValueError: If a date string is malformed or end is before start.
The function should output with:
    int: The number of working days in [start, end).
You should write self-contained code starting with:
```
from datetime import date, timedelta
def task_func(start, end, holidays=None):
```
"""

# sha256 and length of the prompt text for BigCodeBench v0.1.4 tasks (complete chat, instruct chat, direct completion).
GOLDEN_V014 = {
    "BigCodeBench/0": [
        ("0c0ecadcd3995b58361b245e2332abc43b19ca05239c2e55bb89f300538042f9", 785),
        ("4feb3ca399c73a60deed0916fedb82e2ab090aec4e228a3cb8c430cf46aff36f", 666),
        ("a92ca87b5ec7504d1505072523ebac3e399797b13e0bd1ea79d2899726a78c01", 671),
    ],
    "BigCodeBench/13": [
        ("9ef6732fb20c9bfb84f754831b0102763d175d8e03b030a729a1e50d4c13fac7", 1507),
        ("43aa32d1f0fc3939518b9e620afb82bab37bc826a9bc94c4f5642ba2606e3377", 1389),
        ("3b02d91e71cf17cb0612759618816a94b1e10326c2cb773dfff799fab23a032d", 1393),
    ],
    "BigCodeBench/1139": [
        ("d279166c65618b723ec0270e9c2ab70db96855cd457248fa5e5980becb2e603e", 1113),
        ("fbfa18526c0026fe70db7712037ea90c5c349df9913994ac2cee96887cae54f5", 802),
        ("8c65cc35db020e53145c1f339f521942bc4dfb18de58ec2f5343a77daaec6844", 999),
    ],
}


def test_default_prefixes_are_the_official_ones() -> None:
    assert (
        INSTRUCTION_PREFIX
        == "Please provide a self-contained Python script that solves the following problem in a markdown code block:"
    )
    assert (
        RESPONSE_PREFIX
        == "Below is a Python script with a self-contained function that solves the problem and passes corresponding tests:"
    )


def test_bcb_mini_chat_prompts_verbatim() -> None:
    task = load_dataset("bcb-mini").task("8")
    complete = build_prompt(task, "complete")
    instruct = build_prompt(task, "instruct")
    assert complete == Prompt(text=MINI_8_COMPLETE_CHAT, chat=True, prefill=None)
    assert instruct == Prompt(text=MINI_8_INSTRUCT_CHAT, chat=True, prefill=None)
    # The rule the goldens follow, stated once more from the issue.
    assert complete.text == f"{INSTRUCTION_PREFIX}\n```\n{task.complete_prompt.strip()}\n```\n"
    assert instruct.text == f"{INSTRUCTION_PREFIX}\n{task.instruct_prompt.strip()}\n"


def test_direct_completion_sends_the_raw_complete_prompt() -> None:
    task = load_dataset("bcb-mini").task("8")
    prompt = build_prompt(task, "complete", direct_completion=True)
    assert prompt == Prompt(text=task.complete_prompt, chat=False)
    assert build_prompt(
        task, "complete", direct_completion=True, strip_newlines=True
    ).text == task.complete_prompt.strip("\n")


def test_prefixes_and_prefill_are_options() -> None:
    task = load_dataset("bcb-mini").task("3")
    prompt = build_prompt(task, "instruct", instruction_prefix="Solve:", response_prefix="Sure:", prefill=True)
    assert prompt.text == f"Solve:\n{task.instruct_prompt.strip()}\n"
    assert prompt.prefill == "Sure:\n```python\n"
    assert build_prompt(task, "instruct", prefill=True).prefill == f"{RESPONSE_PREFIX}\n```python\n"
    assert user_message("  x = 1\n\n", "complete", "P") == "P\n```\nx = 1\n```\n"


@pytest.mark.shared_data
def test_golden_prompts_of_released_tasks() -> None:
    tasks = {t.task_id: t for t in read_tasks(shared_file("BigCodeBench-v0.1.4.jsonl.gz"), check=False)}
    for task_id, expected in GOLDEN_V014.items():
        task = tasks[task_id]
        got = [
            build_prompt(task, "complete").text,
            build_prompt(task, "instruct").text,
            build_prompt(task, "complete", direct_completion=True).text,
        ]
        assert [(hashlib.sha256(t.encode()).hexdigest(), len(t)) for t in got] == expected, task_id
    first = build_prompt(tasks["BigCodeBench/13"], "instruct").text.splitlines()
    assert first[0] == INSTRUCTION_PREFIX and first[1].startswith("Download all files from a specific directory")
    assert first[-1] == "```" and first[-2].startswith("def task_func(ftp_server=")


def test_stop_sequences_per_backend_and_mode() -> None:
    assert EOS == ("<|endoftext|>", "<|endofmask|>", "</s>", "\nif __name__", "\ndef main(", "\nprint(")
    assert DIRECT_COMPLETION_EOS == EOS + ("\ndef ", "\nclass ", "\nimport ", "\nfrom ", "\nassert ")
    for backend in ("openai", "vllm", "hf"):
        assert stop_sequences(backend, direct_completion=True, prefill=False) == DIRECT_COMPLETION_EOS
    assert stop_sequences("openai", direct_completion=False, prefill=False) == ()
    assert stop_sequences("anthropic", direct_completion=False, prefill=False) == EOS
    assert stop_sequences("vllm", direct_completion=False, prefill=True) == EOS + ("\n```\n",)
    assert stop_sequences("hf", direct_completion=False, prefill=False) == EOS


def test_truncate_at_earliest_stop() -> None:
    text = "    return 1\n\nclass A:\n    pass\ndef b():\n"
    assert truncate_at_stop(text, DIRECT_COMPLETION_EOS) == "    return 1\n"
    assert truncate_at_stop("no stop here", DIRECT_COMPLETION_EOS) == "no stop here"


class ChatMLTokenizer:
    """Renders like a ChatML chat template (tokenize=False), as a Hugging Face tokenizer would."""

    chat_template = "chatml"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def apply_chat_template(
        self, conversation: list[dict[str, str]], tokenize: bool = True, add_generation_prompt: bool = False
    ) -> str:
        self.calls.append(
            {"conversation": conversation, "tokenize": tokenize, "add_generation_prompt": add_generation_prompt}
        )
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in conversation)
        return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


class StrippingTokenizer(ChatMLTokenizer):
    """Some templates trim each message; the cut must still land right after the prefill."""

    def apply_chat_template(
        self, conversation: list[dict[str, str]], tokenize: bool = True, add_generation_prompt: bool = False
    ) -> str:
        trimmed = [{**m, "content": m["content"].strip()} for m in conversation]
        return super().apply_chat_template(trimmed, tokenize, add_generation_prompt)


class UserOnlyTokenizer(ChatMLTokenizer):
    def apply_chat_template(
        self, conversation: list[dict[str, str]], tokenize: bool = True, add_generation_prompt: bool = False
    ) -> str:
        return super().apply_chat_template(conversation[:1], tokenize, add_generation_prompt)


def test_render_chat_prefills_the_assistant_turn() -> None:
    task = load_dataset("bcb-mini").task("8")
    prompt = build_prompt(task, "complete", prefill=True)
    tokenizer = ChatMLTokenizer()
    rendered = render_chat(tokenizer, prompt)
    assert rendered == (
        f"<|im_start|>user\n{MINI_8_COMPLETE_CHAT}<|im_end|>\n<|im_start|>assistant\n{RESPONSE_PREFIX}\n```python\n"
    )
    # The assistant turn rendered is the official one: prefill, (cut), then a closing fence.
    answer = tokenizer.calls[0]["conversation"][1]["content"]
    assert answer.startswith(f"{RESPONSE_PREFIX}\n```python\n") and answer.endswith("\n```\n")
    assert tokenizer.calls[0]["tokenize"] is False

    trimmed = render_chat(StrippingTokenizer(), prompt)
    assert trimmed.endswith(f"<|im_start|>assistant\n{RESPONSE_PREFIX}\n```python\n")


def test_render_chat_without_prefill_and_for_base_models() -> None:
    task = load_dataset("bcb-mini").task("8")
    tokenizer = ChatMLTokenizer()
    rendered = render_chat(tokenizer, build_prompt(task, "instruct"))
    assert rendered == f"<|im_start|>user\n{MINI_8_INSTRUCT_CHAT}<|im_end|>\n<|im_start|>assistant\n"
    assert tokenizer.calls[0]["add_generation_prompt"] is True
    direct = build_prompt(task, "complete", direct_completion=True)
    assert render_chat(tokenizer, direct) == task.complete_prompt


def test_render_chat_reports_a_template_that_drops_the_answer() -> None:
    task = load_dataset("bcb-mini").task("8")
    with pytest.raises(ValueError, match="--skip-prefill"):
        render_chat(UserOnlyTokenizer(), build_prompt(task, "complete", prefill=True))
