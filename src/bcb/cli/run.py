"""`bcb run`: generate, then evaluate what was generated, with one set of flags.

Its options are exactly those of `bcb generate` and `bcb evaluate` (one definition each, so the
three commands cannot drift apart). The only clash, `--timeout`, keeps its generate meaning
(seconds per request); the per-sample limit of the evaluation is `--eval-timeout`.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

import typer

from bcb.cli.evaluate import evaluate_command
from bcb.cli.generate import CONTEXT_SETTINGS, generate

_GEN = inspect.signature(generate).parameters
_EVAL = inspect.signature(evaluate_command).parameters
_RENAMED = {"timeout": "eval_timeout"}
_SKIPPED = {"samples", "preflight"}  # what generation writes; what run itself asks for


def _eval_parameter(name: str, parameter: inspect.Parameter, hints: dict[str, Any]) -> inspect.Parameter:
    annotation = hints[name]
    if name in _RENAMED:
        base, option = typing.get_args(annotation)
        option = typer.Option(
            f"--{_RENAMED[name].replace('_', '-')}", help=option.help, rich_help_panel=option.rich_help_panel
        )
        annotation = typing.Annotated[base, option]
    return parameter.replace(name=_RENAMED.get(name, name), annotation=annotation)


def _build() -> Any:
    gen_hints = typing.get_type_hints(generate, include_extras=True)
    eval_hints = typing.get_type_hints(evaluate_command, include_extras=True)
    params = [p.replace(annotation=gen_hints[n]) for n, p in _GEN.items()]
    params += [_eval_parameter(n, p, eval_hints) for n, p in _EVAL.items() if n not in _GEN and n not in _SKIPPED]
    params += [_eval_parameter(n, p, eval_hints) for n, p in _EVAL.items() if n in _RENAMED]
    # Required options first, as Python signatures demand.
    params.sort(key=lambda p: p.default is not inspect.Parameter.empty)

    def run(**kwargs: Any) -> None:
        """Generate samples with a model, then evaluate them (the official `bigcodebench.evaluate` with a model)."""
        evaluation = {n: kwargs[_RENAMED.get(n, n)] for n in _EVAL if n not in _SKIPPED}
        # A mistake in the evaluation's options or environment stops the run before any generation.
        evaluate_command(samples=None, preflight=True, **evaluation)
        samples = generate(**{n: kwargs[n] for n in _GEN})
        evaluate_command(samples=samples, **evaluation)

    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run


run_command = _build()
RUN_CONTEXT_SETTINGS = CONTEXT_SETTINGS
