"""What a run executes, what it takes from the result store, and in which order: the one place
every front end (``bcb evaluate``, the Python API, ``bcb perturb``, ``bcb qa``, ``bcb serve``)
decides it.

Grading stays pure functions elsewhere (:mod:`bcb.evaluation.failures`, :mod:`bcb.evaluation.passk`,
:mod:`bcb.evaluation.laziness`); this module only plans: identical (task, program) pairs collapse to
one :class:`Program`, each keyed in the store by everything its verdict depends on, and a program
whose key is stored is reused instead of run. The keys are the store's own: a store written by any
earlier bcb is reused as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from bcb.evaluation.store import GroundTruth, ResultStore, StoredVerdict, VerdictKey, limits_key
from bcb.execution import OFFICIAL_TIMEOUT_FLOOR_S, ExecutionResult, Job, Limits


class JobRunner(Protocol):
    """Runs jobs, yielding results as they finish. The caller owns the executor's lifetime, so the
    ground truth and the samples share one set of warm workers (and nothing starts when every
    verdict is already in the store)."""

    def __call__(self, jobs: list[Job]) -> Iterable[ExecutionResult]: ...


def environment_key(fingerprint: Mapping[str, object]) -> str:
    """Verdicts are reused only in an environment with the same interpreter and packages."""
    stable = {
        k: fingerprint.get(k) for k in ("python_version", "implementation", "machine", "freeze_sha256", "sandbox")
    }
    if fingerprint.get("nltk_data_sha256"):  # only when present, so stores from before it keep their keys
        stable["nltk_data_sha256"] = fingerprint["nltk_data_sha256"]
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Environment:
    """The fingerprint verdicts are keyed on. When ``confirm`` is set, ``fingerprint`` is what an
    earlier probe of the same workers found, not yet probed in this run: enough to find stored
    verdicts without starting a worker, and ``confirm()`` starts the workers and returns the
    probed fingerprint before anything runs."""

    fingerprint: Mapping[str, Any]
    confirm: Callable[[], Mapping[str, Any]] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return environment_key(self.fingerprint)

    @property
    def probed(self) -> bool:
        return self.confirm is None

    def confirmed(self) -> Environment:
        return self if self.confirm is None else Environment(dict(self.confirm()))


def as_environment(fingerprint: Mapping[str, Any] | Environment) -> Environment:
    return fingerprint if isinstance(fingerprint, Environment) else Environment(dict(fingerprint))


def verdict_limits(limits: Limits, time_limit: float) -> str:
    """The store's ``limits`` column: the resource limits and the time limit a verdict ran under."""
    return limits_key({**asdict(limits), "time_limit": round(time_limit, 1)})


def ground_truth_limit(timeout: float | None, min_time_limit: float) -> float:
    """The official ground-truth check runs under its fixed 240 s floor, not a GT-derived limit."""
    return float(timeout) if timeout else max(OFFICIAL_TIMEOUT_FLOOR_S, min_time_limit) + 1


def program_job_key(task_id: str, sha: str) -> str:
    return f"{task_id}#{sha[:20]}"


@dataclass(frozen=True)
class Program:
    """One distinct (task, program): run once however many samples share it. ``indices`` are the
    positions of those samples in the caller's list, in order."""

    task_id: str
    sha: str
    job: Job
    indices: tuple[int, ...]


def distinct_programs(
    items: Iterable[tuple[int, str, str, str, str]],
    time_limit: Callable[[str], float],
    expected_time: Callable[[str, float], float] = lambda task_id, limit: 0.0,
) -> list[Program]:
    """``items``: (index, task_id, program text, its sha256, the task's test). Identical programs
    of a task collapse to one job, keyed by task and sha, in the order first seen."""
    found: dict[tuple[str, str], Program] = {}
    for index, task_id, text, sha, test in items:
        known = found.get((task_id, sha))
        if known is not None:
            found[(task_id, sha)] = Program(task_id, sha, known.job, (*known.indices, index))
            continue
        limit = time_limit(task_id)
        job = Job(program_job_key(task_id, sha), task_id, text, test, limit, expected_time(task_id, limit))
        found[(task_id, sha)] = Program(task_id, sha, job, (index,))
    return list(found.values())


@dataclass(frozen=True)
class VerdictPlan:
    """Which programs run and which verdicts come from the store (both by the program's job key)."""

    programs: tuple[Program, ...]
    keys: Mapping[str, VerdictKey]
    reused: Mapping[str, StoredVerdict]

    @property
    def todo(self) -> list[Program]:
        return [p for p in self.programs if p.job.key not in self.reused]

    @property
    def complete(self) -> bool:
        """Every verdict is in the store: nothing runs."""
        return len(self.reused) == len(self.programs)


def plan_verdicts(
    programs: Sequence[Program], store: ResultStore | None, dataset_hash: str, env: str, limits: Limits
) -> VerdictPlan:
    """Key every program; take what the store already holds (without a store, everything runs)."""
    keys = {
        p.job.key: VerdictKey(dataset_hash, p.task_id, p.sha, env, verdict_limits(limits, p.job.time_limit))
        for p in programs
    }
    stored = store.get_verdicts(keys.values()) if store is not None else {}
    reused = {job_key: stored[key] for job_key, key in keys.items() if key in stored}
    return VerdictPlan(tuple(programs), keys, reused)


def stored_verdict(result: ExecutionResult) -> StoredVerdict:
    """A result as the store keeps it."""
    return StoredVerdict(
        result.status,
        dict(result.details),
        result.duration_s,
        result.peak_rss_mb,
        result.tests_run,
        result.note,
        result.node or None,
    )


def ground_truth_of(result: ExecutionResult) -> GroundTruth:
    """A canonical solution's result: its test time counts only when it passed."""
    passed = result.status == "pass"
    return GroundTruth(result.task_id, result.status, result.duration_s if passed else None, dict(result.details))
