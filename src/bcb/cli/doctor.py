"""`bcb doctor`: what in this environment keeps ground truths from passing, before a long run."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from bcb.cli.common import (
    DataDir,
    DatasetFile,
    DatasetName,
    IdRange,
    SelectiveEvaluate,
    SubsetOpt,
    TaskPython,
    Version,
    console,
    open_dataset,
    user_errors,
)
from bcb.dataset import DatasetError, parse_id_range, parse_ids, select_tasks
from bcb.evaluation.evaluate import EvalConfig
from bcb.evaluation.plan import environment_key
from bcb.evaluation.store import ResultStore
from bcb.execution import (
    DEFAULT_NETWORK_PROBE,
    GUARANTEES,
    LAYERS,
    OFFICIAL_TIMEOUT_FLOOR_S,
    TARGET_GT_RATE,
    Diagnosis,
    ExecutorError,
    LibraryReport,
    SandboxOptions,
    SandboxProbe,
    diagnose,
    environment_fingerprint,
    find_task_python,
    parse_host_port,
    probe_libraries,
    probe_sandbox,
    sandbox_summary,
    summarize_ground_truth,
    task_needs,
)


def _short(task_ids: list[str], limit: int = 12) -> str:
    numbers = [t.rsplit("/", 1)[-1] for t in task_ids]
    more = f" ... (+{len(numbers) - limit})" if len(numbers) > limit else ""
    return " ".join(numbers[:limit]) + more


def doctor_command(
    python: TaskPython = None,
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    subset: SubsetOpt = "full",
    data_dir: DataDir = None,
    selective_evaluate: SelectiveEvaluate = None,
    id_range: IdRange = None,
    allow_network: Annotated[
        bool, typer.Option("--allow-network", help="Predict a run with `bcb evaluate --allow-network`.")
    ] = False,
    network_probe: Annotated[
        str,
        typer.Option(
            "--network-probe", help="HOST:PORT a sample tries to reach to decide whether the network is available."
        ),
    ] = DEFAULT_NETWORK_PROBE,
    no_sandbox_probe: Annotated[
        bool,
        typer.Option(
            "--no-sandbox-probe",
            help="Check libraries only (no worker is started: NLTK data, network and user are not checked).",
        ),
    ] = False,
    root: Annotated[
        Path, typer.Option(help="bcb's result store, for a cached ground-truth result of this environment.")
    ] = Path("bcb_results"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the diagnosis as JSON.")] = False,
) -> None:
    """Which libraries, data and sandbox settings stop ground truths from passing here; exits 1 when the ground-truth pass rate cannot reach 0.99."""
    with user_errors(ExecutorError):
        try:
            parse_host_port(network_probe)
        except ValueError as exc:
            raise DatasetError(f"--network-probe: {exc}") from None
        loaded = open_dataset(dataset, version, dataset_file, subset, data_dir)
        tasks = select_tasks(
            loaded,
            ids=parse_ids(selective_evaluate) if selective_evaluate else None,
            id_range=parse_id_range(id_range) if id_range else None,
        )
        interpreter = find_task_python(python)[0]
        needs = [task_needs(t.task_id, t.libs, t.solution, t.test) for t in tasks]
        with console.status("probing the task environment", spinner="dots") if not as_json else _nothing():
            libraries = probe_libraries(interpreter, sorted({lib for n in needs for lib in n.libs}))
            fingerprint = environment_fingerprint(interpreter)
            probe: SandboxProbe | None = None
            if not no_sandbox_probe:
                options = SandboxOptions(allow_network=allow_network)
                resources = sorted({r for n in needs for r in n.nltk_data})
                probe = probe_sandbox(interpreter, sandbox=options, nltk_resources=resources, network=network_probe)
        diagnosis = diagnose(needs, libraries, probe)
        cached = _cached_ground_truth(root, loaded.content_hash, fingerprint, probe)
    payload: dict[str, Any] = {
        "dataset": loaded.label,
        "dataset_hash": loaded.content_hash,
        "python": fingerprint.get("executable"),
        "python_version": fingerprint.get("python_version"),
        "libraries": [
            {
                "import": lib.import_name,
                "distribution": lib.dist,
                "installed": lib.installed,
                "official": lib.official,
                "missing": lib.missing,
                "differs": lib.differs,
                "tasks": sum(lib.import_name in n.libs for n in needs),
            }
            for lib in libraries.libraries
        ],
        "other_pins_differing": [
            {"distribution": p.dist, "installed": p.installed, "official": p.official}
            for p in libraries.other_pins
            if p.official is not None and p.installed != p.official
        ],
        "sandbox": None
        if probe is None
        else {
            "layers": probe.report,
            "refusal": probe.refusal,
            "network_reachable": probe.network_reachable,
            "network_detail": probe.network_detail,
            "runs_as_root": probe.runs_as_root,
            "nltk_data": probe.nltk_found,
            "tier": probe.report.get("tier"),
            "limits": probe.sandbox_limits,
        },
        "diagnosis": diagnosis.to_dict(),
        "cached_ground_truth": cached,
    }
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        _print_report(payload, libraries, probe, diagnosis, needs_count=len(needs))
    if not diagnosis.ok:
        raise typer.Exit(1)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _cached_ground_truth(
    root: Path, dataset_hash: str, fingerprint: dict[str, Any], probe: SandboxProbe | None
) -> dict[str, Any] | None:
    """The ground truth `bcb evaluate` cached for this dataset, environment and default limits."""
    path = root / "bcb.sqlite"
    if probe is None or not path.is_file():
        return None
    keyed = {**fingerprint, "sandbox": sandbox_summary(probe.report)}
    config = EvalConfig()
    with ResultStore(path) as store:
        gt = store.get_ground_truth(
            dataset_hash, environment_key(keyed), config.limits_for(OFFICIAL_TIMEOUT_FLOOR_S + 1)
        )
    return summarize_ground_truth(gt) if gt else None


def _print_report(
    payload: dict[str, Any],
    libraries: LibraryReport,
    probe: SandboxProbe | None,
    diagnosis: Diagnosis,
    needs_count: int,
) -> None:
    console.rule(
        f"[bold]bcb doctor[/] · {escape(payload['dataset'])} · {needs_count} tasks · Python {payload['python_version']}"
    )
    console.print(f"interpreter: {payload['python']}", highlight=False)

    console.print("\n[bold]Libraries[/] (third-party imports of the tasks vs. the official pins)")
    rows = [row for row in payload["libraries"] if row["missing"] or row["differs"]]
    if rows:
        table = Table(show_edge=False)
        for column in ("import", "distribution", "installed", "official", "tasks"):
            table.add_column(column)
        for row in rows:
            installed = "[red]missing[/]" if row["missing"] else f"[yellow]{row['installed']}[/]"
            table.add_row(row["import"], row["distribution"], installed, row["official"] or "-", str(row["tasks"]))
        console.print(table)
    ok = len(payload["libraries"]) - len(rows)
    console.print(
        f"[green]{ok} of {len(payload['libraries'])} libraries installed at the official version (or unpinned)[/]"
    )
    others = payload["other_pins_differing"]
    if others:
        text = ", ".join(
            f"{o['distribution']} {o['installed'] or 'missing'} (official {o['official'] or 'unpinned'})"
            for o in others
        )
        console.print(f"[dim]other pinned distributions that differ: {escape(text)}[/]", highlight=False)

    console.print("\n[bold]Sandbox[/] (as `bcb evaluate` would run samples)")
    if probe is None:
        console.print("[yellow]not probed (--no-sandbox-probe): NLTK data, network and user unchecked[/]")
    else:
        console.print(f"tier: [bold]{escape(str(probe.report.get('tier', '?')))}[/]", highlight=False)
        table = Table(show_edge=False)
        for column in ("layer", "", "what it does"):
            table.add_column(column)
        notes = probe.report.get("notes") or {}
        for layer in LAYERS:
            on = bool(probe.report.get(layer.name))
            why = "" if on else str(notes.get(layer.name, ""))
            table.add_row(
                layer.name,
                "[green]on[/]" if on else "[red]off[/]",
                escape(layer.what + (f" [off: {why}]" if why else "")),
            )
        console.print(table)
        promised = probe.report.get("guarantees") or {}
        console.print(
            "guarantees: "
            + "  ".join(
                f"{label} {'[green]yes[/]' if promised.get(name) else '[red]no[/]'}" for name, label, _way in GUARANTEES
            ),
            highlight=False,
        )
        if probe.refusal:
            console.print(f"[red]bcb evaluate would refuse to run:[/] {escape(probe.refusal)}", highlight=False)
        net = "[green]reachable[/]" if probe.network_reachable else "[yellow]unreachable[/]"
        console.print(f"network from a sample: {net} ({escape(probe.network_detail)})", highlight=False)
        console.print(f"samples run as: {'[yellow]root[/]' if probe.runs_as_root else 'a normal user'}")
        if probe.nltk_found:
            console.print(
                "NLTK data: "
                + "  ".join(
                    f"{res} {'[green]found[/]' if ok else '[red]missing[/]'}" for res, ok in probe.nltk_found.items()
                )
            )

    console.print("\n[bold]Ground truths that cannot pass here[/]")
    if diagnosis.causes:
        table = Table(show_edge=False)
        for column in ("cause", "tasks", "which"):
            table.add_column(column)
        for cause in diagnosis.causes:
            table.add_row(escape(cause.name), str(len(cause.tasks)), _short(cause.tasks))
        console.print(table)
    else:
        console.print("[green]none found[/]")
    risky = {name: ids for name, ids in diagnosis.version_risks.items()}
    if risky:
        console.print(
            "[dim]at risk from a version that differs from the official pin: "
            + ", ".join(f"{name} ({len(ids)} tasks)" for name, ids in risky.items())
            + "[/]",
            highlight=False,
        )
    cached = payload["cached_ground_truth"]
    if cached:
        failed = cached["failed"]
        console.print(
            f"cached ground truth for this environment: pass rate {cached['pass_rate']:.3f} over {cached['tasks']} tasks"
            + (f"; failing: {_short(failed, 40)}" if failed else ""),
            highlight=False,
        )
    colour = "green" if diagnosis.ok else "red"
    console.print(
        f"\nbest reachable ground-truth pass rate: [{colour}]{diagnosis.best_gt_rate:.3f}[/] "
        f"({len(diagnosis.doomed)} of {diagnosis.total} tasks doomed; target {TARGET_GT_RATE})",
        highlight=False,
    )
