"""Warm workers shared by every running job, one sample at a time, taking turns between clients.

Each worker slot is a one-process :class:`~bcb.evaluation.runner.SharedExecutor`, started once
with the server and kept warm. A job's evaluation hands its programs to :class:`FairQueue` (as
the ``runner`` that :func:`bcb.evaluation.evaluate.evaluate` calls) and reads its results back as
they finish. A free slot takes the next program from the client whose turn it is, so a client
with a thousand queued samples holds up a one-sample client by one sample, not by a thousand, and
no slot idles behind a slow sample of another slot (a batch would). On a Ray cluster one
:class:`RayFeeder` takes the slots' place, keeping the same turns.
"""

from __future__ import annotations

import dataclasses
import itertools
import queue
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from bcb.evaluation.runner import SharedExecutor
from bcb.execution import ExecutionResult, Job, Limits

_ids = itertools.count(1)


class JobCancelled(Exception):
    """The job was cancelled while its samples ran."""


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


@dataclass
class _Request:
    client: str
    limits: Limits
    pending: deque[Job]
    cancelled: threading.Event
    results: queue.Queue[ExecutionResult | _Failure] = field(default_factory=queue.Queue)
    id: int = field(default_factory=lambda: next(_ids))


class FairQueue:
    """Programs waiting to run, per client, handed out round-robin between clients."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._clients: OrderedDict[str, deque[_Request]] = OrderedDict()
        self._closed = False

    def runner(
        self, client: str, limits: Limits, cancelled: threading.Event
    ) -> Callable[[list[Job]], Iterator[ExecutionResult]]:
        """A ``JobRunner`` for one job of ``client``: its programs join the shared queue."""

        def run(jobs: list[Job]) -> Iterator[ExecutionResult]:
            # Longest first within the job, as the executors order a run, so its slow samples start early.
            request = _Request(client, limits, deque(sorted(jobs, key=lambda j: -j.expected_time)), cancelled)
            self._add(request)
            try:
                for _ in range(len(jobs)):
                    while True:
                        if cancelled.is_set():
                            yield from self._finished(request)  # verdicts that came in are kept
                            raise JobCancelled()
                        try:
                            item = request.results.get(timeout=0.2)
                        except queue.Empty:
                            continue
                        break
                    if isinstance(item, _Failure):
                        raise item.exc
                    yield item
            finally:
                self._drop(request)

        return run

    @staticmethod
    def _finished(request: _Request) -> Iterator[ExecutionResult]:
        while True:
            try:
                item = request.results.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, ExecutionResult):
                yield item

    def _add(self, request: _Request) -> None:
        with self._cond:
            self._clients.setdefault(request.client, deque()).append(request)
            self._cond.notify_all()

    def _drop(self, request: _Request) -> None:
        with self._cond:
            request.pending.clear()
            mine = self._clients.get(request.client)
            if mine is not None and request in mine:
                mine.remove(request)
                if not mine:
                    del self._clients[request.client]

    def take(self, timeout: float) -> tuple[_Request, Job] | None:
        """The next program to run: the next one of the client whose turn it is (that client then
        going to the back of the line), from that client's jobs in turn."""
        with self._cond:
            found = self._next()
            if found is None and not self._closed:
                self._cond.wait(timeout)
                found = self._next()
            return found

    def _next(self) -> tuple[_Request, Job] | None:
        for client, requests in list(self._clients.items()):
            for request in list(requests):
                if request.pending:
                    job = request.pending.popleft()
                    self._clients.move_to_end(client)
                    requests.remove(request)  # and the client's own jobs take turns too
                    requests.append(request)
                    return request, job
        return None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class Slot:
    """One warm worker. Keeps a warm executor for the official limits and, when a job asks for
    other limits, one for those as well (replacing the previous non-default one)."""

    def __init__(self, make: Callable[[Limits], SharedExecutor], default: Limits) -> None:
        self.make = make
        self.default = default
        self.executors: dict[Limits, SharedExecutor] = {}

    def executor(self, limits: Limits) -> SharedExecutor:
        found = self.executors.get(limits)
        if found is not None:
            return found
        for other in [lim for lim in self.executors if lim != self.default]:
            self.executors.pop(other).close()
        created = self.executors[limits] = self.make(limits)
        return created

    def serve(self, fair: FairQueue, stop: threading.Event) -> None:
        while not stop.is_set():
            got = fair.take(timeout=0.5)
            if got is None:
                continue
            request, job = got
            try:
                # A cancel of its job stops the sample at once; the worker stays warm for the next.
                for result in self.executor(request.limits)([job], cancel=request.cancelled):
                    request.results.put(dataclasses.replace(result, key=job.key))
            except Exception as exc:  # noqa: BLE001 - the job that sent this sample fails with it; the server goes on
                request.results.put(_Failure(exc))

    def close(self) -> None:
        for executor in self.executors.values():
            executor.close()
        self.executors.clear()


class PullExecutor(Protocol):
    """What :class:`RayFeeder` needs of an executor: ``RayExecutor.serve`` and its fixed limits."""

    limits: Limits

    def serve(
        self,
        take: Callable[[int, float], list[Job]],
        deliver: Callable[[ExecutionResult], None],
        stop: threading.Event,
    ) -> None: ...

    def describe(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class RayFeeder:
    """The Ray cluster's workers in place of the slots: one thread takes samples from the
    :class:`FairQueue` only as Ray workers come free, one per worker (so the queue's turns hold
    on the cluster as on this machine), and hands each result back to the job that sent it.

    Cancelling a job stops its queued samples; a sample of it already on a Ray worker runs to its
    end (its verdict is dropped). If the cluster loses every worker, the samples out and those
    waiting fail their jobs with the reason, and the feeder tries the cluster again."""

    def __init__(self, executor: PullExecutor, retry_s: float = 5.0) -> None:
        self.executor = executor
        self.retry_s = retry_s
        self._out: dict[str, tuple[_Request, Job]] = {}
        self._keys = itertools.count(1)

    def serve(self, fair: FairQueue, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.executor.serve(lambda n, wait: self._take(fair, n, wait), self._deliver, stop)
            except Exception as exc:  # noqa: BLE001 - the jobs that sent these samples fail with it; the server goes on
                failure = _Failure(exc)
                for request, _ in self._out.values():
                    request.results.put(failure)
                self._out.clear()
                while (got := fair.take(timeout=0)) is not None:
                    got[0].results.put(failure)
                stop.wait(self.retry_s)

    def _take(self, fair: FairQueue, n: int, wait: float) -> list[Job]:
        taken: list[Job] = []
        while len(taken) < n:
            got = fair.take(timeout=wait if not taken else 0)
            if got is None:
                break
            request, job = got
            if request.limits != self.executor.limits:
                request.results.put(
                    _Failure(ValueError("this server's Ray workers run the official memory limits only"))
                )
                continue
            key = f"s{next(self._keys)}"  # two jobs may send samples of the same key
            self._out[key] = (request, job)
            taken.append(dataclasses.replace(job, key=key))
        return taken

    def _deliver(self, result: ExecutionResult) -> None:
        found = self._out.pop(result.key, None)
        if found is not None:
            request, job = found
            request.results.put(dataclasses.replace(result, key=job.key))

    def close(self) -> None:
        self.executor.close()
