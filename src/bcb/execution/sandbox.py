"""The parent's side of the hardening layers: what to ask the zygotes for, and fail-closed.

The layers themselves live in ``_sandbox.py`` (stdlib only, run inside the task environment) and
are probed by each zygote at start-up; its ``ready`` report becomes
:attr:`~bcb.execution.executor.LocalExecutor.sandbox_report`, which is recorded with the run
(``environment["sandbox"]`` in the manifest, and part of the verdict-cache key).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Default cap on the processes (threads included) of one sample: a fork bomb stops there.
DEFAULT_PIDS_MAX = 512


def _total_memory_mb() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError):
        pass
    return 8 * 1024


@dataclass(frozen=True)
class SandboxOptions:
    """``enabled``: use the layers at all. ``allow_network``: no private network namespace.
    ``unsafe``: run even without network isolation, a process cap that binds root and a
    wall-clock kill (otherwise the executor refuses to start). ``memory_mb``: the per-sample
    memory cgroup cap (default: 80% of RAM shared by the workers, at most the official 30 GiB
    address-space limit). ``pids_max``: per-sample process cap. ``read_paths``/``write_paths``: more
    paths a sample may read / write under Landlock. ``tamper``: tamper-evidence checks."""

    enabled: bool = True
    allow_network: bool = False
    unsafe: bool = False
    memory_mb: int | None = None
    pids_max: int = DEFAULT_PIDS_MAX
    read_paths: Sequence[str] = field(default_factory=tuple)
    write_paths: Sequence[str] = field(default_factory=tuple)
    tamper: bool = True

    def to_wire(self, workers: int) -> dict[str, Any]:
        memory = self.memory_mb or max(1024, min(30 * 1024, int(_total_memory_mb() * 0.8 / max(1, workers))))
        return {
            "enabled": self.enabled,
            "allow_network": self.allow_network,
            "memory_mb": memory,
            "pids_max": self.pids_max,
            "read_paths": [os.fspath(p) for p in self.read_paths],
            "write_paths": [os.fspath(p) for p in self.write_paths],
            "tamper": self.tamper,
        }

    def refusal(self, report: Mapping[str, Any]) -> str | None:
        """Why untrusted code must not run with these layers (``None``: it may)."""
        if self.unsafe:
            return None
        missing = []
        if not (report.get("network_isolated") or (self.allow_network and report.get("enabled"))):
            missing.append("network isolation")
        if not report.get("process_cap"):
            missing.append("a process cap that binds root (pids cgroup)")
        if not report.get("wall_clock_kill"):
            missing.append("a wall-clock kill")
        if not missing:
            return None
        notes = report.get("notes") or {}
        return "refusing to run untrusted code without " + ", ".join(missing) + (f" (probe notes: {notes})" if notes else "") + "; pass --unsafe to run anyway"


def sandbox_summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a sandbox report that goes into the environment fingerprint (stable across
    runs on the same machine: no notes)."""
    return {k: v for k, v in report.items() if k != "notes"}
