"""New names: plausible, reproducible from (seed, task), and never already present in the task.

A new name that appears nowhere in the task's text cannot capture or be captured by any other
binding, whatever the scopes, so freshness is checked against every identifier-like word of every
field rather than reasoned about per scope. Parameters and locals keep their meaning (synonyms of
their snake_case parts, else a neutral affix) so that the perturbation tests recall of the exact
text, not the model's reading of a misleading name; the entry point carries no meaning
(`task_func`) and gets an arbitrary verb_noun.
"""

from __future__ import annotations

import builtins
import hashlib
import itertools
import keyword
import random
import re
from typing import Iterable

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

VERBS = (
    "analyze",
    "apply",
    "arrange",
    "assemble",
    "build",
    "calculate",
    "collect",
    "compose",
    "compute",
    "construct",
    "convert",
    "craft",
    "derive",
    "evaluate",
    "examine",
    "execute",
    "extract",
    "fetch",
    "format",
    "gather",
    "generate",
    "handle",
    "inspect",
    "measure",
    "organize",
    "parse",
    "perform",
    "prepare",
    "process",
    "produce",
    "render",
    "resolve",
    "run",
    "solve",
    "summarize",
    "transform",
)
NOUNS = (
    "batch",
    "bundle",
    "chart",
    "collection",
    "content",
    "data",
    "dataset",
    "entries",
    "figure",
    "frame",
    "grid",
    "inputs",
    "items",
    "job",
    "layout",
    "matrix",
    "metrics",
    "output",
    "payload",
    "profile",
    "records",
    "report",
    "request",
    "result",
    "sequence",
    "series",
    "snapshot",
    "stats",
    "summary",
    "table",
    "values",
    "workload",
)
ADJECTIVES = ("basic", "custom", "full", "given", "main", "primary", "raw", "simple", "source", "target")

#: Meaning-preserving alternatives for the snake_case parts of common parameter and variable names.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "arr": ("array", "vals"),
    "array": ("arr", "vector"),
    "avg": ("mean",),
    "bins": ("buckets", "n_bins"),
    "categories": ("groups", "classes"),
    "category": ("group", "kind"),
    "char": ("character", "ch"),
    "chars": ("characters",),
    "col": ("column", "field"),
    "cols": ("columns", "fields"),
    "column": ("col", "field"),
    "columns": ("cols", "fields"),
    "content": ("body", "payload"),
    "count": ("total", "tally"),
    "counts": ("tallies", "totals"),
    "data": ("records", "values", "dataset"),
    "date": ("day",),
    "df": ("frame", "table", "dataframe"),
    "dict": ("map", "mapping"),
    "dir": ("folder", "directory"),
    "directory": ("folder", "dir"),
    "dst": ("target", "dest"),
    "elements": ("items", "members"),
    "end": ("stop", "last"),
    "filename": ("file_name", "fname"),
    "filepath": ("file_path", "path_to_file"),
    "files": ("documents", "paths"),
    "freq": ("frequency",),
    "idx": ("index", "pos"),
    "index": ("idx", "position"),
    "input": ("source",),
    "item": ("element", "entry"),
    "items": ("elements", "entries"),
    "key": ("name", "field"),
    "keys": ("names", "fields"),
    "label": ("tag", "name"),
    "labels": ("tags", "names"),
    "length": ("size", "len"),
    "line": ("row", "record"),
    "lines": ("rows", "records"),
    "list": ("seq", "items"),
    "lists": ("seqs", "arrays"),
    "lst": ("items", "seq"),
    "max": ("upper", "maximum"),
    "min": ("lower", "minimum"),
    "msg": ("message",),
    "message": ("msg", "text"),
    "n": ("num", "count"),
    "name": ("label", "title"),
    "names": ("labels", "titles"),
    "num": ("n", "count"),
    "number": ("num", "value"),
    "numbers": ("nums", "values"),
    "nums": ("numbers", "values"),
    "obj": ("item", "value"),
    "out": ("output", "result"),
    "output": ("out", "result"),
    "path": ("location", "loc"),
    "pattern": ("regex", "expr"),
    "points": ("coords", "samples"),
    "random": ("rand", "rng"),
    "res": ("result", "output"),
    "result": ("res", "outcome", "output"),
    "results": ("outcomes", "outputs"),
    "row": ("record", "line"),
    "rows": ("records", "lines"),
    "sample": ("draw", "subset"),
    "samples": ("draws", "observations"),
    "seed": ("rng_seed", "seed_value"),
    "size": ("length", "count"),
    "src": ("source", "origin"),
    "start": ("begin", "first"),
    "str": ("string", "text"),
    "string": ("text", "str"),
    "temp": ("tmp",),
    "text": ("content", "string"),
    "tmp": ("temp",),
    "total": ("sum", "overall"),
    "url": ("link", "address"),
    "val": ("value",),
    "vals": ("values",),
    "value": ("val", "amount"),
    "values": ("vals", "amounts"),
    "word": ("token", "term"),
    "words": ("tokens", "terms"),
}
PARAM_AFFIXES = (("input_", ""), ("given_", ""), ("", "_value"), ("", "_arg"), ("", "_in"))
LOCAL_AFFIXES = (("tmp_", ""), ("cur_", ""), ("local_", ""), ("", "_val"), ("", "_obj"))


def task_rng(seed: int, task_id: str, purpose: str) -> random.Random:
    """A generator that depends on the seed, the task and what it is for, and nothing else:
    changing one transform's draws never shifts another's, and Python's salted `hash()` is kept
    out of it."""
    digest = hashlib.sha256(f"{seed}\0{task_id}\0{purpose}".encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def words_of(texts: Iterable[str]) -> set[str]:
    """Every identifier-like word of the texts, plus Python's keywords and builtins."""
    found = set(keyword.kwlist) | set(getattr(keyword, "softkwlist", ())) | set(dir(builtins))
    for text in texts:
        found.update(_WORD.findall(text))
    return found


class NamePicker:
    """Chooses fresh names for one task, never the same one twice."""

    def __init__(self, taken: set[str], rng: random.Random) -> None:
        self.taken = set(taken)
        self.rng = rng

    def _claim(self, candidates: Iterable[str]) -> str | None:
        for name in candidates:
            if name.isidentifier() and not keyword.iskeyword(name) and name not in self.taken:
                self.taken.add(name)
                return name
        return None

    def entry_point(self) -> str:
        verbs, nouns = list(VERBS), list(NOUNS)
        self.rng.shuffle(verbs)
        self.rng.shuffle(nouns)
        plain = (f"{v}_{n}" for v, n in zip(verbs, nouns))
        longer = (f"{v}_{a}_{n}" for v, a, n in zip(verbs, itertools.cycle(ADJECTIVES), reversed(nouns)))
        found = self._claim(itertools.chain(plain, longer))
        return found or self._numbered(f"{verbs[0]}_{nouns[0]}")

    def variant(self, name: str, affixes: tuple[tuple[str, str], ...]) -> str:
        """A name meaning what `name` means: synonyms of its parts first, then an affix."""
        lead = len(name) - len(name.lstrip("_"))
        core = name[lead:]
        upper = core.isupper()
        parts = core.lower().split("_") if upper or core.islower() else [core]
        options = [[p, *SYNONYMS.get(p, ())] for p in parts]
        combos = ["_".join(c) for c in itertools.islice(itertools.product(*options), 64)]
        combos = [c for c in combos if c != "_".join(parts)]
        self.rng.shuffle(combos)
        shuffled = list(affixes)
        self.rng.shuffle(shuffled)
        fallbacks = [f"{pre}{core.lower() if upper else core}{post}" for pre, post in shuffled]
        shaped = [("_" * lead) + (c.upper() if upper else c) for c in combos + fallbacks]
        return self._claim(shaped) or self._numbered(name)

    def _numbered(self, name: str) -> str:
        for k in itertools.count(2):
            found = self._claim([f"{name}_{k}"])
            if found:
                return found
        raise AssertionError("unreachable")
