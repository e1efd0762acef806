"""The one executor an evaluation's phases share: started on the first job, warm for the rest.

Lifted out of the CLI so that every front end (``bcb evaluate``, ``bcb serve``) starts its
workers, keys verdicts on their sandbox report and closes them the same way.

Verdicts are keyed on what the workers' sandbox probe found, and the probe runs as workers start
(seconds: each imports its preload). So the probe's summary is remembered beside the result store,
for the same interpreter, packages, sandbox options, user and boot of this machine: a later run
looks its verdicts up under it without starting anything, and starts (and probes again) only when
something is missing. A probe that then disagrees replaces the remembered one and the run is keyed
on what it found.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from bcb import __version__
from bcb.evaluation.plan import Environment, environment_key
from bcb.evaluation.timing import RunClock
from bcb.execution import (
    ExecutionResult,
    Executor,
    ExecutorOptions,
    Job,
    Limits,
    SandboxOptions,
    create_executor,
    describe_executor,
    verdict_fingerprint,
)
from bcb.fileio import write_json_atomic

#: Beside ``bcb.sqlite`` under ``--root``: each remembered sandbox probe, by :func:`_probe_key`.
PROBE_FILE = "sandbox-probe.json"


class SharedExecutor:
    """Starts the warm workers on the first job only, and keeps them for every later phase.
    ``kind`` picks the executor (``local`` or ``ray``; for Ray, ``workers`` is per node, 0 = its CPUs).
    ``root``: where the result store lives, and so where the sandbox probe is remembered.
    ``clock``: marks when the workers are ready, for the run's timing."""

    def __init__(
        self,
        python: str,
        workers: int,
        limits: Limits,
        preload: list[str],
        *,
        kind: str = "local",
        ray_address: str | None = None,
        allow_mixed_env: bool = False,
        sandbox: SandboxOptions | None = None,
        root: Path | None = None,
        clock: RunClock | None = None,
    ) -> None:
        self.options = ExecutorOptions(
            kind=kind,  # type: ignore[arg-type]
            python=python,
            workers=workers,
            preload=tuple(preload),
            limits=limits,
            ray_address=ray_address,
            allow_mixed_env=allow_mixed_env,
            sandbox=sandbox or SandboxOptions(),
        )
        self.executor: Executor | None = None
        self.probe_file = root / PROBE_FILE if root is not None else None
        self.clock = clock
        self._started = False
        self._keyed: dict[str, Any] | None = None
        self._early: threading.Thread | None = None
        self._early_error: BaseException | None = None

    def start_early(self) -> None:
        """Start the workers in the background now, while the caller fingerprints the environment
        and opens the store, when they are needed whatever the store holds: no sandbox probe was
        ever remembered under this root, so no verdict can be keyed without one."""
        if (
            self.options.kind != "local"
            or self.probe_file is None
            or self._early is not None
            or self.executor is not None
            or self._probes()
        ):
            return
        self._early = threading.Thread(target=self._start_in_background, name="bcb-start-workers", daemon=True)
        self._early.start()

    def _start_in_background(self) -> None:
        try:
            self._executor().start()
            self._ready()
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread by _join_early
            self._early_error = exc

    def _join_early(self) -> None:
        if self._early is None:
            return
        self._early.join()
        self._early = None
        error, self._early_error = self._early_error, None
        if error is not None:
            raise error

    def prepare(self, fingerprint: Mapping[str, Any]) -> dict[str, Any]:
        """Before any job. On Ray: join the cluster and check every node's environment now, so a
        refused node stops the run before anything ran; returns the fingerprint to key verdicts on
        (:func:`~bcb.execution.protocol.verdict_fingerprint`, the one rule the API uses too)."""
        self._join_early()
        if self.options.kind == "ray":
            self.options = dataclasses.replace(self.options, reference_fingerprint=fingerprint)
        keyed = verdict_fingerprint(self._executor(), fingerprint)
        self._ready()
        self._remember(fingerprint, keyed)
        self._keyed = keyed
        return keyed

    def environment(self, fingerprint: Mapping[str, Any]) -> Environment:
        """What to key verdicts on: from the remembered probe when there is one (nothing starts
        until a job must run), else probed now."""
        if self._keyed is not None:
            return Environment(self._keyed)
        known = self._remembered(fingerprint)
        if known is None:
            return Environment(self.prepare(fingerprint))
        return Environment(known, confirm=lambda: self.prepare(fingerprint))

    @property
    def python(self) -> str:
        """The interpreter the workers run (resolved; nothing starts)."""
        self._join_early()
        return self._executor().python

    def describe(self) -> dict[str, Any]:
        """Where the samples ran, for the manifest."""
        self._join_early()
        if self.executor is None:
            return {"kind": self.options.kind, "started": False}
        return describe_executor(self.executor)

    def _executor(self) -> Executor:
        if self.executor is None:
            self.executor = create_executor(self.options)
        return self.executor

    def _ready(self) -> None:
        self._started = True
        if self.clock is not None:
            self.clock.mark_once("workers_ready")

    def __call__(self, jobs: list[Job], cancel: threading.Event | None = None) -> Iterator[ExecutionResult]:
        """Run ``jobs``; setting ``cancel`` stops the run, killing its samples in flight (local
        executor only: ``bcb serve`` cancels jobs with it)."""
        self._join_early()
        executor = self._executor()
        if not self._started:
            executor.start()
            self._ready()
        if cancel is not None:
            return executor.run(jobs, cancel=cancel)  # type: ignore[call-arg]
        return executor.run(jobs)

    def close(self) -> None:
        if self._early is not None:
            self._early.join()  # a start that failed meanwhile matters no more: the run is over
            self._early = None
        if self.executor is not None:
            self.executor.close()

    # -- the remembered probe -------------------------------------------------------------------

    def _probe_key(self, fingerprint: Mapping[str, Any]) -> str | None:
        """Everything the probe's summary depends on; None where it cannot be remembered (Ray
        checks its nodes instead; without a root there is nowhere to keep it)."""
        if self.options.kind != "local" or self.probe_file is None:
            return None
        try:
            with open("/proc/sys/kernel/random/boot_id") as fh:
                boot = fh.read().strip()
        except OSError:
            return None  # no way to tell a reboot (or another kernel) apart: probe every time
        identity = {
            "bcb": __version__,
            "environment": environment_key(fingerprint),
            "executable": fingerprint.get("executable"),
            "workers": self.options.workers,
            "limits": dataclasses.asdict(self.options.limits),
            "sandbox": dataclasses.asdict(self.options.sandbox),
            "uid": os.geteuid(),
            "host": socket.gethostname(),
            "boot": boot,
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()

    def _probes(self) -> dict[str, Any]:
        assert self.probe_file is not None
        try:
            found = json.loads(self.probe_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def _remembered(self, fingerprint: Mapping[str, Any]) -> dict[str, Any] | None:
        key = self._probe_key(fingerprint)
        if key is None:
            return None
        entry = self._probes().get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("sandbox"), dict):
            return None
        return {**fingerprint, "sandbox": entry["sandbox"]}

    def _remember(self, fingerprint: Mapping[str, Any], keyed: Mapping[str, Any]) -> None:
        key = self._probe_key(fingerprint)
        if key is None or not isinstance(keyed.get("sandbox"), dict):
            return
        probes = self._probes()
        if probes.get(key) == {"sandbox": keyed["sandbox"]}:
            return
        probes[key] = {"sandbox": keyed["sandbox"]}
        try:
            write_json_atomic(self.probe_file, probes)  # type: ignore[arg-type]
        except OSError:
            pass  # only a later run's start-up is lost
