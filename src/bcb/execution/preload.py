"""Which modules a zygote imports before it forks samples.

A fresh interpreter spends ~0.8 s importing pandas + numpy + matplotlib and ~2 s with scipy and
sklearn; a child forked from a process that already has them starts in milliseconds. So workers
pre-import what the tasks use. Not everything is worth it or safe:

- standard-library modules are cheap and skipped;
- a module that starts threads at import time must not be in a process that forks (a child gets
  a copy of the memory but only the forking thread: a lock held by another thread stays locked
  forever). TensorFlow, Keras and PyTorch start thread pools at import; they are denied. The
  zygote also counts its threads after each import and reports any other module that starts
  one; the executor then restarts that worker without it.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bcb.dataset import Task

#: Never pre-imported: they start threads at import (fork-unsafe) or are too large to be worth
#: holding in every worker for a handful of tasks.
DEFAULT_PRELOAD_DENY: frozenset[str] = frozenset({"tensorflow", "keras", "torch", "librosa", "gensim", "geopandas"})

#: What a worker pre-imports when the caller does not say: the official guard imports
#: matplotlib.pyplot in every sample anyway, and these three cover most tasks.
DEFAULT_PRELOAD: tuple[str, ...] = ("numpy", "pandas", "matplotlib", "matplotlib.pyplot")


#: The smallest share of the programs a module must be imported by to be preloaded, whatever the
#: worker count. A worker's memory is copied into every sample at fork and released at its exit,
#: which measured ~0.1 ms per MiB of the worker's own memory here: the whole dataset's long tail
#: (sympy, cv2, django... imported by 2-10 of 1,140 tasks) made each sample ~10 ms slower than
#: the modules imported by at least 1% of the tasks did, while saving only their few programs
#: an import each.
MIN_SHARE = 0.01


def _is_stdlib(name: str) -> bool:
    top = name.split(".")[0]
    names = getattr(sys, "stdlib_module_names", ())
    return top in names or top in sys.builtin_module_names


#: An ``import a.b, c as d`` or ``from a.b import (c, d as e`` statement at the start of a line.
_IMPORT = re.compile(
    r"^[ \t]*(?:import[ \t]+([\w., \t]+)|from[ \t]+([\w.]+)[ \t]+import[ \t]+\(?([\w, \t]*))", re.MULTILINE
)


def _imports_in(source: str) -> frozenset[str]:
    names: set[str] = set()
    for plain, origin, members in _IMPORT.findall(source):
        if plain:
            names.update(words[0] for words in (part.split() for part in plain.split(",")) if words)
        elif not origin.startswith("."):
            # ``from scipy import stats`` imports a submodule, ``from scipy.stats import zscore`` a
            # function: both are named, and a worker skips names that are not modules.
            names.add(origin)
            names.update(f"{origin}.{words[0]}" for words in (part.split() for part in members.split(",")) if words)
    return frozenset(names)


#: A task's texts are shared by all its samples: scanned once (they live as long as the dataset).
_task_imports = functools.lru_cache(maxsize=4096)(_imports_in)


def imported_modules(*sources: str) -> frozenset[str]:
    """The modules the import statements of ``sources`` name, found by a line scan rather than a
    parse: it runs over every program of a run in the parent process, and a module it gets wrong
    costs at most a needless or a missing preload, never a verdict."""
    found: frozenset[str] = frozenset()
    for source in sources:
        found |= _imports_in(source)
    return found


def program_modules(task: Task, solution: str | None = None) -> frozenset[str]:
    """What the program bcb runs for ``task`` imports: its code prompt (prepended when calibrated),
    the solution (the ground truth's when ``solution`` is None) and the tests."""
    found = _task_imports(task.code_prompt) | _task_imports(task.test)
    return found | (_task_imports(task.solution) if solution is None else _imports_in(solution))


def preload_modules(
    programs: Iterable[Iterable[str]],
    deny: Iterable[str] = DEFAULT_PRELOAD_DENY,
    *,
    min_uses: int = 1,
    min_share: float = MIN_SHARE,
) -> list[str]:
    """The modules worth pre-importing for ``programs`` (one entry per program to run: the modules
    it imports, as :func:`program_modules` finds them), most used first, so a slow preload still
    covers the most programs. A module counts once per program that imports it or any of its
    submodules (``sklearn.preprocessing`` counts for ``sklearn``). matplotlib.pyplot is always
    included because every sample imports it (the official guard closes its figures).

    ``min_uses`` is the break-even point of a preload: every worker pays a module's import once at
    start-up, and every sample pays for the worker's larger memory at fork and at exit, while
    without it only the programs that import it pay the import. With W workers a module used by at
    most W programs costs at least as much preloaded as not, and it delays the first sample, so
    callers that know their worker count pass ``min_uses=workers + 1``. Over many programs the
    per-sample cost dominates instead, so a module must also be imported by ``min_share`` of
    them (:data:`MIN_SHARE`). Counting the modules programs import, rather than the libraries
    tasks name, keeps a library's rarely used parts (one task's ``sklearn.ensemble``) out of
    every worker.
    """
    denied = set(deny)
    counts: dict[str, int] = {}
    first_seen: dict[str, int] = {}
    n_programs = 0
    for modules in programs:
        n_programs += 1
        names = {".".join(parts[:i]) for parts in (m.split(".") for m in modules) for i in range(1, len(parts) + 1)}
        for name in sorted(names):
            counts[name] = counts.get(name, 0) + 1
            first_seen.setdefault(name, len(first_seen))
    ordered = sorted(counts, key=lambda name: (-counts[name], first_seen[name]))
    least = max(min_uses, math.ceil(min_share * n_programs))
    wanted = [name for name in ordered if counts[name] >= least]
    chosen: list[str] = []
    for name in ("matplotlib", "matplotlib.pyplot", *wanted):
        if name not in chosen and name.split(".")[0] not in denied and not _is_stdlib(name):
            chosen.append(name)
    return chosen
