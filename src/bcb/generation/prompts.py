"""The text a model is shown, byte for byte what the official harness shows it.

Scores are only comparable when prompts are: a changed newline or prefix moves pass@1 by points on
some models. Every string here is pinned by golden tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bcb.dataset import Split, Task

INSTRUCTION_PREFIX = (
    "Please provide a self-contained Python script that solves the following problem in a markdown code block:"
)
RESPONSE_PREFIX = (
    "Below is a Python script with a self-contained function that solves the problem and passes corresponding tests:"
)

#: Stop sequences of every official backend that sends any.
EOS: tuple[str, ...] = ("<|endoftext|>", "<|endofmask|>", "</s>", "\nif __name__", "\ndef main(", "\nprint(")
#: Base models would otherwise write a second function, a test, a main: stop at the first new top-level statement.
DIRECT_COMPLETION_EOS: tuple[str, ...] = EOS + ("\ndef ", "\nclass ", "\nimport ", "\nfrom ", "\nassert ")
#: Where a prefilled answer's code block ends; local chat backends stop there.
FENCE_END = "\n```\n"

# Splits the rendered chat template right after the prefill. Any string the template leaves alone
# works; what follows it must match the official harness's, since a template may treat the
# assistant turn's text as a whole (e.g. strip it).
_CUT = "-[[bcb: the prefill ends here]]-"


@dataclass(frozen=True)
class Prompt:
    """What one request carries. `chat` False: `text` is raw text for a base model to continue.
    `prefill` (chat only) opens the assistant turn; only backends that own the chat template can
    honour it, so the runner sets it for those alone."""

    text: str
    chat: bool
    prefill: str | None = None

    def key(self) -> dict[str, Any]:
        return {"text": self.text, "chat": self.chat, "prefill": self.prefill}


def user_message(task_prompt: str, split: Split, instruction_prefix: str = INSTRUCTION_PREFIX) -> str:
    """The chat user turn: the complete split's code goes inside a bare fence, the instruct
    split's prose does not."""
    if split == "complete":
        return f"{instruction_prefix}\n```\n{task_prompt.strip()}\n```\n"
    return f"{instruction_prefix}\n{task_prompt.strip()}\n"


def prefill_text(response_prefix: str = RESPONSE_PREFIX) -> str:
    """The opening of the assistant turn: the model continues inside a python code block."""
    return f"{response_prefix}\n```python\n"


def build_prompt(
    task: Task,
    split: Split,
    *,
    direct_completion: bool = False,
    instruction_prefix: str = INSTRUCTION_PREFIX,
    response_prefix: str = RESPONSE_PREFIX,
    prefill: bool = False,
    strip_newlines: bool = False,
) -> Prompt:
    """The prompt for one task. `strip_newlines` is the official flag of that name: it trims
    newlines around the task prompt before anything else."""
    text = task.prompt(split)
    if strip_newlines:
        text = text.strip("\n")
    if direct_completion:
        return Prompt(text=text, chat=False)
    return Prompt(
        text=user_message(text, split, instruction_prefix),
        chat=True,
        prefill=prefill_text(response_prefix) if prefill else None,
    )


class ChatTokenizer(Protocol):
    """The part of a Hugging Face tokenizer the local backends use."""

    chat_template: Any

    def apply_chat_template(self, conversation: list[dict[str, str]], **kwargs: Any) -> Any: ...


def render_chat(tokenizer: ChatTokenizer, prompt: Prompt) -> str:
    """The model's own chat template around the prompt, ending where generation starts.

    With a prefill, the template renders a full assistant turn and is cut just after the prefill,
    as the official harness does, so templates that close the turn still yield an open one.
    """
    if not prompt.chat:
        return prompt.text
    user = {"role": "user", "content": prompt.text}
    if prompt.prefill is None:
        return str(tokenizer.apply_chat_template([user], tokenize=False, add_generation_prompt=True))
    answer = {"role": "assistant", "content": f"{prompt.prefill}{_CUT}{FENCE_END}"}
    rendered = str(tokenizer.apply_chat_template([user, answer], tokenize=False))
    if _CUT not in rendered:
        raise ValueError("the chat template dropped the assistant turn: rerun with --skip-prefill")
    return rendered.split(_CUT)[0]


def truncate_at_stop(text: str, stops: tuple[str, ...]) -> str:
    """Cut at the earliest stop sequence. Servers may cap how many stops they honour (OpenAI: 4),
    so base-model completions are cut here too, to the same text on every backend."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return text if cut < 0 else text[:cut]
