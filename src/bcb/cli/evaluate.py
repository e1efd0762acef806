"""`bcb evaluate`: samples in, scores out, with the official evaluator's flags and files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

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
    TaskPython,
    Unsafe,
    Version,
    check_executor_flags,
    check_output,
    console,
    err_console,
    open_dataset,
    sandbox_options,
    user_errors,
    worker_count,
)
from bcb.dataset import (
    SPLITS,
    DatasetError,
    Task,
    check_jsonl_path,
    parse_id_range,
    parse_ids,
    select_tasks,
)
from bcb.evaluation.evaluate import (
    EvalConfig,
    Evaluation,
    check_ground_truth,
    evaluate,
    rescore,
)
from bcb.evaluation.plan import environment_key
from bcb.evaluation.results import (
    ResultsError,
    keep_backup,
    model_name,
    read_eval_results,
    result_paths,
    write_eval_results,
)
from bcb.evaluation.runner import SharedExecutor
from bcb.evaluation.samples import counts_by_task, read_samples
from bcb.evaluation.store import ResultStore
from bcb.evaluation.timing import RunClock
from bcb.execution import (
    TIMEOUT_POLICIES,
    ExecutorError,
    Limits,
    check_seconds,
    environment_fingerprint,
    find_task_python,
    preload_modules,
    program_modules,
    require_libraries,
)
from bcb.fileio import write_json_atomic
from bcb.server.api import TOKEN_ENV


class EvalProgressBar:
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

    def start(self, phase: str, total: int, done: Sequence[str] = ()) -> None:
        self.passed = sum(status == "pass" for status in done)
        self.done = len(done)
        if total <= self.done:
            return
        self.bar.start()
        rate = f"{self.passed / self.done:.3f}" if self.done else "-"
        self.task = self.bar.add_task(phase, total=total, completed=self.done, rate=rate)

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


DEFAULT_PASS_K = "1,5,10"

#: Help panels, so `bcb evaluate --help` reads in sections and each section's columns fit 80.
LIMITS, GROUND_TRUTH, RESULTS, EXECUTION = "Limits", "Ground truth", "Results", "Execution"


def _pass_k(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(k) for k in text.split(",") if k.strip())
    except ValueError:
        raise DatasetError(f"bad --pass-k {text!r}: write comma-separated integers, e.g. 1,5,10") from None
    if not ks or min(ks) < 1:
        raise DatasetError(f"bad --pass-k {text!r}: every k must be >= 1")
    return ks


def evaluate_command(
    samples: Annotated[
        Path | None,
        typer.Option(
            "--samples", help="Samples JSONL (task_id + solution or completion) or a directory of <task>/N.py."
        ),
    ] = None,
    split: Annotated[
        str, typer.Option(help="complete or instruct (recorded; calibration uses code_prompt either way).")
    ] = "complete",
    subset: SubsetOpt = "full",
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    data_dir: DataDir = None,
    calibrated: Annotated[
        bool,
        typer.Option(
            "--calibrated/--no-calibrated",
            help="Prepend code_prompt + pass, as the official evaluator does by default.",
            rich_help_panel=LIMITS,
        ),
    ] = True,
    pass_k: Annotated[
        str | None,
        typer.Option(
            "--pass-k",
            help="Which pass@k to report, k <= samples per task (the default leaves out larger k, as official). \\[default: 1,5,10]",
            show_default=False,
        ),
    ] = None,
    parallel: Annotated[int, typer.Option(help="Worker processes (default: the number of CPUs).")] = 0,
    min_time_limit: Annotated[
        float,
        typer.Option(
            "--min-time-limit", help="Seconds; the official floor on GT-derived limits.", rich_help_panel=LIMITS
        ),
    ] = 1.0,
    max_as_limit: Annotated[
        int, typer.Option("--max-as-limit", help="Address-space limit per sample, MiB.", rich_help_panel=LIMITS)
    ] = 30 * 1024,
    max_data_limit: Annotated[
        int, typer.Option("--max-data-limit", help="Data-segment limit per sample, MiB.", rich_help_panel=LIMITS)
    ] = 30 * 1024,
    max_stack_limit: Annotated[
        int, typer.Option("--max-stack-limit", help="Stack limit per sample, MiB.", rich_help_panel=LIMITS)
    ] = 10,
    timeout: Annotated[
        float | None,
        typer.Option(
            help="One fixed per-sample limit in seconds, overriding the timeout policy.", rich_help_panel=LIMITS
        ),
    ] = None,
    timeout_policy: Annotated[
        str,
        typer.Option(
            "--timeout-policy",
            help="official: max(240, GT time) + 1 s; scaled: max(120, 5 x GT time) + 1 s, never above official (see README).",
            rich_help_panel=LIMITS,
        ),
    ] = "official",
    selective_evaluate: SelectiveEvaluate = None,
    id_range: IdRange = None,
    check_gt_only: Annotated[
        bool,
        typer.Option(
            "--check-gt-only", help="Run the ground truth only and report its pass rate.", rich_help_panel=GROUND_TRUTH
        ),
    ] = False,
    no_gt: Annotated[
        bool,
        typer.Option(
            "--no-gt",
            help="Skip the ground-truth check (limits then assume 20 s GT time, as official).",
            rich_help_panel=GROUND_TRUTH,
        ),
    ] = False,
    recheck_gt: Annotated[
        bool,
        typer.Option(
            "--recheck-gt", help="Ignore the cached ground truth and run it again.", rich_help_panel=GROUND_TRUTH
        ),
    ] = False,
    allow_partial: Annotated[
        bool, typer.Option("--allow-partial", help="Score only the tasks that have samples.", rich_help_panel=RESULTS)
    ] = False,
    reuse_results: Annotated[
        bool,
        typer.Option(
            "--reuse-results/--overwrite-results",
            help="When the samples' _eval_results.json exists: reuse it (run nothing, recompute pass@k, as "
            "official) or evaluate again, keeping the old file as .bak (the default; the store makes it cheap).",
            rich_help_panel=RESULTS,
        ),
    ] = False,
    root: Annotated[Path, typer.Option(help="Where bcb keeps its result store.", rich_help_panel=RESULTS)] = Path(
        "bcb_results"
    ),
    python: TaskPython = None,
    allow_missing_libs: Annotated[
        bool,
        typer.Option(
            "--allow-missing-libs",
            help="Run even when the interpreter lacks libraries the tasks import (those tasks then fail).",
            rich_help_panel=EXECUTION,
        ),
    ] = False,
    preload: Annotated[
        str | None,
        typer.Option(
            help="Modules workers import before forking, comma-separated (default: from the tasks).",
            rich_help_panel=EXECUTION,
        ),
    ] = None,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            help="local (this machine's workers) or ray (a Ray cluster: pip install 'bcb\\[ray]'; --parallel is then workers per node).",
            rich_help_panel=EXECUTION,
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="The Ray cluster, host:port (default: RAY_ADDRESS, else a private single-node Ray).",
            rich_help_panel=EXECUTION,
        ),
    ] = None,
    allow_network: AllowNetwork = False,
    unsafe: Unsafe = False,
    disable_layer: DisableLayers = None,
    allow_mixed_env: Annotated[
        bool,
        typer.Option(
            "--allow-mixed-env",
            help="Use Ray nodes whose environment differs from this one's (recorded).",
            rich_help_panel=EXECUTION,
        ),
    ] = False,
    remote: Annotated[
        str | None,
        typer.Option(
            "--remote",
            help="Evaluate on a bcb serve server at this URL; a rerun resumes the job.",
            rich_help_panel=EXECUTION,
        ),
    ] = None,
    remote_token: Annotated[
        str | None,
        typer.Option(
            "--remote-token", envvar=TOKEN_ENV, help=f"Its bearer token (also ${TOKEN_ENV}).", rich_help_panel=EXECUTION
        ),
    ] = None,
    preflight: Annotated[
        bool,
        typer.Option(
            "--preflight",
            hidden=True,
            help="Check the options and the task environment, run nothing (bcb run, before it generates).",
        ),
    ] = False,
) -> None:
    """Run samples against their tasks' tests and write the official result files."""
    clock = RunClock()
    if remote is not None:
        local_only = {
            "--check-gt-only": check_gt_only,
            "--recheck-gt": recheck_gt,
            "--id-range": id_range,
            "--reuse-results": reuse_results,
            "--version": version,
            "--dataset-file": dataset_file,
            "--python": python,
            "--preload": preload,
            "--executor": executor != "local",
            "--timeout-policy": timeout_policy != "official",
            "--allow-network": allow_network,
            "--unsafe": unsafe,
            "--disable-sandbox-layer": disable_layer,
        }
        _remote(
            remote,
            remote_token,
            samples,
            [flag for flag, given in local_only.items() if given],
            {
                "split": split,
                "subset": subset,
                "dataset": dataset,
                "pass_k": pass_k or DEFAULT_PASS_K,
                "min_time_limit": str(min_time_limit),
                "max_as_limit": str(max_as_limit),
                "max_data_limit": str(max_data_limit),
                "max_stack_limit": str(max_stack_limit),
                "calibrated": str(calibrated).lower(),
                "no_gt": str(no_gt).lower(),
                "selective_evaluate": selective_evaluate or "",
                "timeout": "" if timeout is None else str(timeout),
                "allow_partial": str(allow_partial).lower(),
            },
        )
        return
    with user_errors(ExecutorError):
        check_executor_flags(executor, ray_address, allow_mixed_env)
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
        if samples is None and not check_gt_only and not preflight:
            raise DatasetError("--samples is required (or pass --check-gt-only)")
        if check_gt_only and no_gt:
            raise DatasetError("--check-gt-only and --no-gt contradict each other")
        if recheck_gt and no_gt:
            raise DatasetError("--recheck-gt and --no-gt contradict each other")
        worker_count(parallel)
        if timeout is not None:
            check_seconds(timeout, "--timeout")
        check_seconds(min_time_limit, "--min-time-limit", zero_ok=True)
        if timeout_policy not in TIMEOUT_POLICIES:
            raise DatasetError(
                f"unknown --timeout-policy {timeout_policy!r}: choose one of {', '.join(TIMEOUT_POLICIES)}"
            )
        sandbox = sandbox_options(allow_network, unsafe, disable_layer)
        ks = _pass_k(pass_k or DEFAULT_PASS_K)
        loaded = open_dataset(dataset, version, dataset_file, subset, data_dir)
        tasks = select_tasks(
            loaded,
            ids=parse_ids(selective_evaluate) if selective_evaluate else None,
            id_range=parse_id_range(id_range) if id_range else None,
        )
        clock.mark("dataset")
        try:
            limits = Limits(max_as_limit, max_data_limit, max_stack_limit)
        except ValueError as exc:
            raise DatasetError(str(exc)) from None
        config = EvalConfig(
            split=split,
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
        if samples is not None and not check_gt_only:
            check_jsonl_path(samples)  # a device's own mistake first, not that its directory is read-only
            for path in result_paths(samples):
                check_output(path, "the results file", (samples,))
        interpreter, source = find_task_python(python)
        if not allow_missing_libs:
            mini_hint = "pip install 'bcb[mini]'" if dataset == "bcb-mini" and dataset_file is None else ""
            require_libraries(interpreter, source, [lib for t in tasks for lib in t.libs], hint=mini_hint)
        if preflight:
            return
        workers = worker_count(parallel)
        sample_list = read_samples(samples, loaded.by_id, resolve_id=loaded.resolve_id) if samples is not None else []
        if pass_k is not None and sample_list:
            fewest = min(counts_by_task(sample_list).values())
            if max(ks) > fewest:
                raise DatasetError(
                    f"--pass-k {pass_k}: pass@{max(ks)} needs {max(ks)} samples of every task, and a task has {fewest}; pass k <= {fewest}"
                )
        if preload is not None:
            modules = [m for m in preload.split(",") if m]
        else:
            # One use per program to run: each sample, plus each task's ground truth.
            uses = [program_modules(loaded.by_id[s.task_id], s.solution) for s in sample_list]
            uses += [] if no_gt else [program_modules(t) for t in tasks]
            modules = preload_modules(uses, min_uses=workers + 1)
        if executor == "ray":
            runner = SharedExecutor(
                interpreter,
                max(parallel, 0),
                limits,
                modules,
                kind="ray",
                ray_address=ray_address,
                allow_mixed_env=allow_mixed_env,
                sandbox=sandbox,
                clock=clock,
            )
        else:
            runner = SharedExecutor(
                interpreter, min(workers, len(tasks)), limits, modules, sandbox=sandbox, root=root, clock=clock
            )
        runner.start_early()
        store: ResultStore | None = None
        try:
            fingerprint = environment_fingerprint(interpreter)
            clock.mark("fingerprint")
            store = ResultStore(root / "bcb.sqlite")
            if check_gt_only or recheck_gt:
                env = environment_key(runner.prepare(fingerprint))
                gt = check_ground_truth(loaded, tasks, config, store, env, runner, EvalProgressBar(), recheck=True)
                if check_gt_only:
                    _print_gt(
                        gt_pass_rate=sum(g.passed for g in gt.values()) / len(gt),
                        failed=[t for t, g in gt.items() if not g.passed],
                    )
                    return
            outcome = evaluate(
                loaded,
                tasks,
                sample_list,
                config,
                store,
                runner.environment(fingerprint),
                runner,
                EvalProgressBar(),
                samples_origin=str(samples),
                clock=clock,
                executor=runner.describe,
            )
        finally:
            runner.close()
            if store is not None:
                store.close()
        eval_path, passk_path = result_paths(samples)  # type: ignore[arg-type]
        backups = [b for b in (keep_backup(eval_path), keep_backup(passk_path)) if b]
        write_eval_results(eval_path, outcome.results)
        write_json_atomic(passk_path, outcome.pass_at_k_file(model_name(samples), split, subset, calibrated))  # type: ignore[arg-type]
    _print_summary(outcome, loaded.label, split, eval_path)
    if backups:
        console.print(f"previous results kept as {', '.join(str(b) for b in backups)}", highlight=False)


def _remote(url: str, token: str | None, samples: Path | None, local_only: list[str], options: dict[str, str]) -> None:
    """--remote: the server evaluates, with its own environment, sandbox and store; this writes its answer."""
    from bcb.server.client import RemoteClient, remote_evaluate, write_answer

    with user_errors():
        if samples is None:
            raise DatasetError("--remote needs --samples")
        if local_only:
            raise DatasetError(f"{', '.join(local_only)}: the server decides this; drop it from a --remote run")
        if not samples.is_file():
            raise DatasetError(f"{samples}: --remote sends one samples JSONL file; no such file")
        client = RemoteClient(url, token, say=lambda line: err_console.print(line, highlight=False, soft_wrap=True))
        results, pass_at_k, job = remote_evaluate(client, samples, {**options, "filename": samples.name})
        eval_path, _ = write_answer(samples, results, pass_at_k)
    for key, value in pass_at_k.items():
        if key.startswith("pass@") and isinstance(value, (int, float)):
            console.print(f"{key}\t{value:.3f}", highlight=False)
    if pass_at_k.get("gt_checked", True) and "gt_pass_rate" in pass_at_k:
        _print_gt(float(pass_at_k["gt_pass_rate"]), list(pass_at_k.get("failed_tasks") or []))
    console.print(f"results: {eval_path} (job {job} on {url})", highlight=False)


def _reuse(
    samples: Path, tasks: tuple[Task, ...], config: EvalConfig, label: str, split: str, subset: str, calibrated: bool
) -> None:
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
    table.add_row(
        "samples",
        f"{len(rows)} ({outcome.distinct_programs} distinct; {outcome.executed} run, {outcome.reused} from the store)",
    )
    table.add_row("lazy", str(sum(1 for r in rows if r.lazy)))
    table.add_row("timeouts", str(sum(1 for r in rows if r.status == "timeout")))
    failures = Counter(r.category for r in rows if r.category)
    if failures:
        table.add_row("why unsolved", ", ".join(f"{c} {n}" for c, n in failures.most_common()) + " (bcb errors)")
    table.add_row("duration", f"{outcome.duration_s:.1f} s")
    console.print(table)
    if outcome.failed_tasks:
        console.print(
            f"[red]Tasks whose ground truth failed here ({len(outcome.failed_tasks)}):[/] {', '.join(outcome.failed_tasks)}",
            highlight=False,
        )
    console.print(f"results: {eval_path}", highlight=False)
