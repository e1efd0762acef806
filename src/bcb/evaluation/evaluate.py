"""One evaluation, from samples to scores: ground truth, time limits, execution through the store.

The order matters and follows the official evaluator: the ground truth runs first (its pass rate
says whether the environment can be trusted at all, and its test time sets each task's time
limit), then every distinct program runs once, then pass@k. Everything executed goes through the
result store, so an interrupted evaluation resumes where it stopped and identical programs (common
with n samples per task) run once.

:func:`evaluate` is its named steps in that order: :func:`select_samples`, :func:`sample_programs`,
:func:`check_ground_truth`, :func:`plan_samples` (what runs and what the store gives, by
:mod:`bcb.evaluation.plan`), :func:`run_samples`, :func:`results_table`, pass@k and
:func:`run_manifest`, built from what those steps returned. When the environment comes from a
remembered probe and the store holds every verdict, the steps that would start workers are skipped.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from bcb import __version__
from bcb.dataset import Dataset, Split, Task
from bcb.evaluation.failures import classify
from bcb.evaluation.laziness import lazy_reason
from bcb.evaluation.passk import pass_at_1_ci, pass_at_k
from bcb.evaluation.plan import (
    Environment,
    JobRunner,
    VerdictPlan,
    as_environment,
    distinct_programs,
    ground_truth_limit,
    ground_truth_of,
    plan_verdicts,
    program_job_key,
    stored_verdict,
    verdict_limits,
)
from bcb.evaluation.results import EvalResults, SampleResult
from bcb.evaluation.samples import SamplesError, program, solution_sha
from bcb.evaluation.store import GroundTruth, ResultStore, StoredVerdict
from bcb.evaluation.timing import RunClock
from bcb.execution import ExecutionResult, Job, Limits, check_seconds, time_limit_for
from bcb.generation.samples import Sample


class EvalProgress(Protocol):
    """What a front end shows while work runs (the CLI draws a bar with rate, ETA, pass rate).
    ``done`` holds the statuses already known before anything runs (verdicts from the store), so
    the count and the pass rate cover what the results will, not only what runs now."""

    def start(self, phase: str, total: int, done: Sequence[str] = ()) -> None: ...

    def advance(self, status: str) -> None: ...

    def stop(self) -> None: ...


class SilentEvalProgress:
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
        return verdict_limits(self.limits, time_limit)


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


def planned_time(gt: GroundTruth, limit: float) -> float:
    """How long a sample of a task is expected to run, for ordering only: its ground truth's time,
    or the whole limit when the ground truth itself ran into its limit (a sample of that task is
    then likely to as well, and must not be the last one started)."""
    if gt.status == "timeout":
        return limit
    return gt.gt_time or 0.0


def _run(
    jobs: list[Job], runner: JobRunner, clock: RunClock | None, on_result: Callable[[ExecutionResult], None]
) -> None:
    if not jobs:
        return
    for result in runner(jobs):
        if clock is not None:
            clock.mark_once("first_verdict")
        on_result(result)
    if clock is not None:
        clock.mark("last_verdict")


def check_ground_truth(
    dataset: Dataset,
    tasks: Sequence[Task],
    config: EvalConfig,
    store: ResultStore,
    env: str,
    runner: JobRunner,
    progress: EvalProgress | None = None,
    *,
    recheck: bool = False,
    clock: RunClock | None = None,
) -> dict[str, GroundTruth]:
    """Each task's canonical solution, cached per dataset hash + environment + limits."""
    progress = progress or SilentEvalProgress()
    gt_limit = ground_truth_limit(config.timeout, config.min_time_limit)
    key = config.limits_for(gt_limit)
    if recheck:
        store.forget_ground_truth(dataset.content_hash, env, key)
    known = store.get_ground_truth(dataset.content_hash, env, key)
    todo = [t for t in tasks if t.task_id not in known]
    past = store.past_ground_truth_times(dataset.content_hash) if todo else {}
    jobs = [
        Job(
            f"gt:{t.task_id}",
            t.task_id,
            t.solution,
            t.test,
            gt_limit,
            expected_time=min(past.get(t.task_id, 0.0), gt_limit),
        )
        for t in todo
    ]
    progress.start("ground truth", len(jobs))

    def record(result: ExecutionResult) -> None:
        gt = ground_truth_of(result)
        store.put_ground_truth(dataset.content_hash, env, key, gt)
        known[result.task_id] = gt
        progress.advance(result.status)

    try:
        _run(jobs, runner, clock, record)
    finally:
        progress.stop()
    return {t.task_id: known[t.task_id] for t in tasks}


def stored_ground_truth(
    dataset: Dataset, tasks: Sequence[Task], config: EvalConfig, store: ResultStore, env: str
) -> dict[str, GroundTruth] | None:
    """The ground truth of every task from the store, or None when any is missing (it must run)."""
    known = store.get_ground_truth(
        dataset.content_hash, env, config.limits_for(ground_truth_limit(config.timeout, config.min_time_limit))
    )
    if any(t.task_id not in known for t in tasks):
        return None
    return {t.task_id: known[t.task_id] for t in tasks}


def select_samples(
    dataset: Dataset, tasks: Sequence[Task], samples: Sequence[Sample], config: EvalConfig, origin: str
) -> tuple[list[Task], list[Sample]]:
    """The samples of the selected tasks (others are skipped, as the official evaluator does) and
    the tasks they cover; refuses a run that would silently score fewer tasks than selected."""
    wanted = {t.task_id for t in tasks}
    kept = [s for s in samples if s.task_id in wanted]
    present = {s.task_id for s in kept}
    missing = [t.task_id for t in tasks if t.task_id not in present]
    if not kept:
        raise SamplesError(f"{origin or 'the samples'}: no sample belongs to the selected tasks of {dataset.label}")
    if missing and not config.allow_partial:
        raise SamplesError(
            f"{origin or 'the samples'}: {len(missing)} of {len(tasks)} tasks have no sample "
            f"(first: {missing[0]}); pass --allow-partial to score only the tasks present"
        )
    return [t for t in tasks if t.task_id in present], kept


@dataclass(frozen=True)
class _Executed:
    """A sample as run: the program text and its sha256."""

    sample: Sample
    text: str
    sha: str


def sample_programs(samples: Sequence[Sample], tasks: Sequence[Task], config: EvalConfig) -> list[_Executed]:
    """Each sample's program as the official evaluator executes it (calibrated or not)."""
    by_id = {t.task_id: t for t in tasks}
    executed = []
    for sample in samples:
        text = program(sample, by_id[sample.task_id], calibrated=config.calibrated)
        executed.append(_Executed(sample, text, solution_sha(text)))
    return executed


def plan_samples(
    dataset: Dataset,
    tasks: Sequence[Task],
    executed: Sequence[_Executed],
    gt: Mapping[str, GroundTruth],
    config: EvalConfig,
    store: ResultStore,
    env: str,
) -> VerdictPlan:
    """One job per distinct (task, program), each with its task's time limit, ordered by the
    ground truth's time (without a ground-truth check here, by earlier checks in the store)."""
    by_id = {t.task_id: t for t in tasks}
    past = store.past_ground_truth_times(dataset.content_hash) if len(gt) < len(tasks) else {}

    def time_limit(task_id: str) -> float:
        if config.timeout:
            return float(config.timeout)
        known = gt.get(task_id)
        return time_limit_for(config.timeout_policy, known.gt_time if known else None, config.min_time_limit)

    def expected(task_id: str, limit: float) -> float:
        return planned_time(gt[task_id], limit) if task_id in gt else min(past.get(task_id, 0.0), limit)

    items = ((i, e.sample.task_id, e.text, e.sha, by_id[e.sample.task_id].test) for i, e in enumerate(executed))
    return plan_verdicts(
        distinct_programs(items, time_limit, expected), store, dataset.content_hash, env, config.limits
    )


def run_samples(
    plan: VerdictPlan, runner: JobRunner, store: ResultStore, progress: EvalProgress, clock: RunClock | None = None
) -> dict[str, StoredVerdict]:
    """Run what the store lacks; every verdict by its program's job key. The progress counts
    samples, as the results do: a program shared by several samples counts for each."""
    verdicts = dict(plan.reused)
    by_key = {p.job.key: p for p in plan.programs}
    progress.start(
        "samples",
        sum(len(p.indices) for p in plan.programs),
        [v.status for k, v in verdicts.items() for _ in by_key[k].indices],
    )

    def record(result: ExecutionResult) -> None:
        verdict = stored_verdict(result)
        store.put_verdict(plan.keys[result.key], verdict)
        verdicts[result.key] = verdict
        for _ in by_key[result.key].indices:
            progress.advance(result.status)

    try:
        _run([p.job for p in plan.todo], runner, clock, record)
    finally:
        progress.stop()
    return verdicts


def results_table(
    tasks: Sequence[Task],
    executed: Sequence[_Executed],
    plan: VerdictPlan,
    verdicts: Mapping[str, StoredVerdict],
    gt: Mapping[str, GroundTruth],
    config: EvalConfig,
    store: ResultStore,
) -> EvalResults:
    """Each sample's row of the official results, with its failure category (recorded in the store
    for verdicts stored before bcb classified failures, or whose ground truth changed)."""
    by_id = {t.task_id: t for t in tasks}
    table: dict[str, list[SampleResult]] = {t.task_id: [] for t in tasks}
    categories: dict[str, str | None] = {}
    for e in executed:
        key = program_job_key(e.sample.task_id, e.sha)
        verdict = verdicts[key]
        task = by_id[e.sample.task_id]
        lazy = lazy_reason(e.sample.solution, task.entry_point)
        if key not in categories:
            categories[key] = _category(verdict, e.text, task, lazy, gt, config)
            if categories[key] != verdict.category:
                store.set_category(plan.keys[key], categories[key])
        table[e.sample.task_id].append(
            SampleResult(
                task_id=e.sample.task_id,
                solution=e.text,
                status=verdict.status,
                details=verdict.details,
                index=e.sample.index,
                duration_s=verdict.duration_s,
                peak_rss_mb=verdict.peak_rss_mb,
                lazy=lazy,
                note=verdict.note,
                category=categories[key],
            )
        )
    return EvalResults(datetime.now().strftime("%Y-%m-%d %H:%M"), table)


def evaluate(
    dataset: Dataset,
    tasks: Sequence[Task],
    samples: Sequence[Sample],
    config: EvalConfig,
    store: ResultStore,
    fingerprint: Mapping[str, Any] | Environment,
    runner: JobRunner,
    progress: EvalProgress | None = None,
    *,
    samples_origin: str = "",
    clock: RunClock | None = None,
    executor: Callable[[], Mapping[str, Any]] | None = None,
) -> Evaluation:
    """Judge `samples` on `tasks` (already selected), reusing every stored verdict.

    ``fingerprint``: the probed environment, or an :class:`Environment` from an earlier probe, so
    that a run whose verdicts are all stored starts no worker. ``clock`` times the run's steps for
    the manifest (default: from this call); ``executor`` says where samples ran, for the manifest."""
    started = time.time()
    clock = clock or RunClock.from_now()
    progress = progress or SilentEvalProgress()
    tasks, samples = select_samples(dataset, tasks, samples, config, samples_origin)
    executed = sample_programs(samples, tasks, config)
    environment = as_environment(fingerprint)
    settled = _all_stored(dataset, tasks, executed, config, store, environment)
    if settled is not None:
        gt, plan = settled
    else:
        environment = environment.confirmed()
        gt = (
            {}
            if config.no_gt
            else check_ground_truth(dataset, tasks, config, store, environment.key, runner, progress, clock=clock)
        )
        plan = plan_samples(dataset, tasks, executed, gt, config, store, environment.key)
    verdicts = run_samples(plan, runner, store, progress, clock)
    results = results_table(tasks, executed, plan, verdicts, gt, config, store)
    scores = pass_at_k(results.counts(), config.pass_k)
    clock.mark("writing_results")
    finished = time.time()
    manifest = run_manifest(
        dataset,
        tasks,
        config,
        environment.fingerprint,
        gt,
        not config.no_gt,
        plan,
        started,
        finished,
        samples_origin,
        executor=dict(executor()) if executor is not None else None,
        timing=clock.to_json(),
    )
    results.bcb["manifest"] = manifest
    return Evaluation(
        results=results,
        pass_at_k=scores,
        ground_truth=gt,
        gt_checked=not config.no_gt,
        executed=len(plan.todo),
        reused=len(plan.reused),
        distinct_programs=len(plan.programs),
        duration_s=finished - started,
        manifest=manifest,
    )


def _all_stored(
    dataset: Dataset,
    tasks: Sequence[Task],
    executed: Sequence[_Executed],
    config: EvalConfig,
    store: ResultStore,
    environment: Environment,
) -> tuple[dict[str, GroundTruth], VerdictPlan] | None:
    """With an environment from an earlier probe: the ground truth and the plan when the store
    holds every verdict under it (nothing runs, no worker starts); else None."""
    if environment.probed:
        return None
    gt = {} if config.no_gt else stored_ground_truth(dataset, tasks, config, store, environment.key)
    if gt is None:
        return None
    plan = plan_samples(dataset, tasks, executed, gt, config, store, environment.key)
    return (gt, plan) if plan.complete else None


def _category(
    verdict: StoredVerdict,
    program_text: str,
    task: Task,
    lazy: str | None,
    gt: Mapping[str, GroundTruth],
    config: EvalConfig,
) -> str | None:
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
    fingerprint: Mapping[str, Any],
    gt: Mapping[str, GroundTruth],
    gt_checked: bool,
    plan: VerdictPlan,
    started: float,
    finished: float,
    samples_origin: str,
    *,
    executor: Mapping[str, Any] | None = None,
    timing: Mapping[str, float | None] | None = None,
) -> dict[str, object]:
    """Everything needed to reproduce or audit the numbers, from what the run's steps produced."""
    iso = lambda t: datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")  # noqa: E731
    manifest: dict[str, object] = {
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
        "environment": dict(fingerprint),
        "limits": {
            **asdict(config.limits),
            "timeout_policy": "fixed" if config.timeout else config.timeout_policy,
            "fixed_timeout_s": config.timeout,
            "min_time_limit_s": config.min_time_limit,
        },
        "ground_truth": {
            "checked": gt_checked,
            "pass_rate": (sum(g.passed for g in gt.values()) / len(gt) if gt else 0.0) if gt_checked else None,
            "failed_tasks": [t for t, g in gt.items() if not g.passed],
        },
        "executed": len(plan.todo),
        "reused_from_store": len(plan.reused),
        "distinct_programs": len(plan.programs),
    }
    if executor is not None:
        manifest["executor"] = dict(executor)
    if timing is not None:
        manifest["timing"] = dict(timing)
    return manifest


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
