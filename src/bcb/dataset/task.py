"""The Task record: one BigCodeBench problem, as every later layer sees it."""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass
from typing import Any, Literal, Mapping

from bcb.errors import BcbError

Split = Literal["complete", "instruct"]
SPLITS: tuple[Split, ...] = ("complete", "instruct")

#: The nine fields of the official schema, in the order the official files write them.
FIELDS: tuple[str, ...] = (
    "task_id",
    "complete_prompt",
    "instruct_prompt",
    "canonical_solution",
    "code_prompt",
    "test",
    "entry_point",
    "doc_struct",
    "libs",
)

_NUMBER = re.compile(r"(\d+)$")


class DatasetError(BcbError, ValueError):
    """A dataset that cannot be used as asked; the message is one line the user can act on."""


class TaskError(DatasetError):
    """A task record that cannot be used; the message names the task and the field."""


@dataclass(frozen=True)
class Task:
    """One problem. `doc_struct` and `libs` come parsed; the raw strings are kept because the
    content hash and exports must reproduce the source byte for byte."""

    task_id: str
    complete_prompt: str
    instruct_prompt: str
    canonical_solution: str
    code_prompt: str
    test: str
    entry_point: str
    doc_struct: Mapping[str, Any]
    libs: tuple[str, ...]
    raw_doc_struct: str
    raw_libs: str

    @property
    def number(self) -> int:
        """The numeric part of the id (`BigCodeBench/13` -> 13), the official sort key."""
        return task_number(self.task_id)

    def prompt(self, split: Split) -> str:
        if split == "complete":
            return self.complete_prompt
        if split == "instruct":
            return self.instruct_prompt
        raise ValueError(f"unknown split {split!r}: use 'complete' or 'instruct'")

    @property
    def solution(self) -> str:
        """The canonical solution as a self-contained program (what the official evaluator runs
        for its ground-truth check)."""
        return self.complete_prompt + "\n" + self.canonical_solution

    def to_record(self) -> dict[str, str]:
        """The official nine-field record, every value a string as in the released files."""
        return {
            "task_id": self.task_id,
            "complete_prompt": self.complete_prompt,
            "instruct_prompt": self.instruct_prompt,
            "canonical_solution": self.canonical_solution,
            "code_prompt": self.code_prompt,
            "test": self.test,
            "entry_point": self.entry_point,
            "doc_struct": self.raw_doc_struct,
            "libs": self.raw_libs,
        }


def task_number(task_id: str) -> int:
    match = _NUMBER.search(task_id)
    if match is None:
        raise TaskError(f"{task_id}: task_id has no numeric part (expected e.g. 'BigCodeBench/13')")
    return int(match.group(1))


def parse_task(record: Mapping[str, Any], *, where: str = "") -> Task:
    """Build a Task from an official record, checking what later layers rely on.

    Extra keys (the Hugging Face Hard split carries a few) are ignored. Errors name the task and
    the field so that one bad line in a 1,140-line file can be found at once.
    """
    prefix = f"{where}: " if where else ""
    task_id = record.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise TaskError(f"{prefix}record has no task_id")
    name = f"{prefix}{task_id}"
    missing = [f for f in FIELDS if f not in record]
    if missing:
        raise TaskError(f"{name}: missing field {', '.join(repr(f) for f in missing)}")
    for f in FIELDS:
        if f not in ("doc_struct", "libs") and not isinstance(record[f], str):
            raise TaskError(f"{name}: field {f!r} must be a string, got {type(record[f]).__name__}")
        if isinstance(record[f], str):
            try:
                record[f].encode("utf-8")
            except UnicodeEncodeError as exc:  # JSON can escape a lone surrogate; no program text can hold one
                raise TaskError(f"{name}: field {f!r} holds a lone surrogate at character {exc.start}") from None
    if not _NUMBER.search(task_id):
        raise TaskError(f"{name}: field 'task_id' has no numeric part (expected e.g. 'BigCodeBench/13')")

    raw_doc = record["doc_struct"]
    if isinstance(raw_doc, str):
        try:
            doc = json.loads(raw_doc)
        except json.JSONDecodeError as exc:
            raise TaskError(f"{name}: field 'doc_struct' is not valid JSON ({exc.msg})") from None
    else:
        doc, raw_doc = raw_doc, json.dumps(raw_doc)
    if not isinstance(doc, dict):
        raise TaskError(f"{name}: field 'doc_struct' must be a JSON object")

    raw_libs = record["libs"]
    if isinstance(raw_libs, str):
        try:
            libs = ast.literal_eval(raw_libs) if raw_libs.strip() else []
        except (ValueError, SyntaxError):
            raise TaskError(f"{name}: field 'libs' is not a list literal: {raw_libs[:60]!r}") from None
    elif isinstance(raw_libs, (list, tuple)):
        libs, raw_libs = raw_libs, repr(list(raw_libs))
    else:
        libs = None
    if not isinstance(libs, (list, tuple)) or not all(isinstance(x, str) for x in libs):
        raise TaskError(f"{name}: field 'libs' must be a list of library names")

    if not record["entry_point"].isidentifier():
        raise TaskError(f"{name}: field 'entry_point' is not a Python identifier: {record['entry_point']!r}")

    return Task(
        task_id=task_id,
        complete_prompt=record["complete_prompt"],
        instruct_prompt=record["instruct_prompt"],
        canonical_solution=record["canonical_solution"],
        code_prompt=record["code_prompt"],
        test=record["test"],
        entry_point=record["entry_point"],
        doc_struct=doc,
        libs=tuple(libs),
        raw_doc_struct=raw_doc,
        raw_libs=raw_libs,
    )


def check_code(task: Task) -> None:
    """Parse the canonical program and the tests. Costly (~0.3 ms per task), so the loader only
    calls it for files whose hash is not a released version's. Warnings about the task's own code
    (invalid escapes, common in released tasks) are the task's business, not the user's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_code(task)


def _check_code(task: Task) -> None:
    try:
        ast.parse(task.solution)
    except SyntaxError as exc:
        raise TaskError(
            f"{task.task_id}: field 'canonical_solution' does not parse after the complete_prompt "
            f"(line {exc.lineno}: {exc.msg})"
        ) from None
    try:
        tree = ast.parse(task.test)
    except SyntaxError as exc:
        raise TaskError(f"{task.task_id}: field 'test' does not parse (line {exc.lineno}: {exc.msg})") from None
    if not any(isinstance(node, ast.ClassDef) and node.name == "TestCases" for node in tree.body):
        raise TaskError(f"{task.task_id}: field 'test' defines no class TestCases")
