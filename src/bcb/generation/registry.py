"""The providers bcb knows, each declared once by its own module.

A provider module ends with `PROVIDER = register(ProviderSpec(...))`: its name, the libraries and extra it
needs, its key variable, its defaults, its options, its checks and its constructor. Settings
validation, preflight, stop sequences, `make_provider` and the CLI's help read this registry, so
adding a provider is one module plus its line in `BUILTIN` (or, from outside bcb, one `register`
call before the settings are checked; the CLI's help lists the built-in ones).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from bcb.generation.errors import GenerationError
from bcb.generation.prompts import EOS

if TYPE_CHECKING:
    from bcb.generation.providers import Provider
    from bcb.generation.settings import GenerationSettings

#: The built-in providers' modules, in the order `--backend` lists them.
BUILTIN: tuple[str, ...] = (
    "bcb.generation.providers.openai_compat",
    "bcb.generation.providers.anthropic",
    "bcb.generation.providers.vllm",
    "bcb.generation.providers.hf",
)


@dataclass(frozen=True)
class ProviderSpec:
    """Everything outside a provider's module needs to know about it.

    `libraries` are imported before anything else happens, so a missing one is one line naming
    `pip install 'bcb[extra]'`. `api` providers send requests concurrently and take a key from
    `key_env` (or, when `--api-key-env` names none, the first of `key_env_aliases` that is set);
    local ones batch `default_batch` prompts at a time. `stops` are sent with chat prompts (base
    models always stop at the next top-level statement). `options` are the GenerationSettings
    fields only this provider takes; `check` validates them, `preflight` checks in a moment what a
    run needs (a key, say), and `build` makes the provider from checked settings."""

    name: str
    build: Callable[[GenerationSettings], Provider]
    libraries: tuple[str, ...] = ()
    extra: str | None = None
    api: bool = False
    key_env: str | None = None
    key_env_aliases: tuple[str, ...] = ()
    default_batch: int = 1
    stops: tuple[str, ...] = EOS
    chat_only: bool = False
    options: tuple[str, ...] = ()
    check: Callable[[GenerationSettings], None] | None = None
    preflight: Callable[[GenerationSettings], None] | None = None

    @property
    def install(self) -> str:
        return f"pip install 'bcb[{self.extra}]'" if self.extra else f"pip install {' '.join(self.libraries)}"


_SPECS: dict[str, ProviderSpec] = {}
_loaded = False


def _load_builtins() -> None:
    """Import the built-in modules (each registers its `PROVIDER`) and list them first, in
    `BUILTIN`'s order, whichever was imported first."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    builtin = [importlib.import_module(module).PROVIDER for module in BUILTIN]
    others = [spec for spec in _SPECS.values() if spec not in builtin]
    _SPECS.clear()
    _SPECS.update((spec.name, spec) for spec in builtin + others)


def register(spec: ProviderSpec) -> ProviderSpec:
    """Make a provider known by its name; a second provider of the same name is an error."""
    if spec.name in _SPECS and _SPECS[spec.name] is not spec:
        raise GenerationError(f"a provider named {spec.name!r} is already registered")
    _SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _SPECS.pop(name, None)


def providers() -> tuple[ProviderSpec, ...]:
    _load_builtins()
    return tuple(_SPECS.values())


def provider_names() -> tuple[str, ...]:
    return tuple(spec.name for spec in providers())


def provider_spec(name: str) -> ProviderSpec:
    _load_builtins()
    spec = _SPECS.get(name)
    if spec is None:
        raise GenerationError(f"unknown backend {name!r}: choose one of {', '.join(_SPECS)}")
    return spec


def option_flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def check_options(settings: GenerationSettings) -> None:
    """Options of other providers are refused, naming whose they are and this provider's own."""
    spec = provider_spec(settings.backend)
    for option in dict.fromkeys(o for s in providers() for o in s.options):
        if getattr(settings, option, None) is None or option in spec.options:
            continue
        owners = [s.name for s in providers() if option in s.options]
        own = ", ".join(option_flag(o) for o in spec.options)
        hint = f"; for {spec.name} use {own}" if own else ""
        whose = f"the {' and '.join(owners)} backend{'s' if len(owners) > 1 else ''}"
        raise GenerationError(f"{option_flag(option)} is an option of {whose}{hint}")
    if spec.check is not None:
        spec.check(settings)
    if settings.direct_completion and spec.chat_only:
        raise GenerationError(f"the {spec.name} backend serves chat models only: drop --direct-completion")
