"""Library -> domain, the official seven-domain classification (Computation, Cryptography,
General, Network, System, Time, Visualization) that analyses group results by.

The map is data published with BigCodeBench, not part of bcb: it is read from the data directory
or the cache, and fetched once from the official repository when missing.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping

from bcb.dataset.hub import offline
from bcb.dataset.loading import Dataset, cache_dir, search_dirs
from bcb.dataset.task import DatasetError, Task

DOMAINS: tuple[str, ...] = ("Computation", "Cryptography", "General", "Network", "System", "Time", "Visualization")
LIB2DOMAIN_FILE = "lib2domain.json"
LIB2DOMAIN_URL = "https://raw.githubusercontent.com/bigcode-project/bigcodebench/main/analysis/lib2domain.json"


def load_lib_domains(
    data_dir: str | os.PathLike[str] | None = None, *, near: str | os.PathLike[str] | None = None, download: bool = True
) -> dict[str, str] | None:
    """The map, or None when it is neither local nor reachable (callers show domains as unknown)."""
    for directory in search_dirs(data_dir, near):
        candidate = directory / LIB2DOMAIN_FILE
        if candidate.is_file():
            return _parse(candidate.read_text(encoding="utf-8"), str(candidate))
    if not download or offline():
        return None
    url = os.environ.get("BCB_LIB2DOMAIN_URL", LIB2DOMAIN_URL)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode("utf-8")
    except (urllib.error.URLError, OSError, UnicodeDecodeError):
        return None
    mapping = _parse(text, url)
    target = cache_dir() / LIB2DOMAIN_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(mapping, indent=1, sort_keys=True), encoding="utf-8")
    return mapping


def _parse(text: str, where: str) -> dict[str, str]:
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise DatasetError(f"{where}: expected a JSON object mapping library names to domain names")
    return mapping


def task_domains(task: Task, lib_domains: Mapping[str, str]) -> list[str]:
    """Distinct domains of a task's libraries, sorted; unmapped libraries are left out."""
    return sorted({lib_domains[lib] for lib in task.libs if lib in lib_domains})


def domain_histogram(tasks: Iterable[Task], lib_domains: Mapping[str, str]) -> Counter[str]:
    """Tasks per domain; a task using two domains counts in both."""
    counts: Counter[str] = Counter({d: 0 for d in DOMAINS})
    for task in tasks:
        counts.update(task_domains(task, lib_domains))
    return counts


def unmapped_libraries(tasks: Iterable[Task], lib_domains: Mapping[str, str]) -> list[str]:
    return sorted({lib for t in tasks for lib in t.libs if lib not in lib_domains})


def lib_domains_for(
    dataset: Dataset, data_dir: str | os.PathLike[str] | None = None, *, download: bool = True
) -> dict[str, str] | None:
    """bcb-mini carries its own map, so the embedded default needs no download."""
    if dataset.name == "bcb-mini":
        from bcb.dataset.mini import LIB_DOMAINS

        return dict(LIB_DOMAINS)
    source = Path(dataset.source)
    return load_lib_domains(data_dir, near=source.parent if source.is_file() else None, download=download)
