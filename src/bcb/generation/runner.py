"""Orchestration: which samples are still owed, where each comes from, and in what order it is
written.

A sample comes from the samples file (resume), else the response cache (free), else the backend.
API requests run concurrently in worker threads; the cache and the samples file are touched only
by the calling thread, as each answer arrives. A run that fails or is killed keeps every answer
that arrived: the next run with resume picks up where it stopped and pays for nothing twice.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Sequence

from bcb.dataset import Task
from bcb.errors import one_line
from bcb.generation.cache import ResponseCache, cache_key
from bcb.generation.errors import GenerationError, ProviderError, Stopped
from bcb.generation.manifest import RunStats
from bcb.generation.prompts import Prompt, build_prompt, truncate_at_stop
from bcb.generation.providers import Completion, Provider, stop_sequences
from bcb.generation.retry import RetryPolicy, call_with_retries
from bcb.generation.samples import Sample, SamplesFile
from bcb.generation.settings import GenerationSettings, Sampling

#: Told the run's counts whenever they change.
GenerationProgress = Callable[[RunStats], None]


@dataclass
class _Job:
    """One task's owed samples, and those that arrived ahead of an earlier index."""

    task: Task
    prompt: Prompt
    next_index: int
    waiting: dict[int, Sample] = field(default_factory=dict)


@dataclass(frozen=True)
class _Unit:
    """One call to the backend: some prompts, each with the sample indices it should fill."""

    jobs: tuple[_Job, ...]
    indices: tuple[tuple[int, ...], ...]


def sampling_for(settings: GenerationSettings, provider: Provider) -> Sampling:
    prefill = provider.owns_template and not settings.skip_prefill and not provider.direct_completion
    return Sampling(
        temperature=settings.temperature,
        max_new_tokens=settings.max_new_tokens,
        top_p=settings.top_p,
        stop=stop_sequences(settings.backend, direct_completion=provider.direct_completion, prefill=prefill),
        reasoning_effort=settings.reasoning_effort,
        thinking_budget=settings.thinking_budget,
    )


def prompt_for(task: Task, settings: GenerationSettings, provider: Provider) -> Prompt:
    return build_prompt(
        task,
        settings.split,  # type: ignore[arg-type]
        direct_completion=provider.direct_completion,
        instruction_prefix=settings.instruction_prefix,
        response_prefix=settings.response_prefix,
        prefill=provider.owns_template and not settings.skip_prefill,
        strip_newlines=settings.strip_newlines,
    )


class GenerationRunner:
    def __init__(
        self,
        settings: GenerationSettings,
        provider: Provider,
        cache: ResponseCache,
        samples: SamplesFile,
        *,
        read_cache: bool = True,
        policy: RetryPolicy | None = None,
        progress: GenerationProgress | None = None,
    ) -> None:
        from bcb.generation.sanitize import sanitize

        self.sanitize = sanitize
        self.settings = settings
        self.provider = provider
        self.cache = cache
        self.samples = samples
        self.read_cache = read_cache
        self.policy = policy or RetryPolicy(max_retries=settings.max_retries)
        self.progress = progress or (lambda stats: None)
        self.sampling = sampling_for(settings, provider)
        self.params = {
            **self.sampling.key(),
            "direct_completion": provider.direct_completion,
            "revision": settings.revision,
            "tokenizer": settings.tokenizer_name,
        }
        self.stats = RunStats()
        self.stop = threading.Event()
        self._succeeded = False
        self._lock = threading.Lock()

    # -----------------------------------------------------------------------------------------

    def run(self, tasks: Sequence[Task]) -> RunStats:
        n = self.settings.n_samples
        stats = self.stats
        stats.tasks = len(tasks)
        stats.wanted = len(tasks) * n
        if self.samples.repaired:
            stats.notes.append(
                f"dropped a cut-off last line ({self.samples.repaired} bytes) left by an interrupted run"
            )
        owed: list[tuple[_Job, list[int]]] = []
        for task in tasks:
            have = min(self.samples.counts.get(task.task_id, 0), n)
            stats.already_written += have
            if have < n:
                owed.append((_Job(task, prompt_for(task, self.settings, self.provider), have), list(range(have, n))))
        self.progress(stats)

        todo: list[tuple[_Job, list[int]]] = []
        for job, indices in owed:
            missing = []
            for index in indices:
                hit = self.cache.get(self._key(job, index)) if self.read_cache else None
                if hit is None:
                    missing.append(index)
                else:
                    self._deliver(job, index, hit, cached=True)
            if missing:
                todo.append((job, missing))
        self.progress(stats)
        if todo:
            self._generate(self._units(todo))
        for job, _ in owed:
            if job.next_index < n:
                raise GenerationError(
                    f"internal error: {job.task.task_id} still owes samples {job.next_index}..{n - 1}"
                )
        return stats

    # -----------------------------------------------------------------------------------------

    def _key(self, job: _Job, index: int) -> str:
        return cache_key(self.provider.name, self.settings.model, self.params, job.prompt, index)

    def _units(self, todo: list[tuple[_Job, list[int]]]) -> deque[_Unit]:
        """API backends: one unit per prompt and up to `max_n` samples. Local engines: up to
        `max_batch` prompts that owe the same number of samples, so one `n` fits them all."""
        max_n = max(1, self.provider.max_n)
        if self.provider.max_batch <= 1:
            return deque(
                _Unit((job,), (tuple(indices[i : i + max_n]),))
                for job, indices in todo
                for i in range(0, len(indices), max_n)
            )
        by_count: dict[int, list[tuple[_Job, list[int]]]] = {}
        for job, indices in todo:
            by_count.setdefault(len(indices), []).append((job, indices))
        units: deque[_Unit] = deque()
        for group in by_count.values():
            for i in range(0, len(group), self.provider.max_batch):
                chunk = group[i : i + self.provider.max_batch]
                units.append(_Unit(tuple(j for j, _ in chunk), tuple(tuple(ix) for _, ix in chunk)))
        return units

    def _call(self, unit: _Unit) -> list[list[Completion]]:
        n = max(len(ix) for ix in unit.indices)

        def once() -> list[list[Completion]]:
            with self._lock:
                self.stats.requests += 1
            result = self.provider.generate([job.prompt for job in unit.jobs], n, self.sampling)
            if len(result) < len(unit.jobs) or not all(result):
                raise ProviderError(
                    f"the {self.provider.name} backend answered a request without a completion", retryable=True
                )
            self._succeeded = True
            return result

        def retrying(exc: ProviderError, wait: float) -> None:
            with self._lock:
                self.stats.retries += 1

        # A connection that never opened, before anything worked, is a wrong URL or a server
        # that is down: say so now rather than after minutes of backoff.
        return call_with_retries(
            once,
            self.policy,
            stop=self.stop,
            on_retry=retrying,
            give_up=lambda exc: exc.unreachable and not self._succeeded,
        )

    def _generate(self, units: deque[_Unit]) -> None:
        workers = self.settings.concurrency if self.provider.max_batch <= 1 else 1
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcb-generate")
        inflight: dict[Future[list[list[Completion]]], _Unit] = {}
        failure: GenerationError | None = None
        try:
            while (units and failure is None) or inflight:
                while units and failure is None and len(inflight) < workers:
                    unit = units.popleft()
                    inflight[pool.submit(self._call, unit)] = unit
                done, _ = wait(inflight, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    unit = inflight.pop(future)
                    try:
                        answers = future.result()
                    except Stopped:
                        continue
                    except GenerationError as exc:
                        failure = failure or exc
                        self.stop.set()
                        continue
                    except Exception as exc:  # noqa: BLE001 a backend bug, not the user's: still one line, still keep the rest
                        failure = failure or GenerationError(
                            f"the {self.provider.name} backend failed: {type(exc).__name__}: {one_line(str(exc))}"
                        )
                        self.stop.set()
                        continue
                    units.extendleft(reversed(self._accept(unit, answers)))
                self.progress(self.stats)
        except BaseException:
            self.stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        if failure is not None:
            raise failure

    def _accept(self, unit: _Unit, answers: list[list[Completion]]) -> list[_Unit]:
        """Write what came back; return units for samples a server left out (some ignore `n`)."""
        again = []
        for job, indices, completions in zip(unit.jobs, unit.indices, answers):
            for index, completion in zip(indices, completions):
                self.cache.put(self._key(job, index), self.provider.name, self.settings.model, completion)
                self._deliver(job, index, completion, cached=False)
            if len(completions) < len(indices):
                again.append(_Unit((job,), (indices[len(completions) :],)))
        return again

    def _deliver(self, job: _Job, index: int, completion: Completion, *, cached: bool) -> None:
        stats = self.stats
        if cached:
            stats.cached += 1
        else:
            stats.generated += 1
            stats.input_tokens += completion.input_tokens
            stats.output_tokens += completion.output_tokens
        if completion.reasoning:
            stats.reasoning_samples += 1
        job.waiting[index] = self._sample(job, index, completion)
        while job.next_index in job.waiting:
            self.samples.append(job.waiting.pop(job.next_index))
            job.next_index += 1
        self.progress(stats)

    def _sample(self, job: _Job, index: int, completion: Completion) -> Sample:
        """raw_solution is the model's text; for a base model, as officially, the prompt it
        continued plus the continuation (cut at the first stop sequence)."""
        task = job.task
        if job.prompt.chat:
            raw = completion.text
        else:
            raw = job.prompt.text + truncate_at_stop(completion.text, self.sampling.stop)
        return Sample(
            task_id=task.task_id, index=index, solution=self.sanitize(raw, task.entry_point), raw_solution=raw
        )
