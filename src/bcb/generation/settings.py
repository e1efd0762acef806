"""What a generation run was asked to do, checked once, before anything is sent or written."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from bcb.dataset import SPLITS
from bcb.generation.errors import GenerationError
from bcb.generation.prompts import INSTRUCTION_PREFIX, RESPONSE_PREFIX
from bcb.generation.registry import check_options, provider_spec


@dataclass(frozen=True)
class Sampling:
    """The decoding parameters one request carries; part of every cache key."""

    temperature: float
    max_new_tokens: int
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    reasoning_effort: str | None = None
    thinking_budget: int | None = None

    def key(self) -> dict[str, Any]:
        return {**asdict(self), "stop": list(self.stop)}


@dataclass(frozen=True)
class GenerationSettings:
    """Every option of `bcb generate`. Defaults are the official harness's."""

    model: str
    backend: str = "vllm"
    split: str = "complete"
    n_samples: int = 1
    temperature: float = 0.0
    greedy: bool = False
    max_new_tokens: int = 1280
    top_p: float | None = 0.95
    reasoning_effort: str | None = None
    thinking_budget: int | None = None
    direct_completion: bool = False
    skip_prefill: bool = False
    instruction_prefix: str = INSTRUCTION_PREFIX
    response_prefix: str = RESPONSE_PREFIX
    strip_newlines: bool = False
    revision: str = "main"
    # API backends
    base_url: str | None = None
    api_key_env: str | None = None
    timeout: float = 600.0
    concurrency: int = 8
    max_retries: int = 6
    # local backends
    batch_size: int | None = None
    tp: int = 1
    trust_remote_code: bool = False
    tokenizer_name: str | None = None
    tokenizer_legacy: bool = False

    def checked(self) -> GenerationSettings:
        """Validated, with the official greedy rule applied: `--greedy`, or temperature 0 with one
        sample, means temperature 0 and n 1 (and so the file name says `-0-1`)."""
        s = self
        provider_spec(s.backend)
        if s.split not in SPLITS:
            raise GenerationError(f"unknown split {s.split!r}: choose one of {', '.join(SPLITS)}")
        if not s.model.strip():
            raise GenerationError("--model is empty")
        if s.n_samples < 1:
            raise GenerationError(f"--n-samples must be at least 1, got {s.n_samples}")
        if s.temperature < 0:
            raise GenerationError(f"--temperature must be >= 0, got {s.temperature}")
        if s.greedy or (s.temperature == 0 and s.n_samples == 1):
            s = replace(s, greedy=True, temperature=0.0, n_samples=1)
        elif s.temperature == 0:
            raise GenerationError(
                f"--temperature 0 with --n-samples {s.n_samples} would draw one sample {s.n_samples} times: "
                "give a temperature > 0, or use --greedy"
            )
        if s.max_new_tokens < 1:
            raise GenerationError(f"--max-new-tokens must be at least 1, got {s.max_new_tokens}")
        if s.top_p is not None and not 0 < s.top_p <= 1:
            raise GenerationError(f"--top-p must be in (0, 1], got {s.top_p}")
        if s.concurrency < 1:
            raise GenerationError(f"--concurrency must be at least 1, got {s.concurrency}")
        if s.max_retries < 0:
            raise GenerationError(f"--max-retries must be >= 0, got {s.max_retries}")
        if s.timeout <= 0:
            raise GenerationError(f"--timeout must be positive, got {s.timeout}")
        if s.batch_size is not None and s.batch_size < 1:
            raise GenerationError(f"--bs must be at least 1, got {s.batch_size}")
        if s.tp < 1:
            raise GenerationError(f"--tp must be at least 1, got {s.tp}")
        if s.direct_completion and s.split == "instruct":
            raise GenerationError("--direct-completion continues the code of the complete split: use --split complete")
        check_options(s)
        return s

    def to_manifest(self) -> dict[str, Any]:
        """Everything but secrets; a base URL keeps only scheme, host, port and path."""
        data = asdict(self)
        data["base_url"] = public_url(self.base_url)
        return data


def public_url(url: str | None) -> str | None:
    """A URL without user info, query or fragment: such parts can carry credentials."""
    if not url:
        return url
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
