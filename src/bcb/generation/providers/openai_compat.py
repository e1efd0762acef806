"""Any OpenAI-compatible endpoint: OpenAI itself, vLLM's server, llama.cpp, Ollama, LM Studio,
OpenRouter... Chat models get the chat API; `--direct-completion` uses the completions API."""

from __future__ import annotations

import os
from typing import Any, Sequence

from bcb.generation.errors import GenerationError, ProviderError
from bcb.generation.prompts import Prompt
from bcb.generation.providers import Completion, api_key, require, sdk_error
from bcb.generation.registry import ProviderSpec, register
from bcb.generation.settings import GenerationSettings, Sampling

#: OpenAI caps stop sequences at 4; the rest are applied client-side (prompts.truncate_at_stop).
OPENAI_MAX_STOPS = 4
KEY_ENV = "OPENAI_API_KEY"
REASONING_EFFORTS: tuple[str, ...] = ("minimal", "low", "medium", "high")


def base_url(settings: GenerationSettings) -> str | None:
    return settings.base_url or os.environ.get("OPENAI_BASE_URL") or None


def check(settings: GenerationSettings) -> None:
    if settings.reasoning_effort is not None and settings.reasoning_effort not in REASONING_EFFORTS:
        raise GenerationError(
            f"unknown --reasoning-effort {settings.reasoning_effort!r}: choose one of {', '.join(REASONING_EFFORTS)}"
        )


def preflight(settings: GenerationSettings) -> None:
    """Local servers (vLLM, llama.cpp, Ollama) take any key; OpenAI itself needs a real one."""
    api_key("openai", settings, required=base_url(settings) is None)


class OpenAIProvider:
    name = "openai"
    max_batch = 1
    max_n = 128  # the API's cap; servers that ignore `n` answer with one and are asked again
    owns_template = False

    def __init__(self, client: Any, model: str, *, direct_completion: bool, base_url: str | None, key_env: str) -> None:
        self.client = client
        self.model = model
        self.direct_completion = direct_completion
        self.base_url = base_url
        self.key_env = key_env

    @classmethod
    def from_settings(cls, settings: GenerationSettings) -> OpenAIProvider:
        openai = require("openai")
        url = base_url(settings)
        key = api_key("openai", settings, required=url is None)
        client = openai.OpenAI(api_key=key or "EMPTY", base_url=url, timeout=settings.timeout, max_retries=0)
        return cls(
            client,
            settings.model,
            direct_completion=settings.direct_completion,
            base_url=url,
            key_env=settings.api_key_env or KEY_ENV,
        )

    @property
    def official(self) -> bool:
        return self.base_url is None or "api.openai.com" in self.base_url

    def request(self, prompt: Prompt, n: int, sampling: Sampling) -> dict[str, Any]:
        """The keyword arguments of the SDK call. Newer parameters travel in `extra_body` so that
        every openai>=1.30 sends them."""
        extra: dict[str, Any] = {}
        kwargs: dict[str, Any] = {"model": self.model}
        if n > 1:
            kwargs["n"] = n  # some servers reject the field; with one sample it is left out
        if sampling.reasoning_effort is not None:
            # Reasoning models fix temperature and top_p and reject them.
            extra["reasoning_effort"] = sampling.reasoning_effort
        else:
            kwargs["temperature"] = sampling.temperature
            if sampling.top_p is not None:
                kwargs["top_p"] = sampling.top_p
        if prompt.chat:
            kwargs["messages"] = [{"role": "user", "content": prompt.text}]
            # OpenAI's reasoning models only take max_completion_tokens; other servers know max_tokens.
            if self.official:
                extra["max_completion_tokens"] = sampling.max_new_tokens
            else:
                kwargs["max_tokens"] = sampling.max_new_tokens
        else:
            kwargs["prompt"] = prompt.text
            kwargs["max_tokens"] = sampling.max_new_tokens
        if sampling.stop:
            kwargs["stop"] = list(sampling.stop[:OPENAI_MAX_STOPS] if self.official else sampling.stop)
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    def generate(self, prompts: Sequence[Prompt], n: int, sampling: Sampling) -> list[list[Completion]]:
        return [self._one(prompt, n, sampling) for prompt in prompts]

    def _one(self, prompt: Prompt, n: int, sampling: Sampling) -> list[Completion]:
        import openai

        kwargs = self.request(prompt, n, sampling)
        try:
            if prompt.chat:
                response = self.client.chat.completions.create(**kwargs)
            else:
                response = self.client.completions.create(**kwargs)
        except openai.APIError as exc:
            raise sdk_error(exc, backend=self.name, base_url=self.base_url, key_env=self.key_env) from None
        choices = sorted(response.choices or [], key=lambda c: c.index or 0)
        if not choices:
            raise ProviderError(
                f"{self.base_url or 'the openai API'} returned no choices for model {self.model}", retryable=True
            )
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        out = []
        for i, choice in enumerate(choices):
            if prompt.chat:
                message = choice.message
                text = message.content or ""
                reasoning = getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None)
            else:
                text, reasoning = choice.text or "", None
            out.append(
                Completion(
                    text=text,
                    reasoning=reasoning if isinstance(reasoning, str) and reasoning else None,
                    input_tokens=prompt_tokens if i == 0 else 0,
                    output_tokens=completion_tokens if i == 0 else 0,
                    finish_reason=choice.finish_reason,
                )
            )
        return out

    def close(self) -> None:
        self.client.close()


PROVIDER = register(
    ProviderSpec(
        name="openai",
        build=OpenAIProvider.from_settings,
        libraries=("openai",),
        extra="openai",
        api=True,
        key_env=KEY_ENV,
        stops=(),  # as officially: OpenAI's chat models get no stop sequences
        options=("reasoning_effort",),
        check=check,
        preflight=preflight,
    )
)
