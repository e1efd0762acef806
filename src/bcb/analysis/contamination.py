"""The memorisation gap: how much better a model does on tasks as published than on the same tasks
reworded (`bcb perturb`).

A model that solves a task by skill solves it under another function name, other parameter names
and a reordered prompt; one that recalls the published text may not. The gap is pass@1 on the
original tasks minus pass@1 on their perturbed forms, over the tasks both runs scored (perturbation
keeps task ids). Both numbers come from the same tasks, so the interval is a paired bootstrap over
tasks of the per-task difference: the variation between tasks, which dominates an unpaired
interval, cancels out. Positive means better on the originals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from bcb.analysis.runs import AnalysisError, Run, sort_ids
from bcb.analysis.stats import McNemar, bootstrap_mean, mcnemar
from bcb.evaluation.passk import Interval


@dataclass(frozen=True)
class Contamination:
    original: str
    perturbed: str
    tasks: tuple[str, ...]
    """The tasks both runs scored, in task-number order."""
    pass_original: float
    pass_perturbed: float
    gap: Interval
    test: McNemar
    only_original: tuple[str, ...]
    """Tasks solved in their original form and not in their perturbed form."""
    only_perturbed: tuple[str, ...]
    both: int
    neither: int
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "original": self.original,
            "perturbed": self.perturbed,
            "tasks": len(self.tasks),
            "pass@1_original": self.pass_original,
            "pass@1_perturbed": self.pass_perturbed,
            "gap": self.gap.to_json(),
            "mcnemar": self.test.to_json(),
            "both_solved": self.both,
            "neither_solved": self.neither,
            "solved_only_original": list(self.only_original),
            "solved_only_perturbed": list(self.only_perturbed),
            "notes": list(self.notes),
        }

    @property
    def verdict(self) -> str:
        """One sentence a reader can act on."""
        points = 100 * self.gap.estimate
        ci = f"95% CI {100 * self.gap.low:+.1f} to {100 * self.gap.high:+.1f}"
        if self.gap.low > 0:
            return f"pass@1 drops by {points:.1f} points on the perturbed tasks ({ci}): a sign of memorisation"
        if self.gap.high < 0:
            return f"pass@1 is {-points:.1f} points higher on the perturbed tasks ({ci}): no sign of memorisation"
        return f"no significant gap ({points:+.1f} points, {ci})"


def _solved(run: Run, task_id: str) -> bool:
    """As `bcb compare` counts it: most of the task's samples solved (with one sample: it passed)."""
    rows = run.results.eval[task_id]
    return 2 * sum(r.solved for r in rows) > len(rows)


def memorisation_gap(
    original: Run,
    perturbed: Run,
    *,
    labels: Sequence[str] = (),
    exclude_gt_failures: bool = False,
    resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> Contamination:
    """Compare a run on the original tasks with a run on their perturbed forms."""
    label_a, label_b = (list(labels) + [str(original.path), str(perturbed.path)][len(labels) :])[:2]
    notes: list[str] = []
    common = set(original.task_ids) & set(perturbed.task_ids)
    for run, other, what in ((original, perturbed, "original"), (perturbed, original, "perturbed")):
        alone = set(run.task_ids) - set(other.task_ids)
        if alone:
            notes.append(f"{len(alone)} task(s) only in the {what} results left out (e.g. {sort_ids(alone)[0]})")
    if exclude_gt_failures:
        failing = (original.gt_failed or set()) | (perturbed.gt_failed or set())
        if common & failing:
            notes.append(f"{len(common & failing)} task(s) whose ground truth failed in either run left out")
        common -= failing
    if not common:
        raise AnalysisError(
            f"{original.path} and {perturbed.path} have no task in common: was the second run made on a perturbation of the first's dataset?"
        )
    if (
        original.dataset is not None
        and perturbed.dataset is not None
        and original.dataset.content_hash == perturbed.dataset.content_hash
    ):
        notes.append("both runs were made on the same dataset: the gap can only be run-to-run noise")
    if original.model != perturbed.model:
        notes.append(
            f"the runs name different models ({original.model} vs {perturbed.model}): the gap mixes model differences with memorisation"
        )
    if original.split and perturbed.split and original.split != perturbed.split:
        notes.append(f"the runs are on different splits ({original.split} vs {perturbed.split})")
    tasks = sort_ids(common)
    rate_a = original.rates(tasks)
    rate_b = perturbed.rates(tasks)
    gap = bootstrap_mean([rate_a[t] - rate_b[t] for t in tasks], level=level, resamples=resamples, seed=seed)
    solved_a = {t for t in tasks if _solved(original, t)}
    solved_b = {t for t in tasks if _solved(perturbed, t)}
    only_a = tuple(t for t in tasks if t in solved_a and t not in solved_b)
    only_b = tuple(t for t in tasks if t in solved_b and t not in solved_a)
    return Contamination(
        original=label_a,
        perturbed=label_b,
        tasks=tasks,
        pass_original=sum(rate_a.values()) / len(tasks),
        pass_perturbed=sum(rate_b.values()) / len(tasks),
        gap=gap,
        test=mcnemar(len(only_a), len(only_b)),
        only_original=only_a,
        only_perturbed=only_b,
        both=len(solved_a & solved_b),
        neither=len(tasks) - len(solved_a | solved_b),
        notes=tuple(notes),
    )
