"""Runs samples on a Ray cluster, with the same sandboxed, pre-warmed workers as on one machine.

How bcb maps onto Ray, and why:

- **Workers.** Every node gets a pool of actors, one per CPU it offers Ray (or ``workers_per_node``),
  pinned to it. Each actor holds a one-worker :class:`~bcb.execution.executor.LocalExecutor`:
  the same zygote, sandbox and verdict code as ``bcb evaluate`` on one machine, run by the task
  environment's interpreter at the same path on every node, with the driver's sample environment
  variables. So a verdict never depends on where it ran. One actor per worker (not one per node)
  lets Ray account CPUs per worker, and lets the driver replace a dead worker alone.
- **Scheduling** stays in the driver (:class:`~bcb.execution.ray_batches.BatchScheduler`): samples leave in batches, one
  actor call each (the round trip is paid per batch, not per sample), longest expected first; each
  actor has at most ``pipeline`` calls queued, so it never waits for the driver between batches;
  and at most ``max_in_flight`` samples are out at once, however many were submitted.
- **Serving.** :meth:`RayExecutor.serve` is the pull-based entry of ``bcb serve``: it asks the
  caller for samples only as workers come free, one per worker, so the server's fair queue keeps
  deciding which client's sample runs next.
- **Faults.** A batch whose worker or node died is re-queued whole and its samples then run one per
  call, so a sample that kills its worker again is identified: after ``max_attempts`` such deaths
  it is recorded as ``fail`` with the reason instead of being retried forever. Dead actors are
  replaced while their node lives. The driver keeps no state worth saving: callers write each
  result to the result store as it arrives, so a crashed driver resumes from the store.
- **Environment check.** Before any worker starts, every node reports its task environment's
  fingerprint (interpreter, packages, and bcb's sandbox code: :mod:`bcb.execution.ray_nodes`); nodes
  that differ from the driver's are refused, or accepted with ``allow_mixed_env``, which
  :meth:`RayExecutor.describe` reports and :meth:`RayExecutor.store_fingerprint` keys apart.

Ray is imported when a :class:`RayExecutor` connects, never at import time: bcb without
``bcb[ray]`` installed works as before, and asking for Ray then says how to install it.

Why this module is long: what is left here is the one class that owns the cluster's lifetime
(connect, probe the nodes, start, replace and retire actors, dispatch batches, close), whose parts
share its slots and its lock; the pure parts live beside it (:mod:`bcb.execution.ray_nodes`,
:mod:`bcb.execution.ray_batches`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bcb.errors import one_line
from bcb.execution.child_env import build_child_env
from bcb.execution.environment import environment_fingerprint
from bcb.execution.executor import ExecutorError, LocalExecutor, resolve_python
from bcb.execution.jobs import ExecutionResult, Job
from bcb.execution.limits import Limits, kill_after
from bcb.execution.preload import DEFAULT_PRELOAD
from bcb.execution.ray_batches import Batch, BatchScheduler
from bcb.execution.ray_nodes import (
    ENV_FIELDS,
    MixedEnvironmentError,
    NodeReport,
    RayExecutorError,
    check_environments,
    environment_differences,
    harness_fingerprint,
    probe_node,
    sandbox_difference,
)
from bcb.execution.sandbox import SandboxOptions, sandbox_summary

__all__ = ["RAY_INSTALL_HINT", "RayExecutor", "RayUnavailableError", "import_ray"]

RAY_INSTALL_HINT = "pip install 'bcb[ray]'"


class RayUnavailableError(RayExecutorError):
    """Ray is not installed where the driver runs."""


def import_ray() -> Any:
    """The ``ray`` module, or a one-line error saying how to get it."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailableError(
            f"the ray executor needs Ray, which is not installed here ({exc}); install it with: {RAY_INSTALL_HINT}"
        ) from None
    return ray


# ---------------------------------------------------------------------------------------------
# The actor


class _NodeWorker:
    """Body of the Ray actor: one warm, sandboxed worker (a one-worker LocalExecutor)."""

    def __init__(
        self,
        python: str,
        preload: Sequence[str],
        limits: Limits,
        child_env: Mapping[str, str],
        max_attempts: int,
        sandbox: SandboxOptions,
        where: str,
    ) -> None:
        self.where = where
        # env_allow=(): the sample environment is the driver's, whatever this node's shell had.
        self.executor = LocalExecutor(
            python=python,
            workers=1,
            preload=list(preload),
            limits=limits,
            env_allow=(),
            extra_env=child_env,
            max_attempts=max_attempts,
            sandbox=sandbox,
        )

    def start(self) -> dict[str, Any]:
        """Start the worker; a worker that cannot or must not run (its sandbox refuses) says why
        instead of raising, because restarting it would not help."""
        try:
            self.executor.start()
        except ExecutorError as exc:
            return {"pid": os.getpid(), "error": one_line(exc, 400)}
        return {
            "pid": os.getpid(),
            "zygotes": self.executor.worker_pids(),
            "preload": self.executor.preload_report,
            "sandbox": getattr(self.executor, "sandbox_report", {}),
        }

    def run_batch(self, jobs: list[Job]) -> list[ExecutionResult]:
        return [dataclasses.replace(r, node=self.where) for r in self.executor.run(jobs)]

    def stop(self) -> None:
        self.executor.close()


@dataclass(eq=False)
class _Slot:
    """One worker's place on a node, and the actor currently filling it."""

    node: NodeReport
    num_cpus: float
    actor: Any = None
    generation: int = 0
    starting: Any = None
    ready: bool = False
    retired: str = ""
    failures: int = 0
    calls: list[Any] = field(default_factory=list)
    busy_until: float = 0.0
    pid: int | None = None
    samples: int = 0
    sandbox: dict[str, Any] | None = None


class RayExecutor:
    """Judges jobs on a Ray cluster's nodes. Use as a context manager, like LocalExecutor.

    ``address`` is the cluster (``host:port`` or ``auto``; None: ``RAY_ADDRESS`` or a private
    single-node Ray, as :func:`ray.init` decides); when Ray is already initialised in this process
    (a training loop's own cluster), that connection is used and left open. ``python`` is the
    task environment's interpreter, at the same path on the driver and on every node.
    ``workers_per_node`` 0 means one per CPU the node offers Ray. ``reference_fingerprint`` is the
    driver's :func:`~bcb.execution.environment.environment_fingerprint` if already computed.

    Scheduling (see :class:`~bcb.execution.ray_batches.BatchScheduler`): ``max_batch`` and ``target_batch_s`` size batches,
    ``pipeline`` calls are queued per worker, ``max_in_flight`` bounds the samples out at once.
    Faults: ``max_attempts`` is how often a sample may take its worker down (inside the worker,
    as for LocalExecutor, and for the Ray worker itself) before it is a ``fail``; a worker place is
    given up after ``max_worker_restarts`` deaths or failed starts in a row (a single sample that
    kills workers causes at most ``max_attempts + 1``, so the default 5 survives one).
    """

    def __init__(
        self,
        python: str = sys.executable,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        limits: Limits = Limits(),
        *,
        address: str | None = None,
        workers_per_node: int = 0,
        allow_mixed_env: bool = False,
        reference_fingerprint: Mapping[str, Any] | None = None,
        sandbox: SandboxOptions | None = None,
        max_in_flight: int = 256,
        max_batch: int = 16,
        target_batch_s: float = 1.0,
        pipeline: int = 2,
        max_attempts: int = 3,
        max_worker_restarts: int = 5,
        start_timeout: float = 600.0,
        backstop_s: float = 60.0,
        poll_s: float = 0.5,
    ) -> None:
        if workers_per_node < 0 or pipeline < 1 or max_attempts < 1 or max_worker_restarts < 0:
            raise ValueError(
                "workers_per_node >= 0, pipeline >= 1, max_attempts >= 1 and max_worker_restarts >= 0 are required"
            )
        self.python = resolve_python(python)
        self.preload = tuple(preload)
        self.limits = limits
        self.address = address
        self.workers_per_node = workers_per_node
        self.allow_mixed_env = allow_mixed_env
        #: The hardening layers every worker asks for. Their memory cap, unless set, becomes the
        #: smallest default of the nodes, so that it is the same on every node.
        self.sandbox = sandbox if sandbox is not None else SandboxOptions()
        self.max_in_flight = max_in_flight
        self.max_batch = max_batch
        self.target_batch_s = target_batch_s
        self.pipeline = pipeline
        self.max_attempts = max_attempts
        self.max_worker_restarts = max_worker_restarts
        self.start_timeout = start_timeout
        self.backstop_s = backstop_s
        self.poll_s = poll_s
        self.child_env = build_child_env(self.python)
        #: Accepted nodes (after :meth:`connect`), and the ones refused or unusable.
        self.nodes: list[NodeReport] = []
        self.refused: list[NodeReport] = []
        #: Worker deaths, restarts and retirements, oldest first, for :meth:`describe`.
        self.events: list[str] = []
        self._reference: dict[str, Any] | None = dict(reference_fingerprint) if reference_fingerprint else None
        self._ray: Any = None
        self._owns_ray = False
        self._actor_class: Any = None
        self._affinity: Callable[..., Any] = lambda node_id, soft: (
            None
        )  # Ray's NodeAffinitySchedulingStrategy, once connected
        self._slots: list[_Slot] = []
        self._sandboxes_checked = False
        self._sandbox_summary: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._running = False
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> RayExecutor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        """Join the cluster and check every node's environment; starts no worker. Idempotent."""
        if self._closed:
            raise RayExecutorError("executor is closed")
        if self._ray is not None:
            return
        ray = import_ray()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        if not ray.is_initialized():
            try:
                ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
            except Exception as exc:  # noqa: BLE001 - ConnectionError, ValueError, RuntimeError: Ray's message says why
                where = f" at {self.address}" if self.address else ""
                raise RayExecutorError(f"cannot connect to the Ray cluster{where}: {one_line(exc, 400)}") from None
            self._owns_ray = True
        self._ray = ray
        self._affinity = NodeAffinitySchedulingStrategy
        try:
            if self._reference is None:
                self._reference = environment_fingerprint(self.python)
            self._reference.setdefault("harness", harness_fingerprint())
            reports = self._probe_nodes()
            self.nodes = check_environments(reports, self.allow_mixed_env)
        except BaseException:
            self._disconnect()
            raise
        self.refused = [r for r in reports if r not in self.nodes]

    def start(self) -> None:
        """Connect, then start every worker (in parallel: each spends seconds on its preload)."""
        self.connect()
        if not self._slots:
            alive = self._node_table()
            for node in self.nodes:
                size = self._pool_size(alive.get(node.node_id, {}))
                share = min(1.0, node.cpus / size) if size else 1.0
                self._slots.extend(_Slot(node, share) for _ in range(size))
            if not self.sandbox.memory_mb:
                caps = [n.sandbox_memory_mb for n in self.nodes if n.sandbox_memory_mb]
                if caps:
                    self.sandbox = dataclasses.replace(self.sandbox, memory_mb=min(caps))
        # Waits for the workers it launches here; replacements launched during a run finish
        # starting in the run loop, which does not wait for them.
        launched = [s for s in self._slots if not s.retired and not s.ready and s.starting is None]
        for slot in launched:
            self._launch(slot)
        deadline = time.monotonic() + self.start_timeout
        while any(s.starting is not None for s in launched):
            starting = {s.starting: s for s in launched if s.starting is not None}
            ready, _ = self._ray.wait(
                list(starting), num_returns=len(starting), timeout=max(0.0, deadline - time.monotonic())
            )
            for ref in ready:
                self._on_started(starting[ref])
            if not ready and time.monotonic() >= deadline:
                for slot in starting.values():
                    self._retire(slot, f"the worker on {slot.node.label} did not start within {self.start_timeout:g} s")
        if not any(s.ready or s.starting is not None for s in self._slots):
            raise RayExecutorError(
                "no Ray worker could be started: " + ("; ".join(self.events[-3:]) or "the cluster offers no CPU")
            )
        if not self._sandboxes_checked:
            self._check_sandboxes()

    def _check_sandboxes(self) -> None:
        """The sandbox layers are probed by the workers as they start, so they are checked here:
        the same on every node (and as the driver's fingerprint says, when it says)."""
        by_node: dict[str, dict[str, Any]] = {}
        for slot in self._slots:
            if slot.ready and slot.sandbox is not None:
                by_node.setdefault(slot.node.node_id, slot.sandbox)
        labels = {n.node_id: n.label for n in self.nodes}
        reference = (self._reference or {}).get("sandbox")
        distinct = {json.dumps(s, sort_keys=True) for s in by_node.values()}
        problems = []
        if reference is not None:
            problems = [
                f"{labels[node]}: {sandbox_difference(reference, s)}" for node, s in by_node.items() if s != reference
            ]
        elif len(distinct) > 1:
            first = next(iter(by_node.values()))
            problems = [f"{labels[node]}: {sandbox_difference(first, s)}" for node, s in by_node.items() if s != first]
        if problems and not self.allow_mixed_env:
            raise MixedEnvironmentError(
                "the Ray nodes' sandboxes differ ("
                + "; ".join(problems)
                + "): the same layers must protect every sample. "
                "Give every node the same kernel features and privileges, or pass --allow-mixed-env to use them anyway (recorded in the manifest)"
            )
        self._sandbox_summary = json.loads(distinct.pop()) if len(distinct) == 1 else None
        self._sandboxes_checked = True

    def close(self) -> None:
        """Stop the workers (their zygotes close and clean up, then the actors are killed) and
        disconnect from Ray if this executor connected."""
        if self._closed:
            return
        self._closed = True
        if self._ray is None:
            return
        actors = [s.actor for s in self._slots if s.actor is not None]
        with contextlib.suppress(Exception):
            stops = [a.stop.remote() for a in actors]
            if stops:
                self._ray.wait(stops, num_returns=len(stops), timeout=10)
        for actor in actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor, no_restart=True)
        for slot in self._slots:
            slot.actor, slot.ready, slot.starting, slot.calls = None, False, None, []
        self._disconnect()

    def _disconnect(self) -> None:
        if self._owns_ray and self._ray is not None:
            with contextlib.suppress(Exception):
                self._ray.shutdown()
        self._owns_ray = False
        self._ray = None

    # -- what ran where -------------------------------------------------------------------------
    def actor_pids(self) -> list[int]:
        """The live actors' process ids (they run on the nodes; for tests and diagnostics)."""
        return [s.pid for s in self._slots if s.ready and s.pid]

    def store_fingerprint(self, fingerprint: Mapping[str, Any]) -> dict[str, Any]:
        """The fingerprint to key verdicts on: ``fingerprint`` itself on a uniform cluster. With
        nodes of other environments accepted, one naming the whole mix, so a mixed run's verdicts
        are never reused by a run on a uniform cluster, nor the other way round."""
        self.start()  # the sandbox layers are known once the workers have started
        out = dict(fingerprint)
        if self._sandbox_summary is not None:
            out["sandbox"] = self._sandbox_summary
        if all(n.matches for n in self.nodes) and self._sandbox_summary is not None:
            return out
        assert self._reference is not None
        sandboxes = {s.node.node_id: s.sandbox for s in self._slots if s.sandbox is not None}
        envs = {
            json.dumps(
                {**{k: self._reference.get(k) for k in ENV_FIELDS}, "sandbox": self._reference.get("sandbox")},
                sort_keys=True,
            )
        }
        envs.update(
            json.dumps(
                {**{k: n.fingerprint.get(k) for k in ENV_FIELDS}, "sandbox": sandboxes.get(n.node_id)}, sort_keys=True
            )
            for n in self.nodes
        )
        out["freeze_sha256"] = "mixed-" + hashlib.sha256("\n".join(sorted(envs)).encode()).hexdigest()
        out["mixed_environments"] = [json.loads(e) for e in sorted(envs)]
        return out

    def describe(self) -> dict[str, Any]:
        """For the run manifest: the cluster, each node (environment, workers, samples it ran)."""
        by_node: dict[str, list[_Slot]] = {}
        for slot in self._slots:
            by_node.setdefault(slot.node.node_id, []).append(slot)
        nodes = []
        for node in self.nodes:
            slots = by_node.get(node.node_id, [])
            nodes.append(
                {
                    "node": node.label,
                    "node_id": node.node_id,
                    "hostname": node.hostname,
                    "address": node.address,
                    "cpus": node.cpus,
                    "workers": len(slots),
                    "samples": sum(s.samples for s in slots),
                    "environment": "same as the driver's"
                    if node.matches
                    else "differs: " + "; ".join(node.differences),
                    "sandbox": next((s.sandbox for s in slots if s.sandbox is not None), None),
                    "retired_workers": [s.retired for s in slots if s.retired],
                }
            )
        ray_version = getattr(sys.modules.get("ray"), "__version__", None)
        return {
            "kind": "ray",
            "address": self.address or "auto",
            "ray_version": ray_version,
            "python": self.python,
            "allow_mixed_env": self.allow_mixed_env,
            "mixed_env": any(not n.matches for n in self.nodes)
            or (self._sandboxes_checked and self._sandbox_summary is None),
            "sandbox_memory_mb": self.sandbox.memory_mb,
            "nodes": nodes,
            "refused": [{"node": r.label, "why": r.error or "; ".join(r.differences)} for r in self.refused],
            "events": self.events[-50:],
            "batching": {
                "max_batch": self.max_batch,
                "target_batch_s": self.target_batch_s,
                "pipeline": self.pipeline,
                "max_in_flight": self.max_in_flight,
            },
        }

    # -- running --------------------------------------------------------------------------------
    def run(
        self, jobs: Iterable[Job], on_result: Callable[[ExecutionResult], None] | None = None
    ) -> Iterator[ExecutionResult]:
        """Judge ``jobs``; yield each result as its batch comes back (and pass it to ``on_result``).
        Stopping the iteration early stops the workers still busy; the next run replaces them."""
        todo = list(jobs)
        if not todo:
            return
        with self._lock:
            if self._running:
                raise RayExecutorError("run() is already in progress on this executor")
            self._running = True
        try:
            for result in self._run(todo):
                if on_result is not None:
                    on_result(result)
                yield result
        finally:
            with self._lock:
                self._running = False

    def _run(self, todo: list[Job]) -> Iterator[ExecutionResult]:
        self.start()
        ray = self._ray
        scheduler = BatchScheduler(
            todo,
            max_in_flight=self.max_in_flight,
            max_batch=self.max_batch,
            target_batch_s=self.target_batch_s,
            max_attempts=self.max_attempts,
        )
        calls: dict[Any, tuple[_Slot, int, Batch]] = {}
        try:
            while not scheduler.finished:
                self._dispatch(scheduler, calls)
                starting = {s.starting: s for s in self._slots if s.starting is not None}
                waiting = [*calls, *starting]
                if not waiting:
                    raise RayExecutorError(
                        f"every Ray worker is gone with {scheduler.pending} sample(s) left; last problems: "
                        + "; ".join(self.events[-3:])
                    )
                ready, _ = ray.wait(waiting, num_returns=1, timeout=self.poll_s)
                if ready:
                    ready, _ = ray.wait(waiting, num_returns=len(waiting), timeout=0)
                for ref in ready:
                    if ref in calls:
                        yield from self._collect(ref, calls, scheduler)
                    else:
                        self._on_started(starting[ref])
                self._kill_hung()
        finally:
            if calls:  # stopped early: free the workers still busy (replaced by the next run)
                for slot in {slot for slot, _, _ in calls.values()}:
                    self._abandon(slot)

    def serve(
        self,
        take: Callable[[int, float], list[Job]],
        deliver: Callable[[ExecutionResult], None],
        stop: threading.Event,
    ) -> None:
        """Judge samples as they come, until ``stop`` is set: a server's entry, where :meth:`run`
        takes a fixed list. Whenever workers are free, ``take(n, wait)`` is asked for at most
        ``n`` samples (waiting up to ``wait`` seconds for one when nothing is out); each result
        goes to ``deliver``. Every worker holds one sample at a time, so the caller's order
        holds to the last sample: a slow sample of one client never holds back another's, and
        a sample taken is a sample that starts. Keys must be unique among the samples out at
        once. Lost workers are replaced and their samples re-run, as in :meth:`run`; raises
        :class:`RayExecutorError` once no worker is left. Samples still out when it returns
        are abandoned (their workers are replaced on the next call)."""
        with self._lock:
            if self._running:
                raise RayExecutorError("run() is already in progress on this executor")
            self._running = True
        try:
            self._serve(take, deliver, stop)
        finally:
            with self._lock:
                self._running = False

    def _serve(
        self,
        take: Callable[[int, float], list[Job]],
        deliver: Callable[[ExecutionResult], None],
        stop: threading.Event,
    ) -> None:
        self.start()
        ray = self._ray
        scheduler = BatchScheduler((), max_in_flight=self.max_in_flight, max_batch=1, max_attempts=self.max_attempts)
        calls: dict[Any, tuple[_Slot, int, Batch]] = {}
        try:
            while not stop.is_set():
                live = [s for s in self._slots if s.ready and s.actor is not None]
                starting = {s.starting: s for s in self._slots if s.starting is not None}
                if not live and not starting:
                    raise RayExecutorError("every Ray worker is gone; last problems: " + "; ".join(self.events[-3:]))
                room = sum(not s.calls for s in live) - scheduler.pending
                if room > 0:
                    scheduler.add(take(room, 0.0 if calls else self.poll_s))
                self._dispatch(scheduler, calls, pipeline=1)
                waiting = [*calls, *starting]
                if not waiting:
                    continue
                # Short waits while a worker is free: a new sample must not wait for a slow one.
                free = any(not s.calls for s in live)
                ready, _ = ray.wait(waiting, num_returns=1, timeout=0.05 if free else self.poll_s)
                if ready:
                    ready, _ = ray.wait(waiting, num_returns=len(waiting), timeout=0)
                for ref in ready:
                    if ref in calls:
                        for result in self._collect(ref, calls, scheduler):
                            deliver(result)
                    else:
                        self._on_started(starting[ref])
                self._kill_hung()
        finally:
            for slot in {slot for slot, _, _ in calls.values()}:
                self._abandon(slot)

    def _dispatch(
        self, scheduler: BatchScheduler, calls: dict[Any, tuple[_Slot, int, Batch]], pipeline: int | None = None
    ) -> None:
        live = [s for s in self._slots if s.ready and s.actor is not None]
        for depth in range(pipeline or self.pipeline):
            for slot in sorted(live, key=lambda s: len(s.calls)):
                if len(slot.calls) > depth:
                    continue
                batch = scheduler.next_batch(workers=len(live))
                if batch is None:
                    return
                ref = slot.actor.run_batch.remote(batch.jobs)
                # Only a backstop for a worker that stopped answering: generous on purpose.
                budget = (
                    sum(self.max_attempts * (kill_after(j.time_limit) + self.backstop_s) for j in batch.jobs)
                    + self.start_timeout
                )
                slot.busy_until = max(slot.busy_until, time.monotonic()) + budget
                slot.calls.append(ref)
                calls[ref] = (slot, slot.generation, batch)

    def _collect(
        self, ref: Any, calls: dict[Any, tuple[_Slot, int, Batch]], scheduler: BatchScheduler
    ) -> list[ExecutionResult]:
        slot, generation, batch = calls.pop(ref)
        current = slot.generation == generation
        if current and ref in slot.calls:
            slot.calls.remove(ref)
        try:
            results = self._ray.get(ref)
        except self._ray.exceptions.RayError as exc:
            reason = f"the Ray worker on {slot.node.label} died ({one_line(exc, 200)})"
            # The node still up means the worker died on its own: maybe of one of these samples.
            blame = self._node_table().get(slot.node.node_id, {}).get("Alive", False)
            if current:
                self._worker_lost(slot, reason)
            return scheduler.lost(batch, reason, blame=bool(blame), node=slot.node.label)
        slot.failures = 0
        slot.samples += len(results)
        return scheduler.completed(batch, results)

    def _kill_hung(self) -> None:
        now = time.monotonic()
        for slot in self._slots:
            if slot.calls and slot.actor is not None and now > slot.busy_until:
                self.events.append(f"the worker on {slot.node.label} stopped answering; killed")
                with contextlib.suppress(Exception):
                    self._ray.kill(slot.actor, no_restart=True)
                slot.busy_until = float("inf")  # its calls now fail and are collected as lost

    # -- workers --------------------------------------------------------------------------------
    def _node_table(self) -> dict[str, dict[str, Any]]:
        try:
            return {n["NodeID"]: n for n in self._ray.nodes()}
        except Exception:  # noqa: BLE001 - the GCS unreachable: treat every node as unknown
            return {}

    def _pool_size(self, node: Mapping[str, Any]) -> int:
        cpus = float((node.get("Resources") or {}).get("CPU", 0))
        if cpus <= 0:
            return 0
        return self.workers_per_node or max(1, int(cpus))

    def _probe_nodes(self) -> list[NodeReport]:
        ray = self._ray
        candidates = [n for n in ray.nodes() if n.get("Alive") and self._pool_size(n) > 0]
        if not candidates:
            raise RayExecutorError("the Ray cluster has no live node offering a CPU")
        probe = ray.remote(num_cpus=0, max_retries=0)(probe_node)
        refs = [
            probe.options(scheduling_strategy=self._affinity(n["NodeID"], soft=False)).remote(
                self.python, self.sandbox, self._pool_size(n)
            )
            for n in candidates
        ]
        reports = []
        assert self._reference is not None
        for node, ref in zip(candidates, refs, strict=True):
            base = dict(
                node_id=node["NodeID"],
                address=str(node.get("NodeManagerAddress", "?")),
                cpus=float(node["Resources"].get("CPU", 0)),
            )
            try:
                info = ray.get(ref, timeout=self.start_timeout)
            except Exception as exc:  # noqa: BLE001 - the node could not even run the probe
                reports.append(
                    NodeReport(
                        hostname=str(node.get("NodeManagerHostname", "?")),
                        error=f"probe failed: {one_line(exc, 400)}",
                        **base,
                    )
                )
                continue
            if "error" in info:
                reports.append(NodeReport(hostname=info["hostname"], error=info["error"], **base))
            else:
                diffs = tuple(environment_differences(self._reference, info["fingerprint"]))
                memory = int(info.get("sandbox_memory_mb") or 0)
                reports.append(
                    NodeReport(
                        hostname=info["hostname"],
                        fingerprint=info["fingerprint"],
                        differences=diffs,
                        sandbox_memory_mb=memory,
                        **base,
                    )
                )
        return reports

    def _launch(self, slot: _Slot) -> None:
        if self._actor_class is None:
            self._actor_class = self._ray.remote(_NodeWorker)
        slot.generation += 1
        slot.ready, slot.calls, slot.busy_until, slot.pid = False, [], 0.0, None
        slot.actor = self._actor_class.options(
            num_cpus=slot.num_cpus,
            scheduling_strategy=self._affinity(slot.node.node_id, soft=False),
            max_restarts=0,
            max_task_retries=0,
        ).remote(
            self.python, self.preload, self.limits, self.child_env, self.max_attempts, self.sandbox, slot.node.label
        )
        slot.starting = slot.actor.start.remote()

    def _on_started(self, slot: _Slot) -> None:
        ref, slot.starting = slot.starting, None
        try:
            info = self._ray.get(ref)
        except self._ray.exceptions.RayError as exc:
            self._worker_lost(slot, f"the worker on {slot.node.label} could not start ({one_line(exc, 200)})")
            return
        if info.get("error"):
            self._retire(slot, f"the worker on {slot.node.label} cannot run samples: {info['error']}")
            return
        slot.ready, slot.pid = True, int(info.get("pid") or 0) or None
        slot.sandbox = sandbox_summary(info.get("sandbox") or {"enabled": False})

    def _worker_lost(self, slot: _Slot, reason: str) -> None:
        """Replace a dead (or failed) worker, unless its node is gone or it keeps dying."""
        self.events.append(reason)
        self._abandon(slot)
        slot.failures += 1
        if slot.failures > self.max_worker_restarts:
            self._retire(slot, f"{reason}; {slot.failures} times in a row")
        elif not self._node_table().get(slot.node.node_id, {}).get("Alive", False):
            self._retire(slot, f"node {slot.node.label} is gone")
        else:
            self._launch(slot)

    def _abandon(self, slot: _Slot) -> None:
        """Kill the slot's actor; calls still out to it are then stale (another generation)."""
        if slot.actor is not None:
            with contextlib.suppress(Exception):
                self._ray.kill(slot.actor, no_restart=True)
        slot.generation += 1
        slot.actor, slot.ready, slot.starting, slot.calls = None, False, None, []

    def _retire(self, slot: _Slot, reason: str) -> None:
        self._abandon(slot)
        slot.retired = reason
        self.events.append(f"gave up a worker on {slot.node.label}: {reason}")
