"""Which nodes of a Ray cluster may run samples: each node's task environment, and bcb's own
sandbox code there, against the driver's.

A verdict must not depend on where it ran, so before any worker starts every node reports its
fingerprint (:func:`probe_node`, run there as a Ray task), :func:`environment_differences` names
what differs, and :func:`check_environments` refuses a node that differs unless mixed
environments were allowed. No Ray in here, so it is tested on its own.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bcb import __version__
from bcb.errors import one_line
from bcb.execution import _zygote
from bcb.execution.environment import EnvironmentProbeError, environment_fingerprint
from bcb.execution.executor import ExecutorError
from bcb.execution.sandbox import SandboxOptions

__all__ = [
    "ENV_FIELDS",
    "VERDICT_CODE",
    "MixedEnvironmentError",
    "NodeReport",
    "RayExecutorError",
    "check_environments",
    "environment_differences",
    "harness_fingerprint",
    "node_fingerprint",
    "probe_node",
    "sandbox_difference",
]

#: The fingerprint fields a verdict depends on (those the result store keys environments on),
#: besides ``sandbox``: the sandbox layers are probed by the workers as they start, and checked then.
ENV_FIELDS: tuple[str, ...] = ("python_version", "implementation", "machine", "freeze_sha256", "nltk_data_sha256")

#: bcb's own files that run a sample and turn its report into a verdict: every node must run the
#: same bytes. (The Ray modules and the CLI only move results around.)
VERDICT_CODE: tuple[str, ...] = (
    "_zygote.py",
    "_sandbox.py",
    "sandbox.py",
    "child_env.py",
    "nltk_data.py",
    "executor.py",
    "jobs.py",
    "limits.py",
    "verdict.py",
    "worker.py",
)


class RayExecutorError(ExecutorError):
    """The Ray executor cannot run (Ray missing, cluster unreachable, no usable node); one line."""


class MixedEnvironmentError(RayExecutorError):
    """A node's task environment differs from the driver's and mixed environments were not allowed."""


def harness_fingerprint() -> dict[str, Any]:
    """bcb's sandbox as a node would run it: the child's start-up steps (the sandbox layers) and a
    hash of the code that runs samples and reads their verdicts."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in VERDICT_CODE:
        if (here / name).is_file():
            digest.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    return {
        "bcb_version": __version__,
        "layers": [step.__name__ for step in _zygote.CHILD_STEPS],
        "code_sha256": digest.hexdigest(),
    }


def node_fingerprint(python: str) -> dict[str, Any]:
    """:func:`~bcb.execution.environment.environment_fingerprint` of ``python`` plus ``harness``."""
    fingerprint = environment_fingerprint(python)
    fingerprint["harness"] = harness_fingerprint()
    return fingerprint


def _short(value: object) -> str:
    text = str(value)
    return text[:12] + "..." if len(text) > 16 and all(c in "0123456789abcdef" for c in text) else text


def environment_differences(reference: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[str]:
    """What makes ``candidate``'s verdicts possibly differ from ``reference``'s, one phrase each."""
    differences = []
    for key in ENV_FIELDS:
        ours, theirs = reference.get(key), candidate.get(key)
        if ours != theirs:
            what = {"freeze_sha256": "installed packages (pip freeze hash)", "nltk_data_sha256": "NLTK data"}.get(
                key, key
            )
            differences.append(f"{what} {_short(theirs)} instead of {_short(ours)}")
    ours_h, theirs_h = reference.get("harness") or {}, candidate.get("harness") or {}
    if (ours_h.get("layers"), ours_h.get("code_sha256")) != (theirs_h.get("layers"), theirs_h.get("code_sha256")):
        differences.append(
            f"bcb's sandbox code (bcb {theirs_h.get('bcb_version')} instead of {ours_h.get('bcb_version')})"
        )
    return differences


def sandbox_difference(reference: Mapping[str, Any], candidate: Mapping[str, Any]) -> str:
    keys = sorted(set(reference) | set(candidate))
    return ", ".join(
        f"{k} {candidate.get(k)!r} instead of {reference.get(k)!r}"
        for k in keys
        if candidate.get(k) != reference.get(k)
    )


@dataclass(frozen=True)
class NodeReport:
    """What a node said about itself before any worker started on it."""

    node_id: str
    hostname: str
    address: str
    cpus: float
    fingerprint: Mapping[str, Any] = field(default_factory=dict)
    differences: tuple[str, ...] = ()
    error: str = ""
    """Set when the node cannot run the task interpreter at all; such a node is never used."""
    sandbox_memory_mb: int = 0
    """The per-sample memory cap the sandbox would give a sample here by default (it depends on
    the node's memory and worker count); the cluster uses the smallest, so it is the same everywhere."""

    @property
    def label(self) -> str:
        """How results and messages name the node (also what the store's ``node`` column holds)."""
        return f"{self.hostname} ({self.address}, node {self.node_id[:12]})"

    @property
    def usable(self) -> bool:
        return not self.error

    @property
    def matches(self) -> bool:
        return self.usable and not self.differences


def check_environments(reports: Sequence[NodeReport], allow_mixed: bool) -> list[NodeReport]:
    """The nodes to use. Any node that differs from the driver is refused with a message naming it
    and what differs, unless ``allow_mixed``; nodes that cannot run the interpreter never serve."""
    bad = [r for r in reports if not r.matches]
    if bad and not allow_mixed:
        first = bad[0]
        why = first.error or "; ".join(first.differences)
        more = f" (and {len(bad) - 1} other node(s))" if len(bad) > 1 else ""
        raise MixedEnvironmentError(
            f"Ray node {first.label}{more} has another task environment than the driver: {why}. "
            "Give every node the driver's task environment (same interpreter path, same requirements, same bcb) "
            "or pass --allow-mixed-env to use it anyway (recorded in the manifest)"
        )
    usable = [r for r in reports if r.usable]
    if not usable:
        raise RayExecutorError(
            "no Ray node can run the task environment: " + "; ".join(f"{r.label}: {r.error}" for r in reports)
        )
    return usable


def probe_node(python: str, sandbox: SandboxOptions, workers: int) -> dict[str, Any]:
    """Runs on a node (as a Ray task): its name, its environment's fingerprint, and the memory cap
    the sandbox would give each of its ``workers`` workers' samples."""
    host = socket.gethostname()
    try:
        fingerprint = node_fingerprint(python)
    except (EnvironmentProbeError, OSError) as exc:
        return {"hostname": host, "error": f"cannot run the task interpreter {python}: {one_line(exc)}"}
    return {
        "hostname": host,
        "fingerprint": fingerprint,
        "sandbox_memory_mb": int(sandbox.to_wire(workers).get("memory_mb") or 0),
    }
