"""The parent's side of the hardening layers: what to ask the zygotes for, and fail-closed.

The layers themselves live in ``_sandbox.py`` (stdlib only, run inside the task environment) and
are probed by each zygote at start-up; its ``ready`` report becomes
:attr:`~bcb.execution.executor.LocalExecutor.sandbox_report`, which is recorded with the run
(``environment["sandbox"]`` in the manifest, and part of the verdict-cache key).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bcb.execution import _sandbox

# The static test count behind tamper evidence; dataset QA counts tests the same way.
from bcb.execution._sandbox import count_test_methods as count_test_methods

#: Default cap on the processes (threads included) of one sample: a fork bomb stops there.
DEFAULT_PIDS_MAX = 512

#: Default per-sample memory cgroup cap: the official 30 GiB address-space limit, the same for any
#: number of workers (so the recorded key is too); the executor's own cgroup bounds the sum.
DEFAULT_MEMORY_MB = 30 * 1024

#: Default size of each writable tmpfs of a sample (its directory, /tmp, /dev/shm): generous for
#: tasks that write CSVs, images or archives, and charged to the sample's memory cgroup.
DEFAULT_DISK_MB = 1024

#: The one table of layers (name, phase, what it guarantees) and the guarantees a run needs.
LAYERS = _sandbox.LAYERS
GUARANTEES = _sandbox.GUARANTEES

#: The layers a run may turn off (``--disable-sandbox-layer``), as named in the sandbox report.
LAYER_NAMES = _sandbox.LAYER_NAMES

#: Share of the machine's RAM all samples and zygotes of one executor may use together.
EXECUTOR_MEMORY_SHARE = 0.8


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
    memory cgroup cap (default :data:`DEFAULT_MEMORY_MB`, independent of the worker count, with
    the executor's cgroup capping all its samples together at ``executor_memory_mb``, default 80%
    of RAM; where no executor cgroup exists, 80% of RAM shared by the workers).
    ``disk_mb``: size of each writable tmpfs of a sample. ``pids_max``: per-sample process cap.
    ``read_paths``/``write_paths``: more paths a sample may read / write under Landlock.
    ``tamper``: tamper-evidence checks. ``disable_layers``: layers not to use even where the probe
    finds them working (for tests and for machines where one misbehaves); the report then says
    they are off, and fail-closed applies as if the machine lacked them."""

    enabled: bool = True
    allow_network: bool = False
    unsafe: bool = False
    memory_mb: int | None = None
    executor_memory_mb: int | None = None
    disk_mb: int = DEFAULT_DISK_MB
    pids_max: int = DEFAULT_PIDS_MAX
    read_paths: Sequence[str] = field(default_factory=tuple)
    write_paths: Sequence[str] = field(default_factory=tuple)
    tamper: bool = True
    disable_layers: Sequence[str] = field(default_factory=tuple)

    def total_memory_mb(self) -> int:
        """The cap on the executor's cgroup (all its zygotes and samples together)."""
        return self.executor_memory_mb or max(1024, int(_total_memory_mb() * EXECUTOR_MEMORY_SHARE))

    def to_wire(self, workers: int, executor_cgroup: str | None = None) -> dict[str, Any]:
        """The zygotes' ``sandbox`` config. Without an ``executor_cgroup`` bounding the sum, the
        default per-sample cap falls back to a share of RAM per worker, so that ``workers``
        simultaneous memory bombs still cannot exhaust the machine."""
        if self.memory_mb:
            memory = self.memory_mb
        elif executor_cgroup:
            memory = DEFAULT_MEMORY_MB
        else:
            memory = max(
                1024, min(DEFAULT_MEMORY_MB, int(_total_memory_mb() * EXECUTOR_MEMORY_SHARE / max(1, workers)))
            )
        return {
            "enabled": self.enabled,
            "allow_network": self.allow_network,
            "memory_mb": memory,
            "disk_mb": self.disk_mb,
            "pids_max": self.pids_max,
            "read_paths": [os.fspath(p) for p in self.read_paths],
            "write_paths": [os.fspath(p) for p in self.write_paths],
            "tamper": self.tamper,
            "disable_layers": list(self.disable_layers),
            "unsafe": self.unsafe,
            "executor_cgroup": executor_cgroup or "",
            "workers": workers,
            # Where no memory cgroup exists, RLIMIT_AS is the cap: the same for any worker count
            # (it keys cached verdicts), each sample first in line for the OOM killer.
            "as_mb": min(DEFAULT_MEMORY_MB, self.memory_mb or int(_total_memory_mb() * EXECUTOR_MEMORY_SHARE)),
        }

    def refusal(self, report: Mapping[str, Any]) -> str | None:
        """Why untrusted code must not run with these layers (``None``: it may): one line naming
        each missing guarantee and the way out."""
        if self.unsafe:
            return None
        promised = report.get("guarantees") or {}
        missing = [(label, way_out) for name, label, way_out in _sandbox.GUARANTEES if not promised.get(name)]
        if not missing:
            return None
        tier = report.get("tier") or "?"
        ways = "; ".join(dict.fromkeys(way for _label, way in missing if way))
        return (
            f"refusing to run untrusted code without {', '.join(label for label, _way in missing)} (sandbox tier: {tier}). "
            f"To fix: {ways}; or pass --unsafe to run without these protections"
        )


#: Report entries left out of the fingerprint: probe notes vary between runs, and the executor's
#: memory bound is a property of the machine's RAM (like the RAM itself, which the fingerprint does
#: not record either), not of the per-sample rules a verdict depends on.
_NOT_IN_SUMMARY = ("notes", "executor_memory_mb")


def sandbox_summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a sandbox report that goes into the environment fingerprint (stable across
    runs on the same machine, and across worker counts)."""
    return {k: v for k, v in report.items() if k not in _NOT_IN_SUMMARY}


class ExecutorCgroup:
    """A v1 memory cgroup holding every zygote of one executor (and so, nested, all their
    samples), capped at :meth:`SandboxOptions.total_memory_mb`: N simultaneous memory bombs share
    one bound however large each sample's own cap is. Created by the parent; each zygote moves
    itself in at start-up; removed by its exact path when the executor closes."""

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def create(cls, total_mb: int) -> ExecutorCgroup | None:
        """``None`` where the machine has no v1 memory cgroup we may nest under."""
        from bcb.execution import _sandbox

        base = _sandbox.cgroup_dir("memory", _sandbox.own_cgroup_paths())
        if base is None:
            return None
        path = os.path.join(base, f"bcb_{os.getpid()}_exec{next(_serial)}")
        try:
            os.mkdir(path)
        except OSError:
            return None
        try:
            _sandbox.write_value(os.path.join(path, "memory.limit_in_bytes"), str(total_mb * 1024 * 1024))
        except OSError:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            return None
        return cls(path)

    def remove(self) -> bool:
        """rmdir (the zygotes are gone by now; a just-killed one may take a moment)."""
        for i in range(50):
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError:
                time.sleep(0.005 * (i + 1))
        return False


_serial = itertools.count(1)
