"""The Ray driver's queue: which samples leave next, in which batches, and what becomes of the
samples of a batch that never came back. No Ray in here, so it is tested on its own.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bcb.execution.jobs import ExecutionResult, Job
from bcb.execution.scheduling import expected_seconds, longest_first

__all__ = ["Batch", "BatchScheduler"]


@dataclass
class _Entry:
    job: Job
    losses: list[str] = field(default_factory=list)
    strikes: int = 0
    alone: bool = False


@dataclass(frozen=True)
class Batch:
    """Samples sent in one actor call."""

    number: int
    entries: tuple[_Entry, ...]

    @property
    def jobs(self) -> list[Job]:
        return [e.job for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)


class BatchScheduler:
    """The driver's queue: which samples leave next, in which batches, and what becomes of the
    samples of a batch that never came back. No Ray in here, so it is tested on its own.

    Samples leave longest planned time first (:mod:`bcb.execution.scheduling`; ties in submission
    order). A batch holds samples until their planned time reaches ``target_batch_s`` (samples
    without one count as the mean duration measured so far), at most ``max_batch`` of them, and no more than an even share
    of what is left per worker, so the tail of a run spreads over every worker. At most
    ``max_in_flight`` samples are out at any time.

    A lost batch (:meth:`lost`) goes back to the front of the queue. When its worker died while
    its node stayed up (``blame``), one of its samples may be the cause: they are retried one per
    batch, and a sample whose lone batch is lost ``max_attempts`` times becomes a ``fail``.
    """

    def __init__(
        self,
        jobs: Iterable[Job],
        *,
        max_in_flight: int = 256,
        max_batch: int = 16,
        target_batch_s: float = 1.0,
        max_attempts: int = 3,
        default_estimate_s: float = 0.5,
    ) -> None:
        if max_in_flight < 1 or max_batch < 1 or max_attempts < 1:
            raise ValueError("max_in_flight, max_batch and max_attempts must be >= 1")
        listed = list(jobs)
        ordered = [listed[i] for i in longest_first(listed)]
        if len({j.key for j in ordered}) != len(ordered):
            raise ValueError("job keys must be unique within a run")
        self._pending: deque[_Entry] = deque(_Entry(j) for j in ordered)
        self.max_in_flight = max_in_flight
        self.max_batch = max_batch
        self.target_batch_s = target_batch_s
        self.max_attempts = max_attempts
        self.in_flight = 0
        self._numbers = itertools.count()
        self._mean = default_estimate_s
        self._measured = 0

    def add(self, jobs: Iterable[Job]) -> None:
        """More samples, after those already waiting and in the order given (a server's queue
        has already put them in the order it wants)."""
        self._pending.extend(_Entry(j) for j in jobs)

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def finished(self) -> bool:
        return not self._pending and self.in_flight == 0

    def estimate(self, job: Job) -> float:
        planned = expected_seconds(job)
        return planned if planned > 0 else self._mean

    def next_batch(self, workers: int = 1) -> Batch | None:
        """The next batch for one of ``workers`` workers, or None (nothing left, or the in-flight bound)."""
        room = self.max_in_flight - self.in_flight
        if not self._pending or room <= 0:
            return None
        entries = []
        if self._pending[0].alone:
            entries.append(self._pending.popleft())
        else:
            cap = max(1, min(self.max_batch, room, math.ceil(len(self._pending) / max(1, workers))))
            total = 0.0
            while self._pending and len(entries) < cap and not self._pending[0].alone:
                cost = self.estimate(self._pending[0].job)
                if entries and total + cost > self.target_batch_s:
                    break
                entries.append(self._pending.popleft())
                total += cost
        self.in_flight += len(entries)
        return Batch(next(self._numbers), tuple(entries))

    def completed(self, batch: Batch, results: Sequence[ExecutionResult]) -> list[ExecutionResult]:
        """The batch's results, each saying which earlier runs of its sample were lost."""
        self.in_flight -= len(batch)
        by_key = {r.key: r for r in results}
        out: list[ExecutionResult] = []
        missing: list[_Entry] = []
        for entry in batch.entries:
            result = by_key.get(entry.job.key)
            if result is None:
                missing.append(entry)
                continue
            self._measured += 1
            self._mean += (result.duration_s - self._mean) / self._measured
            if entry.losses:
                lost = "re-run after: " + "; ".join(entry.losses)
                result = dataclasses.replace(
                    result,
                    attempts=result.attempts + len(entry.losses),
                    note="; ".join(n for n in (result.note, lost) if n),
                )
            out.append(result)
        for entry in reversed(missing):  # a worker that answers for fewer samples than it was sent
            entry.losses.append("its batch came back without it")
            self._pending.appendleft(entry)
        return out

    def lost(self, batch: Batch, reason: str, *, blame: bool, node: str = "") -> list[ExecutionResult]:
        """Re-queue a batch that will never answer; return the ``fail`` records of samples that
        have now killed their worker ``max_attempts`` times."""
        self.in_flight -= len(batch)
        given_up: list[ExecutionResult] = []
        requeue: list[_Entry] = []
        for entry in batch.entries:
            entry.losses.append(reason)
            if blame and len(batch) == 1:
                entry.strikes += 1
                if entry.strikes >= self.max_attempts:
                    given_up.append(self._give_up(entry, reason, node))
                    continue
            if blame:
                entry.alone = True
            requeue.append(entry)
        for entry in reversed(requeue):
            self._pending.appendleft(entry)
        return given_up

    @staticmethod
    def _give_up(entry: _Entry, reason: str, node: str) -> ExecutionResult:
        return ExecutionResult(
            key=entry.job.key,
            task_id=entry.job.task_id,
            status="fail",
            details={"ALL": f"the Ray worker running this sample died {entry.strikes} times; last: {reason}"},
            duration_s=0.0,
            peak_rss_mb=None,
            tests_run=None,
            attempts=len(entry.losses),
            note="; ".join(entry.losses),
            node=node,
        )
