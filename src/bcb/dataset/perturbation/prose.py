"""Prose: renamed identifiers in docstrings, comments and the instruct prompt; reordered docstring
sections; rephrased fixed phrases of the instruct prompt.

The execution re-check protects the code, not the prose, so prose is edited conservatively:

- the entry point (an identifier no sentence uses as a word) is renamed at every whole-word
  occurrence;
- a parameter whose name cannot be an English word is renamed at every whole-word occurrence
  that is not quoted (`'file_path'` in prose names a string, e.g. a dict key, and is kept). Such
  names are the *distinctive* ones: an inner underscore, a digit or mixed case (`file_path`,
  `n_samples`, `colName`), no vowel (`n`, `x`, `df`, `dct`), or a common programming
  abbreviation (`arr`, `num`, `seq`, `url`...);
- a parameter whose name is a plain word (`data`, `text`, `values`, `a`) is renamed only where
  the prose uses it as code: its entry in a Parameters/Args section, `` `data` ``, a `{data}`
  placeholder, and `data=` inside a call to the entry point in an example. "Returns the data
  sorted" keeps its English word (and "a" its article); the cost is that such a name may
  survive in free prose;
- locals are renamed only in comments, and only when distinctive.

An occurrence preceded by `.` (an attribute), `\\` (escapes such as `\\n` when a parameter is
`n`) or a quote (`'s`, `"x"`), or followed by `-` (`x-axis`) or by `.`, a letter and `.` (`e.g.`), is
never touched.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Mapping

PARAM_HEADERS = frozenset({"Parameters", "Params", "Args", "Arguments"})
SECTION_HEADERS = PARAM_HEADERS | frozenset(
    {
        "Returns",
        "Return",
        "Yields",
        "Raises",
        "Raise",
        "Requirements",
        "Requirement",
        "Example",
        "Examples",
        "Note",
        "Notes",
    }
)
_HEADER = re.compile(r"^\s*([A-Z][A-Za-z]*)\s*:\s*$")

#: The instruct prompt's fixed phrases, each with meaning-preserving alternatives.
INSTRUCT_PHRASES: dict[str, tuple[str, ...]] = {
    "Note that:": ("Please note:", "Keep in mind:", "Notes:"),
    "The function should raise the exception for:": (
        "The function must raise an exception for:",
        "Exceptions the function should raise:",
        "The function raises the following exceptions:",
    ),
    "The function should output with:": (
        "The function should return:",
        "The function's output:",
        "The function returns:",
    ),
    "You should write self-contained code starting with:": (
        "Write self-contained code starting with:",
        "Your self-contained code should begin with:",
        "Start your self-contained code with:",
    ),
}
CODE_INTRO = "You should write self-contained code starting with:"
_BLOCK_PHRASES = tuple(p for p in INSTRUCT_PHRASES if p != CODE_INTRO)


#: Names that read as code, not English, although they are plain lowercase words.
ABBREVIATIONS = frozenset(
    {
        "args",
        "arr",
        "attr",
        "ax",
        "col",
        "cols",
        "dic",
        "dict",
        "dir",
        "dst",
        "ext",
        "freq",
        "func",
        "idx",
        "img",
        "kwargs",
        "lst",
        "msg",
        "mu",
        "num",
        "obj",
        "regex",
        "seq",
        "sigma",
        "src",
        "str",
        "tmp",
        "url",
        "val",
        "vals",
    }
)


def distinctive(name: str) -> bool:
    """Cannot be an English word: `file_path`, `n2`, `colName`, `df`, `n`, `arr` (not `data`, `a`)."""
    core = name.strip("_")
    return (
        "_" in core
        or any(c.isdigit() for c in core)
        or (core != core.lower() and core != core.upper())
        or not any(c in "aeiou" for c in core.lower())
        or core.lower() in ABBREVIATIONS
    )


def _word(name: str) -> str:
    return rf"(?<![\w.\\'\"]){re.escape(name)}(?![\w'-]|\.[A-Za-z]\.)"


@dataclass(frozen=True)
class ProseRenamer:
    """Renames the interface (entry point, parameters) in prose, and distinctive locals in comments."""

    entry_point: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    locals: Mapping[str, str] = field(default_factory=dict)
    callees: tuple[str, ...] = ()
    """The entry point's name(s) when it is not renamed: examples' keywords follow calls to it."""

    @property
    def empty(self) -> bool:
        return not (self.entry_point or self.params or self.locals)

    def line(self, text: str, *, in_params: bool = False, example: bool = False) -> str:
        for old, new in self.entry_point.items():
            text = re.sub(_word(old), new, text)
        for old, new in self.params.items():
            if in_params:
                text = re.sub(rf"^(\s*(?:[-*]\s*)?){re.escape(old)}(?=\s*[(:,])", rf"\g<1>{new}", text)
            if example:
                text = self._example_keywords(text, old, new)
            if distinctive(old):
                text = _unquoted(text, old, new)
            else:
                text = re.sub(rf"`{re.escape(old)}`", f"`{new}`", text)
                text = re.sub(rf"\{{{re.escape(old)}(?=[}}!:])", "{" + new, text)
        return text

    def _example_keywords(self, text: str, old: str, new: str) -> str:
        """`old=` inside the parentheses of a call to the entry point (either name)."""
        names = [*self.entry_point.keys(), *self.entry_point.values(), *self.callees]
        if not names:
            return text
        out, pos = [], 0
        for call in re.finditer(rf"(?<![\w.])(?:{'|'.join(map(re.escape, names))})\s*\(", text):
            if call.start() < pos:
                continue
            end = _closing_paren(text, call.end())
            inner = re.sub(rf"(?<![\w.]){re.escape(old)}(?=\s*=(?!=))", new, text[call.end() : end])
            out.append(text[pos : call.end()] + inner)
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def comment(self, text: str) -> str:
        text = self.line(text)
        for old, new in self.locals.items():
            if distinctive(old):
                text = _unquoted(text, old, new)
        return text

    def block(self, text: str) -> str:
        """A docstring or an instruct prompt: line by line, knowing the section each line is in."""
        lines = text.split("\n")
        section = ""
        out = []
        for line in lines:
            header = _HEADER.match(line)
            if header and header.group(1) in SECTION_HEADERS:
                section = header.group(1)
            stripped = line.lstrip()
            example = stripped.startswith((">>>", "..."))
            out.append(self.line(line, in_params=section in PARAM_HEADERS and not header, example=example))
        return "\n".join(out)

    def doc_struct(self, doc: Mapping[str, object]) -> dict[str, object]:
        """The parsed docstring: its `params` entries are parameter lines, `examples` are code."""
        out: dict[str, object] = {}
        for key, value in doc.items():
            out[key] = self._struct_value(value, in_params=key == "params", example=key == "examples")
        return out

    def _struct_value(self, value: object, *, in_params: bool, example: bool) -> object:
        if isinstance(value, str):
            return self.line(value, in_params=in_params, example=example or value.lstrip().startswith((">>>", "...")))
        if isinstance(value, list):
            return [self._struct_value(v, in_params=in_params, example=example) for v in value]
        if isinstance(value, dict):
            return {k: self._struct_value(v, in_params=in_params, example=example) for k, v in value.items()}
        return value


def _unquoted(text: str, old: str, new: str) -> str:
    """Whole-word occurrences, except quoted ones (`_word` refuses a match right after a quote)."""
    return re.sub(_word(old), new, text)


def _closing_paren(text: str, start: int) -> int:
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return len(text)


# ---------------------------------------------------------------------------------------------
# Reordering and rephrasing


def _shuffled(items: list, rng: random.Random) -> list:
    """A random order other than the given one (when there is one)."""
    order = list(range(len(items)))
    while len(items) > 1 and order == sorted(order):
        rng.shuffle(order)
    return [items[i] for i in order]


def reorder_docstring(text: str, rng: random.Random) -> str | None:
    """The docstring with its known sections (Parameters, Returns, Raises, Requirements, Notes,
    Examples...) in another order; the description stays first, the blank lines between sections
    stay where they were, and a header the list does not know stays inside the section it is in.
    None when there are fewer than two sections."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if (m := _HEADER.match(line)) and m.group(1) in SECTION_HEADERS]
    if len(starts) < 2:
        return None
    end = len(lines)
    while end > starts[-1] + 1 and not lines[end - 1].strip():
        end -= 1
    head, tail = lines[: starts[0]], lines[end:]
    blocks, gaps = [], []
    for i, start in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else end
        core = stop
        while core > start + 1 and not lines[core - 1].strip():
            core -= 1
        blocks.append(lines[start:core])
        gaps.append(lines[core:stop])
    out = list(head)
    for block, gap in zip(_shuffled(blocks, rng), gaps):
        out += block + gap
    return "\n".join(out + tail)


@dataclass(frozen=True)
class InstructParts:
    """An instruct prompt split at its code block: `prose` + `intro` + "\\n```\\n" + `code` + "```"."""

    prose: str
    intro: str
    code: str

    def join(self) -> str:
        return f"{self.prose}{self.intro}\n```\n{self.code}```"


def split_instruct(text: str) -> InstructParts | None:
    marker = f"{CODE_INTRO}\n```\n"
    at = text.rfind(marker)
    if at < 0 or not text.endswith("```") or (at and text[at - 1] != "\n"):
        return None
    return InstructParts(text[:at], CODE_INTRO, text[at + len(marker) : -3])


def rephrase_instruct(parts: InstructParts, rng: random.Random) -> InstructParts:
    """Reorder the Note / exception / output blocks and say each fixed phrase another way."""
    lines = parts.prose.split("\n")
    trailing = lines[-1] == ""
    if trailing:
        lines = lines[:-1]
    starts = [i for i, line in enumerate(lines) if line.startswith(_BLOCK_PHRASES)]
    if starts:
        head = lines[: starts[0]]
        blocks = [lines[s : (starts[i + 1] if i + 1 < len(starts) else len(lines))] for i, s in enumerate(starts)]
        lines = head + [line for block in _shuffled(blocks, rng) for line in block]
    for i, line in enumerate(lines):
        for phrase in _BLOCK_PHRASES:
            if line.startswith(phrase):
                lines[i] = rng.choice(INSTRUCT_PHRASES[phrase]) + line[len(phrase) :]
                break
    prose = "\n".join(lines) + ("\n" if trailing else "")
    return InstructParts(prose, rng.choice(INSTRUCT_PHRASES[CODE_INTRO]), parts.code)
