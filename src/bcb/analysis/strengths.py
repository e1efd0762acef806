"""Where each model is strong: pass rate by domain, by library, and on a given library stack.

A task counts in every domain and for every library it uses, so the groups overlap and do not add
up to the overall score. Every rate carries its task count and a bootstrap interval: a library
used by eight tasks says little, and the report must let the reader see that.

A stack is the set of libraries a user actually works with. Its score is the pass rate on the
tasks that use at least one library of the stack and nothing outside it; the standard library is
taken to be part of every stack (no one lists it in a requirements file) unless asked otherwise.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from bcb.analysis.stats import bootstrap_mean
from bcb.dataset import Dataset, DatasetError, Task
from bcb.dataset.domains import DOMAINS, task_domains

STDLIB: frozenset[str] = frozenset(sys.stdlib_module_names)

#: Distribution names (as in requirements files) whose import name differs, for the libraries
#: BigCodeBench tasks use. Anything else matches by its normalised name.
IMPORT_NAMES: dict[str, tuple[str, ...]] = {
    "scikit-learn": ("sklearn",),
    "sklearn": ("sklearn",),
    "scikit-image": ("skimage",),
    "beautifulsoup4": ("bs4",),
    "python-dateutil": ("dateutil",),
    "pillow": ("PIL",),
    "pycryptodome": ("Crypto",),
    "pycrypto": ("Crypto",),
    "pyyaml": ("yaml",),
    "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",),
    "opencv-contrib-python": ("cv2",),
    "python-docx": ("docx",),
    "python-levenshtein": ("Levenshtein",),
    "levenshtein": ("Levenshtein",),
    "matplotlib": ("matplotlib", "mpl_toolkits"),
    "tensorflow": ("tensorflow", "keras"),
    "tensorflow-cpu": ("tensorflow", "keras"),
    "faker": ("faker",),
    "shapely": ("shapely",),
}


@dataclass(frozen=True)
class GroupScore:
    """A model's pass rate on the tasks of one group (a domain, a library, a stack)."""

    group: str
    tasks: int
    rate: float
    low: float
    high: float

    def to_json(self) -> dict[str, float | int | str | None]:
        clean = lambda x: None if math.isnan(x) else x  # noqa: E731
        return {
            "group": self.group,
            "tasks": self.tasks,
            "rate": clean(self.rate),
            "low": clean(self.low),
            "high": clean(self.high),
        }


def group_score(
    group: str, rates: Mapping[str, float], tasks: Sequence[str], *, seed: int = 0, resamples: int = 1000
) -> GroupScore:
    interval = bootstrap_mean([rates[t] for t in tasks], seed=seed, resamples=resamples)
    return GroupScore(group, len(tasks), interval.estimate, interval.low, interval.high)


def domain_groups(tasks: Iterable[Task], lib_domains: Mapping[str, str]) -> dict[str, list[str]]:
    """domain -> task ids, for all seven domains (empty lists kept: a missing domain is a fact)."""
    groups: dict[str, list[str]] = {d: [] for d in DOMAINS}
    for task in tasks:
        for domain in task_domains(task, lib_domains):
            groups.setdefault(domain, []).append(task.task_id)
    return groups


def library_groups(tasks: Iterable[Task]) -> dict[str, list[str]]:
    """library -> task ids using it, the most used libraries first."""
    groups: dict[str, list[str]] = {}
    for task in tasks:
        for lib in dict.fromkeys(task.libs):
            groups.setdefault(lib, []).append(task.task_id)
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def scores(
    groups: Mapping[str, Sequence[str]], rates: Mapping[str, float], *, seed: int = 0, resamples: int = 1000
) -> dict[str, GroupScore]:
    return {g: group_score(g, rates, ids, seed=seed, resamples=resamples) for g, ids in groups.items()}


# ---------------------------------------------------------------------------------------------
# Stacks


@dataclass(frozen=True)
class Stack:
    libraries: frozenset[str]
    """Import names, as task `libs` spell them."""
    source: str
    """What the user gave: the comma list or the requirements file."""
    include_stdlib: bool = True

    @property
    def label(self) -> str:
        return ", ".join(sorted(self.libraries, key=str.lower))

    def covers(self, task: Task) -> bool:
        """The task uses some library of the stack and none outside it."""
        libs = set(task.libs)
        inside = {lib for lib in libs if _key(lib) in self._keys}
        rest = libs - inside
        if self.include_stdlib:
            rest = {lib for lib in rest if lib.split(".")[0] not in STDLIB}
        return bool(inside) and not rest

    @property
    def _keys(self) -> frozenset[str]:
        return frozenset(_key(lib) for lib in self.libraries)


def _key(name: str) -> str:
    return name.lower().replace("-", "_")


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def import_names(requirement: str) -> tuple[str, ...]:
    """`scikit-learn>=1.3` -> ('sklearn',); unknown names are taken as import names."""
    match = _REQUIREMENT.match(requirement)
    if match is None:
        return ()
    name = match.group(1)
    canonical = re.sub(r"[-_.]+", "-", name).lower()
    return IMPORT_NAMES.get(canonical, (name,))


def parse_stack(value: str, *, include_stdlib: bool = True) -> Stack:
    """A comma-separated list of libraries, or the path of a requirements file (one requirement a
    line; comments, options and environment markers are skipped)."""
    path = Path(value).expanduser()
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        items = [line.split("#", 1)[0].split(";", 1)[0].strip() for line in lines]
        items = [item for item in items if item and not item.startswith("-")]
        source = str(path)
    elif value.endswith(".txt") or "/" in value:
        raise DatasetError(
            f"--stack {value}: no such file (give a requirements file or a comma-separated list of libraries)"
        )
    else:
        items = [item.strip() for item in value.split(",") if item.strip()]
        source = value
    libraries = frozenset(name for item in items for name in import_names(item))
    if not libraries:
        raise DatasetError(f"--stack {value!r} names no library")
    return Stack(libraries, source, include_stdlib)


def stack_tasks(tasks: Iterable[Task], stack: Stack) -> list[str]:
    return [t.task_id for t in tasks if stack.covers(t)]


@dataclass(frozen=True)
class StackRank:
    label: str
    score: GroupScore
    rank: int
    """1 = best on the stack."""
    overall: float
    """pass@1 on all the common tasks, for contrast."""
    overall_rank: int


def rank_on_stack(
    outcomes: Mapping[str, Mapping[str, float]], common: Sequence[str], dataset: Dataset, stack: Stack, *, seed: int = 0
) -> tuple[list[StackRank], int]:
    """Models ranked by their stack score on the same tasks (those of the stack every model was
    scored on). Returns the ranking and the number of tasks it rests on."""
    wanted = set(common)
    ids = stack_tasks((t for t in dataset.tasks if t.task_id in wanted), stack)
    overall = {label: sum(r[t] for t in common) / len(common) if common else math.nan for label, r in outcomes.items()}
    stack_scores = {label: group_score(stack.label, r, ids, seed=seed) for label, r in outcomes.items()}
    by_stack = sorted(outcomes, key=lambda lab: (-_or(stack_scores[lab].rate), lab))
    by_overall = sorted(outcomes, key=lambda lab: (-_or(overall[lab]), lab))
    ranking = [
        StackRank(label, stack_scores[label], i + 1, overall[label], by_overall.index(label) + 1)
        for i, label in enumerate(by_stack)
    ]
    return ranking, len(ids)


def _or(value: float) -> float:
    return -math.inf if math.isnan(value) else value


# ---------------------------------------------------------------------------------------------
# Every model at once


@dataclass(frozen=True)
class Breakdown:
    """Per-model domain and library scores, all on the same tasks so that models compare."""

    tasks: int
    """How many tasks (those every model was scored on) the scores rest on."""
    domains: Mapping[str, Mapping[str, GroupScore]] | None
    """label -> domain -> score; None when no domain map could be found."""
    libraries: Mapping[str, Mapping[str, GroupScore]]
    """label -> library -> score, libraries most used first."""


def breakdown(
    outcomes: Mapping[str, Mapping[str, float]],
    common: Sequence[str],
    dataset: Dataset,
    lib_domains: Mapping[str, str] | None,
    *,
    seed: int = 0,
    resamples: int = 1000,
) -> Breakdown:
    wanted = set(common)
    tasks = [t for t in dataset.tasks if t.task_id in wanted]
    libs = library_groups(tasks)
    domains = domain_groups(tasks, lib_domains) if lib_domains is not None else None
    return Breakdown(
        tasks=len(tasks),
        domains={lab: scores(domains, r, seed=seed, resamples=resamples) for lab, r in outcomes.items()}
        if domains is not None
        else None,
        libraries={lab: scores(libs, r, seed=seed, resamples=resamples) for lab, r in outcomes.items()},
    )
