"""One evaluation, from samples to scores: ground truth, time limits, execution through the store.

The order matters and follows the official evaluator: the ground truth runs first (its pass rate
says whether the environment can be trusted at all, and its test time sets each task's time
limit), then every distinct program runs once, then pass@k. Everything executed goes through the
result store, so an interrupted evaluation resumes where it stopped and identical programs (common
with n samples per task) run once.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable, Protocol, Sequence

from bcb import __version__
from bcb.dataset import Dataset, Split, Task
from bcb.evaluation.failures import classify
from bcb.evaluation.laziness import lazy_reason
from bcb.evaluation.passk import pass_at_1_ci, pass_at_k
from bcb.evaluation.results import EvalResults, SampleResult
from bcb.evaluation.samples import Sample, SamplesError, program, solution_sha
from bcb.evaluation.store import GroundTruth, ResultStore, StoredVerdict, VerdictKey, limits_key
from bcb.execution.jobs import ExecutionResult, Job
from bcb.execution.limits import OFFICIAL_TIMEOUT_FLOOR_S, Limits, check_seconds, time_limit_for


class Runner(Protocol):
    """Runs jobs, yielding results as they finish. The caller owns the executor's lifetime, so the
    ground truth and the samples share one set of warm workers (and nothing starts when every
    verdict is already in the store)."""

    def __call__(self, jobs: list[Job]) -> Iterable[ExecutionResult]: ...


class Progress(Protocol):
    """What a front end shows while work runs (the CLI draws a bar with rate, ETA, pass rate).
    ``done`` holds the statuses already known before anything runs (verdicts from the store), so
    the count and the pass rate cover what the results will, not only what runs now."""

    def start(self, phase: str, total: int, done: Sequence[str] = ()) -> None: ...

    def advance(self, status: str) -> None: ...

    def stop(self) -> None: ...


class SilentProgress:
    """Shows nothing: for library callers and tests."""

    def start(self, phase: str, total: int, done: Sequence[str] = ()) -> None:
        pass

    def advance(self, status: str) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass(frozen=True)
class EvalConfig:
    split: Split = "complete"
    calibrated: bool = True
    pass_k: tuple[int, ...] = (1, 5, 10)
    min_time_limit: float = 1.0
    limits: Limits = field(default_factory=Limits)
    timeout: float | None = None
    """A fixed per-sample limit in seconds, overriding the timeout policy."""
    timeout_policy: str = "official"
    """How a task's limit follows from its ground-truth time (see ``bcb.execution.limits``)."""
    no_gt: bool = False
    allow_partial: bool = False

    def __post_init__(self) -> None:
        check_seconds(self.min_time_limit, "--min-time-limit", zero_ok=True)
        if self.timeout is not None:
            check_seconds(self.timeout, "--timeout")

    def limits_for(self, time_limit: float) -> str:
        return limits_key({**asdict(self.limits), "time_limit": round(time_limit, 1)})


@dataclass
class Evaluation:
    """What an evaluation produced: the official-shaped results plus everything bcb reports."""

    results: EvalResults
    pass_at_k: dict[str, float]
    ground_truth: dict[str, GroundTruth]
    gt_checked: bool
    executed: int
    reused: int
    distinct_programs: int
    duration_s: float
    manifest: dict[str, object]

    @property
    def gt_pass_rate(self) -> float:
        if not self.ground_truth:
            return 0.0
        return sum(g.passed for g in self.ground_truth.values()) / len(self.ground_truth)

    @property
    def failed_tasks(self) -> list[str]:
        return [t for t, g in self.ground_truth.items() if not g.passed]

    def pass_at_k_file(self, model: str, split: str, subset: str, calibrated: bool) -> dict[str, object]:
        """`*_pass_at_k.json` with the official keys first, bcb's additions after them."""
        counts = self.results.counts()
        payload: dict[str, object] = dict(self.pass_at_k)
        payload.update(
            model=model,
            split=split,
            subset=subset,
            calibrated=calibrated,
            gt_pass_rate=self.gt_pass_rate if self.gt_checked else 0.0,
            failed_tasks=self.failed_tasks if self.gt_checked else list(self.results.eval),
        )
        if counts:
            payload["pass@1_ci95"] = pass_at_1_ci(counts).to_json()
        payload["lazy"] = sum(1 for rows in self.results.eval.values() for r in rows if r.lazy)
        payload["timeouts"] = sum(1 for rows in self.results.eval.values() for r in rows if r.status == "timeout")
        payload["gt_checked"] = self.gt_checked
        return payload


def environment_key(fingerprint: dict[str, object]) -> str:
    """Verdicts are reused only in an environment with the same interpreter and packages."""
    stable = {k: fingerprint.get(k) for k in ("python_version", "implementation", "machine", "freeze_sha256", "sandbox")}
    if fingerprint.get("nltk_data_sha256"):  # only when present, so stores from before it keep their keys
        stable["nltk_data_sha256"] = fingerprint["nltk_data_sha256"]
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:32]


def _run_jobs(jobs: list[Job], runner: Runner, on_result: Callable[[ExecutionResult], None]) -> None:
    if jobs:
        for result in runner(jobs):
            on_result(result)


def planned_time(gt: GroundTruth, limit: float) -> float:
    """How long a sample of a task is expected to run, for ordering only: its ground truth's time,
    or the whole limit when the ground truth itself ran into its limit (a sample of that task is
    then likely to as well, and must not be the last one started)."""
    if gt.status == "timeout":
        return limit
    return gt.gt_time or 0.0


def check_ground_truth(
    dataset: Dataset,
    tasks: Sequence[Task],
    config: EvalConfig,
    store: ResultStore,
    env: str,
    runner: Runner,
    progress: Progress | None = None,
    *,
    recheck: bool = False,
) -> dict[str, GroundTruth]:
    """Each task's canonical solution, cached per dataset hash + environment + limits."""
    progress = progress or SilentProgress()
    # The official ground-truth check runs under its fixed 240 s floor, not a GT-derived limit.
    gt_limit = float(config.timeout) if config.timeout else max(OFFICIAL_TIMEOUT_FLOOR_S, config.min_time_limit) + 1
    key = config.limits_for(gt_limit)
    if recheck:
        store.forget_ground_truth(dataset.content_hash, env, key)
    known = store.get_ground_truth(dataset.content_hash, env, key)
    todo = [t for t in tasks if t.task_id not in known]
    past = store.past_ground_truth_times(dataset.content_hash) if todo else {}
    jobs = [
        Job(f"gt:{t.task_id}", t.task_id, t.solution, t.test, gt_limit, expected_time=min(past.get(t.task_id, 0.0), gt_limit))
        for t in todo
    ]
    progress.start("ground truth", len(jobs))

    def record(result: ExecutionResult) -> None:
        passed = result.status == "pass"
        gt = GroundTruth(result.task_id, result.status, result.duration_s if passed else None, dict(result.details))
        store.put_ground_truth(dataset.content_hash, env, key, gt)
        known[result.task_id] = gt
        progress.advance(result.status)

    try:
        _run_jobs(jobs, runner, record)
    finally:
        progress.stop()
    return {t.task_id: known[t.task_id] for t in tasks}


def evaluate(
    dataset: Dataset,
    tasks: Sequence[Task],
    samples: Sequence[Sample],
    config: EvalConfig,
    store: ResultStore,
    fingerprint: dict[str, object],
    runner: Runner,
    progress: Progress | None = None,
    *,
    samples_origin: str = "",
) -> Evaluation:
    """Judge `samples` on `tasks` (already selected), reusing every stored verdict."""
    started = time.time()
    progress = progress or SilentProgress()
    by_id = {t.task_id: t for t in tasks}
    samples = [s for s in samples if s.task_id in by_id]  # as the official evaluator: others are skipped
    present = {s.task_id for s in samples}
    missing = [t.task_id for t in tasks if t.task_id not in present]
    if not samples:
        raise SamplesError(f"{samples_origin or 'the samples'}: no sample belongs to the selected tasks of {dataset.label}")
    if missing and not config.allow_partial:
        raise SamplesError(
            f"{samples_origin or 'the samples'}: {len(missing)} of {len(tasks)} tasks have no sample "
            f"(first: {missing[0]}); pass --allow-partial to score only the tasks present"
        )
    tasks = [t for t in tasks if t.task_id in present]
    env = environment_key(fingerprint)

    gt: dict[str, GroundTruth] = {}
    if not config.no_gt:
        gt = check_ground_truth(dataset, tasks, config, store, env, runner, progress)

    def time_limit(task_id: str) -> float:
        if config.timeout:
            return float(config.timeout)
        known = gt.get(task_id)
        return time_limit_for(config.timeout_policy, known.gt_time if known else None, config.min_time_limit)

    # Without a ground-truth check here (--no-gt), earlier checks in the store still order the work.
    past = store.past_ground_truth_times(dataset.content_hash) if len(gt) < len(tasks) else {}

    # One job per distinct (task, program): duplicates are judged once.
    planned: dict[tuple[str, str], tuple[Job, VerdictKey]] = {}
    per_sample: list[tuple[Sample, str, str]] = []
    for sample in samples:
        task = by_id[sample.task_id]
        text = program(sample, task, calibrated=config.calibrated)
        sha = solution_sha(text)
        per_sample.append((sample, text, sha))
        if (task.task_id, sha) in planned:
            continue
        limit = time_limit(task.task_id)
        key = VerdictKey(dataset.content_hash, task.task_id, sha, env, config.limits_for(limit))
        expected = planned_time(gt[task.task_id], limit) if task.task_id in gt else min(past.get(task.task_id, 0.0), limit)
        planned[(task.task_id, sha)] = (Job(f"{task.task_id}#{sha[:20]}", task.task_id, text, task.test, limit, expected), key)

    stored = store.get_verdicts(key for _, key in planned.values())
    verdicts: dict[tuple[str, str], StoredVerdict] = {}
    todo: list[Job] = []
    key_of_job: dict[str, tuple[tuple[str, str], VerdictKey]] = {}
    for ident, (job, key) in planned.items():
        if key in stored:
            verdicts[ident] = stored[key]
        else:
            todo.append(job)
            key_of_job[job.key] = (ident, key)

    # The bar counts samples, as the results do: a program shared by several samples counts for each.
    copies = Counter((sample.task_id, sha) for sample, _, sha in per_sample)
    progress.start("samples", len(per_sample), [verdicts[ident].status for ident in verdicts for _ in range(copies[ident])])

    def record(result: ExecutionResult) -> None:
        ident, key = key_of_job[result.key]
        verdict = StoredVerdict(
            result.status, dict(result.details), result.duration_s, result.peak_rss_mb, result.tests_run, result.note, result.node or None
        )
        store.put_verdict(key, verdict)
        verdicts[ident] = verdict
        for _ in range(copies[ident]):
            progress.advance(result.status)

    try:
        _run_jobs(todo, runner, record)
    finally:
        progress.stop()

    table: dict[str, list[SampleResult]] = {t.task_id: [] for t in tasks}
    categories: dict[tuple[str, str], str | None] = {}
    for sample, text, sha in per_sample:
        ident = (sample.task_id, sha)
        verdict = verdicts[ident]
        task = by_id[sample.task_id]
        lazy = lazy_reason(sample.solution, task.entry_point)
        if ident not in categories:
            categories[ident] = _category(verdict, text, task, lazy, gt, config)
            if categories[ident] != verdict.category:
                store.set_category(planned[ident][1], categories[ident])
        table[sample.task_id].append(
            SampleResult(
                task_id=sample.task_id,
                solution=text,
                status=verdict.status,
                details=verdict.details,
                index=sample.index,
                duration_s=verdict.duration_s,
                peak_rss_mb=verdict.peak_rss_mb,
                lazy=lazy,
                note=verdict.note,
                category=categories[ident],
            )
        )
    results = EvalResults(datetime.now().strftime("%Y-%m-%d %H:%M"), table)
    scores = pass_at_k(results.counts(), config.pass_k)
    finished = time.time()
    evaluation = Evaluation(
        results=results,
        pass_at_k=scores,
        ground_truth=gt,
        gt_checked=not config.no_gt,
        executed=len(todo),
        reused=len(planned) - len(todo),
        distinct_programs=len(planned),
        duration_s=finished - started,
        manifest={},
    )
    evaluation.manifest = run_manifest(dataset, tasks, config, fingerprint, evaluation, started, finished, samples_origin)
    results.bcb["manifest"] = evaluation.manifest
    return evaluation


def _category(verdict: StoredVerdict, program_text: str, task: Task, lazy: str | None, gt: dict[str, GroundTruth], config: EvalConfig) -> str | None:
    """The sample's failure category; the ground truth decides `environment` only when it ran."""
    known = gt.get(task.task_id)
    diagnosis = classify(
        verdict.status,
        verdict.details,
        program_text,
        lazy=lazy,
        gt_failed=known is not None and not known.passed,
        code_prompt=task.code_prompt,
        entry_point=task.entry_point,
        calibrated=config.calibrated,
    )
    return diagnosis.category if diagnosis else None


def run_manifest(
    dataset: Dataset,
    tasks: Sequence[Task],
    config: EvalConfig,
    fingerprint: dict[str, object],
    evaluation: Evaluation,
    started: float,
    finished: float,
    samples_origin: str,
) -> dict[str, object]:
    """Everything needed to reproduce or audit the numbers."""
    iso = lambda t: datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")  # noqa: E731
    return {
        "bcb_version": __version__,
        "started": iso(started),
        "finished": iso(finished),
        "host_python": platform.python_version(),
        "dataset": {
            "name": dataset.name,
            "version": dataset.version,
            "subset": dataset.subset,
            "content_hash": dataset.content_hash,
            "source": dataset.source,
            "verified": dataset.verified,
            "tasks_evaluated": len(tasks),
        },
        "split": config.split,
        "calibrated": config.calibrated,
        "samples": samples_origin,
        "environment": fingerprint,
        "limits": {
            **asdict(config.limits),
            "timeout_policy": "fixed" if config.timeout else config.timeout_policy,
            "fixed_timeout_s": config.timeout,
            "min_time_limit_s": config.min_time_limit,
        },
        "ground_truth": {
            "checked": evaluation.gt_checked,
            "pass_rate": evaluation.gt_pass_rate if evaluation.gt_checked else None,
            "failed_tasks": evaluation.failed_tasks,
        },
        "executed": evaluation.executed,
        "reused_from_store": evaluation.reused,
        "distinct_programs": evaluation.distinct_programs,
    }


def rescore(results: EvalResults, tasks: Sequence[Task], config: EvalConfig, *, origin: str = "") -> Evaluation:
    """pass@k of an existing results file (the official evaluator's or bcb's) over the selected
    tasks, executing nothing: what the official evaluator does when its results file exists.
    The ground truth is known only when the file is bcb's and says it was checked."""
    wanted = {t.task_id for t in tasks}
    table = {t: rows for t, rows in results.eval.items() if t in wanted and rows}
    if not table:
        raise SamplesError(f"{origin or 'the results file'}: no result belongs to the selected tasks")
    kept = EvalResults(results.date, table, dict(results.bcb))
    raw_manifest = results.bcb.get("manifest")
    manifest: dict[str, object] = raw_manifest if isinstance(raw_manifest, dict) else {}
    raw_gt = manifest.get("ground_truth")
    gt_info: dict[str, object] = raw_gt if isinstance(raw_gt, dict) else {}
    checked = bool(gt_info.get("checked"))
    failed_list = gt_info.get("failed_tasks")
    failed = set(failed_list) if isinstance(failed_list, list) else set()
    gt = {t: GroundTruth(t, "fail" if t in failed else "pass", None, {}) for t in table} if checked else {}
    return Evaluation(
        results=kept,
        pass_at_k=pass_at_k(kept.counts(), config.pass_k),
        ground_truth=gt,
        gt_checked=checked,
        executed=0,
        reused=0,
        distinct_programs=len({(t, r.solution) for t, rows in table.items() for r in rows}),
        duration_s=0.0,
        manifest=dict(manifest),
    )
