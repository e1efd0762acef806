"""The leaderboard: one row per model, split and subset, with the uncertainty that decides whether
two rows differ at all.

pass@1 and its interval are computed exactly as `bcb evaluate` computes them (same estimator, same
seeded bootstrap), so a row repeats what the run printed. Elo comes from task-level duels on the
tasks every row was scored on (see `bcb.analysis.elo`). Reference rows are numbers someone
reported, never measured here; every output marks them as such.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Sequence

from bcb.analysis.elo import Rating, elo_ratings
from bcb.analysis.runs import DEFAULT_ENTRY_POINT, AnalysisError, Entry, Run, Scope
from bcb.evaluation.failures import LIBRARY_CATEGORIES
from bcb.evaluation.passk import pass_at_1_ci, pass_at_k

FORMATS = ("table", "json", "csv", "markdown")


@dataclass(frozen=True)
class Reference:
    """A published solve rate shown for scale; `source` says who reported it."""

    label: str
    pass_at_1: float
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "reference",
            "label": self.label,
            "pass@1": self.pass_at_1,
            "source": self.source,
            "measured": False,
        }


KNOWN_REFERENCES: dict[str, Reference] = {
    "human": Reference(
        "Human experts",
        0.97,
        "reported by the BigCodeBench authors (arXiv:2406.15877); not measured by bcb",
    ),
}


def parse_reference(text: str) -> Reference:
    """`human` (a known one), or `LABEL=0.97` / `LABEL=97%` for any reported rate."""
    if text.strip().lower() in KNOWN_REFERENCES:
        return KNOWN_REFERENCES[text.strip().lower()]
    label, sep, value = text.rpartition("=")
    if not sep or not label.strip():
        known = ", ".join(KNOWN_REFERENCES)
        raise AnalysisError(
            f"bad --reference {text!r}: write LABEL=RATE (e.g. 'Team baseline=0.62' or '=62%'), or one of: {known}"
        )
    value = value.strip()
    try:
        rate = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise AnalysisError(f"bad --reference {text!r}: {value!r} is not a rate (0.62 or 62%)") from None
    if not 0.0 <= rate <= 1.0:
        raise AnalysisError(f"bad --reference {text!r}: a rate lies between 0 and 1 (or 0% and 100%)")
    return Reference(label.strip(), rate, "reported by the user with --reference; not measured by bcb")


@dataclass(frozen=True)
class Row:
    label: str
    model: str
    split: str | None
    subset: str
    calibrated: bool | None
    tasks: int
    samples: int
    pass_at_1: float
    ci_low: float
    ci_high: float
    calibrated_pass_at_1: float | None
    raw_pass_at_1: float | None
    elo: float | None
    elo_low: float | None
    elo_high: float | None
    lazy: int
    lazy_rate: float
    timeouts: int
    timeout_rate: float
    library_failures: int
    """Samples whose failure category is `api` or `import`: the model invented or misused a library."""
    library_failure_rate: float
    gt_failing: int
    """How many of the row's tasks failed their ground truth in some run (flagged or excluded)."""
    gt_checked: bool
    path: str
    date: str
    rank: int = 0
    """Position by pass@1, whatever the display order."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": "model", **asdict(self)}


@dataclass(frozen=True)
class Leaderboard:
    rows: tuple[Row, ...]
    references: tuple[Reference, ...]
    scope: Scope
    elo_tasks: int
    notes: tuple[str, ...] = ()
    ratings: Mapping[str, Rating] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": [r.to_json() for r in self.rows],
            "references": [r.to_json() for r in self.references],
            "gt_failures": {
                "policy": "excluded" if self.scope.exclude_gt_failures else "flagged",
                "tasks": sorted(self.scope.gt_failing),
                "summary": self.scope.policy,
            },
            "elo": {"tasks": self.elo_tasks, "method": "Bradley-Terry MLE on task-level duels, bootstrap over tasks"},
            "notes": list(self.notes),
        }


def _counts(run: Run, tasks: Sequence[str]) -> dict[str, tuple[int, int]]:
    """In the file's order: the bootstrap draws depend on it, and the file's order is the one
    `bcb evaluate` drew in."""
    wanted = set(tasks)
    return {t: c for t, c in run.results.counts().items() if t in wanted}


def _pass_at_1(run: Run, tasks: Sequence[str]) -> float | None:
    counts = _counts(run, tasks)
    return pass_at_k(counts, [1]).get("pass@1") if counts else None


def build_leaderboard(
    entries: Sequence[Entry],
    scope: Scope,
    *,
    entry_points: Mapping[str, str] | None = None,
    references: Sequence[Reference] = (),
    elo: bool = True,
    elo_resamples: int = 500,
    seed: int = 0,
) -> Leaderboard:
    entry_points = entry_points or {}
    ratings: Mapping[str, Rating] = {}
    if elo and len(entries) > 1 and scope.common:
        outcomes = {e.label: e.run.rates(scope.common) for e in entries}
        ratings = elo_ratings(outcomes, scope.common, resamples=elo_resamples, seed=seed)
    rows = []
    for entry in entries:
        run, tasks = entry.run, scope.tasks[entry.label]
        counts = _counts(run, tasks)
        ci = pass_at_1_ci(counts, seed=seed)
        samples = [s for t in tasks for s in run.results.eval[t]]
        lazy = sum(1 for s in samples if run.lazy(s, entry_points.get(s.task_id, DEFAULT_ENTRY_POINT)))
        timeouts = sum(1 for s in samples if s.status == "timeout")
        library_failures = sum(
            1
            for s in samples
            if not s.solved and run.category(s, entry_points.get(s.task_id, DEFAULT_ENTRY_POINT)) in LIBRARY_CATEGORIES
        )
        raw = (
            _pass_at_1(entry.raw, tasks)
            if entry.raw is not None
            else (ci.estimate if run.calibrated is False else None)
        )
        calibrated = ci.estimate if run.calibrated else None
        rating = ratings.get(entry.label)
        rows.append(
            Row(
                label=entry.label,
                model=run.model,
                split=run.split,
                subset=scope.subset or run.subset,
                calibrated=run.calibrated,
                tasks=len(tasks),
                samples=len(samples),
                pass_at_1=ci.estimate,
                ci_low=ci.low,
                ci_high=ci.high,
                calibrated_pass_at_1=calibrated,
                raw_pass_at_1=raw,
                elo=rating.elo if rating else None,
                elo_low=rating.low if rating else None,
                elo_high=rating.high if rating else None,
                lazy=lazy,
                lazy_rate=lazy / len(samples),
                timeouts=timeouts,
                timeout_rate=timeouts / len(samples),
                library_failures=library_failures,
                library_failure_rate=library_failures / len(samples),
                gt_failing=len(scope.gt_failing & set(run.task_ids)),
                gt_checked=run.gt_failed is not None,
                path=str(run.path),
                date=run.results.date,
            )
        )
    by_score = sorted(rows, key=lambda r: (-r.pass_at_1, r.label))
    # Equal scores share the best rank they could have (1, 1, 3): no tie is decided by the name.
    ranked = tuple(_with_rank(r, 1 + sum(_better(o, r) for o in by_score)) for r in by_score)
    notes = list(scope.notes)
    if any(not e.run.is_bcb for e in entries) and any(r.lazy for r in ranked):
        notes.append(
            "lazy: bcb files never count a lazy answer as solved; official files count them as the official evaluator did"
        )
    return Leaderboard(ranked, tuple(references), scope, len(scope.common) if ratings else 0, tuple(notes), ratings)


def _better(a: Row, b: Row) -> bool:
    return round(a.pass_at_1, 12) > round(b.pass_at_1, 12)


def _with_rank(row: Row, rank: int) -> Row:
    return Row(**{**asdict(row), "rank": rank})


# ---------------------------------------------------------------------------------------------
# Sorting


def _ci_width(r: Row) -> float:
    return r.ci_high - r.ci_low


SORT_KEYS: dict[str, tuple[Callable[[Row], Any], bool]] = {
    # name -> (key, numeric: numbers sort best-first by default, text A-Z)
    "rank": (lambda r: -r.rank, True),
    "model": (lambda r: r.label.lower(), False),
    "split": (lambda r: r.split or "", False),
    "subset": (lambda r: r.subset, False),
    "pass@1": (lambda r: r.pass_at_1, True),
    "ci-low": (lambda r: r.ci_low, True),
    "ci-high": (lambda r: r.ci_high, True),
    "ci-width": (_ci_width, True),
    "calibrated": (lambda r: r.calibrated_pass_at_1, True),
    "raw": (lambda r: r.raw_pass_at_1, True),
    "elo": (lambda r: r.elo, True),
    "lazy": (lambda r: r.lazy_rate, True),
    "timeouts": (lambda r: r.timeouts, True),
    "api-import": (lambda r: r.library_failure_rate, True),
    "tasks": (lambda r: r.tasks, True),
    "gt": (lambda r: r.gt_failing, True),
}
ALIASES = {
    "api+import": "api-import",
    "pass1": "pass@1",
    "score": "pass@1",
    "ci": "ci-low",
    "name": "model",
    "label": "model",
    "#": "rank",
    "gt-failing": "gt",
}


def sort_column(name: str) -> str:
    key = re.sub(r"[\s_]+", "-", name.strip().lower())
    key = ALIASES.get(key, key)
    if key not in SORT_KEYS:
        raise AnalysisError(f"unknown sort column {name!r}: choose one of {', '.join(SORT_KEYS)}")
    return key


def sort_rows(rows: Sequence[Row], column: str = "pass@1", *, descending: bool | None = None) -> list[Row]:
    """Rows by `column`; unknown values (None) always last, ties by name A-Z. `descending` defaults
    to best-first for numbers and A-Z for text."""
    key, numeric = SORT_KEYS[sort_column(column)]
    descending = numeric if descending is None else descending
    known = [r for r in rows if key(r) is not None]
    unknown = [r for r in rows if key(r) is None]
    by_name = sorted(known, key=lambda r: r.label)  # ties stay A-Z in either direction (sorting is stable)
    return sorted(by_name, key=key, reverse=descending) + unknown


# ---------------------------------------------------------------------------------------------
# Text forms


def pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.{digits}f}"


def elo_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def calibration_text(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "?"}[value]


def has_raw_pairs(board: Leaderboard) -> bool:
    return any(r.raw_pass_at_1 is not None and r.calibrated_pass_at_1 is not None for r in board.rows)


def columns(board: Leaderboard) -> list[tuple[str, Callable[[Row], str]]]:
    """The displayed columns as (header, cell), shared by the table, Markdown and CSV forms."""
    cols: list[tuple[str, Callable[[Row], str]]] = [
        ("#", lambda r: str(r.rank)),
        ("model", lambda r: r.label),
        ("split", lambda r: r.split or "?"),
        ("subset", lambda r: r.subset),
        ("calibrated", lambda r: calibration_text(r.calibrated)),
        ("pass@1 %", lambda r: pct(r.pass_at_1)),
        ("95% CI", lambda r: f"{pct(r.ci_low)}-{pct(r.ci_high)}"),
    ]
    if has_raw_pairs(board):
        cols.append(("raw pass@1 %", lambda r: pct(r.raw_pass_at_1)))
    if board.ratings:
        cols.append(("Elo", lambda r: elo_text(r.elo)))
        cols.append(("Elo 95% CI", lambda r: "-" if r.elo is None else f"{r.elo_low:.0f}-{r.elo_high:.0f}"))
    cols += [
        ("lazy %", lambda r: pct(r.lazy_rate)),
        ("api+import %", lambda r: pct(r.library_failure_rate)),
        ("timeouts", lambda r: str(r.timeouts)),
        ("tasks", lambda r: str(r.tasks)),
        ("GT-failing", lambda r: str(r.gt_failing) if r.gt_checked or r.gt_failing else "?"),
    ]
    return cols


def reference_label(ref: Reference) -> str:
    return f"{ref.label} (reported, not measured)"


def placed(board: Leaderboard, rows: Sequence[Row], column: str) -> list[Row | Reference]:
    """Rows in display order with the reference rows slotted in by pass@1 when the order is by
    pass@1, else after the models."""
    refs = sorted(board.references, key=lambda ref: -ref.pass_at_1)
    if sort_column(column) != "pass@1" or not refs:
        return [*rows, *refs]
    descending = len(rows) < 2 or rows[0].pass_at_1 >= rows[-1].pass_at_1
    out: list[Row | Reference] = []
    pending = refs if descending else refs[::-1]
    for row in rows:
        while pending and (
            pending[0].pass_at_1 > row.pass_at_1 if descending else pending[0].pass_at_1 < row.pass_at_1
        ):
            out.append(pending.pop(0))
        out.append(row)
    return out + pending


def to_markdown(board: Leaderboard, ordered: Sequence[Row | Reference], column: str) -> str:
    cols = columns(board)
    lines = ["| " + " | ".join(h for h, _ in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for item in ordered:
        if isinstance(item, Reference):
            cells = [""] * len(cols)
            cells[1] = f"*{reference_label(item)}*"
            cells[5] = f"*{pct(item.pass_at_1)}*"
        else:
            cells = [cell(item).replace("|", "\\|") for _, cell in cols]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {line}" for line in footnotes(board)]
    return "\n".join(lines) + "\n"


def to_csv(board: Leaderboard, ordered: Sequence[Row | Reference]) -> str:
    """Machine-readable: raw numbers (fractions, not percent), one row per model or reference."""
    fields = [
        "kind", "rank", "label", "model", "split", "subset", "calibrated", "tasks", "samples", "pass@1", "ci_low", "ci_high",
        "calibrated_pass@1", "raw_pass@1", "elo", "elo_low", "elo_high", "lazy", "lazy_rate", "timeouts",
        "library_failures", "library_failure_rate", "gt_failing", "path", "source",
    ]  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for item in ordered:
        if isinstance(item, Reference):
            writer.writerow(
                {"kind": "reference", "label": reference_label(item), "pass@1": item.pass_at_1, "source": item.source}
            )
            continue
        data = item.to_json()
        data["pass@1"], data["calibrated_pass@1"], data["raw_pass@1"] = (
            item.pass_at_1,
            item.calibrated_pass_at_1,
            item.raw_pass_at_1,
        )
        writer.writerow({k: ("" if data.get(k) is None else data.get(k)) for k in fields if k != "source"})
    return out.getvalue()


def to_json_text(board: Leaderboard, ordered: Sequence[Row | Reference]) -> str:
    payload = board.to_json()
    payload["order"] = [item.label if isinstance(item, Row) else reference_label(item) for item in ordered]
    return json.dumps(payload, indent=2) + "\n"


def footnotes(board: Leaderboard) -> list[str]:
    lines = [f"GT-failing tasks: {board.scope.policy}"]
    if board.ratings:
        lines.append(
            f"Elo: Bradley-Terry fit to task-level duels on the {board.elo_tasks} tasks every row has; 95% CI by bootstrap over tasks"
        )
    for ref in board.references:
        lines.append(f"{ref.label} {pct(ref.pass_at_1)}%: {ref.source}")
    return lines + list(board.notes)
