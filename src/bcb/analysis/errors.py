"""Why models fail: counts per model and failure category, the libraries behind `import` and `api`
failures (what each model invents or misuses, counted), and one task across models.

The categories come from `bcb.evaluation.failures`, applied to what each results file stored, so
bcb and official files are read alike. The JSON form is stable; its keys are documented in the
README ("Why did it fail?") and only ever gain new keys:

    {"version": 1, "categories": [names in display order], "gt_failures": str, "notes": [str],
     "models": [{"label", "file", "samples", "unsolved", "library_failures", "library_failure_rate",
                 "categories": {category: count},            # every category, 0 included
                 "libraries": {library: {category: count}},  # failures attributed to a library
                 "attributes": [{"library", "attribute", "category", "count"}]}]}  # most frequent first
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from bcb.analysis.runs import DEFAULT_ENTRY_POINT, Entry, Run, Scope
from bcb.dataset import Dataset
from bcb.evaluation.failures import CATEGORIES, LIBRARY_CATEGORIES, MODULE, Diagnosis, is_bcb_internal, library_of
from bcb.evaluation.results import SampleResult

JSON_VERSION = 1
TOP_ATTRIBUTES = 10


@dataclass(frozen=True)
class TaskPrompt:
    """What the classifier needs to know of a task; without a dataset the defaults stand in."""

    entry_point: str = DEFAULT_ENTRY_POINT
    code_prompt: str | None = None


def task_prompts(dataset: Dataset | None) -> dict[str, TaskPrompt]:
    """task -> what the classifier needs of it; empty without a dataset, where the defaults stand in."""
    return {t.task_id: TaskPrompt(t.entry_point, t.code_prompt) for t in dataset.tasks} if dataset is not None else {}


def diagnose(run: Run, sample: SampleResult, prompts: Mapping[str, TaskPrompt]) -> Diagnosis | None:
    prompt = prompts.get(sample.task_id, TaskPrompt())
    return run.diagnosis(sample, prompt.entry_point, prompt.code_prompt)


@dataclass(frozen=True)
class ModelErrors:
    label: str
    file: str
    samples: int
    categories: Mapping[str, int]
    libraries: Mapping[str, Mapping[str, int]]
    attributes: tuple[tuple[str, str, str, int], ...]
    """(library, attribute, category, count), most frequent first."""

    @property
    def unsolved(self) -> int:
        return sum(self.categories.values())

    @property
    def library_failures(self) -> int:
        return sum(self.categories.get(c, 0) for c in LIBRARY_CATEGORIES)

    @property
    def library_failure_rate(self) -> float:
        return self.library_failures / self.samples if self.samples else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "file": self.file,
            "samples": self.samples,
            "unsolved": self.unsolved,
            "library_failures": self.library_failures,
            "library_failure_rate": self.library_failure_rate,
            "categories": dict(self.categories),
            "libraries": {lib: dict(c) for lib, c in self.libraries.items()},
            "attributes": [
                {"library": lib, "attribute": attr, "category": cat, "count": n}
                for lib, attr, cat, n in self.attributes
            ],
        }


@dataclass(frozen=True)
class ErrorReport:
    models: tuple[ModelErrors, ...]
    gt_failures: str
    notes: tuple[str, ...] = ()

    @property
    def shown_categories(self) -> list[str]:
        """Categories some model has, in display order."""
        return [c for c in CATEGORIES if any(m.categories.get(c) for m in self.models)]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "categories": list(CATEGORIES),
            "gt_failures": self.gt_failures,
            "notes": list(self.notes),
            "models": [m.to_json() for m in self.models],
        }


def model_errors(label: str, run: Run, tasks: Sequence[str], prompts: Mapping[str, TaskPrompt]) -> ModelErrors:
    categories: Counter[str] = Counter()
    libraries: dict[str, Counter[str]] = {}
    attributes: Counter[tuple[str, str, str]] = Counter()
    samples = 0
    for task_id in tasks:
        for sample in run.results.eval.get(task_id, ()):
            samples += 1
            found = diagnose(run, sample, prompts)
            if found is None:
                continue
            categories[found.category] += 1
            if found.library:
                libraries.setdefault(found.library, Counter())[found.category] += 1
                if found.category in LIBRARY_CATEGORIES:
                    attributes[(found.library, found.attribute or "?", found.category)] += 1
    ordered_libs = sorted(libraries, key=lambda lib: (-sum(libraries[lib].values()), lib))
    top = sorted(attributes.items(), key=lambda item: (-item[1], item[0]))
    return ModelErrors(
        label=label,
        file=str(run.path),
        samples=samples,
        categories={c: categories.get(c, 0) for c in CATEGORIES},
        libraries={lib: {c: libraries[lib][c] for c in CATEGORIES if libraries[lib][c]} for lib in ordered_libs},
        attributes=tuple((lib, attr, cat, n) for (lib, attr, cat), n in top),
    )


def error_report(entries: Sequence[Entry], scope: Scope, prompts: Mapping[str, TaskPrompt]) -> ErrorReport:
    models = tuple(model_errors(e.label, e.run, scope.tasks[e.label], prompts) for e in entries)
    return ErrorReport(models, scope.policy, scope.notes)


# ---------------------------------------------------------------------------------------------
# Tracebacks for people

_FRAME_LINE = re.compile(r'^(?P<indent>\s*)File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>.+)$')
_MACHINE_PATHS = (
    (re.compile(r"(?:/[^\s'\"():]+)*/(?:site|dist)-packages/"), "<site-packages>/"),
    (re.compile(r"(?:/[^\s'\"():]+)*/lib/python3\.\d+/"), "<python>/"),
)


def scrub_paths(text: str) -> str:
    """Where Python and its libraries are installed on the machine that ran the sample says
    nothing about the sample: `/x/.venv/lib/python3.11/site-packages/pandas/...` ->
    `<site-packages>/pandas/...`."""
    for pattern, replacement in _MACHINE_PATHS:
        text = pattern.sub(replacement, text)
    return text


def trim_traceback(text: str, source: str = "") -> str:
    """A traceback cut down to the sample's own frames: bcb's runner frames removed, each run of
    library frames folded into its last frame (where the error was raised) with a count, machine
    paths scrubbed, and the program's own lines shown (`source` is the program and its tests as
    executed, whose lines the traceback cannot show)."""
    lines = str(text).splitlines()
    code = source.splitlines()
    out: list[str] = []
    pending: list[tuple[str, str, list[str]]] = []  # a run of library frames: (library, frame line, its source lines)

    def flush() -> None:
        if not pending:
            return
        library, frame, shown = pending[-1]
        more = len(pending) - 1
        out.append(frame + (f"   [+{more} more frame{'s' if more != 1 else ''} in {library}]" if more else ""))
        out.extend(shown)
        pending.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        match = _FRAME_LINE.match(line)
        if not match:
            flush()
            out.append(scrub_paths(line))
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].startswith(match["indent"] + "  ") and not _FRAME_LINE.match(lines[j]):
            j += 1
        shown = [scrub_paths(s) for s in lines[i + 1 : j]]
        path = match["file"]
        if is_bcb_internal(path):
            pass
        elif path == MODULE:
            flush()
            out.append(line)
            number = int(match["line"])
            if not shown and 0 < number <= len(code):
                shown = [match["indent"] + "  " + code[number - 1].strip()]
            out.extend(shown)
        else:
            pending.append((library_of(path) or "a library", scrub_paths(line), shown))
        i = j
    flush()
    return "\n".join(out)


_TEST_DEF = re.compile(r"^\s+def (test\w*)\s*\(", re.MULTILINE)


def test_order(test_source: str) -> dict[str, int]:
    """Test method -> its position in the test source, the order a reader meets them."""
    return {name: i for i, name in enumerate(dict.fromkeys(_TEST_DEF.findall(test_source)))}


def in_test_order(names: Sequence[str], order: Mapping[str, int]) -> list[str]:
    """`names` (failing tests as the results file keys them, subtests as `test_x (param=1)`) in
    the order the test source defines them; `ALL` first, names the source lacks last."""

    def key(name: str) -> tuple[int, int, str]:
        if name == "ALL":
            return (0, 0, name)
        base = name.split(" (", 1)[0]
        return (1, order.get(base, len(order)), name)

    return sorted(names, key=key)


# ---------------------------------------------------------------------------------------------
# One task across models


@dataclass(frozen=True)
class TaskSample:
    label: str
    index: int
    status: str
    diagnosis: Diagnosis | None

    def to_json(self) -> dict[str, Any]:
        base: dict[str, Any] = {"label": self.label, "index": self.index, "status": self.status, "category": None}
        if self.diagnosis is not None:
            base.update(self.diagnosis.to_json())
        return base


def task_errors(entries: Sequence[Entry], task_id: str, prompts: Mapping[str, TaskPrompt]) -> list[TaskSample]:
    out = []
    for entry in entries:
        for i, sample in enumerate(entry.run.results.eval.get(task_id, ())):
            out.append(TaskSample(entry.label, i, sample.status, diagnose(entry.run, sample, prompts)))
    return out


# ---------------------------------------------------------------------------------------------
# Text forms


def table_rows(report: ErrorReport) -> list[list[str]]:
    """One column per model, one row per category some model has, then the totals and the share
    of samples failing on a library (api+import)."""
    rows = [["category", *(m.label for m in report.models)]]
    for cat in report.shown_categories:
        rows.append([cat, *(str(m.categories[cat]) for m in report.models)])
    rows.append(["unsolved", *(str(m.unsolved) for m in report.models)])
    rows.append(["samples", *(str(m.samples) for m in report.models)])
    rows.append(["api+import %", *(f"{100 * m.library_failure_rate:.1f}" for m in report.models)])
    return rows


def library_rows(report: ErrorReport, top: int = TOP_ATTRIBUTES) -> list[list[str]]:
    """What each model invents or misuses: library, category, count, and the attributes behind it."""
    rows = [["model", "library", "category", "count", "most frequent"]]
    for m in report.models:
        found = [
            (lib, cat, n)
            for lib, counts in m.libraries.items()
            for cat, n in counts.items()
            if cat in LIBRARY_CATEGORIES
        ]
        for lib, cat, n in sorted(found, key=lambda item: (-item[2], item[0], item[1])):
            attrs = [f"{attr} x{k}" for l2, attr, c2, k in m.attributes if l2 == lib and c2 == cat][:top]
            rows.append([m.label, lib, cat, str(n), ", ".join(attrs)])
    return rows


def task_rows(samples: Sequence[TaskSample]) -> list[list[str]]:
    rows = [["model", "sample", "status", "category", "why", "failing tests"]]
    for s in samples:
        d = s.diagnosis
        named = [f"{t.test} ({t.category})" for t in d.tests] if d else []
        tests = ", ".join(named[:3]) + (f", +{len(named) - 3} more" if len(named) > 3 else "")
        rows.append([s.label, str(s.index), s.status, d.category if d else "-", d.detail if d else "solved", tests])
    return rows


def to_csv(report: ErrorReport) -> str:
    """One row per (model, category), (model, library, category) and (model, attribute)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", "label", "category", "library", "attribute", "count", "samples"])
    for m in report.models:
        for cat, n in m.categories.items():
            writer.writerow(["category", m.label, cat, "", "", n, m.samples])
        for lib, counts in m.libraries.items():
            for cat, n in counts.items():
                writer.writerow(["library", m.label, cat, lib, "", n, m.samples])
        for lib, attr, cat, n in m.attributes:
            writer.writerow(["attribute", m.label, cat, lib, attr, n, m.samples])
    return out.getvalue()


def to_json_text(report: ErrorReport) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"


def task_json_text(task_id: str, samples: Sequence[TaskSample]) -> str:
    return (
        json.dumps({"version": JSON_VERSION, "task_id": task_id, "samples": [s.to_json() for s in samples]}, indent=2)
        + "\n"
    )


def task_csv(samples: Sequence[TaskSample]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["label", "index", "status", "category", "detail", "library", "attribute", "test", "test_category", "exception"]
    )
    for s in samples:
        d = s.diagnosis
        if d is None:
            writer.writerow([s.label, s.index, s.status, "", "", "", "", "", "", ""])
            continue
        for t in d.tests or (None,):
            writer.writerow(
                [s.label, s.index, s.status, d.category, d.detail, d.library or "", d.attribute or "",
                 t.test if t else "", t.category if t else "", (t.exception or "") if t else ""]
            )  # fmt: skip
    return out.getvalue()
