"""The one executor an evaluation's phases share: started on the first job, warm for the rest.

Lifted out of the CLI so that every front end (``bcb evaluate``, ``bcb serve``) starts its
workers, keys verdicts on their sandbox report and closes them the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from bcb.execution.jobs import ExecutionResult, Job
from bcb.execution.limits import Limits
from bcb.execution.protocol import ExecutorOptions, ManagedExecutor, create_executor, describe_executor, verdict_fingerprint
from bcb.execution.sandbox import SandboxOptions


class SharedExecutor:
    """Starts the warm workers on the first job only, and keeps them for every later phase.
    ``kind`` picks the executor (``local`` or ``ray``; for Ray, ``workers`` is per node, 0 = its CPUs)."""

    def __init__(
        self, python: str, workers: int, limits: Limits, preload: list[str], *,
        kind: str = "local", ray_address: str | None = None, allow_mixed_env: bool = False,
        sandbox: SandboxOptions | None = None,
    ) -> None:
        self.options = ExecutorOptions(
            kind=kind, python=python, workers=workers, preload=tuple(preload), limits=limits,  # type: ignore[arg-type]
            ray_address=ray_address, allow_mixed_env=allow_mixed_env, sandbox=sandbox or SandboxOptions(),
        )
        self.executor: ManagedExecutor | None = None
        self._started = False

    def prepare(self, fingerprint: dict[str, Any]) -> dict[str, Any]:
        """Before any job. On Ray: join the cluster and check every node's environment now, so a
        refused node stops the run before anything ran; returns the fingerprint to key verdicts on
        (:func:`~bcb.execution.protocol.verdict_fingerprint`, the one rule the API uses too)."""
        if self.options.kind == "ray":
            self.options = dataclasses.replace(self.options, reference_fingerprint=fingerprint)
        keyed = verdict_fingerprint(self._executor(), fingerprint)
        self._started = True
        return keyed

    def describe(self) -> dict[str, Any]:
        """Where the samples ran, for the manifest."""
        if self.executor is None:
            return {"kind": self.options.kind, "started": False}
        return describe_executor(self.executor)

    def _executor(self) -> ManagedExecutor:
        if self.executor is None:
            self.executor = create_executor(self.options)
        return self.executor

    def __call__(self, jobs: list[Job]) -> Iterator[ExecutionResult]:
        executor = self._executor()
        if not self._started:
            executor.start()
            self._started = True
        return executor.run(jobs)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()
