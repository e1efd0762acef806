"""`bcb evaluate`: samples in, scores out, with the official evaluator's flags and files."""

from __future__ import annotations

from collections import Counter

import dataclasses
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from bcb.cli.common import (
    AllowNetwork,
    DataDir,
    DatasetFile,
    DatasetName,
    DisableLayers,
    IdRange,
    RateColumn,
    SelectiveEvaluate,
    SubsetOpt,
    Unsafe,
    Version,
    console,
    err_console,
    open_dataset,
    sandbox_options,
    user_errors,
)
from bcb.dataset import (
    SPLITS,
    DatasetError,
    Task,
    parse_id_range,
    parse_ids,
    select_tasks,
)
from bcb.evaluation.evaluate import (
    EvalConfig,
    Evaluation,
    check_ground_truth,
    environment_key,
    evaluate,
    rescore,
)
from bcb.evaluation.results import (
    ResultsError,
    keep_backup,
    model_name,
    read_eval_results,
    result_paths,
    write_eval_results,
)
from bcb.evaluation.samples import read_samples
from bcb.evaluation.store import ResultStore
from bcb.execution.environment import environment_fingerprint
from bcb.execution.jobs import ExecutionResult, Job
from bcb.execution.limits import TIMEOUT_POLICIES, Limits
from bcb.execution.preload import preload_modules
from bcb.execution.protocol import (
    EXECUTOR_KINDS,
    ExecutorOptions,
    ManagedExecutor,
    create_executor,
    describe_executor,
)
from bcb.execution.executor import ExecutorError
from bcb.execution.ray_executor import RayExecutor
from bcb.execution.sandbox import SandboxOptions, sandbox_summary
from bcb.fileio import write_json_atomic


class BarProgress:
    """A rich bar with samples/s, ETA and the running pass rate."""

    def __init__(self) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn("samples"),
            TextColumn("pass {task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err_console,
        )
        self.task: TaskID | None = None
        self.passed = 0
        self.done = 0

    def start(self, phase: str, total: int) -> None:
        self.passed = self.done = 0
        if total == 0:
            return
        self.bar.start()
        self.task = self.bar.add_task(phase, total=total, rate="-")

    def advance(self, status: str) -> None:
        self.done += 1
        self.passed += status == "pass"
        if self.task is not None:
            self.bar.update(self.task, advance=1, rate=f"{self.passed / self.done:.3f}")

    def stop(self) -> None:
        if self.task is not None:
            self.bar.stop()
            self.bar.remove_task(self.task)
            self.task = None


def _pass_k(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(k) for k in text.split(",") if k.strip())
    except ValueError:
        raise DatasetError(f"bad --pass-k {text!r}: write comma-separated integers, e.g. 1,5,10") from None
    if not ks or min(ks) < 1:
        raise DatasetError(f"bad --pass-k {text!r}: every k must be >= 1")
    return ks


class SharedExecutor:
    """Starts the warm workers on the first job only, and keeps them for every later phase.
    ``kind`` picks the executor (``local`` or ``ray``; for Ray, ``workers`` is per node, 0 = its CPUs)."""

    def __init__(
        self, python: str, workers: int, limits: Limits, preload: list[str], *,
        kind: str = "local", ray_address: str | None = None, allow_mixed_env: bool = False,
        sandbox: SandboxOptions | None = None,
    ) -> None:
        self.options = ExecutorOptions(
            kind=kind, python=python, workers=workers, preload=tuple(preload), limits=limits,  # type: ignore[arg-type]
            ray_address=ray_address, allow_mixed_env=allow_mixed_env, sandbox=sandbox or SandboxOptions(),
        )
        self.executor: ManagedExecutor | None = None
        self._started = False

    def prepare(self, fingerprint: dict[str, Any]) -> dict[str, Any]:
        """Before any job. On Ray: join the cluster and check every node's environment now, so a
        refused node stops the run before anything ran; returns the fingerprint to key verdicts on."""
        if self.options.kind != "ray":
            # The workers probe the sandbox layers at start-up (and refuse to run without the
            # essential ones): start them now so the layers key the verdicts and the manifest.
            executor = self._executor()
            executor.start()
            self._started = True
            report = getattr(executor, "sandbox_report", None)
            return {**fingerprint, "sandbox": sandbox_summary(report)} if report else fingerprint
        self.options = dataclasses.replace(self.options, reference_fingerprint=fingerprint)
        executor = self._executor()
        assert isinstance(executor, RayExecutor)
        keyed = executor.store_fingerprint(fingerprint)  # starts the workers: they probe the sandbox
        self._started = True
        return keyed

    def describe(self) -> dict[str, Any]:
        """Where the samples ran, for the manifest."""
        if self.executor is None:
            return {"kind": self.options.kind, "started": False}
        return describe_executor(self.executor)

    def _executor(self) -> ManagedExecutor:
        if self.executor is None:
            self.executor = create_executor(self.options)
        return self.executor

    def __call__(self, jobs: list[Job]) -> Iterator[ExecutionResult]:
        executor = self._executor()
        if not self._started:
            executor.start()
            self._started = True
        return executor.run(jobs)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()


def evaluate_command(
    samples: Annotated[Path | None, typer.Option("--samples", help="Samples JSONL (task_id + solution or completion) or a directory of <task>/N.py.")] = None,
    split: Annotated[str, typer.Option(help="complete or instruct (recorded; calibration uses the task's code_prompt either way).")] = "complete",
    subset: SubsetOpt = "full",
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    data_dir: DataDir = None,
    calibrated: Annotated[bool, typer.Option("--calibrated/--no-calibrated", help="Prepend code_prompt + pass, as the official evaluator does by default.")] = True,
    pass_k: Annotated[str, typer.Option("--pass-k", help="Which pass@k to report (k <= samples per task).")] = "1,5,10",
    parallel: Annotated[int, typer.Option(help="Worker processes (default: the number of CPUs).")] = 0,
    min_time_limit: Annotated[float, typer.Option("--min-time-limit", help="Seconds; the official floor on GT-derived limits.")] = 1.0,
    max_as_limit: Annotated[int, typer.Option("--max-as-limit", help="Address-space limit per sample, MiB.")] = 30 * 1024,
    max_data_limit: Annotated[int, typer.Option("--max-data-limit", help="Data-segment limit per sample, MiB.")] = 30 * 1024,
    max_stack_limit: Annotated[int, typer.Option("--max-stack-limit", help="Stack limit per sample, MiB.")] = 10,
    timeout: Annotated[float | None, typer.Option(help="One fixed per-sample limit in seconds, overriding the timeout policy.")] = None,
    timeout_policy: Annotated[str, typer.Option("--timeout-policy", help="official: max(240, GT time) + 1 s per sample; scaled: max(120, 5 x GT time) + 1 s, never above official (changed no verdict on the reference samples; see README).")] = "official",
    selective_evaluate: SelectiveEvaluate = None,
    id_range: IdRange = None,
    check_gt_only: Annotated[bool, typer.Option("--check-gt-only", help="Run the ground truth only and report its pass rate.")] = False,
    no_gt: Annotated[bool, typer.Option("--no-gt", help="Skip the ground-truth check (limits then assume 20 s GT time, as official).")] = False,
    recheck_gt: Annotated[bool, typer.Option("--recheck-gt", help="Ignore the cached ground truth and run it again.")] = False,
    allow_partial: Annotated[bool, typer.Option("--allow-partial", help="Score only the tasks that have samples.")] = False,
    reuse_results: Annotated[bool, typer.Option("--reuse-results/--overwrite-results", help="When <samples>_eval_results.json exists: reuse it (run nothing, recompute pass@k from it, as the official evaluator does) or evaluate again and overwrite it, keeping the old file as <file>.bak (the default: the store already makes a rerun cheap, and a stale file never passes for new samples).")] = False,
    root: Annotated[Path, typer.Option(help="Where bcb keeps its result store.")] = Path("bcb_results"),
    python: Annotated[str | None, typer.Option(help="The task environment's interpreter (default: this one).")] = None,
    preload: Annotated[str | None, typer.Option(help="Modules workers import before forking, comma-separated (default: derived from the tasks).")] = None,
    executor: Annotated[str, typer.Option("--executor", help="Where samples run: local (this machine's workers) or ray (a Ray cluster; pip install 'bcb[ray]'). With ray, --parallel is workers per node (default: its CPUs).")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="The Ray cluster, host:port (default: RAY_ADDRESS, else a private single-node Ray).")] = None,
    allow_network: AllowNetwork = False,
    unsafe: Unsafe = False,
    disable_layer: DisableLayers = None,
    allow_mixed_env: Annotated[bool, typer.Option("--allow-mixed-env", help="Use Ray nodes whose task environment differs from this machine's (recorded in the manifest).")] = False,
) -> None:
    """Run samples against their tasks' tests and write the official result files."""
    with user_errors(ExecutorError):
        if executor not in EXECUTOR_KINDS:
            raise DatasetError(f"unknown --executor {executor!r}: choose one of {', '.join(EXECUTOR_KINDS)}")
        if executor != "ray" and (ray_address or allow_mixed_env):
            raise DatasetError("--ray-address and --allow-mixed-env apply to --executor ray only")
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
        if samples is None and not check_gt_only:
            raise DatasetError("--samples is required (or pass --check-gt-only)")
        if check_gt_only and no_gt:
            raise DatasetError("--check-gt-only and --no-gt contradict each other")
        if timeout is not None and timeout <= 0:
            raise DatasetError("--timeout must be a positive number of seconds")
        if timeout_policy not in TIMEOUT_POLICIES:
            raise DatasetError(f"unknown --timeout-policy {timeout_policy!r}: choose one of {', '.join(TIMEOUT_POLICIES)}")
        sandbox = sandbox_options(allow_network, unsafe, disable_layer)
        ks = _pass_k(pass_k)
        loaded = open_dataset(dataset, version, dataset_file, subset, data_dir)
        tasks = select_tasks(
            loaded,
            ids=parse_ids(selective_evaluate) if selective_evaluate else None,
            id_range=parse_id_range(id_range) if id_range else None,
        )
        try:
            limits = Limits(max_as_limit, max_data_limit, max_stack_limit)
        except ValueError as exc:
            raise DatasetError(str(exc)) from None
        config = EvalConfig(
            split=split,  # type: ignore[arg-type]
            calibrated=calibrated,
            pass_k=ks,
            min_time_limit=min_time_limit,
            limits=limits,
            timeout=timeout,
            timeout_policy=timeout_policy,
            no_gt=no_gt,
            allow_partial=allow_partial,
        )
        if reuse_results and samples is not None and not check_gt_only and result_paths(samples)[0].is_file():
            _reuse(samples, tasks, config, loaded.label, split, subset, calibrated)
            return
        interpreter = python or sys.executable
        workers = parallel if parallel > 0 else (os.cpu_count() or 1)
        sample_list = read_samples(samples, loaded.by_id, resolve_id=loaded.resolve_id) if samples is not None else []
        if preload is not None:
            modules = [m for m in preload.split(",") if m]
        else:
            # One use per program to run: each sample, plus each task's ground truth.
            uses = [lib for s in sample_list for lib in loaded.by_id[s.task_id].libs]
            uses += [] if no_gt else [lib for t in tasks for lib in t.libs]
            modules = preload_modules(uses, min_uses=workers + 1)
        if executor == "ray":
            runner = SharedExecutor(
                interpreter, max(parallel, 0), limits, modules, kind="ray", ray_address=ray_address, allow_mixed_env=allow_mixed_env,
                sandbox=sandbox,
            )
        else:
            runner = SharedExecutor(interpreter, min(workers, len(tasks)), limits, modules, sandbox=sandbox)
        fingerprint = environment_fingerprint(interpreter)
        store = ResultStore(root / "bcb.sqlite")
        try:
            fingerprint = runner.prepare(fingerprint)
            if check_gt_only:
                gt = check_ground_truth(loaded, tasks, config, store, environment_key(fingerprint), runner, BarProgress(), recheck=True)
                _print_gt(gt_pass_rate=sum(g.passed for g in gt.values()) / len(gt), failed=[t for t, g in gt.items() if not g.passed])
                return
            if recheck_gt and not no_gt:
                check_ground_truth(loaded, tasks, config, store, environment_key(fingerprint), runner, BarProgress(), recheck=True)
            outcome = evaluate(loaded, tasks, sample_list, config, store, fingerprint, runner, BarProgress(), samples_origin=str(samples))
            outcome.manifest["executor"] = runner.describe()
        finally:
            runner.close()
            store.close()
        eval_path, passk_path = result_paths(samples)  # type: ignore[arg-type]
        backups = [b for b in (keep_backup(eval_path), keep_backup(passk_path)) if b]
        write_eval_results(eval_path, outcome.results)
        write_json_atomic(passk_path, outcome.pass_at_k_file(model_name(samples), split, subset, calibrated))  # type: ignore[arg-type]
    _print_summary(outcome, loaded.label, split, eval_path)
    if backups:
        console.print(f"previous results kept as {', '.join(str(b) for b in backups)}", highlight=False)


def _reuse(samples: Path, tasks: tuple[Task, ...], config: EvalConfig, label: str, split: str, subset: str, calibrated: bool) -> None:
    """--reuse-results with an existing results file: score it, run nothing, leave it as it is."""
    eval_path, passk_path = result_paths(samples)
    try:
        existing = read_eval_results(eval_path)
    except ResultsError as exc:
        raise ResultsError(f"{exc}; fix or delete it, or pass --overwrite-results to evaluate again") from None
    outcome = rescore(existing, tasks, config, origin=str(eval_path))
    keep_backup(passk_path)
    write_json_atomic(passk_path, outcome.pass_at_k_file(model_name(samples), split, subset, calibrated))
    console.print(f"reused {eval_path} (nothing executed; --overwrite-results evaluates again)", highlight=False)
    _print_summary(outcome, label, split, eval_path)


def _print_gt(gt_pass_rate: float, failed: list[str]) -> None:
    colour = "green" if gt_pass_rate >= 0.99 else "red"
    console.print(f"Ground-truth pass rate: [{colour}]{gt_pass_rate:.3f}[/]")
    if failed:
        console.print(f"[{colour}]Failed tasks ({len(failed)}):[/] {', '.join(failed)}", highlight=False)


def _print_summary(outcome: Evaluation, label: str, split: str, eval_path: Path) -> None:
    from bcb.evaluation.passk import pass_at_1_ci

    counts = outcome.results.counts()
    rows = [r for rs in outcome.results.eval.values() for r in rs]
    table = Table(title=f"{label} · {split}", title_justify="left")
    for column in ("metric", "value"):
        table.add_column(column)
    for k, v in outcome.pass_at_k.items():
        table.add_row(k, f"{v:.3f}")
    if counts:
        ci = pass_at_1_ci(counts)
        table.add_row("pass@1 95% CI", f"{ci.low:.3f} - {ci.high:.3f}")
    if outcome.gt_checked:
        colour = "green" if outcome.gt_pass_rate >= 0.99 else "red"
        table.add_row("GT pass rate", f"[{colour}]{outcome.gt_pass_rate:.3f}[/]")
    else:
        table.add_row("GT pass rate", "[yellow]not checked[/]")
    table.add_row("samples", f"{len(rows)} ({outcome.distinct_programs} distinct; {outcome.executed} run, {outcome.reused} from the store)")
    table.add_row("lazy", str(sum(1 for r in rows if r.lazy)))
    table.add_row("timeouts", str(sum(1 for r in rows if r.status == "timeout")))
    failures = Counter(r.category for r in rows if r.category)
    if failures:
        table.add_row("why unsolved", ", ".join(f"{c} {n}" for c, n in failures.most_common()) + " (bcb errors)")
    table.add_row("duration", f"{outcome.duration_s:.1f} s")
    console.print(table)
    if outcome.failed_tasks:
        console.print(f"[red]Tasks whose ground truth failed here ({len(outcome.failed_tasks)}):[/] {', '.join(outcome.failed_tasks)}", highlight=False)
    console.print(f"results: {eval_path}", highlight=False)
