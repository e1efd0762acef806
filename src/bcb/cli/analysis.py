"""`bcb leaderboard`, `bcb strengths`, `bcb compare`, `bcb errors`, `bcb report`: results files in,
analyses out.

Wiring only: loading, scoring and rendering live in `bcb.analysis`, which needs numpy (a core
dependency: leaderboards work on the default install); it is imported when a command runs.

Why one module of this length: the five commands share the loading of results and dataset
(`_prepare`), and most of the length is their typer signatures, one annotated line per option.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, Sequence

import typer
from rich.markup import escape
from rich.table import Table

from bcb.cli.common import (
    DataDir,
    DatasetFile,
    Version,
    check_output,
    check_resamples,
    console,
    err_console,
    open_dataset,
    user_errors,
)
from bcb.dataset import DATASETS, Dataset, DatasetError, load_dataset

if TYPE_CHECKING:
    from bcb.analysis import Entry, Leaderboard, Run

Results = Annotated[
    list[Path],
    typer.Argument(
        help="Results files (*_eval_results.json, official or bcb), or directories holding eval_results.json.",
        show_default=False,
    ),
]
Names = Annotated[
    Optional[list[str]],
    typer.Option(
        "--name", help="Model name for the results file in the same position (repeat, in order); overrides the file's."
    ),
]
DatasetOpt = Annotated[
    Optional[str],
    typer.Option(
        "--dataset",
        help=f"Which benchmark: {' or '.join(DATASETS)} (default: the one the bcb manifests name, else bigcodebench).",
    ),
]
SubsetOpt = Annotated[
    Optional[str], typer.Option("--subset", help="full, or hard to score only the 148 BigCodeBench-Hard tasks.")
]
ExcludeGT = Annotated[
    bool,
    typer.Option(
        "--exclude-gt-failures",
        help="Drop tasks whose ground truth failed in any run (default: keep them and flag them).",
    ),
]
Seed = Annotated[int, typer.Option(help="Seed of every bootstrap: the same files always give the same intervals.")]
Format = Annotated[str, typer.Option("--format", help="table, json, csv or markdown.")]
StackOpt = Annotated[
    Optional[str],
    typer.Option("--stack", help="Your libraries, comma-separated (pandas,requests,sqlite3), or a requirements.txt."),
]
StrictStack = Annotated[
    bool, typer.Option("--strict-stack", help="Count standard-library modules as inside the stack only when listed.")
]
References = Annotated[
    Optional[list[str]],
    typer.Option(
        "--reference",
        help="A reported solve rate drawn for scale: 'human' (97%, reported by the BigCodeBench authors) or LABEL=RATE. Repeatable.",
    ),
]


def _analysis() -> Any:
    """Imported when a command runs: numpy's import would slow every other command's start."""
    import bcb.analysis as analysis

    return analysis


def _note(text: str) -> None:
    err_console.print(f"[yellow]note:[/] {escape(text)}", highlight=False, soft_wrap=True)


def _check_format(value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise DatasetError(f"unknown --format {value!r}: choose one of {', '.join(allowed)}")
    return value


def _load_dataset(
    runs: Sequence[Run],
    dataset: str | None,
    version: str | None,
    dataset_file: Path | None,
    subset: str | None,
    data_dir: Path | None,
    *,
    required: bool,
) -> Dataset | None:
    """The dataset the runs were produced on. Commands that need task libraries load (and if need
    be download) it; the others use a local copy when there is one and otherwise do without."""
    analysis = _analysis()
    choice = analysis.choose_dataset(runs, dataset, version, dataset_file)
    for note in choice.notes:
        _note(note)
    explicit = any(v is not None for v in (dataset, version, dataset_file, subset))
    if required or explicit:
        loaded = open_dataset(choice.name, choice.version, dataset_file, subset or "full", data_dir)
    else:
        try:
            loaded = load_dataset(choice.name, version=choice.version, data_dir=data_dir, download=False)
        except DatasetError:
            _note(
                f"no local copy of {choice.name} {choice.version or ''}: task ids are not checked against the dataset".replace(
                    "  ", " "
                )
            )
            return None
    for note in analysis.dataset_mismatches(runs, loaded):
        _note(note)
    return loaded


def _prepare(
    results: list[Path],
    names: list[str] | None,
    exclude_gt_failures: bool,
    dataset_args: tuple[Any, ...],
    *,
    required: bool,
) -> tuple[list[Entry], Any, Dataset | None]:
    analysis = _analysis()
    runs = analysis.load_runs(results, names or [])
    entries = analysis.pair_runs(runs)
    loaded = _load_dataset(runs, *dataset_args, required=required)
    scope = analysis.scope_for(entries, dataset=loaded, exclude_gt_failures=exclude_gt_failures)
    return entries, scope, loaded


def _entry_points(dataset: Dataset | None) -> dict[str, str]:
    return _analysis().runs.entry_points(dataset)


def _lib_domains(dataset: Dataset, data_dir: Path | None) -> dict[str, str] | None:
    """The dataset's library -> domain map, or None with a note saying why domains are unknown."""
    from bcb.dataset.domains import lib_domains_for

    lib_domains = lib_domains_for(dataset, data_dir)
    if lib_domains is None:
        _note(
            "domains unknown: no lib2domain.json in --data-dir/BCB_DATA_DIR or the cache, and it could not be downloaded"
        )
    return lib_domains


# ---------------------------------------------------------------------------------------------
# bcb leaderboard


def leaderboard_command(
    results: Results,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            help="Column to sort by: rank, model, split, subset, pass@1, ci-low, ci-high, ci-width, calibrated, "
            "raw, elo, lazy, timeouts, api-import, tasks, gt.",
        ),
    ] = "pass@1",
    ascending: Annotated[
        Optional[bool],
        typer.Option(
            "--ascending/--descending",
            help="Sort order (default: best first for numbers, A-Z for text).",
            show_default=False,
        ),
    ] = None,
    output_format: Format = "table",
    reference: References = None,
    exclude_gt_failures: ExcludeGT = False,
    elo: Annotated[bool, typer.Option("--elo/--no-elo", help="Fit Elo ratings (needs two models or more).")] = True,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples for the Elo intervals.")] = 500,
    seed: Seed = 0,
    name: Names = None,
    dataset: DatasetOpt = None,
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = None,
    data_dir: DataDir = None,
) -> None:
    """Rank models: pass@1 with its 95% CI, calibrated vs raw, Elo, lazy rate, timeouts, api+import failures, GT status."""
    with user_errors():
        check_resamples(resamples)
        analysis = _analysis()
        fmt = _check_format(output_format, analysis.FORMATS)
        column = analysis.leaderboard.sort_column(sort)
        refs = [analysis.parse_reference(r) for r in reference or []]
        entries, scope, loaded = _prepare(
            results, name, exclude_gt_failures, (dataset, version, dataset_file, subset, data_dir), required=False
        )
        board = analysis.build_leaderboard(
            entries,
            scope,
            entry_points=_entry_points(loaded),
            references=refs,
            elo=elo,
            elo_resamples=resamples,
            seed=seed,
        )
        rows = analysis.sort_rows(board.rows, column, descending=None if ascending is None else not ascending)
        ordered = analysis.leaderboard.placed(board, rows, column)
    lb = analysis.leaderboard
    if fmt == "json":
        sys.stdout.write(lb.to_json_text(board, ordered))
    elif fmt == "csv":
        sys.stdout.write(lb.to_csv(board, ordered))
    elif fmt == "markdown":
        sys.stdout.write(lb.to_markdown(board, ordered, column))
    else:
        _print_leaderboard(board, ordered, loaded)


#: Leaderboard columns in the order they give way when the terminal is too narrow: the first
#: listed goes first; the rank, the model and pass@1 with its interval never do. Columns not
#: named here give way before all of these.
_DROP_ORDER = (
    "subset",
    "calibrated",
    "split",
    "Elo 95% CI",
    "raw pass@1 %",
    "timeouts",
    "tasks",
    "GT-failing",
    "lazy %",
    "Elo",
)
_KEEP = ("#", "model", "pass@1 %", "95% CI")


def _fit_columns(headers: list[str], widths: dict[str, int], room: int) -> list[str]:
    """The columns to show in `room` characters: secondary ones give way until the table fits.
    A rich table squeezes every column instead, down to zero-width model names."""
    shown = list(headers)
    order = [h for h in headers if h not in _DROP_ORDER and h not in _KEEP] + [h for h in _DROP_ORDER if h in headers]
    for header in order:
        if sum(widths[h] + 3 for h in shown) + 1 <= room:
            break
        shown.remove(header)
    return shown


def _print_leaderboard(board: Leaderboard, ordered: Sequence[Any], loaded: Dataset | None) -> None:
    lb = _analysis().leaderboard
    cols = dict(lb.columns(board))
    rows: list[tuple[dict[str, str], str | None]] = []
    for item in ordered:
        if isinstance(item, lb.Reference):
            rows.append(({"model": lb.reference_label(item), "pass@1 %": lb.pct(item.pass_at_1)}, "italic red"))
        else:
            rows.append(({header: cell(item) for header, cell in cols.items()}, None))
    widths = {h: max([len(h), *(len(cells.get(h, "")) for cells, _ in rows)]) for h in cols}
    shown = _fit_columns(list(cols), widths, console.width)
    title = "Leaderboard" + (f" · {loaded.label}" if loaded is not None else "")
    table = Table(title=title, title_justify="left")
    for header in shown:
        model = header == "model"
        table.add_column(
            header,
            justify="left" if model else "right",
            no_wrap=not model,
            overflow="fold",
            min_width=min(widths[header], 24) if model else None,
        )
    for cells, style in rows:
        values = [escape(cells.get(h, "")) for h in shown]
        if style:
            table.add_row(*values, style=style, end_section=False)
        else:
            table.add_row(*values)
    console.print(table)
    hidden = [h for h in cols if h not in shown]
    if hidden:
        console.print(
            f"[dim]not shown at {console.width} columns: {', '.join(hidden)} (a wider terminal, or --format csv/json/markdown, shows them)[/]",
            highlight=False,
            soft_wrap=True,
        )
    for line in lb.footnotes(board):
        console.print(f"[dim]{escape(line)}[/]", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------------------------
# bcb strengths


def strengths_command(
    results: Results,
    by: Annotated[str, typer.Option("--by", help="domain, library or all.")] = "all",
    stack: StackOpt = None,
    strict_stack: StrictStack = False,
    top: Annotated[int, typer.Option(help="How many libraries to show, most used first (0: all).")] = 15,
    output_format: Format = "table",
    exclude_gt_failures: ExcludeGT = False,
    seed: Seed = 0,
    name: Names = None,
    dataset: DatasetOpt = None,
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = None,
    data_dir: DataDir = None,
) -> None:
    """Pass rate per domain and per library for each model, and the ranking on your library stack."""
    with user_errors():
        analysis = _analysis()
        fmt = _check_format(output_format, analysis.FORMATS)
        if by not in ("domain", "library", "all"):
            raise DatasetError(f"unknown --by {by!r}: choose domain, library or all")
        parsed_stack = analysis.parse_stack(stack, include_stdlib=not strict_stack) if stack else None
        entries, scope, loaded = _prepare(
            results, name, exclude_gt_failures, (dataset, version, dataset_file, subset, data_dir), required=True
        )
        assert loaded is not None  # required=True loads or raises
        outcomes = analysis.runs.common_rates(entries, scope)
        lib_domains = _lib_domains(loaded, data_dir) if by in ("domain", "all") else None
        parts = analysis.breakdown(outcomes, scope.common, loaded, lib_domains, seed=seed)
        ranking = (
            analysis.rank_on_stack(outcomes, scope.common, loaded, parsed_stack, seed=seed) if parsed_stack else None
        )
    labels = [e.label for e in entries]
    libraries = list(parts.libraries[labels[0]])[: top or None]
    if fmt == "json":
        payload: dict[str, Any] = {"tasks": parts.tasks, "gt_failures": scope.policy, "notes": list(scope.notes)}
        if by != "library" and parts.domains is not None:
            payload["domains"] = {lab: {d: s.to_json() for d, s in parts.domains[lab].items()} for lab in labels}
        if by != "domain":
            payload["libraries"] = {
                lab: {lib: parts.libraries[lab][lib].to_json() for lib in libraries} for lab in labels
            }
        if ranking is not None:
            payload["stack"] = _stack_json(parsed_stack, ranking)
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    if fmt == "csv":
        sys.stdout.write(_strengths_csv(parts, labels, libraries, by, parsed_stack, ranking))
        return
    tables = []
    if by != "library" and parts.domains is not None:
        tables.append(
            _group_table(
                f"Pass rate by domain (%, 95% CI, tasks; on the {parts.tasks} tasks every model has)",
                "domain",
                labels,
                list(parts.domains[labels[0]]),
                parts.domains,
            )
        )
    if by != "domain":
        tables.append(
            _group_table(
                f"Pass rate by library (%, 95% CI, tasks; the {len(libraries)} most used)",
                "library",
                labels,
                libraries,
                parts.libraries,
            )
        )
    if ranking is not None:
        tables.append(_stack_table(parsed_stack, ranking))
    for header, rows in tables:
        _print_rows(header, rows, fmt, text_columns=(), overflow="ellipsis")
    line = f"GT-failing tasks: {scope.policy}"
    if fmt == "markdown":
        sys.stdout.write(f"- {line}\n" + "".join(f"- {n}\n" for n in scope.notes))
    else:
        for text in (line, *scope.notes):
            console.print(f"[dim]{escape(text)}[/]", highlight=False, soft_wrap=True)


def _cell(score: Any) -> str:
    if not score.tasks:
        return "-"
    return f"{100 * score.rate:.0f} [{100 * score.low:.0f}-{100 * score.high:.0f}] n={score.tasks}"


def _group_table(
    header: str, what: str, labels: list[str], groups: list[str], scores: Any
) -> tuple[str, list[list[str]]]:
    rows = [[what, *labels]]
    rows += [[group, *(_cell(scores[lab][group]) for lab in labels)] for group in groups]
    return header, rows


def _stack_table(stack: Any, ranking: Any) -> tuple[str, list[list[str]]]:
    ranks, tasks = ranking
    header = (
        f"Stack score on {stack.label}: rests on {tasks} tasks (using the stack and nothing "
        f"else{'' if not stack.include_stdlib else ' but the standard library'})"
    )
    rows = [["stack rank", "model", "stack score %", "95% CI", "tasks", "overall pass@1 %", "overall rank"]]
    for r in ranks:
        ci = "-" if not r.score.tasks else f"{100 * r.score.low:.1f}-{100 * r.score.high:.1f}"
        rows.append(
            [
                str(r.rank),
                r.label,
                "-" if not r.score.tasks else f"{100 * r.score.rate:.1f}",
                ci,
                str(r.score.tasks),
                f"{100 * r.overall:.1f}",
                str(r.overall_rank),
            ]
        )
    return header, rows


def _stack_json(stack: Any, ranking: Any) -> dict[str, Any]:
    ranks, tasks = ranking
    return {
        "libraries": sorted(stack.libraries),
        "source": stack.source,
        "include_stdlib": stack.include_stdlib,
        "tasks": tasks,
        "ranking": [
            {
                "rank": r.rank,
                "label": r.label,
                **r.score.to_json(),
                "overall": r.overall,
                "overall_rank": r.overall_rank,
            }
            for r in ranks
        ],
    }


def _strengths_csv(parts: Any, labels: list[str], libraries: list[str], by: str, stack: Any, ranking: Any) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", "label", "group", "tasks", "rate", "low", "high", "rank", "overall_rank"])
    if by != "library" and parts.domains is not None:
        for lab in labels:
            for d, s in parts.domains[lab].items():
                writer.writerow(["domain", lab, d, s.tasks, *_nums(s), "", ""])
    if by != "domain":
        for lab in labels:
            for lib in libraries:
                s = parts.libraries[lab][lib]
                writer.writerow(["library", lab, lib, s.tasks, *_nums(s), "", ""])
    if ranking is not None:
        for r in ranking[0]:
            writer.writerow(["stack", r.label, stack.label, r.score.tasks, *_nums(r.score), r.rank, r.overall_rank])
    return out.getvalue()


def _nums(score: Any) -> list[Any]:
    return ["" if score.tasks == 0 else v for v in (score.rate, score.low, score.high)]


def _markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" for _ in rows[0]) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows[1:]]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# bcb compare


def compare_command(
    a: Annotated[Path, typer.Argument(help="The first results file.", show_default=False)],
    b: Annotated[Path, typer.Argument(help="The second results file.", show_default=False)],
    limit: Annotated[int, typer.Option(help="Flipped tasks to list per side (0: all).")] = 40,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    exclude_gt_failures: ExcludeGT = False,
    name: Names = None,
    dataset: DatasetOpt = None,
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = None,
    data_dir: DataDir = None,
) -> None:
    """Tasks solved by one run only, with the other's failing test and error, and McNemar's test."""
    with user_errors():
        analysis = _analysis()
        fmt = _check_format(output_format, ("table", "json"))
        run_a, run_b = analysis.load_runs([a, b], name or [])
        label_a, label_b = analysis.runs.distinct_labels([run_a, run_b])
        entries = [analysis.Entry(label_a, run_a), analysis.Entry(label_b, run_b)]
        loaded = _load_dataset([run_a, run_b], dataset, version, dataset_file, subset, data_dir, required=False)
        scope = analysis.scope_for(entries, dataset=loaded, exclude_gt_failures=exclude_gt_failures)
        if not scope.common:
            raise DatasetError(f"{a} and {b} have no task in common")
        result = analysis.compare(
            run_a, run_b, scope.common, labels=(label_a, label_b), entry_points=_entry_points(loaded)
        )
    if fmt == "json":
        payload = result.to_json()
        payload["gt_failures"] = scope.policy
        payload["gt_failing_tasks"] = sorted(scope.gt_failing)
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    _print_comparison(result, scope, limit)


def _print_comparison(result: Any, scope: Any, limit: int) -> None:
    head = Table.grid(padding=(0, 2))
    head.add_row("[bold]A", escape(result.a))
    head.add_row("[bold]B", escape(result.b))
    head.add_row("[bold]tasks", f"{result.tasks} in common")
    head.add_row("[bold]both solved", str(result.both))
    head.add_row("[bold]neither", str(result.neither))
    head.add_row("[bold]only A", str(len(result.only_a)))
    head.add_row("[bold]only B", str(len(result.only_b)))
    head.add_row("[bold]McNemar", f"exact p = {result.test.p_value:.4g} (chi2 corrected = {result.test.statistic:.2f})")
    console.print(head)
    for flips, winner, loser in ((result.only_a, result.a, result.b), (result.only_b, result.b, result.a)):
        if not flips:
            continue
        table = Table(title=f"Solved by {winner} only ({len(flips)}): why {loser} failed", title_justify="left")
        table.add_column("task", no_wrap=True)
        table.add_column("A -> B", no_wrap=True)
        table.add_column("failing test", no_wrap=True)
        table.add_column("error")
        gt = scope.gt_failing
        for flip in flips[: limit or None]:
            mark = " (GT fails)" if flip.task_id in gt else ""
            table.add_row(
                escape(flip.task_id + mark), escape(flip.change), escape(flip.failure.test), escape(flip.failure.error)
            )
        console.print(table)
        if limit and len(flips) > limit:
            console.print(f"[dim]... {len(flips) - limit} more (--limit 0 lists all)[/]")
    colour = "green" if result.test.significant else "yellow"
    console.print(f"[{colour}]{escape(result.verdict)}[/]", highlight=False)
    console.print(f"[dim]GT-failing tasks: {escape(scope.policy)}[/]", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------------------------
# bcb errors


def _resolve_task(text: str, runs: Sequence[Run]) -> str:
    """`13` or `BigCodeBench/13`, among the tasks the files hold."""
    held = {t for run in runs for t in run.task_ids}
    if text in held:
        return text
    wanted = text.strip()
    matches = [] if "/" in wanted else sorted(t for t in held if t.rsplit("/", 1)[-1] == wanted)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise DatasetError(f"--task {text}: several tasks match ({', '.join(matches)}); give the full id")
    raise DatasetError(f"--task {text}: no results file holds this task (e.g. --task BigCodeBench/13 or --task 13)")


def errors_command(
    results: Results,
    task: Annotated[
        Optional[str],
        typer.Option(
            "--task",
            help="One task across the models (13 or BigCodeBench/13): each sample's category, reason and failing tests.",
        ),
    ] = None,
    output_format: Format = "table",
    top: Annotated[
        int, typer.Option(help="Attributes listed per library and category, most frequent first (0: all).")
    ] = 5,
    exclude_gt_failures: ExcludeGT = False,
    name: Names = None,
    dataset: DatasetOpt = None,
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = None,
    data_dir: DataDir = None,
) -> None:
    """Why each model fails: failures per category (syntax, import, name, api, assertion, ...), and the libraries it invents or misuses."""
    with user_errors():
        analysis = _analysis()
        errors = analysis.errors
        fmt = _check_format(output_format, analysis.FORMATS)
        runs = analysis.load_runs(results, name or [])
        labels = analysis.runs.distinct_labels(runs)
        entries = [analysis.Entry(label, run) for label, run in zip(labels, runs)]
        loaded = _load_dataset(runs, dataset, version, dataset_file, subset, data_dir, required=False)
        scope = analysis.scope_for(entries, dataset=loaded, exclude_gt_failures=exclude_gt_failures)
        prompts = errors.task_prompts(loaded)
        if task is not None:
            task_id = _resolve_task(task, runs)
            samples = errors.task_errors(entries, task_id, prompts)
        else:
            report = errors.error_report(entries, scope, prompts)
    if task is not None:
        if fmt == "json":
            sys.stdout.write(errors.task_json_text(task_id, samples))
        elif fmt == "csv":
            sys.stdout.write(errors.task_csv(samples))
        else:
            _print_rows(f"{task_id}: why each sample failed", errors.task_rows(samples), fmt)
        return
    if fmt == "json":
        sys.stdout.write(errors.to_json_text(report))
        return
    if fmt == "csv":
        sys.stdout.write(errors.to_csv(report))
        return
    _print_rows("Why unsolved: samples per failure category", errors.table_rows(report), fmt)
    libs = errors.library_rows(report, top or 10**9)
    if len(libs) > 1:
        _print_rows("The libraries behind import and api failures", libs, fmt)
    notes = [
        f"GT-failing tasks: {report.gt_failures}",
        *report.notes,
        "categories and rules: README, 'Why did it fail?'",
    ]
    if fmt == "markdown":
        sys.stdout.write("".join(f"- {n}\n" for n in notes))
    else:
        for text in notes:
            console.print(f"[dim]{escape(text)}[/]", highlight=False, soft_wrap=True)


#: Columns of `bcb errors` tables that hold text, aligned left (the first column always is).
_TEXT_COLUMNS = ("library", "category", "why", "failing tests", "most frequent", "status")


def _print_rows(
    title: str,
    rows: list[list[str]],
    fmt: str,
    *,
    text_columns: Sequence[str] = _TEXT_COLUMNS,
    overflow: Literal["fold", "ellipsis"] = "fold",
) -> None:
    """A table whose first row is its header, as markdown or as a terminal table; by default as
    `bcb errors` shows its tables, text columns folded rather than cut."""
    if fmt == "markdown":
        sys.stdout.write(f"**{title}**\n\n" + _markdown(rows) + "\n")
        return
    table = Table(title=title, title_justify="left")
    for i, cell in enumerate(rows[0]):
        table.add_column(cell, justify="left" if i == 0 or cell in text_columns else "right", overflow=overflow)
    for row in rows[1:]:
        table.add_row(*(escape(c) for c in row))
    console.print(table)


# ---------------------------------------------------------------------------------------------
# bcb report


def report_command(
    results: Results,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the HTML file.")] = Path("report.html"),
    title: Annotated[str, typer.Option(help="The page title.")] = "bcb report",
    stack: StackOpt = None,
    strict_stack: StrictStack = False,
    reference: References = None,
    exclude_gt_failures: ExcludeGT = False,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples for the Elo intervals.")] = 500,
    seed: Seed = 0,
    name: Names = None,
    dataset: DatasetOpt = None,
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = None,
    data_dir: DataDir = None,
) -> None:
    """One self-contained HTML file: leaderboard, Elo, domains, libraries, stack, task browser, runs."""
    with user_errors():
        check_resamples(resamples)
        check_output(output, "-o")
        analysis = _analysis()
        refs = [analysis.parse_reference(r) for r in reference or []]
        parsed_stack = analysis.parse_stack(stack, include_stdlib=not strict_stack) if stack else None
        entries, scope, loaded = _prepare(
            results, name, exclude_gt_failures, (dataset, version, dataset_file, subset, data_dir), required=True
        )
        assert loaded is not None  # required=True loads or raises
        lib_domains = _lib_domains(loaded, data_dir)
        data = analysis.build_report(
            entries, scope, loaded, lib_domains, references=refs, stack=parsed_stack, resamples=resamples, seed=seed
        )
        page = analysis.render_report(data, title=title)
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise DatasetError(f"cannot write {output}: {exc.strerror or exc}") from None
    console.print(
        f"report: {escape(str(output))} ({len(page.encode('utf-8')) // 1024} KiB, {len(data.board.rows)} model rows)",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("leaderboard")(leaderboard_command)
    app.command("strengths")(strengths_command)
    app.command("compare")(compare_command)
    app.command("errors")(errors_command)
    app.command("report")(report_command)
