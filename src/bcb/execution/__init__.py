"""Runs solutions against their tests: sandboxed, pre-warmed workers.

Public API: :class:`Job` in, :class:`ExecutionResult` out, through an :class:`Executor` (built by
:func:`create_executor`: :class:`LocalExecutor` on this machine, or a Ray cluster);
:class:`Limits` and :func:`official_time_limit` carry the official evaluator's limits;
:class:`SandboxOptions` the hardening layers; :func:`environment_fingerprint` what verdicts are
keyed on. Layers above import from here, never from the submodules.

The names load lazily (PEP 562): ``from bcb.execution import Limits`` imports ``limits.py`` only,
so a command that needs a limit or an option does not pay for the executors, and ``bcb --help``
stays fast. ``_SUBMODULES`` is the table of names; the ``TYPE_CHECKING`` imports and ``__all__``
say the same to type checkers and linters, and a test keeps the three equal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bcb.execution.doctor import (
        DEFAULT_NETWORK_PROBE,
        TARGET_GT_RATE,
        Diagnosis,
        LibraryReport,
        SandboxProbe,
        diagnose,
        parse_host_port,
        probe_libraries,
        probe_sandbox,
        summarize_ground_truth,
        task_needs,
    )
    from bcb.execution.environment import (
        DEFAULT_TASK_ENV,
        EnvironmentProbeError,
        create_environment,
        environment_fingerprint,
        find_task_python,
        missing_libraries,
        require_libraries,
        requirements_path,
        run_probe,
    )
    from bcb.execution.executor import ExecutorError, LocalExecutor, resolve_python
    from bcb.execution.jobs import ExecutionResult, Job, Status
    from bcb.execution.limits import (
        OFFICIAL_MIN_TIME_LIMIT_S,
        OFFICIAL_TIMEOUT_FLOOR_S,
        TIMEOUT_POLICIES,
        Limits,
        check_seconds,
        kill_after,
        official_time_limit,
        time_limit_for,
    )
    from bcb.execution.nltk_data import SOURCE as NLTK_DATA_SOURCE
    from bcb.execution.nltk_data import install_nltk_data
    from bcb.execution.preload import DEFAULT_PRELOAD, imported_modules, preload_modules, program_modules
    from bcb.execution.protocol import (
        EXECUTOR_KINDS,
        Executor,
        ExecutorKind,
        ExecutorOptions,
        create_executor,
        describe_executor,
        verdict_fingerprint,
    )
    from bcb.execution.sandbox import (
        GUARANTEES,
        LAYER_NAMES,
        LAYERS,
        SandboxOptions,
        count_test_methods,
        sandbox_summary,
    )

#: The submodule each public name comes from (``NLTK_DATA_SOURCE`` is ``nltk_data.SOURCE``).
_SUBMODULES: dict[str, tuple[str, ...]] = {
    "doctor": (
        "DEFAULT_NETWORK_PROBE",
        "TARGET_GT_RATE",
        "Diagnosis",
        "LibraryReport",
        "SandboxProbe",
        "diagnose",
        "parse_host_port",
        "probe_libraries",
        "probe_sandbox",
        "summarize_ground_truth",
        "task_needs",
    ),
    "environment": (
        "DEFAULT_TASK_ENV",
        "EnvironmentProbeError",
        "create_environment",
        "environment_fingerprint",
        "find_task_python",
        "missing_libraries",
        "require_libraries",
        "requirements_path",
        "run_probe",
    ),
    "executor": ("ExecutorError", "LocalExecutor", "resolve_python"),
    "jobs": ("ExecutionResult", "Job", "Status"),
    "limits": (
        "OFFICIAL_MIN_TIME_LIMIT_S",
        "OFFICIAL_TIMEOUT_FLOOR_S",
        "TIMEOUT_POLICIES",
        "Limits",
        "check_seconds",
        "kill_after",
        "official_time_limit",
        "time_limit_for",
    ),
    "nltk_data": ("install_nltk_data",),
    "preload": ("DEFAULT_PRELOAD", "imported_modules", "preload_modules", "program_modules"),
    "protocol": (
        "EXECUTOR_KINDS",
        "Executor",
        "ExecutorKind",
        "ExecutorOptions",
        "create_executor",
        "describe_executor",
        "verdict_fingerprint",
    ),
    "sandbox": ("GUARANTEES", "LAYER_NAMES", "LAYERS", "SandboxOptions", "count_test_methods", "sandbox_summary"),
}
_RENAMED = {"NLTK_DATA_SOURCE": ("nltk_data", "SOURCE")}
_EXPORTS: dict[str, tuple[str, str]] = {
    **{name: (module, name) for module, names in _SUBMODULES.items() for name in names},
    **_RENAMED,
}

__all__ = [
    "DEFAULT_NETWORK_PROBE",
    "DEFAULT_PRELOAD",
    "DEFAULT_TASK_ENV",
    "Diagnosis",
    "EXECUTOR_KINDS",
    "EnvironmentProbeError",
    "ExecutionResult",
    "Executor",
    "ExecutorError",
    "ExecutorKind",
    "ExecutorOptions",
    "GUARANTEES",
    "Job",
    "LAYERS",
    "LAYER_NAMES",
    "LibraryReport",
    "Limits",
    "LocalExecutor",
    "NLTK_DATA_SOURCE",
    "OFFICIAL_MIN_TIME_LIMIT_S",
    "OFFICIAL_TIMEOUT_FLOOR_S",
    "SandboxOptions",
    "SandboxProbe",
    "Status",
    "TARGET_GT_RATE",
    "TIMEOUT_POLICIES",
    "check_seconds",
    "count_test_methods",
    "create_environment",
    "create_executor",
    "describe_executor",
    "diagnose",
    "environment_fingerprint",
    "find_task_python",
    "imported_modules",
    "install_nltk_data",
    "kill_after",
    "missing_libraries",
    "official_time_limit",
    "parse_host_port",
    "preload_modules",
    "probe_libraries",
    "probe_sandbox",
    "program_modules",
    "require_libraries",
    "requirements_path",
    "resolve_python",
    "run_probe",
    "sandbox_summary",
    "summarize_ground_truth",
    "task_needs",
    "time_limit_for",
    "verdict_fingerprint",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        # Also how ``from bcb.execution import environment`` falls through to the submodule.
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
