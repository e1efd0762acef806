"""`bcb qa`, `bcb task new` and `bcb task check`: does a dataset (or a new task) hold up?

Wiring only: measurements and checks live in `bcb.evaluation.quality`; jobs run through the same
warm, sandboxed workers as `bcb evaluate`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from bcb.cli.common import (
    AllowNetwork,
    DataDir,
    DatasetFile,
    DatasetName,
    DisableLayers,
    IdRange,
    SelectiveEvaluate,
    SubsetOpt,
    TaskPython,
    Unsafe,
    Version,
    console,
    err_console,
    open_dataset,
    sandbox_options,
    user_errors,
    worker_count,
)
from bcb.cli.evaluate import EvalProgressBar
from bcb.dataset import DatasetError, Task, parse_id_range, parse_ids, select_tasks
from bcb.dataset.loading import read_records
from bcb.dataset.task import parse_task
from bcb.evaluation.quality import (
    MIN_COVERAGE,
    MIN_TESTS,
    TaskCheck,
    TaskQuality,
    assess,
    check_tasks,
    scaffold_task,
    summarize,
)
from bcb.evaluation.runner import SharedExecutor
from bcb.execution import (
    EnvironmentProbeError,
    ExecutorError,
    Limits,
    SandboxOptions,
    find_task_python,
    missing_libraries,
    preload_modules,
    program_modules,
)
from bcb.fileio import read_json, write_json_atomic

#: The coverage.py the task environment is pinned to (execution/requirements/tasks-py311.txt).
COVERAGE_PIN = "coverage==7.17.5"

Python = TaskPython
Parallel = Annotated[int, typer.Option(help="Worker processes (default: the number of CPUs).")]
Runs = Annotated[
    int,
    typer.Option(
        "--runs", help="Plain ground-truth runs per task (flakiness: tests whose outcome varies across them)."
    ),
]


def _require_coverage(python: str) -> None:
    """coverage.py runs inside the sample, so the task interpreter must have it."""
    try:
        missing = missing_libraries(python, ["coverage"])
    except EnvironmentProbeError as exc:
        raise DatasetError(f"cannot run the task interpreter {python!r}: {exc}") from None
    if missing:
        raise DatasetError(
            f"coverage.py is not installed in {python}: run `{python} -m pip install {COVERAGE_PIN}` (or pass --no-coverage)"
        )


def _runner(
    python: str | None, parallel: int, tasks: list[Task], sandbox: SandboxOptions, coverage: bool
) -> tuple[str, SharedExecutor]:
    interpreter = find_task_python(python)[0]
    if coverage:
        _require_coverage(interpreter)
    workers = worker_count(parallel)
    modules = preload_modules(program_modules(t) for t in tasks) + (["coverage"] if coverage else [])
    return interpreter, SharedExecutor(
        interpreter, max(1, min(workers, len(tasks))), Limits(), modules, sandbox=sandbox
    )


def qa_command(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the per-task records and the summary as JSON here.")
    ] = None,
    runs: Runs = 5,
    coverage: Annotated[
        bool,
        typer.Option(
            "--coverage/--no-coverage",
            help="Measure the canonical solutions' branch coverage (one more run per task, under coverage.py).",
        ),
    ] = True,
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = "full",
    data_dir: DataDir = None,
    selective_evaluate: SelectiveEvaluate = None,
    id_range: IdRange = None,
    parallel: Parallel = 0,
    python: Python = None,
    allow_network: AllowNetwork = False,
    unsafe: Unsafe = False,
    disable_layer: DisableLayers = None,
    limit: Annotated[int, typer.Option(help="Tasks to list per problem kind (0: all).")] = 30,
) -> None:
    """Dataset quality: tests per task, branch coverage of the canonical solutions, ground-truth
    pass rate, runtime and flaky tests."""
    with user_errors(ExecutorError):
        if runs < 1:
            raise DatasetError("--runs must be at least 1")
        loaded = open_dataset(dataset, version, dataset_file, subset, data_dir)
        tasks = list(
            select_tasks(
                loaded,
                ids=parse_ids(selective_evaluate) if selective_evaluate else None,
                id_range=parse_id_range(id_range) if id_range else None,
            )
        )
        if not tasks:
            raise DatasetError("no task selected")
        interpreter, runner = _runner(
            python, parallel, tasks, sandbox_options(allow_network, unsafe, disable_layer), coverage
        )
        try:
            qualities = assess(tasks, runner, runs=runs, coverage=coverage, progress=EvalProgressBar())
            executor = runner.describe()
        finally:
            runner.close()
        summary = summarize(qualities)
        if output is not None:
            payload: dict[str, Any] = {
                "dataset": loaded.label,
                "content_hash": loaded.content_hash,
                "python": interpreter,
                "executor": executor,
                "runs": runs,
                "coverage": coverage,
                "summary": summary.to_json(),
                "tasks": [q.to_json() for q in qualities],
            }
            write_json_atomic(output, payload)
    _print_qa(loaded.label, qualities, summary, coverage, limit)
    if output is not None:
        console.print(f"written: {escape(str(output))}", highlight=False)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}%"


def _print_qa(label: str, qualities: list[TaskQuality], summary: Any, coverage: bool, limit: int) -> None:
    table = Table(
        title=f"{escape(label)}: dataset quality ({summary.tasks} tasks, {summary.runs} ground-truth runs each)",
        title_justify="left",
    )
    table.add_column("metric")
    table.add_column("value")
    if coverage:
        table.add_row(
            "branch coverage, mean (coverage.py total)",
            f"{_pct(summary.mean_coverage)} over {summary.coverage_measured} tasks",
        )
        table.add_row("branches alone, mean", _pct(summary.mean_branch_coverage))
    table.add_row(f"tasks with >= {MIN_TESTS} tests", f"{100 * summary.min_tests_share:.1f}%")
    table.add_row("tests per task, mean", "-" if summary.mean_tests is None else f"{summary.mean_tests:.2f}")
    colour = "green" if summary.gt_pass_rate >= 0.99 else "red"
    table.add_row("GT pass rate (all runs)", f"[{colour}]{summary.gt_pass_rate:.4f}[/]")
    table.add_row("tasks passing every run", f"{100 * summary.gt_all_runs_pass_rate:.1f}%")
    table.add_row("flaky tasks", str(len(summary.flaky_tasks)))
    if coverage and summary.coverage_overhead is not None:
        table.add_row("coverage run / plain run time", f"{summary.coverage_overhead:.2f}x")
    console.print(table)

    def listing(title: str, rows: list[str]) -> None:
        if rows:
            shown = rows[: limit or None]
            more = f" ... ({len(rows) - len(shown)} more in the JSON)" if len(shown) < len(rows) else ""
            console.print(
                f"[bold]{title} ({len(rows)}):[/] {escape('; '.join(shown))}{more}", highlight=False, soft_wrap=True
            )

    listing(
        "Flaky", [f"{q.task_id} [{', '.join(q.flaky_tests) or '/'.join(q.statuses)}]" for q in qualities if q.flaky]
    )
    listing(
        "GT fails in every run", [f"{q.task_id} [{', '.join(q.always_failing)}]" for q in qualities if q.passes == 0]
    )
    listing(f"Fewer than {MIN_TESTS} tests", [f"{q.task_id} ({q.test_count})" for q in qualities if q.few_tests])
    if coverage:
        low = sorted(
            (q for q in qualities if q.coverage is not None and q.coverage.percent < MIN_COVERAGE),
            key=lambda q: q.coverage.percent if q.coverage else 0.0,
        )
        listing(
            f"Coverage below {MIN_COVERAGE:g}%",
            [f"{q.task_id} ({_pct(q.coverage.percent if q.coverage else None)})" for q in low],
        )
        listing("Coverage not measured", [f"{q.task_id}: {q.coverage_error}" for q in qualities if q.coverage is None])
        listing("Coverage run disagrees with the plain runs", list(summary.coverage_disagreements))


# ---------------------------------------------------------------------------------------------
# bcb task new / check

task_app = typer.Typer(help="Author tasks in the official schema: scaffold one, then check it.", no_args_is_help=True)


@task_app.command("new")
def task_new(
    name: Annotated[
        str,
        typer.Argument(
            help="The task's id (a trailing /0 is added when it has no number), also its file name.", show_default=False
        ),
    ],
    directory: Annotated[Path, typer.Option("--dir", help="Where to write NAME.json.")] = Path("."),
) -> None:
    """Scaffold a task with placeholders; `bcb task check` fails on it until they are filled in."""
    with user_errors():
        if not name.strip():
            raise DatasetError("the task name is empty")
        record = scaffold_task(name)
        path = directory / (re.sub(r"[^\w.-]+", "_", name).strip("_") + ".json")
        if path.exists():
            raise DatasetError(f"{path} exists: choose another name or --dir")
        parse_task(record)
        directory.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, record)
    console.print(f"written: {escape(str(path))} ({escape(record['task_id'])})", highlight=False)
    console.print(
        "Fill in every TODO (prompts, doc_struct, canonical_solution, tests, libs), then run: bcb task check "
        + escape(str(path)),
        highlight=False,
    )


def _read_task_records(path: Path) -> list[tuple[str, Any]]:
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    if path.suffix == ".json":
        data = read_json(path, "task file")
        items = data if isinstance(data, list) else [data]
        return [(f"{path}" if len(items) == 1 else f"{path}[{i}]", item) for i, item in enumerate(items)]
    return [(f"{path}:{n}", record) for n, record in read_records(path)]


@task_app.command("check")
def task_check(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Task files: NAME.json (one task) or .jsonl/.jsonl.gz (one per line).", show_default=False),
    ],
    runs: Runs = 5,
    parallel: Parallel = 0,
    python: Python = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Also write the checks as JSON here.")] = None,
    allow_network: AllowNetwork = False,
    unsafe: Unsafe = False,
    disable_layer: DisableLayers = None,
) -> None:
    """Check tasks: parse, >= 5 tests, branch coverage >= 95%, GT passes every run, a stub
    solution fails, prompts mention every library and libs match the solution's imports."""
    checks: list[TaskCheck] = []
    with user_errors(ExecutorError):
        if runs < 1:
            raise DatasetError("--runs must be at least 1")
        tasks: list[Task] = []
        for path in paths:
            for where, record in _read_task_records(path):
                try:
                    if not isinstance(record, dict):
                        raise DatasetError(f"{where}: expected a JSON object, got {type(record).__name__}")
                    tasks.append(parse_task(record, where=where))
                except DatasetError as exc:
                    checks.append(TaskCheck(where, (f"parse: {exc}",)))
        if tasks:
            _, runner = _runner(python, parallel, tasks, sandbox_options(allow_network, unsafe, disable_layer), True)
            try:
                checks.extend(check_tasks(tasks, runner, runs=runs, progress=EvalProgressBar()))
            finally:
                runner.close()
        if output is not None:
            write_json_atomic(output, {"checks": [c.to_json() for c in checks]})
    for check in checks:
        if check.ok:
            console.print(f"[green]ok[/]   {escape(check.task_id)}", highlight=False)
            continue
        console.print(f"[red]fix[/]  {escape(check.task_id)}", highlight=False)
        for problem in check.problems:
            console.print(f"       - {escape(problem)}", highlight=False, soft_wrap=True)
    failed = sum(not c.ok for c in checks)
    colour = "red" if failed else "green"
    err_console.print(f"[{colour}]{len(checks) - failed} of {len(checks)} task(s) pass every check[/]", highlight=False)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("qa")(qa_command)
    app.add_typer(task_app, name="task")
