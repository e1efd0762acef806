"""Keep only perturbed tasks that still hold, and say exactly what was dropped and why.

A perturbation is static (renames proven by the syntax tree), but tests can depend on names in
ways no static check sees (a string naming the function, `inspect.signature`). So each perturbed
task's canonical solution is run against its perturbed tests, with the ground-truth semantics of
`check_ground_truth`. The original tasks are run too: a task whose original canonical solution
already fails in this environment (network, missing corpora: see the environment notes) proves
nothing about the perturbation, so its drop is reported apart from the perturbation's own. Both
checks go through the result store, so a repeated `bcb perturb` runs nothing it has run before
(and, keyed on a remembered sandbox probe, starts no worker either).

A stored verdict can be stale, and some tests are flaky or depend on machine state outside their
sandbox (a test that expects writing to `/nonexistent_path` to fail stops failing once any process
creates that directory). So before a task is blamed on the perturbation, its original and its
perturbed form are run once more, side by side: if the original now fails too, the environment is
to blame; if the perturbed form now passes, the task is kept. The second run's verdicts are the
ones reported.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Mapping, Sequence

from bcb import __version__
from bcb.dataset import Dataset, DatasetError, Task, content_hash, write_tasks
from bcb.dataset.perturbation import Perturbation
from bcb.evaluation.evaluate import EvalConfig, EvalProgress, check_ground_truth, stored_ground_truth
from bcb.evaluation.plan import Environment, JobRunner, ground_truth_limit, ground_truth_of
from bcb.evaluation.store import GroundTruth, ResultStore
from bcb.execution import Job
from bcb.fileio import write_json_atomic

DropCategory = Literal["perturbation", "environment", "unchanged"]
PROVENANCE_FORMAT = "bcb-perturbation/1"


@dataclass(frozen=True)
class Drop:
    """A task left out of the perturbed dataset. `perturbation`: its canonical solution passes the
    original tests here but fails the perturbed ones. `environment`: it fails the original tests
    here as well, so the environment, not the perturbation, is in question. `unchanged`: no
    selected transform applied to it, so it would measure nothing."""

    task_id: str
    category: DropCategory
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"task_id": self.task_id, "category": self.category, "reason": self.reason}


@dataclass(frozen=True)
class PerturbationCheck:
    base: Dataset
    selected: int
    seed: int
    transforms: tuple[str, ...]
    perturbations: tuple[Perturbation, ...]
    original_gt: Mapping[str, GroundTruth]
    perturbed_gt: Mapping[str, GroundTruth]
    kept: tuple[Task, ...]
    drops: tuple[Drop, ...]
    second_runs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Tasks run a second time (their perturbed form failed, their original had passed):
    task -> {"original": status, "perturbed": status} of that second run."""
    environment_key: str = ""
    """The environment the ground truths are keyed on in the store."""

    @property
    def original_passing(self) -> int:
        return sum(1 for g in self.original_gt.values() if g.passed)

    @property
    def kept_of_passing(self) -> int:
        """Kept tasks whose original ground truth passes here: the numerator of the kept share."""
        return sum(
            1 for t in self.kept if self.original_gt.get(t.task_id) is not None and self.original_gt[t.task_id].passed
        )

    @property
    def kept_share(self) -> float:
        """Kept among the tasks whose original ground truth passes here (what the perturbation
        alone is responsible for)."""
        return self.kept_of_passing / self.original_passing if self.original_passing else 0.0

    @property
    def raw_share(self) -> float:
        """Kept among all selected tasks."""
        return len(self.kept) / self.selected if self.selected else 0.0

    def dropped(self, category: DropCategory) -> list[Drop]:
        return [d for d in self.drops if d.category == category]

    def provenance(
        self, output: Path, output_hash: str, environment: Mapping[str, object] | None = None
    ) -> dict[str, object]:
        """Everything needed to rebuild the file or audit it; no timestamps, so that the same
        inputs and verdicts give the same bytes."""
        kept_ids = {t.task_id for t in self.kept}
        return {
            "format": PROVENANCE_FORMAT,
            "bcb_version": __version__,
            "base": {
                "name": self.base.name,
                "version": self.base.version,
                "subset": self.base.subset,
                "content_hash": self.base.content_hash,
                "source": self.base.source,
                "tasks_selected": self.selected,
            },
            "seed": self.seed,
            "transforms": list(self.transforms),
            "output": {"file": output.name, "content_hash": output_hash, "tasks": len(self.kept)},
            "recheck": {
                "semantics": "ground truth: complete_prompt + canonical_solution run against the tests",
                "environment": dict(environment or {}),
                "original_gt_passing": self.original_passing,
                "kept": len(self.kept),
                "kept_share_of_original_passing": self.kept_share,
                "kept_share_raw": self.raw_share,
            },
            "dropped": [d.to_json() for d in self.drops],
            "tasks": {
                p.task_id: {
                    "kept": p.task_id in kept_ids,
                    "original_gt": _status(self.original_gt.get(p.task_id)),
                    "perturbed_gt": _status(self.perturbed_gt.get(p.task_id)),
                    **({"second_run": dict(self.second_runs[p.task_id])} if p.task_id in self.second_runs else {}),
                    **p.to_json(),
                }
                for p in self.perturbations
            },
        }


def _status(gt: GroundTruth | None) -> str | None:
    return gt.status if gt is not None else None


class _Phase:
    """Names a ground-truth phase on the caller's progress display."""

    def __init__(self, progress: EvalProgress | None, label: str) -> None:
        self.progress, self.label = progress, label

    def start(self, phase: str, total: int, done: Sequence[str] = ()) -> None:
        if self.progress is not None:
            self.progress.start(self.label, total, done)

    def advance(self, status: str) -> None:
        if self.progress is not None:
            self.progress.advance(status)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failure|Warning)\b")
_MESSAGE_LINE = re.compile(r"^[A-Za-z_][\w.]*: ")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failure_reason(gt: GroundTruth) -> str:
    """The first failing test and the exception its traceback ends with (or how the run ended).
    The exception line, not the literal last line: `assertEqual` on strings ends with a diff, and
    NLTK's `LookupError:` puts its message on the lines after a row of stars."""
    if gt.status == "timeout":
        return "timed out"
    for test, traceback in gt.details.items():
        lines = [_ANSI.sub("", line).rstrip() for line in str(traceback).splitlines()]
        lines = [line for line in lines if any(c.isalnum() for c in line)]
        at = next((i for i in reversed(range(len(lines))) if _EXCEPTION_LINE.match(lines[i])), None)
        if at is None:
            at = next((i for i in reversed(range(len(lines))) if _MESSAGE_LINE.match(lines[i])), None)
        if at is None:
            line = lines[0].strip() if lines else gt.status
        else:
            line = lines[at].strip()
            if line.endswith(":") and at + 1 < len(lines):
                line = f"{line} {lines[at + 1].strip()}"
        return f"{test}: {line[:200]}"
    return gt.status


def recheck_perturbations(
    base: Dataset,
    perturbations: Sequence[Perturbation],
    *,
    seed: int,
    transforms: Sequence[str],
    config: EvalConfig,
    store: ResultStore,
    env: str | Environment,
    runner: JobRunner,
    progress: EvalProgress | None = None,
) -> PerturbationCheck:
    """Run the original and the perturbed ground truths; keep the perturbed tasks that pass.
    ``env``: the environment key, or an :class:`Environment`; one from an earlier probe is
    confirmed (the workers start) only when something must run."""
    changed = [p for p in perturbations if p.changed]
    settled = _all_stored(base, changed, config, store, env)
    if settled is not None:
        assert isinstance(env, Environment)
        key, (original_gt, perturbed_gt) = env.key, settled
    else:
        key = env if isinstance(env, str) else env.confirmed().key
        original_gt, perturbed_gt = _ground_truths(base, changed, config, store, key, runner, progress)
    suspects = _suspects(changed, original_gt, perturbed_gt)
    second_runs: dict[str, dict[str, str]] = {}
    if suspects:
        again = _run_again(suspects, config, runner, _Phase(progress, "second run of failures"))
        for p in suspects:
            original_gt[p.task_id], perturbed_gt[p.task_id] = again[p.task_id]
            second_runs[p.task_id] = {"original": again[p.task_id][0].status, "perturbed": again[p.task_id][1].status}

    kept: list[Task] = []
    drops: list[Drop] = []
    for p in perturbations:
        if not p.changed:
            why = p.notes.get("perturbation") or "no selected transform applies to this task"
            drops.append(Drop(p.task_id, "unchanged", why))
            continue
        after = perturbed_gt[p.task_id]
        if after.passed:
            kept.append(p.task)
            continue
        before = original_gt[p.task_id]
        if before.passed:
            drops.append(Drop(p.task_id, "perturbation", failure_reason(after)))
        else:
            drops.append(
                Drop(p.task_id, "environment", f"original ground truth fails here too: {failure_reason(before)}")
            )
    return PerturbationCheck(
        base=base,
        selected=len(perturbations),
        seed=seed,
        transforms=tuple(transforms),
        perturbations=tuple(perturbations),
        original_gt=original_gt,
        perturbed_gt=perturbed_gt,
        kept=tuple(kept),
        drops=tuple(drops),
        second_runs=second_runs,
        environment_key=key,
    )


def _perturbed_set(base: Dataset, changed: Sequence[Perturbation]) -> Dataset:
    """The perturbed tasks as a dataset of their own: their ground truths are keyed on its hash."""
    candidates = tuple(p.task for p in changed)
    return Dataset("custom", None, "full", candidates, content_hash(candidates), f"perturbation of {base.label}", False)


def _ground_truths(
    base: Dataset,
    changed: Sequence[Perturbation],
    config: EvalConfig,
    store: ResultStore,
    env: str,
    runner: JobRunner,
    progress: EvalProgress | None,
) -> tuple[dict[str, GroundTruth], dict[str, GroundTruth]]:
    """The original and the perturbed ground truth of every changed task, run where not stored."""
    if not changed:
        return {}, {}
    original_gt = check_ground_truth(
        base, [p.original for p in changed], config, store, env, runner, _Phase(progress, "original ground truth")
    )
    candidates = _perturbed_set(base, changed)
    perturbed_gt = check_ground_truth(
        candidates, candidates.tasks, config, store, env, runner, _Phase(progress, "perturbed ground truth")
    )
    return original_gt, perturbed_gt


def _all_stored(
    base: Dataset, changed: Sequence[Perturbation], config: EvalConfig, store: ResultStore, env: str | Environment
) -> tuple[dict[str, GroundTruth], dict[str, GroundTruth]] | None:
    """With an environment from an earlier probe: both ground truths of every changed task when
    the store holds them all and none is to be run a second time (nothing runs, no worker
    starts); else None."""
    if not isinstance(env, Environment) or env.probed:
        return None
    if not changed:
        return {}, {}
    original_gt = stored_ground_truth(base, [p.original for p in changed], config, store, env.key)
    candidates = _perturbed_set(base, changed)
    perturbed_gt = stored_ground_truth(candidates, candidates.tasks, config, store, env.key)
    if original_gt is None or perturbed_gt is None or _suspects(changed, original_gt, perturbed_gt):
        return None
    return original_gt, perturbed_gt


def _suspects(
    changed: Sequence[Perturbation], original_gt: Mapping[str, GroundTruth], perturbed_gt: Mapping[str, GroundTruth]
) -> list[Perturbation]:
    """Tasks the perturbation seems to break (perturbed fails, original passes): run again."""
    return [p for p in changed if not perturbed_gt[p.task_id].passed and original_gt[p.task_id].passed]


def _run_again(
    suspects: Sequence[Perturbation], config: EvalConfig, runner: JobRunner, progress: _Phase
) -> dict[str, tuple[GroundTruth, GroundTruth]]:
    """Original and perturbed form of each task, once more, outside the store (its verdicts are
    what is being doubted), under the ground-truth time limit `check_ground_truth` uses."""
    limit = ground_truth_limit(config.timeout, config.min_time_limit)
    jobs = []
    for p in suspects:
        jobs.append(Job(f"original:{p.task_id}", p.task_id, p.original.solution, p.original.test, limit))
        jobs.append(Job(f"perturbed:{p.task_id}", p.task_id, p.task.solution, p.task.test, limit))
    verdicts: dict[str, GroundTruth] = {}
    progress.start("", len(jobs))
    try:
        for result in runner(jobs):
            verdicts[result.key] = ground_truth_of(result)
            progress.advance(result.status)
    finally:
        progress.stop()
    return {p.task_id: (verdicts[f"original:{p.task_id}"], verdicts[f"perturbed:{p.task_id}"]) for p in suspects}


def provenance_path(output: str | os.PathLike[str]) -> Path:
    """`OUT.jsonl` / `OUT.jsonl.gz` -> `OUT.provenance.json`, next to it."""
    output = Path(output)
    name = output.name
    for suffix in (".jsonl.gz", ".jsonl", ".gz", ".json"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return output.with_name(f"{name}.provenance.json")


def write_perturbed(
    output: str | os.PathLike[str], check: PerturbationCheck, environment: Mapping[str, object] | None = None
) -> tuple[Path, Path, str]:
    """The kept tasks in the official schema, and the provenance record beside them."""
    if not check.kept:
        raise DatasetError("no perturbed task passed its re-check: nothing to write")
    path = write_tasks(output, check.kept)
    digest = content_hash(check.kept)
    record = provenance_path(path)
    write_json_atomic(record, check.provenance(path, digest, environment))
    return path, record, digest
