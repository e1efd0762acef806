"""Perturbed datasets: the same problems with renamed identifiers and reworded prompts, for
telling memorisation from skill (`bcb perturb`, `bcb contamination`).

A dataset-level transform, reproducible from a seed. It never runs code; whether each perturbed
task still holds (its canonical solution passes its perturbed tests) is checked one layer up, in
`bcb.evaluation.perturbation_check`, with the executor.
"""

from bcb.dataset.perturbation.core import (
    TRANSFORM_HELP,
    TRANSFORMS,
    Perturbation,
    parse_transforms,
    perturb_task,
    perturb_tasks,
)
from bcb.dataset.perturbation.prose import (
    ProseRenamer,
    distinctive,
    reorder_docstring,
    rephrase_instruct,
    split_instruct,
)
from bcb.dataset.perturbation.rename import RenameError, RenamePlan, apply_renames, plan_renames, program_of

__all__ = [
    "TRANSFORMS",
    "TRANSFORM_HELP",
    "Perturbation",
    "ProseRenamer",
    "RenameError",
    "RenamePlan",
    "apply_renames",
    "distinctive",
    "parse_transforms",
    "perturb_task",
    "perturb_tasks",
    "plan_renames",
    "program_of",
    "reorder_docstring",
    "rephrase_instruct",
    "split_instruct",
]
