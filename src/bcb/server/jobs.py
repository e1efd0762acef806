"""The server's jobs, in the same SQLite file as the verdicts, so that both survive ``kill -9``.

A job is one uploaded samples file with its options. Its row is written before the submitter is
answered and its answer (results and pass@k) when it finishes; verdicts are written by the result
store as each one is ready. A server that died therefore loses nothing: on restart, jobs that
were running are queued again and their finished verdicts come back from the store.

The table lives beside the store's own tables but outside its schema versions: a store that a
server has used stays readable by every ``bcb evaluate``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS serve_jobs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    client TEXT NOT NULL,
    state TEXT NOT NULL,
    options TEXT NOT NULL,
    request_key TEXT NOT NULL,
    samples_path TEXT NOT NULL,
    n_samples INTEGER NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    error TEXT NOT NULL DEFAULT '',
    executed INTEGER,
    reused INTEGER,
    eval_results TEXT,
    pass_at_k TEXT
);
CREATE INDEX IF NOT EXISTS serve_jobs_state ON serve_jobs (state, seq);
CREATE INDEX IF NOT EXISTS serve_jobs_request ON serve_jobs (request_key)
"""

_COLUMNS = "id, seq, client, state, options, request_key, samples_path, n_samples, created_at, started_at, finished_at, error, executed, reused"


@dataclass(frozen=True)
class JobRecord:
    id: str
    seq: int
    client: str
    state: str
    options: str
    request_key: str
    samples_path: str
    n_samples: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    error: str
    executed: int | None
    reused: int | None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


class JobTable:
    """One connection shared by the server's threads behind a lock (SQLite serialises writes anyway)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.lock = threading.Lock()
        with self.lock:
            for statement in _SCHEMA.split(";"):
                self.db.execute(statement)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def add(
        self, client: str, options: str, request_key: str, samples_path: str, n_samples: int, job_id: str | None = None
    ) -> JobRecord:
        job_id = job_id or new_job_id()
        with self.lock:
            seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM serve_jobs").fetchone()[0]
            self.db.execute(
                "INSERT INTO serve_jobs (id, seq, client, state, options, request_key, samples_path, n_samples, created_at) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (job_id, seq, client, "queued", options, request_key, samples_path, n_samples, time.time()),
            )
        record = self.get(job_id)
        assert record is not None
        return record

    def get(self, job_id: str) -> JobRecord | None:
        with self.lock:
            row = self.db.execute(f"SELECT {_COLUMNS} FROM serve_jobs WHERE id=?", (job_id,)).fetchone()
        return JobRecord(*row) if row else None

    def answer(self, job_id: str) -> tuple[str, str] | None:
        """The finished job's ``(eval_results, pass_at_k)`` JSON texts."""
        with self.lock:
            row = self.db.execute(
                "SELECT eval_results, pass_at_k FROM serve_jobs WHERE id=? AND state='done'", (job_id,)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def reusable(self, request_key: str) -> JobRecord | None:
        """The job that answers (or will answer) the same request: the latest that did not fail."""
        with self.lock:
            row = self.db.execute(
                f"SELECT {_COLUMNS} FROM serve_jobs WHERE request_key=? AND state IN ('queued', 'running', 'done') ORDER BY seq DESC LIMIT 1",
                (request_key,),
            ).fetchone()
        return JobRecord(*row) if row else None

    def queued(self) -> list[JobRecord]:
        with self.lock:
            rows = self.db.execute(f"SELECT {_COLUMNS} FROM serve_jobs WHERE state='queued' ORDER BY seq").fetchall()
        return [JobRecord(*r) for r in rows]

    def count_unfinished(self, client: str) -> int:
        with self.lock:
            return int(
                self.db.execute(
                    "SELECT COUNT(*) FROM serve_jobs WHERE client=? AND state IN ('queued', 'running')", (client,)
                ).fetchone()[0]
            )

    def requeue_running(self) -> int:
        """After a restart: what was running when the server died runs again (its verdicts so far are in the store)."""
        with self.lock:
            return self.db.execute(
                "UPDATE serve_jobs SET state='queued', started_at=NULL WHERE state='running'"
            ).rowcount

    def claim(self, job_id: str) -> bool:
        """queued -> running, unless it was cancelled meanwhile."""
        with self.lock:
            return (
                self.db.execute(
                    "UPDATE serve_jobs SET state='running', started_at=? WHERE id=? AND state='queued'",
                    (time.time(), job_id),
                ).rowcount
                == 1
            )

    def finish(self, job_id: str, eval_results: str, pass_at_k: str, executed: int, reused: int) -> None:
        with self.lock:
            self.db.execute(
                "UPDATE serve_jobs SET state='done', finished_at=?, eval_results=?, pass_at_k=?, executed=?, reused=? WHERE id=? AND state='running'",
                (time.time(), eval_results, pass_at_k, executed, reused, job_id),
            )

    def fail(self, job_id: str, error: str) -> None:
        with self.lock:
            self.db.execute(
                "UPDATE serve_jobs SET state='failed', finished_at=?, error=? WHERE id=? AND state='running'",
                (time.time(), error, job_id),
            )

    def cancel(self, job_id: str) -> bool:
        with self.lock:
            return (
                self.db.execute(
                    "UPDATE serve_jobs SET state='cancelled', finished_at=? WHERE id=? AND state IN ('queued', 'running')",
                    (time.time(), job_id),
                ).rowcount
                == 1
            )

    def position(self, job: JobRecord) -> int:
        """How many queued jobs were submitted before this one (0: next)."""
        with self.lock:
            return int(
                self.db.execute(
                    "SELECT COUNT(*) FROM serve_jobs WHERE state='queued' AND seq < ?", (job.seq,)
                ).fetchone()[0]
            )


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def describe(job: JobRecord, **extra: Any) -> dict[str, Any]:
    """A job's status as the JSON API shows it."""
    return {
        "job": job.id,
        "state": job.state,
        "client": job.client,
        "samples": job.n_samples,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "error": job.error,
        "executed": job.executed,
        "reused": job.reused,
        **extra,
    }
