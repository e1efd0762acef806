"""`bcb perturb` and `bcb contamination`: does a score reflect skill or a memorised benchmark?

Wiring only: the transforms live in `bcb.dataset.perturbation`, the execution re-check in
`bcb.evaluation.perturbation_check`, the gap statistics in `bcb.analysis.contamination`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

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
    check_output,
    check_resamples,
    console,
    err_console,
    open_dataset,
    sandbox_options,
    user_errors,
    worker_count,
)
from bcb.cli.evaluate import EvalProgressBar
from bcb.dataset import DatasetError, parse_id_range, parse_ids, select_tasks
from bcb.dataset.perturbation import TRANSFORM_HELP, TRANSFORMS, parse_transforms, perturb_tasks
from bcb.evaluation.evaluate import EvalConfig
from bcb.evaluation.perturbation_check import PerturbationCheck, provenance_path, recheck_perturbations, write_perturbed
from bcb.evaluation.runner import SharedExecutor
from bcb.evaluation.store import ResultStore
from bcb.execution import (
    ExecutorError,
    Limits,
    environment_fingerprint,
    find_task_python,
    preload_modules,
    program_modules,
)

_TRANSFORMS_HELP = (
    "Comma-separated, default all: " + "; ".join(f"{name}: {TRANSFORM_HELP[name]}" for name in TRANSFORMS) + "."
)


def perturb_command(
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="The perturbed dataset (.jsonl, or .jsonl.gz); OUT.provenance.json is written beside it.",
            show_default=False,
        ),
    ],
    seed: Annotated[
        int,
        typer.Option(
            help="Seed of every random choice: the same seed, base and transforms give a byte-identical file.",
            show_default=False,
        ),
    ],
    transforms: Annotated[Optional[str], typer.Option("--transforms", help=_TRANSFORMS_HELP)] = None,
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = "full",
    data_dir: DataDir = None,
    selective_evaluate: SelectiveEvaluate = None,
    id_range: IdRange = None,
    parallel: Annotated[int, typer.Option(help="Worker processes for the re-check (default: the number of CPUs).")] = 0,
    python: TaskPython = None,
    root: Annotated[
        Path, typer.Option(help="Where bcb keeps its result store (re-check verdicts are reused from it).")
    ] = Path("bcb_results"),
    limit: Annotated[int, typer.Option(help="Dropped tasks to list (0: all).")] = 40,
    allow_network: AllowNetwork = False,
    unsafe: Unsafe = False,
    disable_layer: DisableLayers = None,
) -> None:
    """Derive a perturbed dataset (renamed entry point, parameters and locals, reworded prompts),
    keeping only tasks whose canonical solution passes the perturbed tests."""
    with user_errors(ExecutorError):
        chosen = parse_transforms(transforms)
        worker_count(parallel)
        check_output(output, "-o", (dataset_file,))
        check_output(provenance_path(output), "the provenance record", (dataset_file,))
        loaded = open_dataset(dataset, version, dataset_file, subset, data_dir)
        check_output(output, "-o", (Path(loaded.source),))
        tasks = select_tasks(
            loaded,
            ids=parse_ids(selective_evaluate) if selective_evaluate else None,
            id_range=parse_id_range(id_range) if id_range else None,
        )
        with err_console.status(f"perturbing {len(tasks)} tasks"):
            perturbations = perturb_tasks(tasks, seed, chosen)
        interpreter = find_task_python(python)[0]
        workers = worker_count(parallel)
        limits = Limits()
        runner = SharedExecutor(
            interpreter,
            min(workers, len(tasks)),
            limits,
            preload_modules((program_modules(t) for t in tasks), min_uses=workers + 1),
            sandbox=sandbox_options(allow_network, unsafe, disable_layer),
            root=root,
        )
        runner.start_early()
        store: ResultStore | None = None
        try:
            fingerprint = environment_fingerprint(interpreter)
            store = ResultStore(root / "bcb.sqlite")
            check = recheck_perturbations(
                loaded,
                perturbations,
                seed=seed,
                transforms=chosen,
                config=EvalConfig(limits=limits),
                store=store,
                env=runner.environment(fingerprint),
                runner=runner,
                progress=EvalProgressBar(),
            )
        finally:
            runner.close()
            if store is not None:
                store.close()
        environment = {k: fingerprint.get(k) for k in ("python_version", "executable", "freeze_sha256")}
        path, record, digest = write_perturbed(output, check, {**environment, "key": check.environment_key})
    _print_perturbation(check, path, record, digest, limit)


def _print_perturbation(check: PerturbationCheck, path: Path, record: Path, digest: str, limit: int) -> None:
    head = Table.grid(padding=(0, 2))
    head.add_row(
        "[bold]base", f"{escape(check.base.label)} ({check.base.content_hash[:16]}...), {check.selected} tasks"
    )
    head.add_row("[bold]seed", str(check.seed))
    head.add_row("[bold]transforms", ", ".join(check.transforms))
    colour = "green" if check.kept_share >= 0.95 else "yellow"
    head.add_row(
        "[bold]kept",
        f"[{colour}]{check.kept_of_passing} of {check.original_passing} ({100 * check.kept_share:.1f}%)[/] of "
        "the tasks whose original ground truth passes here; "
        f"raw: {len(check.kept)} of {check.selected} ({100 * check.raw_share:.1f}%)",
    )
    by_perturbation, by_environment, unchanged = (
        check.dropped(c) for c in ("perturbation", "environment", "unchanged")
    )
    head.add_row(
        "[bold]dropped",
        f"{len(by_perturbation)} by the perturbation, {len(by_environment)} whose original ground truth fails here too, {len(unchanged)} unchanged",
    )
    if check.second_runs:
        now_pass = sum(1 for r in check.second_runs.values() if r["perturbed"] == "pass")
        now_env = sum(1 for r in check.second_runs.values() if r["perturbed"] != "pass" and r["original"] != "pass")
        head.add_row(
            "[bold]second runs",
            f"{len(check.second_runs)} failing perturbed task(s) re-run beside their originals: "
            f"{now_pass} passed this time (kept), {now_env} whose original failed this time too",
        )
    head.add_row("[bold]output", f"{escape(str(path))} ({len(check.kept)} tasks, content hash {digest[:16]}...)")
    head.add_row("[bold]provenance", escape(str(record)))
    console.print(head)
    if by_perturbation:
        table = Table(
            title=f"Dropped: the canonical solution fails its perturbed tests ({len(by_perturbation)})",
            title_justify="left",
        )
        table.add_column("task", no_wrap=True)
        table.add_column("failing test: error")
        for drop in by_perturbation[: limit or None]:
            table.add_row(escape(drop.task_id), escape(drop.reason))
        console.print(table)
        if limit and len(by_perturbation) > limit:
            console.print(
                f"[dim]... {len(by_perturbation) - limit} more in the provenance file (--limit 0 lists all)[/]"
            )
    for drops, what in (
        (by_environment, "original ground truth fails here too (not the perturbation's doing)"),
        (unchanged, "no selected transform applies"),
    ):
        if drops:
            ids = ", ".join(d.task_id for d in drops)
            console.print(f"[yellow]Dropped, {what} ({len(drops)}):[/] {escape(ids)}", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------------------------
# bcb contamination


def contamination_command(
    original: Annotated[
        Path,
        typer.Argument(
            help="Results on the original tasks (*_eval_results.json, official or bcb).", show_default=False
        ),
    ],
    perturbed: Annotated[
        Path,
        typer.Argument(
            help="Results of the same model on their perturbed forms (from `bcb perturb`).", show_default=False
        ),
    ],
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    exclude_gt_failures: Annotated[
        bool, typer.Option("--exclude-gt-failures", help="Leave out tasks whose ground truth failed in either run.")
    ] = False,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples for the gap's interval.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap: the same files always give the same interval.")] = 0,
    limit: Annotated[int, typer.Option(help="Task ids to list per side (0: all).")] = 60,
) -> None:
    """The memorisation gap: pass@1 on the original tasks minus pass@1 on their perturbed forms,
    with a paired bootstrap CI and the tasks solved in one form only."""
    with user_errors():
        if output_format not in ("table", "json"):
            raise DatasetError(f"unknown --format {output_format!r}: choose table or json")
        check_resamples(resamples)
        analysis = _analysis()
        runs = analysis.runs.load_runs([original, perturbed])
        result = analysis.contamination.memorisation_gap(
            runs[0],
            runs[1],
            labels=(str(original), str(perturbed)),
            exclude_gt_failures=exclude_gt_failures,
            resamples=resamples,
            seed=seed,
        )
    if output_format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
        return
    _print_contamination(result, limit)


def _analysis() -> Any:
    import bcb.analysis as analysis
    import bcb.analysis.contamination  # noqa: F401 - loads the submodule onto the package

    return analysis


def _print_contamination(result: Any, limit: int) -> None:
    head = Table.grid(padding=(0, 2))
    head.add_row("[bold]original", escape(result.original))
    head.add_row("[bold]perturbed", escape(result.perturbed))
    head.add_row("[bold]tasks", f"{len(result.tasks)} in both")
    head.add_row("[bold]pass@1", f"original {result.pass_original:.3f}, perturbed {result.pass_perturbed:.3f}")
    gap = result.gap
    head.add_row(
        "[bold]gap",
        f"{100 * gap.estimate:+.1f} points (95% CI {100 * gap.low:+.1f} to {100 * gap.high:+.1f}; paired bootstrap over tasks)",
    )
    head.add_row(
        "[bold]solved",
        f"both {result.both}, original only {len(result.only_original)}, perturbed only {len(result.only_perturbed)}, neither {result.neither}",
    )
    head.add_row("[bold]McNemar", f"exact p = {result.test.p_value:.4g}")
    console.print(head)
    for ids, what in (
        (result.only_original, "Solved only in the original form"),
        (result.only_perturbed, "Solved only in the perturbed form"),
    ):
        if ids:
            shown = ", ".join(ids[: limit or None]) + (
                f", ... ({len(ids) - limit} more)" if limit and len(ids) > limit else ""
            )
            console.print(f"[bold]{what} ({len(ids)}):[/] {escape(shown)}", highlight=False, soft_wrap=True)
    colour = "red" if gap.low > 0 else "green"
    console.print(f"[{colour}]{escape(result.verdict)}[/]", highlight=False)
    for note in result.notes:
        console.print(f"[dim]{escape(note)}[/]", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("perturb")(perturb_command)
    app.command("contamination")(contamination_command)
