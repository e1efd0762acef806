"""What `bcb data info` reports: enough to recognise a dataset and see what it exercises."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping

from bcb.dataset.domains import domain_histogram, unmapped_libraries
from bcb.dataset.loading import Dataset


@dataclass(frozen=True)
class DatasetSummary:
    label: str
    name: str
    version: str | None
    subset: str
    source: str
    verified: bool
    tasks: int
    content_hash: str
    libraries: dict[str, int]
    """library -> number of tasks using it, most used first."""
    libs_per_task: dict[int, int]
    domains: dict[str, int] | None
    """domain -> number of tasks touching it; None when no domain map is available."""
    unmapped: tuple[str, ...]
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.name,
            "version": self.version,
            "subset": self.subset,
            "source": self.source,
            "verified": self.verified,
            "tasks": self.tasks,
            "content_hash": self.content_hash,
            "libraries": self.libraries,
            "libs_per_task": {str(k): v for k, v in self.libs_per_task.items()},
            "domains": self.domains,
            "unmapped_libraries": list(self.unmapped),
            "notes": list(self.notes),
        }


def summarize(dataset: Dataset, lib_domains: Mapping[str, str] | None) -> DatasetSummary:
    libs: Counter[str] = Counter(lib for t in dataset.tasks for lib in set(t.libs))
    per_task = Counter(len(set(t.libs)) for t in dataset.tasks)
    return DatasetSummary(
        label=dataset.label,
        name=dataset.name,
        version=dataset.version,
        subset=dataset.subset,
        source=dataset.source,
        verified=dataset.verified,
        tasks=len(dataset),
        content_hash=dataset.content_hash,
        libraries=dict(sorted(libs.items(), key=lambda kv: (-kv[1], kv[0]))),
        libs_per_task=dict(sorted(per_task.items())),
        domains=dict(domain_histogram(dataset.tasks, lib_domains)) if lib_domains is not None else None,
        unmapped=tuple(unmapped_libraries(dataset.tasks, lib_domains)) if lib_domains is not None else (),
        notes=dataset.notes,
    )
