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

import sys
from collections.abc import Iterable

#: Task library (as in a task's ``libs``) -> the modules its tasks actually import, most used
#: first (counted over the v0.1.4 dataset's prompts, solutions and tests).
LIB_MODULES: dict[str, tuple[str, ...]] = {
    "numpy": ("numpy",),
    "pandas": ("pandas",),
    "matplotlib": ("matplotlib", "matplotlib.pyplot"),
    "seaborn": ("seaborn",),
    "sklearn": (
        "sklearn",
        "sklearn.preprocessing",
        "sklearn.linear_model",
        "sklearn.model_selection",
        "sklearn.decomposition",
        "sklearn.cluster",
        "sklearn.feature_extraction.text",
        "sklearn.metrics",
        "sklearn.ensemble",
        "sklearn.datasets",
    ),
    "scipy": ("scipy", "scipy.stats", "scipy.optimize", "scipy.fft", "scipy.spatial"),
    "statsmodels": ("statsmodels.api",),
    "nltk": ("nltk",),
    "requests": ("requests",),
    "bs4": ("bs4",),
    "dateutil": ("dateutil.parser",),
    "pytz": ("pytz",),
    "PIL": ("PIL.Image",),
    "cv2": ("cv2",),
    "faker": ("faker",),
    "django": ("django",),
    "flask": ("flask",),
    "cryptography": ("cryptography.fernet",),
    "sympy": ("sympy",),
    "skimage": ("skimage",),
}

#: Never pre-imported: they start threads at import (fork-unsafe) or are too large to be worth
#: holding in every worker for a handful of tasks.
DEFAULT_PRELOAD_DENY: frozenset[str] = frozenset({"tensorflow", "keras", "torch", "librosa", "gensim", "geopandas"})

#: What a worker pre-imports when the caller does not say: the official guard imports
#: matplotlib.pyplot in every sample anyway, and these three cover most tasks.
DEFAULT_PRELOAD: tuple[str, ...] = ("numpy", "pandas", "matplotlib", "matplotlib.pyplot")


def _is_stdlib(name: str) -> bool:
    top = name.split(".")[0]
    names = getattr(sys, "stdlib_module_names", ())
    return top in names or top in sys.builtin_module_names


def preload_modules(libs: Iterable[str], deny: Iterable[str] = DEFAULT_PRELOAD_DENY, *, min_uses: int = 1) -> list[str]:
    """Map task libraries to the modules worth pre-importing, in a stable order.

    ``libs`` may repeat (one entry per sample that uses the library): libraries used by more
    samples come first, so a slow preload still covers the most samples. matplotlib.pyplot is
    always included because every sample imports it (the official guard closes its figures).

    ``min_uses`` is the break-even point of a preload: every worker pays a library's import once
    at start-up, while without it each sample that uses the library pays it. With W workers a
    library used by at most W samples costs at least as much preloaded as not, and it delays the
    first sample, so callers that know their worker count pass ``min_uses=workers + 1``.
    """
    counts: dict[str, int] = {}
    first_seen: dict[str, int] = {}
    for i, lib in enumerate(libs):
        lib = lib.strip()
        if not lib:
            continue
        counts[lib] = counts.get(lib, 0) + 1
        first_seen.setdefault(lib, i)
    denied = set(deny)
    ordered = sorted(counts, key=lambda lib: (-counts[lib], first_seen[lib]))
    modules: list[str] = []
    wanted = [lib for lib in ordered if counts[lib] >= min_uses]
    for lib in ("matplotlib", *wanted):
        if lib in denied or lib.split(".")[0] in denied or _is_stdlib(lib):
            continue
        for module in LIB_MODULES.get(lib, (lib,)):
            if module not in modules and module.split(".")[0] not in denied:
                modules.append(module)
    return modules
