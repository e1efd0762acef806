"""One small protocol over every backend, and the functions that build and check them from the
registry (bcb.generation.registry), where each backend's module declares itself.

Backends are optional extras: each module imports its library only when built, and a missing
library is a one-line error naming the extra to install.
"""

from __future__ import annotations

import importlib
import os
import socket
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from bcb.errors import one_line
from bcb.generation.errors import GenerationError, ProviderError
from bcb.generation.prompts import DIRECT_COMPLETION_EOS, FENCE_END, Prompt
from bcb.generation.registry import provider_spec
from bcb.generation.retry import parse_retry_after
from bcb.generation.settings import GenerationSettings, Sampling, public_url


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
    spec = provider_spec(settings.backend)
    require(spec.name)
    return spec.build(settings)


def preflight(settings: GenerationSettings) -> None:
    """What can be checked in a moment, before a dataset download or a model load: the libraries
    are installed and, for API backends, the key is set."""
    spec = provider_spec(settings.backend)
    require(spec.name)
    if spec.preflight is not None:
        spec.preflight(settings)


def require(backend: str) -> Any:
    """Import a backend's libraries (returning the first), or say in one line how to install them."""
    spec = provider_spec(backend)
    modules = []
    for library in spec.libraries:
        try:
            modules.append(importlib.import_module(library))
        except ImportError as exc:
            raise GenerationError(
                f"the {backend} backend needs the {library} package ({exc.msg}): {spec.install}"
            ) from None
    return modules[0] if modules else None


def api_key(backend: str, settings: GenerationSettings, *, required: bool) -> str | None:
    """The key from the environment. Never logged, never written to any file."""
    spec = provider_spec(backend)
    variable = settings.api_key_env or spec.key_env
    if variable is None:
        return None
    key = os.environ.get(variable, "").strip()
    for alias in () if settings.api_key_env else spec.key_env_aliases:
        key = key or os.environ.get(alias, "").strip()
    if not key and required:
        raise GenerationError(f"the {backend} backend needs an API key: set the environment variable {variable}")
    return key or None


def stop_sequences(backend: str, *, direct_completion: bool, prefill: bool) -> tuple[str, ...]:
    """Base models stop at any new top-level statement; chat prompts at what the backend declares
    (as the official harness: none for OpenAI, the common EOS list for the others), and a
    prefilled answer also at the end of the code block it opened."""
    if direct_completion:
        return DIRECT_COMPLETION_EOS
    return provider_spec(backend).stops + ((FENCE_END,) if prefill else ())


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
            never_opened = any(
                type(c).__name__ == "ConnectError" or isinstance(c, (ConnectionRefusedError, socket.gaierror))
                for c in causes
            )
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
