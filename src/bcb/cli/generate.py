"""`bcb generate`: sample a model's solutions into the official samples file."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional, Sequence

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.progress import Task as ProgressTask
from rich.text import Text

from bcb.cli.common import (
    DataDir,
    DatasetFile,
    DatasetName,
    IdRange,
    RateColumn,
    SelectiveEvaluate,
    SubsetOpt,
    Version,
    console,
    err_console,
    open_dataset,
    user_errors,
)
from bcb.dataset import SPLITS, Dataset, Task, parse_id_range, parse_ids, select_tasks
from bcb.generation.cache import ResponseCache
from bcb.generation.errors import GenerationError
from bcb.generation.manifest import Manifest, RunStats
from bcb.generation.prompts import INSTRUCTION_PREFIX, RESPONSE_PREFIX
from bcb.generation.providers import make_provider, preflight
from bcb.generation.providers.openai_compat import REASONING_EFFORTS
from bcb.generation.registry import provider_names, providers
from bcb.generation.runner import GenerationRunner
from bcb.generation.samples import SamplesFile, samples_file_name
from bcb.generation.settings import GenerationSettings


def official_spelling(name: str) -> str:
    """The official harness spells options with underscores (`--n_samples`); accept those as
    hidden aliases of bcb's dashed names, so its command lines work unchanged. The parser hands
    over option names without their dashes (and the values of choice options, which this
    command has none of)."""
    return name.replace("_", "-")


#: Passed where the command is registered.
CONTEXT_SETTINGS: dict[str, Any] = {"token_normalize_func": official_spelling}

_API = [spec for spec in providers() if spec.api]
_LOCAL = [spec for spec in providers() if not spec.api]
SAMPLING = "Sampling"
PROMPTS = "Prompts"
API = f"API backends ({', '.join(spec.name for spec in _API)})"
LOCAL = f"Local backends ({', '.join(spec.name for spec in _LOCAL)})"
OUTPUT = "Output and resume"
LOCAL_NAMES = "/".join(spec.name for spec in _LOCAL)
KEY_ENVS = " or ".join(spec.key_env for spec in _API if spec.key_env)
BATCH_DEFAULTS = ", ".join(f"{spec.name} {spec.default_batch}" for spec in _LOCAL)


class TokensPerSecondColumn(ProgressColumn):
    """Output tokens per second of fresh requests (cached answers cost none)."""

    def render(self, task: ProgressTask) -> Text:
        rate = task.fields.get("tokens_per_second")
        return Text("" if not rate else f"{rate:,.0f} tok/s", style="progress.data.speed")


def generate(
    model: Annotated[
        str, typer.Option("--model", help="Model name as the backend knows it (Hugging Face id for vllm/hf).")
    ],
    backend: Annotated[str, typer.Option("--backend", help=f"One of {', '.join(provider_names())}.")] = "vllm",
    split: Annotated[str, typer.Option("--split", help=f"Which prompt: {' or '.join(SPLITS)}.")] = "complete",
    subset: SubsetOpt = "full",
    n_samples: Annotated[int, typer.Option("--n-samples", help="Samples per task.", rich_help_panel=SAMPLING)] = 1,
    temperature: Annotated[
        float, typer.Option("--temperature", help="Sampling temperature.", rich_help_panel=SAMPLING)
    ] = 0.0,
    greedy: Annotated[
        bool,
        typer.Option(
            "--greedy",
            help="Greedy decoding: temperature 0, one sample (also implied by temperature 0 with one sample).",
            rich_help_panel=SAMPLING,
        ),
    ] = False,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", help="Most tokens per answer.", rich_help_panel=SAMPLING)
    ] = 1280,
    top_p: Annotated[
        float,
        typer.Option(
            "--top-p", help="Nucleus sampling mass, sent as the official harness sends it.", rich_help_panel=SAMPLING
        ),
    ] = 0.95,
    reasoning_effort: Annotated[
        Optional[str],
        typer.Option(
            "--reasoning-effort",
            help=f"openai reasoning models: {', '.join(REASONING_EFFORTS)}.",
            rich_help_panel=SAMPLING,
        ),
    ] = None,
    thinking_budget: Annotated[
        Optional[int],
        typer.Option(
            "--thinking-budget",
            help="anthropic extended thinking: token budget (>= 1024, < --max-new-tokens).",
            rich_help_panel=SAMPLING,
        ),
    ] = None,
    direct_completion: Annotated[
        bool,
        typer.Option(
            "--direct-completion",
            help="Base model: continue the raw complete prompt, no chat.",
            rich_help_panel=PROMPTS,
        ),
    ] = False,
    skip_prefill: Annotated[
        bool,
        typer.Option(
            "--skip-prefill",
            help=f"{LOCAL_NAMES}: do not open the answer with the response prefix and a code fence.",
            rich_help_panel=PROMPTS,
        ),
    ] = False,
    instruction_prefix: Annotated[
        str, typer.Option("--instruction-prefix", help="Opens the user message.", rich_help_panel=PROMPTS)
    ] = INSTRUCTION_PREFIX,
    response_prefix: Annotated[
        str,
        typer.Option("--response-prefix", help=f"Opens the prefilled answer ({LOCAL_NAMES}).", rich_help_panel=PROMPTS),
    ] = RESPONSE_PREFIX,
    strip_newlines: Annotated[
        bool,
        typer.Option("--strip-newlines", help="Strip newlines around each task prompt first.", rich_help_panel=PROMPTS),
    ] = False,
    base_url: Annotated[
        Optional[str],
        typer.Option(
            "--base-url",
            help="An OpenAI-compatible server (vLLM, llama.cpp, Ollama, ...), or another Anthropic endpoint.",
            rich_help_panel=API,
        ),
    ] = None,
    api_key_env: Annotated[
        Optional[str],
        typer.Option(
            "--api-key-env", help=f"Read the key from this variable (default: {KEY_ENVS}).", rich_help_panel=API
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Requests in flight at once.", rich_help_panel=API)
    ] = 8,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds before a request is abandoned and retried.", rich_help_panel=API)
    ] = 600.0,
    max_retries: Annotated[
        int,
        typer.Option("--max-retries", help="Retries of a request after 429, 5xx or a timeout.", rich_help_panel=API),
    ] = 6,
    bs: Annotated[
        Optional[int],
        typer.Option("--bs", help=f"Prompts per batch (default: {BATCH_DEFAULTS}).", rich_help_panel=LOCAL),
    ] = None,
    tp: Annotated[int, typer.Option("--tp", help="vllm tensor-parallel GPUs.", rich_help_panel=LOCAL)] = 1,
    revision: Annotated[
        str, typer.Option("--revision", help="Model revision; also part of the file name.", rich_help_panel=LOCAL)
    ] = "main",
    trust_remote_code: Annotated[bool, typer.Option("--trust-remote-code", rich_help_panel=LOCAL)] = False,
    tokenizer_name: Annotated[
        Optional[str],
        typer.Option("--tokenizer-name", help="A tokenizer other than the model's.", rich_help_panel=LOCAL),
    ] = None,
    tokenizer_legacy: Annotated[bool, typer.Option("--tokenizer-legacy", rich_help_panel=LOCAL)] = False,
    dataset: DatasetName = "bigcodebench",
    version: Version = None,
    dataset_file: DatasetFile = None,
    data_dir: DataDir = None,
    id_range: IdRange = None,
    selective_evaluate: SelectiveEvaluate = None,
    root: Annotated[
        Path, typer.Option("--root", help="Directory of the samples file and its manifest.", rich_help_panel=OUTPUT)
    ] = Path("bcb_results"),
    resume: Annotated[
        bool,
        typer.Option(
            "--resume/--no-resume",
            help="Keep the samples already in the file and add only the missing ones.",
            rich_help_panel=OUTPUT,
        ),
    ] = True,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Ask the backend even for answers in the response cache (new answers are still cached).",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
) -> Path:
    """Generate solutions with a model and write them as the official harness does."""
    with user_errors():
        settings = GenerationSettings(
            model=model, backend=backend, split=split, n_samples=n_samples, temperature=temperature, greedy=greedy,
            max_new_tokens=max_new_tokens, top_p=top_p, reasoning_effort=reasoning_effort, thinking_budget=thinking_budget,
            direct_completion=direct_completion, skip_prefill=skip_prefill, instruction_prefix=instruction_prefix,
            response_prefix=response_prefix, strip_newlines=strip_newlines, revision=revision, base_url=base_url,
            api_key_env=api_key_env, timeout=timeout, concurrency=concurrency, max_retries=max_retries, batch_size=bs, tp=tp,
            trust_remote_code=trust_remote_code, tokenizer_name=tokenizer_name, tokenizer_legacy=tokenizer_legacy,
        ).checked()  # fmt: skip
        selection = parse_id_range(id_range) if id_range else None
        ids = parse_ids(selective_evaluate) if selective_evaluate else None
        preflight(settings)
        loaded = open_dataset(dataset, version, dataset_file, subset, data_dir)
        tasks = select_tasks(loaded, ids=ids, id_range=selection)
        return run_generation(settings, loaded, tasks, root=root, resume=resume, read_cache=not no_cache)


def run_generation(
    settings: GenerationSettings, loaded: Dataset, tasks: Sequence[Task], *, root: Path, resume: bool, read_cache: bool
) -> Path:
    """Build the backend (for local ones: load the model), then write samples and manifest."""
    provider = make_provider(settings)
    path = root / samples_file_name(
        settings.model,
        backend=settings.backend,
        split=settings.split,
        subset=loaded.subset,
        temperature=settings.temperature,
        n_samples=settings.n_samples,
        revision=settings.revision,
        dataset=loaded.name,
        reasoning_effort=settings.reasoning_effort,
    )
    cache = ResponseCache()
    samples = SamplesFile(path, resume=resume)
    manifest = Manifest(
        path,
        settings=settings.to_manifest(),
        dataset=loaded,
        extra={
            "selection": {"tasks": len(tasks), "first": tasks[0].task_id, "last": tasks[-1].task_id},
            "direct_completion": provider.direct_completion,
        },
        resume=resume,
    )
    progress = Progress(
        TextColumn("[bold]generating[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn("samples"),
        TokensPerSecondColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    bar = progress.add_task(f"{settings.model} · {loaded.label} · {settings.split}", total=None)
    started = time.monotonic()

    def report(stats: RunStats) -> None:
        seconds = max(time.monotonic() - started, 1e-6)
        progress.update(
            bar,
            total=stats.wanted - stats.already_written,
            completed=stats.written,
            tokens_per_second=stats.output_tokens / seconds,
        )

    runner = GenerationRunner(settings, provider, cache, samples, read_cache=read_cache, progress=report)
    manifest.update(runner.stats, "running")
    try:
        with progress:
            stats = runner.run(tasks)
    except GenerationError as exc:
        manifest.update(runner.stats, "failed", error=str(exc))
        kept = runner.stats.already_written + runner.stats.written
        raise GenerationError(f"{exc} ({kept} samples kept in {path}: rerun to resume)" if kept else str(exc)) from None
    except KeyboardInterrupt:
        manifest.update(runner.stats, "interrupted")
        err_console.print(
            f"[yellow]interrupted:[/] samples written so far are kept in {escape(str(path))}; rerun to resume",
            highlight=False,
        )
        sys.stdout.flush()
        sys.stderr.flush()
        # Requests still in flight would hold the exit for up to --timeout: their answers are lost either way.
        os._exit(130)
    finally:
        samples.close()
        cache.close()
        provider.close()
    manifest.update(stats, "complete")
    console.print(
        f"wrote {path}: {stats.wanted} samples for {stats.tasks} tasks ({stats.already_written} already there, "
        f"{stats.cached} from the cache, {stats.generated} generated; {stats.input_tokens:,} input and "
        f"{stats.output_tokens:,} output tokens)",
        highlight=False,
        soft_wrap=True,
    )
    return path
