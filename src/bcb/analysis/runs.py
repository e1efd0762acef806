"""Results files as runs: who produced them, on what, and which tasks can be trusted.

An analysis reads files written by two tools. bcb files say everything in their manifest; official
files say little, so the rest is taken from the sibling `*_pass_at_k.json` and, last, from the
official file-name rule (`<model>--bigcodebench-[hard-]<split>--...`). Nothing here guesses
silently: what stays unknown is None, and the front ends print it as unknown.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from bcb.dataset import DATASETS, Dataset, DatasetError, task_number
from bcb.evaluation.failures import Diagnosis, classify
from bcb.evaluation.laziness import lazy_reason
from bcb.evaluation.results import (
    EvalResults,
    ResultsError,
    SampleResult,
    model_name,
    read_eval_results,
    read_pass_at_k,
)

EVAL_SUFFIX = "_eval_results.json"
DEFAULT_ENTRY_POINT = "task_func"
"""Every BigCodeBench task's entry point; used to spot lazy answers when no dataset is loaded."""


class AnalysisError(DatasetError):
    """Inputs that cannot be analysed together; one line saying what to change."""


@dataclass(frozen=True)
class DatasetRef:
    """The dataset a bcb run names in its manifest."""

    name: str
    version: str | None
    subset: str
    content_hash: str

    @property
    def label(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"{self.name}{version}" + ("" if self.subset == "full" else f" ({self.subset})")


@dataclass(frozen=True)
class Run:
    """One results file and what is known about how it was produced."""

    path: Path
    model: str
    split: str | None
    subset: str
    calibrated: bool | None
    results: EvalResults = field(repr=False, compare=False)
    gt_failed: frozenset[str] | None
    """Tasks whose ground truth failed in that run's environment; None when it was not checked."""
    dataset: DatasetRef | None
    manifest: Mapping[str, Any] = field(repr=False, compare=False)
    pass_at_k: Mapping[str, Any] | None = field(repr=False, compare=False)

    @property
    def is_bcb(self) -> bool:
        """bcb files judged laziness themselves; official files did not."""
        return bool(self.results.bcb)

    @property
    def task_ids(self) -> frozenset[str]:
        return frozenset(t for t, rows in self.results.eval.items() if rows)

    def rates(self, tasks: Iterable[str]) -> dict[str, float]:
        """task -> fraction of its samples solved (pass@1 of that task)."""
        out = {}
        for task_id in tasks:
            rows = self.results.eval[task_id]
            out[task_id] = sum(r.solved for r in rows) / len(rows)
        return out

    def lazy(self, sample: SampleResult, entry_point: str) -> str | None:
        """bcb's verdict when the file has one; for official files bcb's rule applied afresh, so
        the lazy column means the same for both (the pass@1 of official files still counts them,
        as the official evaluator did)."""
        if self.is_bcb:
            return sample.lazy
        return lazy_reason(sample.solution, entry_point)

    def diagnosis(
        self, sample: SampleResult, entry_point: str = DEFAULT_ENTRY_POINT, code_prompt: str | None = None
    ) -> Diagnosis | None:
        """Why the sample is not solved, by the same rules for bcb and official files, from what
        the file stored (its tracebacks are read afresh, so the library and attribute behind an
        `api` failure are known for files written before bcb kept categories); None for a solve."""
        return classify(
            sample.status,
            sample.details,
            sample.solution,
            lazy=self.lazy(sample, entry_point),
            gt_failed=self.gt_failed is not None and sample.task_id in self.gt_failed,
            code_prompt=code_prompt,
            entry_point=entry_point,
            calibrated=self.calibrated,
        )

    def category(
        self, sample: SampleResult, entry_point: str = DEFAULT_ENTRY_POINT, code_prompt: str | None = None
    ) -> str | None:
        found = self.diagnosis(sample, entry_point, code_prompt)
        return found.category if found else None


@dataclass(frozen=True)
class Entry:
    """One leaderboard line: a model on a split and subset, its calibrated and raw runs paired."""

    label: str
    run: Run
    """The run that is scored: the calibrated one when both are known."""
    raw: Run | None = None
    """The uncalibrated twin of `run`, when one was given."""

    @property
    def model(self) -> str:
        return self.run.model

    @property
    def runs(self) -> tuple[Run, ...]:
        return (self.run,) if self.raw is None else (self.run, self.raw)


def pass_at_k_path(results_path: Path) -> Path:
    name = results_path.name
    if name == "eval_results.json":
        return results_path.with_name("pass_at_k.json")
    if name.endswith(EVAL_SUFFIX):
        return results_path.with_name(name[: -len(EVAL_SUFFIX)] + "_pass_at_k.json")
    return results_path.with_name(results_path.stem + "_pass_at_k.json")


def _name_fields(path: Path) -> tuple[str | None, str | None, bool | None]:
    """(split, subset, calibrated) from an official file name; None where it says nothing."""
    name = path.name
    calibrated = True if "calibrated" in name else None
    if "--bigcodebench-" not in name:
        return None, None, calibrated
    head = name.split("--bigcodebench-", 1)[1].split("--", 1)[0].split("-")
    split = "instruct" if "instruct" in head else "complete" if "complete" in head else None
    return split, "hard" if "hard" in head else "full", calibrated


def _file_model(path: Path) -> str:
    if path.name == "eval_results.json":
        return path.parent.name or "model"
    if "--bigcodebench-" in path.name:
        return model_name(path)
    name = path.name
    return name[: -len(EVAL_SUFFIX)] if name.endswith(EVAL_SUFFIX) else path.stem


LABEL_SUFFIXES = (EVAL_SUFFIX, "_pass_at_k.json", ".jsonl.gz", ".jsonl", ".json")


def model_label(name: str) -> str:
    """A model name for people: without the file suffixes the official rule leaves on names that
    do not follow its `<model>--bigcodebench-...` pattern (`my-model.jsonl` -> `my-model`)."""
    for suffix in LABEL_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _gt_failed(
    manifest: Mapping[str, Any], passk: Mapping[str, Any] | None, tasks: frozenset[str]
) -> frozenset[str] | None:
    gt = manifest.get("ground_truth")
    if isinstance(gt, dict):
        return frozenset(gt.get("failed_tasks") or ()) if gt.get("checked") else None
    if not passk or not isinstance(passk.get("failed_tasks"), list):
        return None
    if passk.get("gt_checked") is False:
        return None
    failed = frozenset(str(t) for t in passk["failed_tasks"])
    # With the ground truth skipped the official evaluator reports rate 0 and every task failed.
    if not passk.get("gt_pass_rate") and tasks and tasks <= failed:
        return None
    return failed


def _dataset_ref(manifest: Mapping[str, Any]) -> DatasetRef | None:
    data = manifest.get("dataset")
    if not isinstance(data, dict) or not data.get("content_hash"):
        return None
    return DatasetRef(
        str(data.get("name") or "custom"),
        data.get("version"),
        str(data.get("subset") or "full"),
        str(data["content_hash"]),
    )


def load_run(path: str | os.PathLike[str], name: str | None = None) -> Run:
    """Read a results file and what its siblings and manifest say about it."""
    path = Path(path)
    if path.is_dir():
        path = path / "eval_results.json"
    results = read_eval_results(path)
    if not results.counts():
        raise ResultsError(f"{path}: holds no sample results")
    found = results.bcb.get("manifest")
    manifest: dict[str, Any] = found if isinstance(found, dict) else {}
    sibling = pass_at_k_path(path)
    passk: Mapping[str, Any] = read_pass_at_k(sibling) if sibling.is_file() else {}
    name_split, name_subset, name_calibrated = _name_fields(path)
    ref = _dataset_ref(manifest)

    def first(*values: Any) -> Any:
        return next((v for v in values if v is not None), None)

    model = name or model_label(
        first(
            passk.get("model") or None,
            model_name(manifest["samples"]) if manifest.get("samples") else None,
            _file_model(path),
        )
    )
    split = first(passk.get("split"), manifest.get("split"), name_split)
    subset = first(passk.get("subset"), ref.subset if ref else None, name_subset, "full")
    calibrated = first(passk.get("calibrated"), manifest.get("calibrated"), name_calibrated)
    return Run(
        path=path,
        model=str(model),
        split=str(split) if split is not None else None,
        subset=str(subset),
        calibrated=bool(calibrated) if calibrated is not None else None,
        results=results,
        gt_failed=_gt_failed(manifest, passk, frozenset(results.counts())),
        dataset=ref,
        manifest=manifest,
        pass_at_k=passk or None,
    )


def load_runs(paths: Sequence[str | os.PathLike[str]], names: Sequence[str] = ()) -> list[Run]:
    """`names[i]` renames the i-th file's model (an empty name keeps the file's)."""
    if len(names) > len(paths):
        raise AnalysisError(
            f"{len(names)} --name values for {len(paths)} results files: give at most one per file, in order"
        )
    return [load_run(p, names[i] if i < len(names) and names[i] else None) for i, p in enumerate(paths)]


def pair_runs(runs: Sequence[Run]) -> list[Entry]:
    """Group runs into leaderboard entries: one per (model, split, subset), the calibrated run
    scored and its raw twin shown beside it. Labels are the model name, qualified only as far as
    needed to tell entries apart."""
    groups: dict[tuple[str, str | None, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.model, run.split, run.subset), []).append(run)
    entries: list[tuple[tuple[str, str | None, str], Run, Run | None]] = []
    for key, members in groups.items():
        by_state: dict[bool | None, Run] = {}
        for run in members:
            if run.calibrated in by_state:
                other = by_state[run.calibrated]
                raise AnalysisError(
                    f"{other.path} and {run.path} are both {_describe(key, run.calibrated)}: "
                    "tell them apart with --name (one per file, in order)"
                )
            by_state[run.calibrated] = run
        if len(by_state) == 1:
            entries.append((key, members[0], None))
        elif set(by_state) == {True, False}:
            entries.append((key, by_state[True], by_state[False]))
        else:
            paths = ", ".join(str(r.path) for r in members)
            raise AnalysisError(
                f"{paths}: several runs of {_describe(key, None)} whose calibration is unknown; rename them with --name"
            )
    splits = {key[1] for key, _, _ in entries}
    subsets = {key[2] for key, _, _ in entries}
    out = []
    for (model, split, subset), run, raw in entries:
        label = model
        if len(splits) > 1:
            label += f" · {split or 'split?'}"
        if len(subsets) > 1:
            label += f" · {subset}"
        out.append(Entry(label, run, raw))
    return out


def distinct_labels(runs: Sequence[Run]) -> list[str]:
    """Model names, qualified by split, subset and calibration only as far as needed to tell the
    runs apart; runs that still look alike are numbered in the order given."""
    labels = [run.model for run in runs]
    for qualify in (
        lambda r: r.split or "split?",
        lambda r: r.subset,
        lambda r: {True: "calibrated", False: "raw", None: "calibration?"}[r.calibrated],
    ):
        if len(set(labels)) == len(labels):
            return labels
        values = {qualify(r) for r in runs}
        if len(values) > 1:
            labels = [f"{label} · {qualify(r)}" for label, r in zip(labels, runs)]
    if len(set(labels)) < len(labels):
        labels = [f"{label} #{i + 1}" for i, label in enumerate(labels)]
    return labels


def _describe(key: tuple[str, str | None, str], calibrated: bool | None) -> str:
    model, split, subset = key
    state = {True: "calibrated", False: "raw", None: "calibration unknown"}[calibrated]
    return f"{model} ({split or 'split unknown'}, {subset}, {state})"


# ---------------------------------------------------------------------------------------------
# Which dataset the runs were made on


@dataclass(frozen=True)
class DatasetChoice:
    """What to load when the user named no dataset, and why."""

    name: str
    version: str | None
    notes: tuple[str, ...] = ()


def choose_dataset(
    runs: Sequence[Run], name: str | None, version: str | None, dataset_file: object | None
) -> DatasetChoice:
    """The user's choice wins; otherwise the dataset the bcb manifests name (the most common one
    when they disagree, with a warning), otherwise the default release."""
    refs = [r.dataset for r in runs if r.dataset is not None]
    notes: list[str] = []
    # A Hard run hashes its subset, so hashes compare only within a subset; versions compare across.
    versions = sorted({f"{ref.name} {ref.version or ''}".strip() for ref in refs})
    if len(versions) > 1:
        notes.append(
            f"the results were produced on different datasets ({', '.join(versions)}): scores are not comparable task for task"
        )
    elif any(
        len({ref.content_hash for ref in refs if ref.subset == subset}) > 1 for subset in {ref.subset for ref in refs}
    ):
        notes.append(
            f"the results name {versions[0]} with different content hashes: scores may not be comparable task for task"
        )
    if name is not None or version is not None or dataset_file is not None:
        return DatasetChoice(name or "bigcodebench", version, tuple(notes))
    known = Counter((ref.name, ref.version) for ref in refs if ref.name in DATASETS)
    if not known:
        return DatasetChoice("bigcodebench", None, tuple(notes))
    (chosen_name, chosen_version), _ = known.most_common(1)[0]
    return DatasetChoice(chosen_name, chosen_version if chosen_name == "bigcodebench" else None, tuple(notes))


def dataset_mismatches(runs: Sequence[Run], dataset: Dataset) -> list[str]:
    """Warnings for runs whose manifest names another dataset than the one loaded."""
    notes = []
    for run in runs:
        ref = run.dataset
        if ref is None:
            continue
        if ref.subset == dataset.subset and ref.content_hash != dataset.content_hash:
            notes.append(
                f"{run.path.name} was produced on {ref.label} ({ref.content_hash[:12]}...), not on the loaded {dataset.label}"
            )
        elif ref.version != dataset.version and ref.name == dataset.name == "bigcodebench":
            notes.append(f"{run.path.name} was produced on {ref.label}, not on the loaded {dataset.label}")
    return notes


# ---------------------------------------------------------------------------------------------
# Which tasks are scored


@dataclass(frozen=True)
class Scope:
    """The tasks an analysis scores, and how tasks whose ground truth failed are treated."""

    tasks: Mapping[str, tuple[str, ...]]
    """entry label -> the tasks its pass@1 is computed on (sorted by task number)."""
    common: tuple[str, ...]
    """Tasks every entry was scored on: what cross-model comparisons (Elo, domains, stacks) use."""
    gt_failing: frozenset[str]
    """Tasks whose ground truth failed in at least one run."""
    exclude_gt_failures: bool
    gt_unknown: tuple[str, ...] = ()
    """Labels of entries whose ground truth was not checked."""
    notes: tuple[str, ...] = ()
    subset: str | None = None
    """"hard" when the user restricted the scores to the Hard tasks (`--subset hard`)."""

    @property
    def policy(self) -> str:
        """One line saying what was done with GT-failing tasks, for every output."""
        n = len(self.gt_failing)
        if self.gt_unknown and len(self.gt_unknown) == len(self.tasks):
            return "unknown: no run says whether its ground truth passed (no pass_at_k file, or the check was skipped)"
        unknown = f"; ground truth not checked for {', '.join(self.gt_unknown)}" if self.gt_unknown else ""
        if not n:
            return f"no task's ground truth failed in the runs that checked it{unknown}"
        what = (
            "excluded from every score"
            if self.exclude_gt_failures
            else "flagged (still scored; --exclude-gt-failures drops them)"
        )
        return f"{n} task{'s' if n != 1 else ''} whose ground truth failed: {what}{unknown}"


def sort_ids(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(ids, key=lambda t: (_number(t), t)))


def _number(task_id: str) -> int:
    try:
        return task_number(task_id)
    except DatasetError:
        return -1


def scope_for(entries: Sequence[Entry], *, dataset: Dataset | None = None, exclude_gt_failures: bool = False) -> Scope:
    notes: list[str] = []
    gt_failing: set[str] = set()
    unknown = []
    for entry in entries:
        if entry.run.gt_failed is None:
            unknown.append(entry.label)
        for run in entry.runs:
            gt_failing |= run.gt_failed or set()
    if dataset is not None:
        known = set(dataset.by_id)
        gt_failing &= known
    tasks: dict[str, tuple[str, ...]] = {}
    for entry in entries:
        ids = set(entry.run.task_ids)
        if dataset is not None:
            outside = ids - known
            if outside and dataset.subset == "full":  # a Hard restriction is noted once, below
                notes.append(
                    f"{entry.label}: {len(outside)} task(s) not in {dataset.label} left out (e.g. {sort_ids(outside)[0]})"
                )
            ids &= known
        if exclude_gt_failures:
            ids -= gt_failing
        if not ids:
            raise AnalysisError(f"{entry.run.path}: none of its tasks is left to score")
        tasks[entry.label] = sort_ids(ids)
    common = set.intersection(*(set(t) for t in tasks.values())) if tasks else set()
    if tasks and len(common) < max(len(t) for t in tasks.values()):
        notes.append(
            f"the entries cover different tasks: cross-model comparisons use the {len(common)} tasks all of them have"
        )
    subset = dataset.subset if dataset is not None and dataset.subset != "full" else None
    if subset:
        notes.insert(0, f"scored on the {len(known)} {subset.capitalize()} tasks only (--subset {subset})")
    return Scope(
        tasks, sort_ids(common), frozenset(gt_failing), exclude_gt_failures, tuple(unknown), tuple(notes), subset
    )


def common_rates(entries: Sequence[Entry], scope: Scope) -> dict[str, dict[str, float]]:
    """label -> task -> fraction of its samples solved, on the tasks every model has: what the
    per-domain, per-library and stack scores rest on."""
    return {e.label: e.run.rates(scope.common) for e in entries}


def entry_points(dataset: Dataset | None) -> Mapping[str, str]:
    """task -> entry point; BigCodeBench's is always `task_func`, which stands in without a dataset."""
    return {t.task_id: t.entry_point for t in dataset.tasks} if dataset is not None else {}
