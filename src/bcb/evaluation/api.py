"""bcb as a library: judge solutions from a training loop, each verdict as soon as it is ready.

    from bcb.dataset import load_dataset
    from bcb.evaluation.api import evaluate_solutions

    tasks = load_dataset("bcb-mini")
    for verdict in evaluate_solutions(tasks, [("BigCodeBench/0", code_0), ("BigCodeBench/3", code_3)]):
        rewards[verdict.index] = verdict.reward

A reward function needs what ``bcb evaluate`` computes, one answer at a time: the same program
(calibrated by default), the same official time limit and the same sandboxed workers, so a reward
means what a leaderboard score means. It does not need result files or pass@k. Verdicts come back
in completion order, each carrying the index of its solution, so a slow sample holds up no other.

Keep one executor open across calls (``with LocalExecutor(...) as ex`` or a
:class:`~bcb.execution.ray_executor.RayExecutor`): its warm workers are what makes a call cheap.
With a :class:`~bcb.evaluation.store.ResultStore`, verdicts are shared with ``bcb evaluate``
runs on the same root, and a program already judged there is not run again.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bcb.dataset import Dataset, Task, content_hash
from bcb.evaluation.plan import Environment, Program, distinct_programs, plan_verdicts, stored_verdict
from bcb.evaluation.runner import SharedExecutor
from bcb.evaluation.samples import SamplesError, program, solution_sha
from bcb.evaluation.store import ResultStore
from bcb.execution import (
    OFFICIAL_MIN_TIME_LIMIT_S,
    ExecutionResult,
    Executor,
    ExecutorKind,
    Job,
    Limits,
    SandboxOptions,
    Status,
    check_seconds,
    environment_fingerprint,
    imported_modules,
    official_time_limit,
    preload_modules,
    verdict_fingerprint,
)
from bcb.generation.samples import Sample

__all__ = ["Verdict", "evaluate_solutions"]


@dataclass(frozen=True)
class Verdict:
    """The verdict on one solution. ``index`` is its position in the ``solutions`` given;
    ``reused`` says it came from the result store instead of running; ``node`` where it ran (Ray)."""

    index: int
    task_id: str
    status: Status
    details: Mapping[str, str]
    duration_s: float | None
    program_sha: str
    note: str = ""
    node: str = ""
    reused: bool = False
    attempts: int = field(default=1, compare=False)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def reward(self) -> float:
        """1.0 for a pass, 0.0 otherwise: the binary reward pass@1 averages."""
        return 1.0 if self.status == "pass" else 0.0


def evaluate_solutions(
    tasks: Dataset | Iterable[Task],
    solutions: Iterable[tuple[str, str] | Mapping[str, Any]],
    executor: Executor | ExecutorKind | None = None,
    *,
    calibrated: bool = True,
    time_limit: float | None = None,
    min_time_limit: float = OFFICIAL_MIN_TIME_LIMIT_S,
    python: str | None = None,
    workers: int = 0,
    limits: Limits | None = None,
    ray_address: str | None = None,
    allow_mixed_env: bool = False,
    sandbox: SandboxOptions | None = None,
    store: ResultStore | None = None,
    fingerprint: Mapping[str, Any] | None = None,
) -> Iterator[Verdict]:
    """Judge ``solutions`` against ``tasks``; yield one :class:`Verdict` per solution as it is ready.

    ``tasks``: a loaded :class:`~bcb.dataset.Dataset` (ids may then be written ``13`` as well as
    ``BigCodeBench/13``) or Task objects. ``solutions``: ``(task_id, solution)`` pairs, or dicts
    with ``task_id`` and ``solution`` (a complete program) or ``completion`` (appended to the
    task's ``complete_prompt``), as in a samples file. ``calibrated`` prepends the task's
    ``code_prompt`` and a ``pass`` body, as ``bcb evaluate`` does by default.

    ``executor``: an executor you keep open across calls (used as is, never closed here), or
    ``"local"`` / ``"ray"`` (None: ``"local"``) for one built from ``python`` (the task
    environment's interpreter; default this one), ``workers`` (local: processes, 0 = CPUs; ray:
    per node, 0 = its CPUs), ``limits``, ``ray_address``, ``allow_mixed_env`` and ``sandbox`` (the
    hardening layers), and closed when the iteration ends.

    ``time_limit``: seconds per sample; None applies the official policy without a ground-truth
    check (241 s for every task, as ``bcb evaluate --no-gt``; the official floor gives nearly every
    task that limit anyway). A reward loop usually wants a few seconds.

    ``store``: verdicts already in it are yielded first (``reused``), new ones are written to it.
    ``fingerprint``: the task environment's fingerprint when already known (saves ~1 s).

    Identical programs for the same task run once. Problems with the input (unknown task, a
    solution that is neither text nor a known shape) raise :class:`SamplesError` here, before
    anything runs.
    """
    task_list = list(tasks)
    by_id = {t.task_id: t for t in task_list}
    resolve = tasks.resolve_id if isinstance(tasks, Dataset) else None
    if not by_id:
        raise SamplesError("no tasks given")
    if time_limit is not None:
        check_seconds(time_limit, "time_limit")
    limit = float(time_limit) if time_limit is not None else official_time_limit(None, min_time_limit)

    items = []
    for index, item in enumerate(solutions):
        task, text = _parse(item, index, by_id, resolve)
        code = program(
            Sample(task_id=task.task_id, index=index, solution=text, where=f"solution {index}"),
            task,
            calibrated=calibrated,
        )
        items.append((index, task.task_id, code, solution_sha(code), task.test))
    programs = distinct_programs(items, lambda task_id: limit)
    if not programs:
        return iter(())
    dataset_hash = tasks.content_hash if isinstance(tasks, Dataset) else content_hash(task_list)

    if executor is None or isinstance(executor, str):
        shared = SharedExecutor(
            python or sys.executable,
            workers,
            limits or Limits(),
            preload_modules(
                (imported_modules(p.job.solution, p.job.test) for p in programs),
                min_uses=(workers or os.cpu_count() or 1) + 1,
            ),
            kind=executor or "local",
            ray_address=ray_address,
            allow_mixed_env=allow_mixed_env,
            sandbox=sandbox,
            root=store.path.parent if store is not None else None,
        )
        return _stream(
            programs,
            shared,
            shared.close,
            shared.options.limits,
            dataset_hash,
            store,
            shared.environment,
            lambda: shared.python,
            fingerprint,
        )
    if ray_address or allow_mixed_env or python or workers or sandbox:
        raise ValueError(
            "python, workers, ray_address, allow_mixed_env and sandbox configure an executor built here; set them on the executor you pass"
        )
    if limits is not None and limits != executor.limits:
        raise ValueError(f"limits {limits} differ from the executor's {executor.limits}; the executor's apply")
    given = executor
    return _stream(
        programs,
        given.run,
        None,
        given.limits,
        dataset_hash,
        store,
        lambda fp: Environment(verdict_fingerprint(given, fp)),
        lambda: given.python,
        fingerprint,
    )


def _parse(item: Any, index: int, by_id: Mapping[str, Task], resolve: Any) -> tuple[Task, str]:
    where = f"solution {index}"
    if isinstance(item, Mapping):
        task_id = item.get("task_id")
        text = item.get("solution")
        completion = item.get("completion")
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        task_id, text = item
        completion = None
    else:
        raise SamplesError(
            f"{where}: expected a (task_id, solution) pair or a dict with task_id and solution, got {type(item).__name__}"
        )
    if not isinstance(task_id, str):
        raise SamplesError(f"{where}: task_id must be a string, got {task_id!r}")
    try:
        resolved = resolve(task_id) if resolve else task_id
    except ValueError as exc:
        raise SamplesError(f"{where}: {exc}") from None
    task = by_id.get(resolved)
    if task is None:
        raise SamplesError(f"{where}: no task {task_id!r} among the {len(by_id)} given")
    if text is None and isinstance(completion, str):
        text = task.complete_prompt + completion
    if not isinstance(text, str):
        raise SamplesError(f"{where}: the solution must be text (or give a completion), got {type(text).__name__}")
    return task, text


def _stream(
    programs: list[Program],
    run: Callable[[list[Job]], Iterable[ExecutionResult]],
    close: Callable[[], None] | None,
    limits: Limits,
    dataset_hash: str,
    store: ResultStore | None,
    environment: Callable[[Mapping[str, Any]], Environment],
    python: Callable[[], str],
    fingerprint: Mapping[str, Any] | None,
) -> Iterator[Verdict]:
    """Stored verdicts first (found without starting a worker when the sandbox probe is
    remembered beside the store), then the rest as they finish."""
    try:
        todo = programs
        if store is not None:
            env = environment(fingerprint if fingerprint is not None else environment_fingerprint(python()))
            plan = plan_verdicts(programs, store, dataset_hash, env.key, limits)
            if not plan.complete and not env.probed:
                env = env.confirmed()
                plan = plan_verdicts(programs, store, dataset_hash, env.key, limits)
            for p in plan.programs:
                hit = plan.reused.get(p.job.key)
                if hit is not None:
                    for index in p.indices:
                        yield Verdict(
                            index,
                            p.task_id,
                            hit.status,  # type: ignore[arg-type]
                            dict(hit.details),
                            hit.duration_s,
                            p.sha,
                            hit.note,
                            hit.node or "",
                            True,
                        )
            todo = plan.todo
        by_key = {p.job.key: p for p in todo}
        for result in run([p.job for p in todo]) if todo else ():
            p = by_key[result.key]
            if store is not None:
                store.put_verdict(plan.keys[result.key], stored_verdict(result))
            for index in p.indices:
                yield Verdict(
                    index,
                    result.task_id,
                    result.status,
                    dict(result.details),
                    result.duration_s,
                    p.sha,
                    result.note,
                    result.node,
                    False,
                    result.attempts,
                )
    finally:
        if close is not None:
            close()
