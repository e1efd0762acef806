"""The evaluation service: accepts samples files, queues them fairly, evaluates them with the same
code, sandbox and store as ``bcb evaluate``, and keeps every answer.

Front ends (the JSON API, the Gradio ``/predict`` API) only translate requests into
:meth:`EvaluationService.submit`, :meth:`status`, :meth:`answer` and :meth:`cancel` calls.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bcb.dataset import Dataset, DatasetError, Task, load_dataset, parse_ids, select_tasks
from bcb.evaluation.evaluate import Evaluation, check_ground_truth, evaluate
from bcb.evaluation.plan import environment_key
from bcb.evaluation.results import eval_results_payload, model_name
from bcb.evaluation.runner import SharedExecutor
from bcb.evaluation.samples import SamplesError, read_samples
from bcb.evaluation.store import ResultStore
from bcb.evaluation.timing import RunClock
from bcb.execution import Limits, SandboxOptions, environment_fingerprint, preload_modules, program_modules
from bcb.server.fair import FairQueue, JobCancelled, RayFeeder, Slot
from bcb.server.jobs import JobRecord, JobTable, describe, new_job_id
from bcb.server.options import JobOptions, RequestError, parse_options

#: Status requests that may wait for their job at once (``?wait=``); more are answered at once. A
#: waiting request holds one of the web server's threads (Gradio's pool has 40), so clients that
#: ask to wait cannot starve the rest of the API.
MAX_WAITING_REQUESTS = 16

#: The keys of the official ``*_pass_at_k.json``; the official client prints every ``pass@`` key
#: as a number, so bcb's additions (``pass@1_ci95``) stay out of what ``/predict`` returns.
OFFICIAL_PASS_AT_K_KEYS = ("model", "split", "subset", "calibrated", "gt_pass_rate", "failed_tasks")


@dataclass(frozen=True)
class ServeConfig:
    """How a server runs. ``workers`` (0: one per CPU) are warm one-process executors shared by
    all jobs (or a Ray cluster's workers: ``executor``); ``concurrent_jobs`` evaluations
    interleave on them. The limits refuse oversized or
    too many requests with a 4xx before anything runs."""

    root: Path
    python: str = sys.executable
    dataset: str = "bigcodebench"
    version: str | None = None
    dataset_file: Path | None = None
    data_dir: Path | None = None
    workers: int = 0
    concurrent_jobs: int = 4
    max_upload_mb: float = 64.0
    max_samples: int = 50_000
    max_queued_per_client: int = 8
    sandbox: SandboxOptions = field(default_factory=SandboxOptions)
    preload: tuple[str, ...] | None = None
    #: ``local`` or ``ray``: on a Ray cluster ``workers`` is per node (0: one per CPU it offers).
    executor: str = "local"
    ray_address: str | None = None
    allow_mixed_env: bool = False

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


class EvaluationService:
    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.root = config.root
        self.uploads = config.root / "serve" / "uploads"
        self.store_path = config.root / "bcb.sqlite"
        ResultStore(self.store_path).close()  # creates or migrates the store before the job table joins it
        self.jobs = JobTable(self.store_path)
        self.fair = FairQueue()
        self.stop = threading.Event()
        self.slots: list[Slot] = []
        self.feeder: RayFeeder | None = None
        self.workers = 0
        self.fingerprint: dict[str, Any] = {}
        self._datasets: dict[str, Dataset] = {}
        self._datasets_lock = threading.Lock()
        self._gt_locks: dict[str, threading.Lock] = {}
        self._pick_lock = threading.Lock()
        self._submit_lock = threading.Lock()
        self._wake = threading.Condition()
        self._finished = threading.Condition()
        self._waiting = threading.BoundedSemaphore(MAX_WAITING_REQUESTS)
        self._last_start: dict[str, float] = {}
        self._cancels: dict[str, threading.Event] = {}
        self._progress: dict[str, dict[str, Any]] = {}
        self._threads: list[threading.Thread] = []

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        """Load the dataset, start every worker (each probes the sandbox and refuses to run
        without its essential layers: :class:`~bcb.execution.executor.ExecutorError`), requeue
        what a previous server left running, and begin serving. Returns the sandbox summary."""
        full = self.dataset("full")
        workers = self.config.workers or os.cpu_count() or 1
        preload = (
            list(self.config.preload)
            if self.config.preload is not None
            else preload_modules(program_modules(t) for t in full.tasks)
        )
        if self.config.executor == "ray":
            return self._start_ray(preload)
        # The executors split the machine's memory share between them, as one executor's workers do.
        share = dataclasses.replace(
            self.config.sandbox, executor_memory_mb=max(1024, self.config.sandbox.total_memory_mb() // workers)
        )

        def make(limits: Limits) -> SharedExecutor:
            return SharedExecutor(self.config.python, 1, limits, preload, sandbox=share)

        fingerprint = environment_fingerprint(self.config.python)
        self.slots = [Slot(make, Limits()) for _ in range(workers)]
        keyed: list[dict[str, Any]] = []
        errors: list[BaseException] = []

        def warm(slot: Slot) -> None:
            try:
                keyed.append(slot.executor(Limits()).prepare(fingerprint))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=warm, args=(s,), daemon=True) for s in self.slots]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            self.close()
            raise errors[0]
        self.fingerprint = keyed[0]
        self.workers = workers
        for slot in self.slots:
            self._spawn(slot.serve, self.fair, self.stop)
        return self._serve_jobs()

    def _start_ray(self, preload: list[str]) -> dict[str, Any]:
        """Join the Ray cluster (every node's environment and sandbox checked, as for ``bcb
        evaluate --executor ray``) and feed its workers from the fair queue."""
        shared = SharedExecutor(
            self.config.python,
            self.config.workers,
            Limits(),
            preload,
            kind="ray",
            ray_address=self.config.ray_address,
            allow_mixed_env=self.config.allow_mixed_env,
            sandbox=self.config.sandbox,
        )
        try:
            self.fingerprint = shared.prepare(environment_fingerprint(self.config.python))
        except BaseException:
            shared.close()
            raise
        ray: Any = shared.executor  # a RayExecutor, known only through the execution layer's protocol
        self.feeder = RayFeeder(ray)
        self.workers = len(ray.actor_pids())
        self._spawn(self.feeder.serve, self.fair, self.stop)
        return self._serve_jobs()

    def _serve_jobs(self) -> dict[str, Any]:
        requeued = self.jobs.requeue_running()
        for _ in range(self.config.concurrent_jobs):
            self._spawn(self._job_loop)
        return {"requeued": requeued, "workers": self.workers, "sandbox": self.fingerprint.get("sandbox", {})}

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        self.stop.set()
        self.fair.close()
        for event in list(self._cancels.values()):
            event.set()
        with self._wake:
            self._wake.notify_all()
        with self._finished:
            self._finished.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)
        for slot in self.slots:
            slot.close()
        if self.feeder is not None:
            self.feeder.close()
        self.jobs.close()

    def dataset(self, subset: str) -> Dataset:
        with self._datasets_lock:
            if subset not in self._datasets:
                try:
                    self._datasets[subset] = load_dataset(
                        self.config.dataset,
                        version=self.config.version,
                        subset=subset,  # type: ignore[arg-type]
                        dataset_file=self.config.dataset_file,
                        data_dir=self.config.data_dir,
                    )
                except DatasetError as exc:
                    raise RequestError(400, str(exc)) from None
            return self._datasets[subset]

    # -- requests -----------------------------------------------------------------------------

    def submit(self, client: str, raw_options: Mapping[str, Any], samples: bytes) -> tuple[dict[str, Any], bool]:
        """Queue an evaluation; returns its status and whether it is a new job (False: the same
        upload with the same options was already answered, or is being answered, by that job)."""
        options = parse_options(raw_options)
        if options.dataset and options.dataset != self.config.dataset:
            raise RequestError(400, f"this server evaluates {self.config.dataset}, not {options.dataset}")
        options = dataclasses.replace(options, dataset=self.config.dataset)  # named or implied: one request key
        if self.config.executor == "ray" and options.limits != Limits():
            raise RequestError(
                400,
                "this server runs samples on Ray workers with the official memory limits only; "
                "leave max_as_limit, max_data_limit and max_stack_limit at their defaults",
            )
        if len(samples) > self.config.max_upload_bytes:
            raise RequestError(
                413,
                f"the samples file is {len(samples) / 2**20:.1f} MiB; this server takes at most {self.config.max_upload_mb:g} MiB",
            )
        key = options.request_key(samples)
        known = self.jobs.reusable(key)
        if known is not None:
            return self._status(known), False
        dataset = self.dataset(options.subset)
        tasks = self._tasks(dataset, options)
        n_samples = 0
        job_id = new_job_id()
        path = self.uploads / f"{job_id}.jsonl"  # kept while the job may still run (a restart reads it again)
        if not options.check_gt_only:
            if not samples.strip():
                raise RequestError(
                    400, "the samples file is empty: send JSONL lines with task_id and solution (or completion)"
                )
            self.uploads.mkdir(parents=True, exist_ok=True)
            staged = path.with_suffix(f".{threading.get_ident()}.part")
            staged.write_bytes(samples)
            try:
                n_samples = self._check_samples(staged, dataset, tasks, options)
            except BaseException:
                staged.unlink(missing_ok=True)
                raise
            os.replace(staged, path)
        try:
            with self._submit_lock:  # two identical uploads at once: still one job
                known = self.jobs.reusable(key)
                if known is not None:
                    path.unlink(missing_ok=True)
                    return self._status(known), False
                if self.jobs.count_unfinished(client) >= self.config.max_queued_per_client:
                    raise RequestError(
                        429,
                        f"client {client!r} already has {self.config.max_queued_per_client} unfinished jobs; wait for one to finish or cancel one",
                    )
                job = self.jobs.add(client, options.to_json(), key, str(path), n_samples, job_id)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        with self._wake:
            self._wake.notify_all()
        return self._status(job), True

    def _check_samples(self, staged: Path, dataset: Dataset, tasks: tuple[Task, ...], options: JobOptions) -> int:
        """Everything that would make the evaluation refuse the file, found now: a 400 (or 413)
        before the job is queued rather than a failed job later. Returns the samples that count."""
        try:
            parsed = read_samples(staged, dataset.by_id, resolve_id=dataset.resolve_id)
        except (SamplesError, DatasetError) as exc:
            raise RequestError(400, _uploaded(str(exc), staged, options.filename)) from None
        for sample in parsed:
            try:
                sample.solution.encode("utf-8")
            except UnicodeEncodeError as exc:  # JSON can carry lone surrogates ("\ud800") that no program can be
                raise RequestError(
                    400,
                    f"{_uploaded(sample.where, staged, options.filename)}: the solution is not valid Unicode text ({exc.reason})",
                ) from None
        wanted = {t.task_id for t in tasks}
        counted = [s for s in parsed if s.task_id in wanted]  # as the official evaluator: others are skipped
        if len(counted) > self.config.max_samples:
            raise RequestError(
                413, f"{len(counted)} samples; this server takes at most {self.config.max_samples} per job"
            )
        present = {s.task_id for s in counted}
        if not present:
            raise RequestError(400, f"{options.filename}: no sample belongs to the selected tasks of {dataset.label}")
        missing = [t.task_id for t in tasks if t.task_id not in present]
        if missing and not options.allow_partial:
            raise RequestError(
                400,
                f"{options.filename}: {len(missing)} of {len(tasks)} tasks have no sample (first: "
                f"{missing[0]}); send allow_partial=true to score only the tasks present",
            )
        return len(counted)

    def status(self, job_id: str) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            raise RequestError(404, f"no job {job_id!r} on this server")
        return self._status(job)

    def _status(self, job: JobRecord) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if job.state == "queued":
            extra["queue_position"] = self.jobs.position(job)
        live = self._progress.get(job.id)
        if live is not None and job.state == "running":
            extra["progress"] = dict(live)
        return describe(job, **extra)

    def answer(self, job_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The finished job's ``*_eval_results.json`` and ``*_pass_at_k.json`` contents."""
        job = self.jobs.get(job_id)
        if job is None:
            raise RequestError(404, f"no job {job_id!r} on this server")
        found = self.jobs.answer(job_id)
        if found is None:
            detail = f": {job.error}" if job.error else ""
            raise RequestError(409, f"job {job_id} is {job.state}{detail}; results exist once it is done")
        return json.loads(found[0]), json.loads(found[1])

    def cancel(self, job_id: str) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            raise RequestError(404, f"no job {job_id!r} on this server")
        if self.jobs.cancel(job_id):
            event = self._cancels.get(job_id)
            if event is not None:
                event.set()
            else:  # it never started: nothing else will read its upload
                Path(job.samples_path).unlink(missing_ok=True)
            with self._finished:
                self._finished.notify_all()
        return self.status(job_id)

    def wait(self, job_id: str, timeout_s: float | None = None) -> dict[str, Any]:
        """The job's status once it has finished, or once ``timeout_s`` has passed (None: no
        limit; the Gradio call holds its connection this long). Woken when any job finishes, so
        a short job's answer is not held back by a poll interval. With a timeout (a status
        request), at most :data:`MAX_WAITING_REQUESTS` wait at once; the others get the status now."""
        if timeout_s is None:
            return self._wait_until(job_id, None)
        if not self._waiting.acquire(blocking=False):
            return self.status(job_id)
        try:
            return self._wait_until(job_id, time.monotonic() + timeout_s)
        finally:
            self._waiting.release()

    def _wait_until(self, job_id: str, deadline: float | None) -> dict[str, Any]:
        while True:
            with self._finished:
                status = self.status(job_id)
                if status["state"] in ("done", "failed", "cancelled") or self.stop.is_set():
                    return status
                left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
                if left <= 0:
                    return status
                self._finished.wait(left)

    # -- running ------------------------------------------------------------------------------

    def _job_loop(self) -> None:
        while not self.stop.is_set():
            try:
                job = self._pick()
                if job is None:
                    with self._wake:
                        self._wake.wait(0.5)
                    continue
                self._run(job)
            except Exception:  # noqa: BLE001 - e.g. a locked or full disk: say so, keep the thread
                traceback.print_exc()
                self.stop.wait(1.0)

    def _pick(self) -> JobRecord | None:
        """The next queued job, taking turns between clients: the one whose last job started longest ago."""
        with self._pick_lock:
            queued = self.jobs.queued()
            for job in sorted(queued, key=lambda j: (self._last_start.get(j.client, 0.0), j.seq)):
                self._cancels[job.id] = threading.Event()  # before the claim: a cancel right after it finds the event
                if self.jobs.claim(job.id):
                    self._last_start[job.client] = time.monotonic()
                    return self.jobs.get(job.id)
                del self._cancels[job.id]
            return None

    def _run(self, job: JobRecord) -> None:
        cancelled = self._cancels[job.id]
        progress = _JobProgress(self._progress.setdefault(job.id, {"phase": "starting", "done": 0, "total": 0}))
        clock = RunClock.from_now()
        try:
            options = JobOptions.from_json(job.options)
            dataset = self.dataset(options.subset)
            for step in ("dataset", "fingerprint", "workers_ready"):  # the last two were ready before the job
                clock.mark(step)
            tasks = self._tasks(dataset, options)
            runner = self.fair.runner(job.client, options.limits, cancelled)
            store = ResultStore(self.store_path)
            try:
                results, pass_at_k, outcome = self._evaluate(
                    job, options, dataset, tasks, runner, store, progress, clock
                )
            finally:
                store.close()
            self.jobs.finish(job.id, json.dumps(results), json.dumps(pass_at_k), outcome[0], outcome[1])
        except JobCancelled:
            pass
        except (RequestError, SamplesError, DatasetError) as exc:
            self.jobs.fail(job.id, getattr(exc, "message", None) or str(exc))
        except Exception as exc:  # noqa: BLE001 - one job fails with the reason; the server goes on
            self.jobs.fail(job.id, f"{type(exc).__name__}: {exc}")
        finally:
            self._cancels.pop(job.id, None)
            self._progress.pop(job.id, None)
            now = self.jobs.get(job.id)
            if now is not None and now.finished:  # the answer is in the table; the upload is needed no more
                Path(job.samples_path).unlink(missing_ok=True)
            with self._finished:
                self._finished.notify_all()

    def _evaluate(
        self,
        job: JobRecord,
        options: JobOptions,
        dataset: Dataset,
        tasks: tuple[Task, ...],
        runner: Any,
        store: ResultStore,
        progress: _JobProgress,
        clock: RunClock,
    ) -> tuple[dict[str, Any], dict[str, Any], tuple[int, int]]:
        config = options.eval_config()
        env = environment_key(self.fingerprint)
        samples = (
            []
            if options.check_gt_only
            else read_samples(Path(job.samples_path), dataset.by_id, resolve_id=dataset.resolve_id)
        )
        present = {s.task_id for s in samples}
        gt_tasks = tasks if options.check_gt_only else [t for t in tasks if t.task_id in present]
        if not options.no_gt:
            # One ground-truth run per dataset at a time: a second job waits, then finds it in the store.
            with self._gt_lock(dataset.content_hash):
                gt = check_ground_truth(dataset, gt_tasks, config, store, env, runner, progress, clock=clock)
        if options.check_gt_only:
            rate = sum(g.passed for g in gt.values()) / len(gt)
            results = {"date": datetime.now().strftime("%Y-%m-%d %H:%M"), "eval": {}}
            pass_at_k = {
                "model": model_name(options.filename),
                "split": options.split,
                "subset": options.subset,
                "calibrated": options.calibrated,
                "gt_pass_rate": rate,
                "failed_tasks": [t for t, g in gt.items() if not g.passed],
            }
            return results, pass_at_k, (0, 0)
        outcome: Evaluation = evaluate(
            dataset,
            tasks,
            samples,
            config,
            store,
            self.fingerprint,
            runner,
            progress,
            samples_origin=options.filename,
            clock=clock,
            executor=self._describe_executor(job),
        )
        results = eval_results_payload(outcome.results)
        pass_at_k = outcome.pass_at_k_file(
            model_name(options.filename), options.split, options.subset, options.calibrated
        )
        return results, pass_at_k, (outcome.executed, outcome.reused)

    def _describe_executor(self, job: JobRecord) -> Any:
        """For the job's manifest: the server's workers and, on Ray, the cluster they ran on."""

        def describe() -> dict[str, Any]:
            out: dict[str, Any] = {"kind": "bcb serve", "workers": self.workers, "job": job.id}
            if self.feeder is not None:
                out["ray"] = self.feeder.executor.describe()
            return out

        return describe

    def _gt_lock(self, dataset_hash: str) -> threading.Lock:
        with self._pick_lock:
            return self._gt_locks.setdefault(dataset_hash, threading.Lock())

    @staticmethod
    def _tasks(dataset: Dataset, options: JobOptions) -> tuple[Task, ...]:
        try:
            return select_tasks(
                dataset, ids=parse_ids(options.selective_evaluate) if options.selective_evaluate else None
            )
        except DatasetError as exc:
            raise RequestError(400, f"selective_evaluate: {exc}") from None


class _JobProgress:
    """Feeds a job's live status: which phase, how many of its programs are done."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    def start(self, phase: str, total: int, done: Sequence[str] = ()) -> None:
        self.state.update(phase=phase, done=len(done), total=total, passed=sum(status == "pass" for status in done))

    def advance(self, status: str) -> None:
        self.state["done"] = self.state.get("done", 0) + 1
        self.state["passed"] = self.state.get("passed", 0) + (status == "pass")

    def stop(self) -> None:
        pass


def official_pass_at_k(pass_at_k: Mapping[str, Any]) -> dict[str, Any]:
    """What the official ``/predict`` returns as its second value: the ``pass@k`` numbers and the official keys."""
    return {
        k: v
        for k, v in pass_at_k.items()
        if (k.startswith("pass@") and isinstance(v, (int, float))) or k in OFFICIAL_PASS_AT_K_KEYS
    }


def _uploaded(message: str, staged: Path, filename: str) -> str:
    """Messages name the client's file, not the server's staging path."""
    return message.replace(str(staged), filename)
