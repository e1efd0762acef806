"""The official result files, read and written as the official evaluator does.

`<samples>_eval_results.json` holds `{"date", "eval": {task_id: [{"task_id", "solution", "status",
"details"}, ...]}}`; `<samples>_pass_at_k.json` holds the `pass@k` values with `model`, `split`,
`subset`, `calibrated`, `gt_pass_rate` and `failed_tasks`. bcb keeps every official entry exactly
as the official evaluator shapes it and puts what it adds under one extra top-level key, `bcb`,
so each tool reads the other's files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from bcb.dataset import DatasetError
from bcb.fileio import JsonFileError, read_json, write_json_atomic

STATUSES = ("pass", "fail", "timeout")


class ResultsError(DatasetError):
    """A results file that cannot be read; one line naming the file and the problem."""


@dataclass(frozen=True)
class SampleResult:
    """The verdict on one sample, as the results file records it."""

    task_id: str
    solution: str
    status: str
    details: Mapping[str, str]
    index: int = 0
    duration_s: float | None = None
    peak_rss_mb: float | None = None
    lazy: str | None = None
    note: str = ""
    category: str | None = None
    """Why the sample is not solved (`bcb.evaluation.failures`); None for a solve, and in files
    written before bcb classified failures."""

    @property
    def solved(self) -> bool:
        """What pass@k counts: a pass that is not a lazy answer."""
        return self.status == "pass" and not self.lazy


@dataclass
class EvalResults:
    date: str
    eval: dict[str, list[SampleResult]]
    bcb: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, tuple[int, int]]:
        """task id -> (n samples, c solved), the input of pass@k."""
        return {t: (len(rs), sum(r.solved for r in rs)) for t, rs in self.eval.items() if rs}


def result_paths(samples: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Where the official evaluator writes for a samples file (`s.jsonl` -> `s_eval_results.json`,
    `s_pass_at_k.json`) or a samples directory (`eval_results.json`, `pass_at_k.json` inside)."""
    samples = Path(samples)
    if samples.is_dir():
        return samples / "eval_results.json", samples / "pass_at_k.json"
    stem = samples.name[: -len(".jsonl")] if samples.name.endswith(".jsonl") else samples.stem
    return samples.with_name(f"{stem}_eval_results.json"), samples.with_name(f"{stem}_pass_at_k.json")


def model_name(samples: str | os.PathLike[str]) -> str:
    """The official rule (the samples file name up to `--bigcodebench-`), extended to the names bcb
    writes for its other datasets."""
    base = os.path.basename(os.fspath(samples))
    for dataset in ("bigcodebench", "bcb-mini", "custom"):
        if f"--{dataset}-" in base:
            return base.split(f"--{dataset}-")[0]
    return base


def write_eval_results(path: Path, results: EvalResults) -> None:
    write_json_atomic(path, eval_results_payload(results))


def eval_results_payload(results: EvalResults) -> dict[str, Any]:
    """The content of `*_eval_results.json`: what is written to disk, and what `bcb serve` answers."""
    official = {
        task_id: [
            {"task_id": r.task_id, "solution": r.solution, "status": r.status, "details": dict(r.details)} for r in rows
        ]
        for task_id, rows in results.eval.items()
    }
    extras = {
        task_id: [
            {
                "index": r.index,
                "duration_s": r.duration_s,
                "peak_rss_mb": r.peak_rss_mb,
                "lazy": r.lazy,
                "note": r.note,
                "category": r.category,
            }
            for r in rows
        ]
        for task_id, rows in results.eval.items()
    }
    return {"date": results.date, "eval": official, "bcb": {**results.bcb, "samples": extras}}


def read_eval_results(path: str | os.PathLike[str]) -> EvalResults:
    """Load an official or a bcb results file."""
    path = Path(path)
    try:
        payload = read_json(path, "JSON results file")
    except JsonFileError as exc:
        raise ResultsError(str(exc)) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("eval"), dict):
        raise ResultsError(f"{path}: no 'eval' mapping; is it an *_eval_results.json file?")
    bcb: dict[str, Any] = payload["bcb"] if isinstance(payload.get("bcb"), dict) else {}
    extras = bcb.get("samples", {}) if isinstance(bcb.get("samples"), dict) else {}
    table: dict[str, list[SampleResult]] = {}
    for task_id, rows in payload["eval"].items():
        if not isinstance(rows, list):
            raise ResultsError(f"{path}: {task_id}: expected a list of sample results")
        extra_rows = extras.get(task_id) or []
        parsed = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or row.get("status") not in STATUSES:
                raise ResultsError(f"{path}: {task_id} sample {i}: status must be one of {', '.join(STATUSES)}")
            extra = extra_rows[i] if i < len(extra_rows) and isinstance(extra_rows[i], dict) else {}
            details = row.get("details") or {}
            parsed.append(
                SampleResult(
                    task_id=str(row.get("task_id", task_id)),
                    solution=str(row.get("solution", "")),
                    status=row["status"],
                    details=details if isinstance(details, dict) else {"ALL": str(details)},
                    index=int(extra.get("index", i)),
                    duration_s=extra.get("duration_s"),
                    peak_rss_mb=extra.get("peak_rss_mb"),
                    lazy=extra.get("lazy"),
                    note=str(extra.get("note") or ""),
                    category=extra.get("category") if isinstance(extra.get("category"), str) else None,
                )
            )
        table[task_id] = parsed
    bcb_rest = {k: v for k, v in bcb.items() if k != "samples"}
    return EvalResults(str(payload.get("date", "")), table, bcb_rest)


def read_pass_at_k(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(path)
    try:
        payload = read_json(path)
    except JsonFileError as exc:
        raise ResultsError(str(exc)) from None
    if not isinstance(payload, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    return payload


def keep_backup(path: Path) -> Path | None:
    """Move an existing results file aside as `<file>.bak` before it is overwritten (the name the
    official evaluator gives its backups); one backup is kept, replacing an older one."""
    if not path.is_file():
        return None
    backup = path.with_name(path.name + ".bak")
    os.replace(path, backup)
    return backup
