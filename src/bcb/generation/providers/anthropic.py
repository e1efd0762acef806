"""Anthropic's Messages API. One sample per request (the API has no `n`); the runner sends the
samples of a task concurrently."""

from __future__ import annotations

from typing import Any, Sequence

from bcb.generation.errors import GenerationError
from bcb.generation.prompts import EOS, Prompt
from bcb.generation.providers import Completion, api_key, require, sdk_error
from bcb.generation.registry import ProviderSpec, register
from bcb.generation.settings import GenerationSettings, Sampling

KEY_ENV = "ANTHROPIC_API_KEY"
#: The API's smallest thinking budget.
MIN_THINKING_BUDGET = 1024


def check(settings: GenerationSettings) -> None:
    budget = settings.thinking_budget
    if budget is None:
        return
    if budget < MIN_THINKING_BUDGET:
        raise GenerationError(
            f"--thinking-budget must be at least {MIN_THINKING_BUDGET} tokens (the API's minimum), got {budget}"
        )
    if budget >= settings.max_new_tokens:
        raise GenerationError(
            f"--max-new-tokens ({settings.max_new_tokens}) must exceed --thinking-budget ({budget}): the budget is spent out of it"
        )


def preflight(settings: GenerationSettings) -> None:
    api_key("anthropic", settings, required=True)


class AnthropicProvider:
    name = "anthropic"
    max_batch = 1
    max_n = 1
    owns_template = False
    direct_completion = False

    def __init__(self, client: Any, model: str, *, base_url: str | None, key_env: str) -> None:
        self.client = client
        self.model = model
        self.base_url = base_url
        self.key_env = key_env

    @classmethod
    def from_settings(cls, settings: GenerationSettings) -> AnthropicProvider:
        anthropic = require("anthropic")
        key = api_key("anthropic", settings, required=True)
        # An explicit timeout also keeps the SDK from refusing large max_tokens without streaming.
        client = anthropic.Anthropic(api_key=key, base_url=settings.base_url, timeout=settings.timeout, max_retries=0)
        return cls(client, settings.model, base_url=settings.base_url, key_env=settings.api_key_env or KEY_ENV)

    def request(self, prompt: Prompt, sampling: Sampling) -> dict[str, Any]:
        """The SDK call's arguments. As in the official harness: the user message alone, the
        common stop sequences, a temperature, no top_p. Temperature and extended thinking travel
        in `extra_body`, the one way every SDK version sends them (older ones lack `thinking`,
        newer ones dropped `temperature`); with thinking on, the API takes no temperature."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": sampling.max_new_tokens,
            "messages": [{"role": "user", "content": prompt.text}],
        }
        if sampling.stop:
            kwargs["stop_sequences"] = list(sampling.stop)
        if sampling.thinking_budget is not None:
            kwargs["extra_body"] = {"thinking": {"type": "enabled", "budget_tokens": sampling.thinking_budget}}
        else:
            kwargs["extra_body"] = {"temperature": sampling.temperature}
        return kwargs

    def generate(self, prompts: Sequence[Prompt], n: int, sampling: Sampling) -> list[list[Completion]]:
        return [[self._one(prompt, sampling)] for prompt in prompts]

    def _one(self, prompt: Prompt, sampling: Sampling) -> Completion:
        import anthropic

        try:
            message = self.client.messages.create(**self.request(prompt, sampling))
        except anthropic.APIError as exc:
            raise sdk_error(exc, backend=self.name, base_url=self.base_url, key_env=self.key_env) from None
        texts, thoughts = [], []
        for block in message.content or []:
            kind = getattr(block, "type", None)
            if kind == "text":
                texts.append(block.text)
            elif kind == "thinking":
                thoughts.append(getattr(block, "thinking", "") or "")
        usage = getattr(message, "usage", None)
        return Completion(
            text="".join(texts),
            reasoning="\n\n".join(thoughts) or None,
            input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
            finish_reason=getattr(message, "stop_reason", None),
        )

    def close(self) -> None:
        self.client.close()


PROVIDER = register(
    ProviderSpec(
        name="anthropic",
        build=AnthropicProvider.from_settings,
        libraries=("anthropic",),
        extra="anthropic",
        api=True,
        key_env=KEY_ENV,
        key_env_aliases=("ANTHROPIC_KEY",),  # the official harness's name for it
        stops=EOS,
        chat_only=True,
        options=("thinking_budget",),
        check=check,
        preflight=preflight,
    )
)
