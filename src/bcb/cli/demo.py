"""`bcb demo`: the README's first command. Evaluates two reference "models" on the bundled
bcb-mini end to end (no download, no key), so a new machine shows it works in seconds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bcb.cli.common import (
    AllowNetwork,
    DataDir,
    DisableLayers,
    Unsafe,
    console,
    err_console,
    open_dataset,
    sandbox_options,
    user_errors,
)
from bcb.cli.data import _print_summary
from bcb.cli.evaluate import EvalProgressBar
from bcb.dataset import DEFAULT_VERSION, DatasetError
from bcb.dataset.domains import lib_domains_for
from bcb.dataset.summary import summarize
from bcb.evaluation import reference_samples
from bcb.evaluation.evaluate import EvalConfig, evaluate
from bcb.evaluation.passk import pass_at_1_ci
from bcb.evaluation.results import result_paths, write_eval_results
from bcb.evaluation.runner import SharedExecutor
from bcb.evaluation.samples import read_samples
from bcb.evaluation.store import ResultStore
from bcb.evaluation.timing import RunClock
from bcb.execution import ExecutorError, check_seconds, environment_fingerprint, preload_modules, program_modules
from bcb.fileio import write_json_atomic


def demo(
    root: Annotated[Path, typer.Option(help="Where the demo's samples, results and store go.")] = Path(
        "bcb_results/demo"
    ),
    data_dir: DataDir = None,
    timeout: Annotated[
        float, typer.Option(help="Per-sample limit in seconds (the flawed model has an infinite loop).")
    ] = 3.0,
    allow_network: AllowNetwork = False,
    unsafe: Unsafe = False,
    disable_layer: DisableLayers = None,
) -> None:
    """Evaluate a canonical and a flawed reference model on bcb-mini and compare them."""
    clock = RunClock()
    with user_errors(ExecutorError):
        check_seconds(timeout, "--timeout")
        sandbox = sandbox_options(allow_network, unsafe, disable_layer)
        mini = open_dataset("bcb-mini", None, None, "full", None)
        tasks = list(mini)
        clock.mark("dataset")
        root.mkdir(parents=True, exist_ok=True)
        config = EvalConfig(timeout=timeout)
        runner = SharedExecutor(
            sys.executable,
            2,
            config.limits,
            preload_modules(program_modules(t) for t in tasks),
            sandbox=sandbox,
            root=root,
            clock=clock,
        )
        runner.start_early()
        table = Table(
            title=f"bcb-mini ({len(tasks)} tasks), calibrated, {timeout:g} s per sample", title_justify="left"
        )
        for column, justify in (
            ("model", "left"),
            ("pass@1", "right"),
            ("95% CI", "right"),
            ("GT pass rate", "right"),
            ("lazy", "right"),
            ("timeouts", "right"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        executed = reused = 0
        store: ResultStore | None = None
        try:
            fingerprint = environment_fingerprint(sys.executable)
            clock.mark("fingerprint")
            store = ResultStore(root / "bcb.sqlite")
            for name, rows in (
                ("canonical", reference_samples.canonical(tasks)),
                ("flawed", reference_samples.flawed(tasks)),
            ):
                path = root / f"{name}--main--bcb-mini-complete--reference-0-1-sanitized_calibrated.jsonl"
                path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
                # Keyed as `bcb evaluate` keys verdicts. On a root with no remembered sandbox probe
                # the workers start (and probe) here, before anything is shown, so a refusal is one
                # line; with one, they start only when something must run.
                environment = runner.environment(fingerprint)
                err_console.print(f"[bold]{name}[/]")
                samples = read_samples(path, mini.by_id, resolve_id=mini.resolve_id)
                clock.next_evaluation()
                outcome = evaluate(
                    mini,
                    tasks,
                    samples,
                    config,
                    store,
                    environment,
                    runner,
                    EvalProgressBar(),
                    samples_origin=str(path),
                    clock=clock,
                    executor=runner.describe,
                )
                executed, reused = executed + outcome.executed, reused + outcome.reused
                eval_path, passk_path = result_paths(path)
                write_eval_results(eval_path, outcome.results)
                write_json_atomic(passk_path, outcome.pass_at_k_file(name, "complete", "full", True))
                flat = [r for rs in outcome.results.eval.values() for r in rs]
                ci = pass_at_1_ci(outcome.results.counts())
                table.add_row(
                    name,
                    f"{outcome.pass_at_k['pass@1']:.3f}",
                    f"{ci.low:.2f}-{ci.high:.2f}",
                    f"{outcome.gt_pass_rate:.3f}",
                    str(sum(1 for r in flat if r.lazy)),
                    str(sum(1 for r in flat if r.status == "timeout")),
                )
        finally:
            runner.close()
            if store is not None:
                store.close()
    console.print(table)
    console.print(
        f"Samples and official-format results are in {root}. This run executed {executed} programs and took {reused} from the store; "
        "a rerun in the same environment takes every verdict from the store (installing or upgrading packages changes the "
        "environment's fingerprint, and its verdicts are judged afresh).",
        highlight=False,
    )

    if data_dir is None:
        console.print(
            f"\nBigCodeBench {DEFAULT_VERSION} not loaded: pass --data-dir DIR (or set BCB_DATA_DIR) to a directory "
            f"with BigCodeBench-{DEFAULT_VERSION}.jsonl.gz, or run `bcb data info` online to download it.",
            highlight=False,
        )
        return
    try:
        full = open_dataset("bigcodebench", None, None, "full", data_dir)
    except DatasetError as exc:
        console.print(f"\n[yellow]BigCodeBench {DEFAULT_VERSION} not loaded:[/] {exc}", highlight=False)
        return
    console.print()
    _print_summary(summarize(full, lib_domains_for(full, data_dir)), top=15)
