"""Anthropic's Messages API. One sample per request (the API has no `n`); the runner sends the
samples of a task concurrently."""

from __future__ import annotations

from typing import Any, Sequence

from bcb.generation.prompts import Prompt
from bcb.generation.providers import KEY_ENV, Completion, api_key, require, sdk_error
from bcb.generation.settings import GenerationSettings, Sampling


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
        return cls(client, settings.model, base_url=settings.base_url, key_env=settings.api_key_env or KEY_ENV["anthropic"])

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
