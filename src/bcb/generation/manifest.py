"""The run manifest beside the samples: what produced them, so a score can be traced and redone.

One file per samples file. Each invocation (the first run, every resume) adds an entry to `runs`
with its own times, counts and token usage; the settings are those of the latest. API keys are
never part of the settings, and base URLs lose any credentials they carry.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bcb import __version__
from bcb.dataset import Dataset
from bcb.fileio import write_json_atomic


def manifest_path(samples_path: str | os.PathLike[str]) -> Path:
    path = Path(samples_path)
    return path.with_name(path.name.removesuffix(".jsonl") + ".manifest.json")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class RunStats:
    """Counts of one invocation. `cached` samples cost nothing; tokens count fresh requests only."""

    tasks: int = 0
    wanted: int = 0
    already_written: int = 0
    cached: int = 0
    generated: int = 0
    requests: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_samples: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        return self.cached + self.generated

    def to_json(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks,
            "samples_wanted": self.wanted,
            "samples_already_written": self.already_written,
            "samples_from_cache": self.cached,
            "samples_generated": self.generated,
            "requests": self.requests,
            "retries": self.retries,
            "token_usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
            "samples_with_reasoning": self.reasoning_samples,
            "notes": self.notes,
        }


class Manifest:
    def __init__(
        self,
        samples_path: str | os.PathLike[str],
        *,
        settings: dict[str, Any],
        dataset: Dataset,
        extra: dict[str, Any],
        resume: bool,
    ) -> None:
        self.path = manifest_path(samples_path)
        previous = self._read() if resume else {}
        self.data: dict[str, Any] = {
            "samples": Path(samples_path).name,
            "bcb_version": __version__,
            "model": settings["model"],
            "backend": settings["backend"],
            "settings": settings,
            **extra,
            "dataset": {
                "name": dataset.name,
                "version": dataset.version,
                "subset": dataset.subset,
                "content_hash": dataset.content_hash,
                "verified": dataset.verified,
                "source": dataset.source,
            },
            "runs": previous.get("runs", []) if isinstance(previous.get("runs"), list) else [],
        }
        self.run: dict[str, Any] = {"started": now(), "ended": None, "status": "running", "bcb_version": __version__}
        self.data["runs"].append(self.run)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def update(self, stats: RunStats, status: str, *, error: str | None = None) -> None:
        self.run.update(stats.to_json())
        self.run["status"] = status
        if status != "running":
            self.run["ended"] = now()
        if error:
            self.run["error"] = error
        self.write()

    def write(self) -> None:
        """Atomically: a reader sees the old manifest or the new one, never half of one."""
        write_json_atomic(self.path, self.data, ensure_ascii=False)
