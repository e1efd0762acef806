"""The HTML report: everything the other analyses print, in one file that opens anywhere.

Self-contained by construction: the styles, the script and the charts (inline SVG) are written
into the page, and the page names no URL it would fetch, so it can be mailed, archived, or opened
on a machine with no network and still show everything. The script only sorts the leaderboard and
drives the task browser; the page reads fine without it.

The page is the list `SECTIONS` (id, title, navigation label, render function), rendered in order
from one `ReportData` that `build_report` computes; a new section is one entry in that list.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from importlib.resources import files
from typing import Any, Callable, Mapping, Sequence

from bcb import __version__
from bcb.analysis.errors import diagnose, in_test_order, model_errors, task_prompts, test_order, trim_traceback
from bcb.analysis.leaderboard import (
    Leaderboard,
    Reference,
    build_leaderboard,
    calibration_text,
    columns,
    footnotes,
    pct,
    reference_label,
    sort_rows,
)
from bcb.analysis.runs import Entry, Run, Scope, common_rates, entry_points
from bcb.analysis.strengths import Breakdown, Stack, StackRank, breakdown, rank_on_stack
from bcb.analysis.svg import Mark, grouped_bars, heatmap, interval_chart, stacked_bars
from bcb.dataset import Dataset
from bcb.dataset.domains import DOMAINS, task_domains
from bcb.evaluation.failures import CATEGORIES, LIBRARY_CATEGORIES


def _asset(name: str) -> str:
    """The page's styles and script, kept as package data (`bcb/analysis/assets/`)."""
    return (files("bcb.analysis") / "assets" / name).read_text(encoding="utf-8")


MAX_TRACEBACK = 4000
"""Characters of each failing test's traceback kept in the page; the tail holds the error."""
TOP_LIBRARIES = 20
CATEGORY_COLOURS = {
    "syntax": "#9c6b4e", "import": "#ff725c", "name": "#ff8ab7", "api": "#d62728", "assertion": "#4269d0",
    "exception": "#efb118", "timeout": "#a463f2", "memory": "#6cc5b0", "lazy": "#9498a0", "tamper": "#222222",
    "no_code": "#c7c7c7", "environment": "#3ca951", "unknown": "#e5e5e5",
}  # fmt: skip
"""One colour per failure category, the same in the chart and the task browser."""
TOP_MISUSES = 8
MIN_LIBRARY_TASKS = 5


@dataclass(frozen=True)
class StackRanking:
    """The models ranked on the reader's library stack, and how many tasks that rests on."""

    stack: Stack
    ranking: Sequence[StackRank]
    tasks: int


@dataclass(frozen=True)
class ReportData:
    """Everything the sections draw from, computed once (by :func:`build_report`) so that no
    section scores anything itself and all of them speak of the same numbers."""

    board: Leaderboard
    entries: Sequence[Entry]
    dataset: Dataset
    strengths: Breakdown
    stack: StackRanking | None = None
    lib_domains: Mapping[str, str] | None = None


def build_report(
    entries: Sequence[Entry],
    scope: Scope,
    dataset: Dataset,
    lib_domains: Mapping[str, str] | None,
    *,
    references: Sequence[Reference] = (),
    stack: Stack | None = None,
    resamples: int = 500,
    seed: int = 0,
) -> ReportData:
    points = entry_points(dataset)
    board = build_leaderboard(
        entries, scope, entry_points=points, references=references, elo_resamples=resamples, seed=seed
    )
    rates = common_rates(entries, scope)
    strengths = breakdown(rates, scope.common, dataset, lib_domains, seed=seed)
    ranking = None
    if stack is not None:
        ranks, tasks = rank_on_stack(rates, scope.common, dataset, stack, seed=seed)
        ranking = StackRanking(stack, ranks, tasks)
    return ReportData(board, entries, dataset, strengths, ranking, lib_domains)


def _pct_fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.0f}%"


def _json_script(element_id: str, payload: Any) -> str:
    """JSON in a script tag: `<`, `>` and `&` escaped so no string in it can end the tag."""
    text = (
        json.dumps(payload, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _num(value: float | None) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))


# ---------------------------------------------------------------------------------------------
# Sections


def _leaderboard_table(board: Leaderboard) -> str:
    cols = columns(board)
    sort_values = {
        "#": lambda r: str(r.rank),
        "model": lambda r: r.label,
        "split": lambda r: r.split or "",
        "subset": lambda r: r.subset,
        "calibrated": lambda r: calibration_text(r.calibrated),
        "pass@1 %": lambda r: _num(r.pass_at_1),
        "95% CI": lambda r: _num(r.ci_low),
        "raw pass@1 %": lambda r: _num(r.raw_pass_at_1),
        "Elo": lambda r: _num(r.elo),
        "Elo 95% CI": lambda r: _num(r.elo_low),
        "lazy %": lambda r: _num(r.lazy_rate),
        "api+import %": lambda r: _num(r.library_failure_rate),
        "timeouts": lambda r: str(r.timeouts),
        "tasks": lambda r: str(r.tasks),
        "GT-failing": lambda r: str(r.gt_failing),
    }
    text_cols = {"model", "split", "subset", "calibrated"}
    head = "".join(
        f'<th data-col="{i}" data-type="{"text" if h in text_cols else "num"}" tabindex="0" aria-sort="none">{escape(h)}</th>'
        for i, (h, _) in enumerate(cols)
    )
    body = []
    for row in sort_rows(board.rows, "pass@1"):
        cells = "".join(f'<td data-v="{escape(sort_values[h](row))}">{escape(cell(row))}</td>' for h, cell in cols)
        body.append(f'<tr class="model-row" data-label="{escape(row.label)}">{cells}</tr>')
    foot = "".join(
        f'<tr class="reference-row"><td></td><td colspan="4"><em>{escape(reference_label(ref))}</em></td>'
        f'<td>{escape(pct(ref.pass_at_1))}</td><td colspan="{len(cols) - 6}" class="source">{escape(ref.source)}</td></tr>'
        for ref in board.references
    )
    return (
        f'<table id="leaderboard" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
        f"{'<tfoot>' + foot + '</tfoot>' if foot else ''}</table>"
    )


def _pass_chart(board: Leaderboard) -> str:
    rows = sort_rows(board.rows, "pass@1")
    marks = [Mark(r.label, r.pass_at_1, r.ci_low, r.ci_high, f"on {r.tasks} tasks") for r in rows]
    lines = [
        (f"{ref.label} {pct(ref.pass_at_1, 0)}% (reported, not measured)", ref.pass_at_1) for ref in board.references
    ]
    return interval_chart(
        marks, domain=(0.0, 1.0), fmt=_pct_fmt, lines=lines, axis_label="pass@1 with 95% CI", bars=True
    )


def _elo_chart(board: Leaderboard) -> str:
    rows = [r for r in sort_rows(board.rows, "elo") if r.elo is not None]
    if not rows:
        return "<p>Elo needs at least two models scored on common tasks.</p>"
    marks = [Mark(r.label, r.elo, r.elo_low, r.elo_high) for r in rows]  # type: ignore[arg-type]
    lo = min(m.low for m in marks)
    hi = max(m.high for m in marks)
    pad = max(25.0, 0.08 * (hi - lo))
    return interval_chart(
        marks, domain=(lo - pad, hi + pad), fmt=lambda v: f"{v:.0f}", axis_label="Elo (mean 1000) with 95% CI"
    )


def _leaderboard_section(report: ReportData) -> str:
    notes = "".join(f"<li>{escape(line)}</li>" for line in footnotes(report.board))
    return (
        '<p class="hint">Click a column header to sort; click again to reverse.</p>\n'
        f'{_leaderboard_table(report.board)}\n<ul class="notes">{notes}</ul>\n'
        f"<h3>pass@1 with 95% confidence intervals</h3>\n{_pass_chart(report.board)}"
    )


def _elo_section(report: ReportData) -> str:
    return (
        "<p>Bradley-Terry ratings from task-level duels (a model beats another on a task it solves and the other does not), "
        f"on the {report.board.elo_tasks} tasks every model has; intervals from a seeded bootstrap over tasks.</p>\n"
        + _elo_chart(report.board)
    )


def _domain_section(report: ReportData) -> str:
    basis = f"on the {report.strengths.tasks} tasks every model was scored on"
    chart = _domain_heatmap(report.board, report.strengths)
    return f"<p>A task counts in every domain its libraries belong to; {escape(basis)}.</p>\n{chart}"


def _domain_heatmap(board: Leaderboard, strengths: Breakdown) -> str:
    if strengths.domains is None:
        return "<p>Domains unknown: no lib2domain.json in --data-dir/BCB_DATA_DIR or the cache, and it could not be downloaded.</p>"
    labels = [r.label for r in sort_rows(board.rows, "pass@1")]
    values = [[strengths.domains[lab][d].rate for d in DOMAINS] for lab in labels]

    def text(i: int, j: int) -> str:
        score = strengths.domains[labels[i]][DOMAINS[j]]  # type: ignore[index]
        return "no tasks" if not score.tasks else f"{_pct_fmt(score.rate)} · n={score.tasks}"

    def tip(i: int, j: int) -> str:
        score = strengths.domains[labels[i]][DOMAINS[j]]  # type: ignore[index]
        if not score.tasks:
            return f"{labels[i]} · {DOMAINS[j]}: no tasks"
        return f"{labels[i]} · {DOMAINS[j]}: {_pct_fmt(score.rate)} (95% CI {_pct_fmt(score.low)}-{_pct_fmt(score.high)}) on {score.tasks} tasks"

    return heatmap(labels, DOMAINS, values, cell_text=text, tooltip=tip)


def _library_section(report: ReportData) -> str:
    strengths = report.strengths
    labels = [r.label for r in sort_rows(report.board.rows, "pass@1")]
    first = strengths.libraries[labels[0]]
    libs = [lib for lib, score in first.items() if score.tasks >= MIN_LIBRARY_TASKS][:TOP_LIBRARIES]
    if not libs:
        return "<p>No library is used by enough common tasks to chart.</p>"
    marks = [
        [Mark(lab, s.rate, s.low, s.high, f"n={s.tasks}") for lab in labels for s in [strengths.libraries[lab][lib]]]
        for lib in libs
    ]
    chart = grouped_bars(libs, labels, marks, fmt=_pct_fmt)
    head = "".join(f"<th>{escape(lab)}</th>" for lab in labels)
    body = "".join(
        f"<tr><td>{escape(lib)}</td><td>{score.tasks}</td>"
        + "".join(f"<td>{escape(_pct_fmt(strengths.libraries[lab][lib].rate))}</td>" for lab in labels)
        + "</tr>"
        for lib, score in first.items()
    )
    table = (
        f'<details><summary>All {len(first)} libraries</summary><table class="plain">'
        f"<thead><tr><th>library</th><th>tasks</th>{head}</tr></thead><tbody>{body}</tbody></table></details>"
    )
    return (
        f"<p>The {len(libs)} libraries used by the most common tasks (at least {MIN_LIBRARY_TASKS}); "
        f"bars show pass rate, whiskers the 95% CI.</p>{chart}{table}"
    )


def _stack_section(report: ReportData) -> str:
    section = report.stack
    if section is None:
        return "<p>No stack given: pass <code>--stack pandas,requests,sqlite3</code> or a requirements file to rank models on your own libraries.</p>"
    stdlib = " (the standard library counts as part of the stack)" if section.stack.include_stdlib else ""
    rows = "".join(
        f"<tr><td>{r.rank}</td><td>{escape(r.label)}</td><td>{escape(_pct_fmt(r.score.rate))}</td>"
        f"<td>{escape(_pct_fmt(r.score.low))}-{escape(_pct_fmt(r.score.high))}</td><td>{r.score.tasks}</td>"
        f"<td>{escape(_pct_fmt(r.overall))}</td><td>{r.overall_rank}</td></tr>"
        for r in section.ranking
    )
    return (
        f'<p class="stack-basis">Stack <strong>{escape(section.stack.label)}</strong> (from {escape(section.stack.source)}): '
        f"every stack score rests on <strong>{section.tasks}</strong> tasks, those that use at least one of these libraries and "
        f"nothing outside them{stdlib}.</p>"
        '<table id="stack" class="plain"><thead><tr><th>stack rank</th><th>model</th><th>stack score</th><th>95% CI</th>'
        f"<th>tasks</th><th>overall pass@1</th><th>overall rank</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _failure_section(report: ReportData) -> str:
    board = report.board
    prompts = task_prompts(report.dataset)
    by_label = {e.label: e for e in report.entries}
    labels = [r.label for r in sort_rows(board.rows, "pass@1")]
    found = [model_errors(label, by_label[label].run, board.scope.tasks[label], prompts) for label in labels]
    shown = [c for c in CATEGORIES if any(m.categories[c] for m in found)]
    if not shown:
        return "<p>Every sample was solved: nothing failed.</p>"
    values = [[m.categories[c] / m.samples if m.samples else 0.0 for c in shown] for m in found]

    def tip(i: int, k: int) -> str:
        m, c = found[i], shown[k]
        return f"{m.label}: {c} {m.categories[c]} of {m.samples} samples ({_pct_fmt(values[i][k])})"

    chart = stacked_bars(labels, shown, values, colours=[CATEGORY_COLOURS[c] for c in shown], tooltip=tip, fmt=_pct_fmt)
    head = "".join(f"<th>{escape(m.label)}</th>" for m in found)
    body = "".join(
        f'<tr data-category="{escape(c)}"><td><span class="swatch" style="background:{CATEGORY_COLOURS[c]}"></span>{escape(c)}</td>'
        + "".join(f"<td>{m.categories[c]}</td>" for m in found)
        + "</tr>"
        for c in shown
    )
    body += (
        "<tr><td><strong>unsolved</strong></td>"
        + "".join(f"<td><strong>{m.unsolved}</strong> of {m.samples}</td>" for m in found)
        + "</tr>"
    )
    misuse = []
    for m in found:
        items = "".join(
            f"<li><code>{escape(lib)}</code>: {escape(cat)} <code>{escape(attr)}</code> ×{n}</li>"
            for lib, attr, cat, n in m.attributes[:TOP_MISUSES]
        )
        if items:
            misuse.append(
                f"<h4>{escape(m.label)}: {m.library_failures} samples fail on a library ({_pct_fmt(m.library_failure_rate)})</h4><ul>{items}</ul>"
            )
    return (
        "<p>Each bar is one model's samples that are not solved, split by why (share of all its samples; "
        'rules in the README, "Why did it fail?").</p>'
        f'<div id="failure-chart">{chart}</div>'
        f'<table id="failure-table" class="plain"><thead><tr><th>category</th>{head}</tr></thead><tbody>{body}</tbody></table>'
        + ("<h3>Libraries invented or misused (import and api failures)</h3>" + "".join(misuse) if misuse else "")
    )


def _gt_status(task_id: str, entries: Sequence[Entry]) -> str:
    failed = [e.label for e in entries for r in e.runs if r.gt_failed is not None and task_id in r.gt_failed]
    checked = [e.label for e in entries if e.run.gt_failed is not None]
    if failed:
        return "failed in the environment of: " + ", ".join(dict.fromkeys(failed))
    if checked:
        return "passed"
    return "not checked"


def _task_data(
    entries: Sequence[Entry], scope: Scope, dataset: Dataset, lib_domains: Mapping[str, str] | None
) -> dict[str, Any]:
    ids = sorted({t for ids in scope.tasks.values() for t in ids}, key=lambda t: dataset.by_id[t].number)
    splits = sorted({e.run.split or "complete" for e in entries})
    prompts = task_prompts(dataset)
    tasks: list[dict[str, Any]] = []
    for task_id in ids:
        task = dataset.by_id[task_id]
        order = test_order(task.test)
        results = []
        for entry in entries:
            run = entry.run
            rows = run.results.eval.get(task_id) or []
            if not rows:
                results.append({"entry": entry.label, "n": 0})
                continue
            sample = next((r for r in rows if not r.solved), rows[0])
            found = diagnose(run, sample, prompts)
            source = sample.solution + "\n" + task.test
            by_test = {t.test: t for t in found.tests} if found else {}
            tests = [
                [
                    name,
                    by_test[name].category if name in by_test else "",
                    _tail(trim_traceback(sample.details[name], source)),
                ]
                for name in in_test_order(list(sample.details), order)
            ]
            results.append(
                {
                    "entry": entry.label,
                    "n": len(rows),
                    "solved": sum(r.solved for r in rows),
                    "status": sample.status,
                    "lazy": run.lazy(sample, task.entry_point),
                    "category": found.category if found else None,
                    "why": found.detail if found else "",
                    "library": found.library if found else None,
                    "solution": sample.solution,
                    "details": tests,
                }
            )
        tasks.append(
            {
                "id": task_id,
                "libs": list(task.libs),
                "domains": task_domains(task, lib_domains) if lib_domains is not None else [],
                "gt": _gt_status(task_id, entries),
                "gt_failing": task_id in scope.gt_failing,
                "prompts": {split: task.prompt(split) for split in splits if split in ("complete", "instruct")},  # type: ignore[arg-type]
                "canonical": task.solution,
                "results": results,
            }
        )
    categories = [c for c in CATEGORIES if any(r.get("category") == c for t in tasks for r in t["results"])]
    libraries = sorted(
        {lib for t in tasks for lib in t["libs"]}
        | {r["library"] for t in tasks for r in t["results"] if r.get("library")}
    )
    domains = [d for d in DOMAINS if any(d in t["domains"] for t in tasks)]
    return {
        "entries": [e.label for e in entries],
        "tasks": tasks,
        "categories": categories,
        "colours": {c: CATEGORY_COLOURS[c] for c in categories},
        "libraries": libraries,
        "domains": domains,
        "library_categories": list(LIBRARY_CATEGORIES),
    }


def _tail(text: str) -> str:
    text = str(text)
    return text if len(text) <= MAX_TRACEBACK else "...\n" + text[-MAX_TRACEBACK:]


def _manifest(run: Run) -> dict[str, Any]:
    return {
        "file": str(run.path),
        "model": run.model,
        "split": run.split,
        "subset": run.subset,
        "calibrated": run.calibrated,
        "date": run.results.date,
        "written_by": "bcb" if run.is_bcb else "official evaluator (or compatible)",
        "manifest": dict(run.manifest) or None,
        "pass_at_k": dict(run.pass_at_k) if run.pass_at_k else None,
    }


def _tasks_section(report: ReportData) -> str:
    """The browser's frame; report.js fills it from the page's task data."""
    return _TASK_BROWSER


_TASK_BROWSER = """<div class="browser">
<div class="task-list"><input id="task-filter" type="search" placeholder="filter: id or library">
<select id="task-kind"><option value="all">all tasks</option><option value="split">solved by some models only</option><option value="none">solved by no model</option><option value="every">solved by every model</option><option value="gt">ground truth failing</option></select>
<select id="task-category"><option value="">any failure category</option></select>
<select id="task-library"><option value="">any library</option></select>
<select id="task-domain"><option value="">any domain</option></select>
<p id="task-count" class="hint"></p>
<ul id="tasks"></ul></div>
<div id="task-detail" class="task-detail"><p>Pick a task.</p></div>
</div>"""  # noqa: E501


def _manifests_section(report: ReportData) -> str:
    parts = []
    for entry in report.entries:
        for run in entry.runs:
            text = json.dumps(_manifest(run), indent=2, default=str)
            parts.append(
                f'<details class="manifest"><summary>{escape(entry.label)} — {escape(run.path.name)}</summary><pre>{escape(text)}</pre></details>'
            )
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# The page


@dataclass(frozen=True)
class Section:
    """One part of the page: `<section id="{id}-section">` under the heading `title`, linked from
    the navigation bar as `nav`; `render` gives its body from the report's data."""

    id: str
    title: str
    nav: str
    render: Callable[[ReportData], str]


SECTIONS: tuple[Section, ...] = (
    Section("leaderboard", "Leaderboard", "Leaderboard", _leaderboard_section),
    Section("elo", "Elo rating", "Elo", _elo_section),
    Section("domains", "Pass rate by domain", "Domains", _domain_section),
    Section("libraries", "Pass rate by library", "Libraries", _library_section),
    Section("stack", "Stack score", "Stack", _stack_section),
    Section("failures", "Why unsolved", "Why unsolved", _failure_section),
    Section("tasks", "Task browser", "Tasks", _tasks_section),
    Section("manifests", "Runs", "Runs", _manifests_section),
)
"""The page's sections in order: a new section is one entry here."""


def render_report(report: ReportData, *, title: str = "bcb report", sections: Sequence[Section] = SECTIONS) -> str:
    board, dataset = report.board, report.dataset
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#{s.id}-section">{escape(s.nav)}</a>' for s in sections)
    body = "\n".join(
        f'<section id="{s.id}-section"><h2>{escape(s.title)}</h2>\n{s.render(report)}\n</section>' for s in sections
    )
    data = _task_data(report.entries, board.scope, dataset, report.lib_domains)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{escape(title)}</title>
<style>{_asset("report.css")}</style></head>
<body>
<header><h1>{escape(title)}</h1>
<p class="meta">{len(board.rows)} model rows · dataset {escape(dataset.label)} ({escape(dataset.content_hash[:16])}…) · generated {generated} by bcb {escape(__version__)}</p></header>
<nav>{nav}</nav>
{body}
{_json_script("task-data", data)}
<script>{_asset("report.js")}</script>
</body></html>
"""  # noqa: E501
