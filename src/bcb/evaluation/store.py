"""The result store: every verdict bcb has computed, in one SQLite file under `--root`.

A verdict is keyed by everything it depends on: the dataset's content hash, the task, the sha256
of the program as executed, the execution environment's fingerprint and the limits. So a killed
run resumes without recomputing what it finished, identical solutions (common with n samples per
task) run once, and a run with another environment or other limits reuses nothing it should not.
WAL mode lets readers (reports) look while an evaluation writes. Each verdict also says where it
ran (`node`, set by executors that span machines), which never takes part in the key.
"""

from __future__ import annotations

import functools
import json
import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar

from bcb.dataset import DatasetError

SCHEMA_VERSION = 3

_T = TypeVar("_T")

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE verdicts (
        dataset_hash TEXT NOT NULL,
        task_id TEXT NOT NULL,
        program_sha TEXT NOT NULL,
        env TEXT NOT NULL,
        limits TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'timeout')),
        details TEXT NOT NULL,
        duration_s REAL,
        peak_rss_mb REAL,
        tests_run INTEGER,
        note TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        PRIMARY KEY (dataset_hash, task_id, program_sha, env, limits)
    );
    CREATE TABLE ground_truth (
        dataset_hash TEXT NOT NULL,
        task_id TEXT NOT NULL,
        env TEXT NOT NULL,
        limits TEXT NOT NULL,
        status TEXT NOT NULL,
        gt_time REAL,
        details TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (dataset_hash, task_id, env, limits)
    );
    """,
    # Where each verdict ran (the Ray executor's host and node); NULL for this machine's workers.
    2: "ALTER TABLE verdicts ADD COLUMN node TEXT",
    # Why the verdict is not a solve (bcb.evaluation.failures); NULL for a solve and for verdicts
    # stored before bcb classified failures (filled in when a run reuses them).
    3: "ALTER TABLE verdicts ADD COLUMN category TEXT",
}


class StoreError(DatasetError):
    """The store cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class VerdictKey:
    dataset_hash: str
    task_id: str
    program_sha: str
    env: str
    limits: str


@dataclass(frozen=True)
class StoredVerdict:
    status: str
    details: dict[str, str]
    duration_s: float | None
    peak_rss_mb: float | None
    tests_run: int | None
    note: str
    node: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class GroundTruth:
    """A task's canonical solution in this environment: did it pass, and how long did its tests
    take (the official `expected_time`, which sets the sample time limits)."""

    task_id: str
    status: str
    gt_time: float | None
    details: dict[str, str]

    @property
    def passed(self) -> bool:
        return self.status == "pass"


def _damage_reported(method: Callable[..., _T]) -> Callable[..., _T]:
    """A store damaged mid-file opens fine and fails at the first page read: say which file and
    how to recover, whichever query meets the damage."""

    @functools.wraps(method)
    def checked(self: "ResultStore", *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path}: the result store is damaged ({exc}); move it away and run again (bcb starts a new store "
                f"and reruns what it held), or salvage it with `sqlite3 {self.path} .recover | sqlite3 recovered.sqlite`"
            ) from None

    return checked


class ResultStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"--root {self.path.parent}: cannot hold the result store ({exc.strerror}); pass a directory"
            ) from None
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path}: not a usable bcb result store ({exc}); move it away or pass another --root"
            ) from None

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer bcb (schema {version}, this bcb knows {SCHEMA_VERSION}); upgrade bcb"
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if self.db.execute("PRAGMA user_version").fetchone()[0] >= step:  # another process got here first
                    self.db.execute("COMMIT")
                    continue
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {step}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- verdicts -----------------------------------------------------------------------------

    @_damage_reported
    def get_verdicts(self, keys: Iterable[VerdictKey]) -> dict[VerdictKey, StoredVerdict]:
        found: dict[VerdictKey, StoredVerdict] = {}
        for key in keys:
            row = self.db.execute(
                "SELECT status, details, duration_s, peak_rss_mb, tests_run, note, node, category FROM verdicts "
                "WHERE dataset_hash=? AND task_id=? AND program_sha=? AND env=? AND limits=?",
                (key.dataset_hash, key.task_id, key.program_sha, key.env, key.limits),
            ).fetchone()
            if row is not None:
                found[key] = StoredVerdict(row[0], json.loads(row[1]), row[2], row[3], row[4], row[5], row[6], row[7])
        return found

    @_damage_reported
    def put_verdict(self, key: VerdictKey, verdict: StoredVerdict) -> None:
        """Durable on return: a kill after this loses nothing."""
        self.db.execute(
            "INSERT OR REPLACE INTO verdicts (dataset_hash, task_id, program_sha, env, limits, status, details, "
            "duration_s, peak_rss_mb, tests_run, note, created_at, node, category) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                key.dataset_hash,
                key.task_id,
                key.program_sha,
                key.env,
                key.limits,
                verdict.status,
                json.dumps(verdict.details),
                verdict.duration_s,
                verdict.peak_rss_mb,
                verdict.tests_run,
                verdict.note,
                time.time(),
                verdict.node or None,
                verdict.category,
            ),
        )

    @_damage_reported
    def set_category(self, key: VerdictKey, category: str | None) -> None:
        """Record the failure category of a stored verdict (one stored before bcb classified
        failures, or whose task's ground-truth status changed)."""
        self.db.execute(
            "UPDATE verdicts SET category=? WHERE dataset_hash=? AND task_id=? AND program_sha=? AND env=? AND limits=?",
            (category, key.dataset_hash, key.task_id, key.program_sha, key.env, key.limits),
        )

    @_damage_reported
    def category_counts(self) -> dict[str | None, int]:
        """How many stored verdicts fall in each failure category (None: solves and unclassified)."""
        return {
            row[0]: int(row[1]) for row in self.db.execute("SELECT category, COUNT(*) FROM verdicts GROUP BY category")
        }

    @_damage_reported
    def count_verdicts(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0])

    # -- ground truth -------------------------------------------------------------------------

    @_damage_reported
    def get_ground_truth(self, dataset_hash: str, env: str, limits: str) -> dict[str, GroundTruth]:
        rows = self.db.execute(
            "SELECT task_id, status, gt_time, details FROM ground_truth WHERE dataset_hash=? AND env=? AND limits=?",
            (dataset_hash, env, limits),
        )
        return {r[0]: GroundTruth(r[0], r[1], r[2], json.loads(r[3])) for r in rows}

    @_damage_reported
    def put_ground_truth(self, dataset_hash: str, env: str, limits: str, gt: GroundTruth) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO ground_truth VALUES (?,?,?,?,?,?,?,?)",
            (dataset_hash, gt.task_id, env, limits, gt.status, gt.gt_time, json.dumps(gt.details), time.time()),
        )

    @_damage_reported
    def past_ground_truth_times(self, dataset_hash: str) -> dict[str, float]:
        """Per task, the longest its ground truth took in any environment or limits recorded here
        (``math.inf`` when it ever hit its limit): the best guess for ordering a run in an
        environment not checked yet. Failed runs, whose time says little, are left out."""
        times: dict[str, float] = {}
        rows = self.db.execute(
            "SELECT task_id, status, gt_time FROM ground_truth WHERE dataset_hash=? AND status IN ('pass', 'timeout')",
            (dataset_hash,),
        )
        for task_id, status, gt_time in rows:
            took = math.inf if status == "timeout" else float(gt_time or 0.0)
            times[task_id] = max(times.get(task_id, 0.0), took)
        return times

    @_damage_reported
    def forget_ground_truth(self, dataset_hash: str, env: str, limits: str) -> None:
        self.db.execute(
            "DELETE FROM ground_truth WHERE dataset_hash=? AND env=? AND limits=?", (dataset_hash, env, limits)
        )


def limits_key(limits: Mapping[str, object]) -> str:
    """A stable text form of everything besides the program that can change a verdict."""
    return json.dumps(dict(limits), sort_keys=True, separators=(",", ":"))
