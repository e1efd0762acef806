"""Runs solutions against their tests: sandboxed, pre-warmed workers.

Public API: :class:`Job` in, :class:`ExecutionResult` out, through an :class:`Executor`
(:class:`LocalExecutor` on this machine); :class:`Limits` and :func:`official_time_limit` carry
the official evaluator's limits; :func:`preload_modules` picks what workers pre-import.
"""

from bcb.execution.executor import (
    Executor,
    ExecutorError,
    LocalExecutor,
    resolve_python,
)
from bcb.execution.jobs import ExecutionResult, Job, Status
from bcb.execution.limits import Limits, kill_after, official_time_limit
from bcb.execution.preload import DEFAULT_PRELOAD, preload_modules

__all__ = [
    "DEFAULT_PRELOAD",
    "ExecutionResult",
    "Executor",
    "ExecutorError",
    "Job",
    "Limits",
    "LocalExecutor",
    "Status",
    "kill_after",
    "official_time_limit",
    "preload_modules",
    "resolve_python",
]
