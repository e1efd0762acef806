"""Every completion paid for once: an on-disk store keyed by what determines the answer.

The key covers backend, model, decoding parameters, prompt and sample index, and not the base
URL, so the same model behind another proxy or port is not paid for again. SQLite in WAL mode: each
completion is committed as it arrives, so a killed run loses only the requests in flight, and
several runs may share one cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from bcb.dataset import cache_dir
from bcb.generation.errors import GenerationError
from bcb.generation.prompts import Prompt
from bcb.generation.providers import Completion

SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    reasoning TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    finish_reason TEXT,
    created REAL NOT NULL
)
"""


def default_cache_path() -> Path:
    return cache_dir() / "generations.sqlite3"


def cache_key(backend: str, model: str, params: dict[str, Any], prompt: Prompt, index: int) -> str:
    """sha256 of the canonical JSON of everything that determines the answer."""
    payload = {"backend": backend, "model": model, "params": params, "prompt": prompt.key(), "index": index}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """Used from one thread (the runner's): sqlite3 connections are not shared across threads."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across a killed process in WAL mode; only a power cut could
            # lose the last commits, which a rerun would pay for again.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise GenerationError(f"cannot open the response cache {self.path}: {exc}") from None

    def get(self, key: str) -> Completion | None:
        row = self.db.execute(
            "SELECT text, reasoning, input_tokens, output_tokens, finish_reason FROM completions WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        return Completion(
            text=row[0], reasoning=row[1], input_tokens=row[2], output_tokens=row[3], finish_reason=row[4]
        )

    def put(self, key: str, backend: str, model: str, completion: Completion) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO completions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                backend,
                model,
                completion.text,
                completion.reasoning,
                completion.input_tokens,
                completion.output_tokens,
                completion.finish_reason,
                time.time(),
            ),
        )

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM completions").fetchone()[0])

    def close(self) -> None:
        self.db.close()
