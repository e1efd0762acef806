"""One small protocol over every backend, and the registry that builds them.

Backends are optional extras: each module imports its library only when built, and a missing
library is a one-line error naming the extra to install.
"""

from __future__ import annotations

import importlib
import os
import re
import socket
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from bcb.generation.errors import GenerationError, ProviderError
from bcb.generation.prompts import DIRECT_COMPLETION_EOS, Prompt
from bcb.generation.retry import parse_retry_after
from bcb.generation.settings import BACKENDS, GenerationSettings, Sampling, public_url

#: The environment variable each API backend reads its key from, when --api-key-env names none.
KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
#: What `pip install` needs for each backend.
EXTRAS = {"openai": ("openai", "openai"), "anthropic": ("anthropic", "anthropic"), "vllm": ("vllm", "vllm"), "hf": ("transformers", "hf")}


@dataclass(frozen=True)
class Completion:
    """One sampled answer. `reasoning` is a provider's separate thinking text: kept in the cache,
    never mixed into `text`. Token counts of a multi-sample request are carried by its first
    completion, so that sums over completions are right."""

    text: str
    reasoning: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str | None = None


class Provider(Protocol):
    """A backend. `generate` answers each prompt with up to `n` completions (fewer when the server
    caps them; the runner asks again for the rest) and raises ProviderError on failure.

    `max_batch` is how many prompts one call takes: 1 for API backends, which the runner calls
    concurrently, more for local engines, which batch on their own; `max_n` how many samples. `owns_template` backends apply
    the model's chat template themselves and so can prefill the answer. `direct_completion` is
    known once the backend is built (local backends decide it from the tokenizer)."""

    name: str
    max_batch: int
    max_n: int
    owns_template: bool
    direct_completion: bool

    def generate(self, prompts: Sequence[Prompt], n: int, sampling: Sampling) -> list[list[Completion]]: ...

    def close(self) -> None: ...


def make_provider(settings: GenerationSettings) -> Provider:
    """Build the backend `settings.backend` names; settings must be `checked()`."""
    backend = settings.backend
    if backend not in BACKENDS:
        raise GenerationError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "openai":
        from bcb.generation.providers.openai_compat import OpenAIProvider

        return OpenAIProvider.from_settings(settings)
    if backend == "anthropic":
        from bcb.generation.providers.anthropic import AnthropicProvider

        return AnthropicProvider.from_settings(settings)
    if backend == "vllm":
        from bcb.generation.providers.vllm import VllmProvider

        return VllmProvider.from_settings(settings)
    from bcb.generation.providers.hf import HFProvider

    return HFProvider.from_settings(settings)


def preflight(settings: GenerationSettings) -> None:
    """What can be checked in a moment, before a dataset download or a model load: the library
    is installed and, for API backends, the key is set."""
    require(settings.backend)
    if settings.backend == "anthropic":
        api_key("anthropic", settings, required=True)
    elif settings.backend == "openai":
        api_key("openai", settings, required=not (settings.base_url or os.environ.get("OPENAI_BASE_URL")))


def require(backend: str) -> Any:
    """Import a backend's library, or say in one line how to install it."""
    module, extra = EXTRAS[backend]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise GenerationError(
            f"the {backend} backend needs the {module} package ({exc.msg}): pip install 'bcb[{extra}]'"
        ) from None


def api_key(backend: str, settings: GenerationSettings, *, required: bool) -> str | None:
    """The key from the environment. Never logged, never written to any file."""
    variable = settings.api_key_env or KEY_ENV[backend]
    key = os.environ.get(variable, "").strip()
    if not key and backend == "anthropic" and not settings.api_key_env:
        key = os.environ.get("ANTHROPIC_KEY", "").strip()  # the official harness's name for it
    if not key and required:
        raise GenerationError(f"the {backend} backend needs an API key: set the environment variable {variable}")
    return key or None


def stop_sequences(backend: str, *, direct_completion: bool, prefill: bool) -> tuple[str, ...]:
    """The stops each official backend sends: base models stop at any new top-level statement;
    among chat backends OpenAI sends none, Anthropic the common EOS list, and local engines the
    EOS list plus the end of the prefilled code block."""
    from bcb.generation.prompts import EOS, FENCE_END

    if direct_completion:
        return DIRECT_COMPLETION_EOS
    if backend == "openai":
        return ()
    if backend == "anthropic":
        return EOS
    return EOS + ((FENCE_END,) if prefill else ())


def sdk_error(exc: Exception, *, backend: str, base_url: str | None, key_env: str) -> ProviderError:
    """Map an openai/anthropic SDK exception (both SDKs share the shapes) to a ProviderError."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    where = public_url(base_url) or f"the {backend} API"
    if status is None:
        if "Timeout" in name:
            return ProviderError(f"{where}: request timed out", retryable=True)
        if "Connection" in name:
            causes = _causes(exc)
            detail = one_line(str(causes[1])) if len(causes) > 1 else one_line(str(exc))
            # Refused or unresolvable: the connection never opened. A connection dropped
            # mid-answer is another matter (a restart, a proxy): worth retrying even at the start.
            never_opened = any(type(c).__name__ == "ConnectError" or isinstance(c, (ConnectionRefusedError, socket.gaierror)) for c in causes)
            return ProviderError(f"cannot reach {where}: {detail}", retryable=True, unreachable=never_opened)
        return ProviderError(f"{where}: {one_line(str(exc))}")
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    message = f"{where} answered HTTP {status}: {server_message(exc)}"
    if status in (401, 403):
        return ProviderError(f"{message} (check the key in {key_env})")
    if status in (408, 409, 425, 429) or status >= 500:
        return ProviderError(message, retryable=True, retry_after=parse_retry_after(headers))
    return ProviderError(message)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def server_message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return one_line(error["message"])
        if isinstance(error, str):
            return one_line(error)
    return one_line(str(getattr(exc, "message", "") or exc))


def one_line(text: str, limit: int = 300) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
