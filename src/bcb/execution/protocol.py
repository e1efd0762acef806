"""What the layers above need from an executor, and how they get one by name (``local`` or ``ray``).

Evaluation, the CLI and the Python API all do the same three things with an executor: start it
once (warm workers are the expensive part), feed it jobs many times, close it. Both
implementations, :class:`~bcb.execution.executor.LocalExecutor` (this machine) and
:class:`~bcb.execution.ray_executor.RayExecutor` (a Ray cluster), satisfy
:class:`Executor`, so callers choose one with a string and never branch on the type.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from bcb.execution.executor import LocalExecutor
from bcb.execution.jobs import ExecutionResult, Job
from bcb.execution.limits import Limits
from bcb.execution.preload import DEFAULT_PRELOAD
from bcb.execution.sandbox import SandboxOptions, sandbox_summary

__all__ = [
    "EXECUTOR_KINDS",
    "ExecutorKind",
    "ExecutorOptions",
    "Executor",
    "create_executor",
    "describe_executor",
    "verdict_fingerprint",
]

ExecutorKind = Literal["local", "ray"]
EXECUTOR_KINDS: tuple[ExecutorKind, ...] = ("local", "ray")


@runtime_checkable
class Executor(Protocol):
    """An executor with a lifetime. ``run`` starts it if needed and yields one result per job, in
    completion order; ``close`` stops its workers. ``python`` and ``limits`` say what it runs
    samples with, which the result store keys verdicts on."""

    python: str
    limits: Limits

    def start(self) -> None: ...

    def run(self, jobs: Iterable[Job]) -> Iterator[ExecutionResult]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...


@dataclass(frozen=True)
class ExecutorOptions:
    """Everything needed to build either executor.

    ``workers``: for ``local`` the number of worker processes (0: one per CPU); for ``ray`` the
    workers per node (0: one per CPU the node offers Ray). ``reference_fingerprint`` is the
    driver's task-environment fingerprint that every Ray node must match (computed when omitted).
    """

    kind: ExecutorKind = "local"
    python: str = sys.executable
    workers: int = 0
    preload: tuple[str, ...] = DEFAULT_PRELOAD
    limits: Limits = field(default_factory=Limits)
    ray_address: str | None = None
    allow_mixed_env: bool = False
    reference_fingerprint: Mapping[str, Any] | None = None
    #: Hardening layers of the workers, local or on every Ray node (see :mod:`bcb.execution.sandbox`).
    sandbox: SandboxOptions = field(default_factory=SandboxOptions)

    def __post_init__(self) -> None:
        if self.kind not in EXECUTOR_KINDS:
            raise ValueError(f"unknown executor {self.kind!r}: choose one of {', '.join(EXECUTOR_KINDS)}")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        if self.kind == "local" and (self.ray_address or self.allow_mixed_env):
            raise ValueError("a Ray address and --allow-mixed-env only apply to the ray executor")


def create_executor(options: ExecutorOptions) -> Executor:
    """A new, not yet started executor. Building a Ray executor does not import Ray; starting it does."""
    if options.kind == "ray":
        from bcb.execution.ray_executor import RayExecutor

        return RayExecutor(
            python=options.python,
            preload=options.preload,
            limits=options.limits,
            address=options.ray_address,
            workers_per_node=options.workers,
            allow_mixed_env=options.allow_mixed_env,
            reference_fingerprint=options.reference_fingerprint,
            sandbox=options.sandbox,
        )
    workers = options.workers or os.cpu_count() or 1
    return LocalExecutor(
        python=options.python,
        workers=workers,
        preload=list(options.preload),
        limits=options.limits,
        sandbox=options.sandbox,
    )


def describe_executor(executor: object) -> dict[str, Any]:
    """Where samples ran, for the run manifest: an executor's own ``describe()`` when it has one."""
    describe = getattr(executor, "describe", None)
    if callable(describe):
        return dict(describe())
    if isinstance(executor, LocalExecutor):
        return {"kind": "local", "host": socket.gethostname(), "workers": executor.workers, "python": executor.python}
    return {"kind": type(executor).__name__}


def verdict_fingerprint(executor: Executor, fingerprint: Mapping[str, Any]) -> dict[str, Any]:
    """What verdicts run by ``executor`` are keyed on in the result store: the task environment's
    ``fingerprint`` plus the sandbox layers its workers run with (an isolated network fails what
    ``--allow-network`` passes). The one rule for ``bcb evaluate`` and the Python API, so each
    reuses the other's verdicts exactly when they would agree. Starts the executor: its workers
    probe the layers at start-up."""
    keyed = getattr(executor, "store_fingerprint", None)
    if callable(keyed):  # a Ray cluster also names a mix of node environments
        return dict(keyed(fingerprint))
    executor.start()
    report = getattr(executor, "sandbox_report", None)
    return {**fingerprint, "sandbox": sandbox_summary(report)} if report else dict(fingerprint)
