"""Why a sample failed: one category per verdict that is not a solve, read from what the run
stored (the program, the status, each failing test's traceback), never from a re-run.

Kept as plain functions over plain values, apart from how verdicts are produced, so bcb's own
results and the official evaluator's `*_eval_results.json` are classified by the same rules, and
the rules can be tested on real tracebacks alone.

The rules, first match wins (the README shows an example of each):

1. `no_code`: nothing but imports is left of the answer once the calibration prefix is taken off.
2. `syntax`: the program does not parse (or the module-level error is a SyntaxError's message).
3. `lazy`: the answer is a stub (see `bcb.evaluation.laziness`), whatever the tests said.
4. `tamper`: the sandbox caught the sample forging its verdict (`{"TAMPER": ...}`).
5. `environment`: the task's ground truth fails in this run's environment, so the verdict says
   nothing about the model.
6. `timeout`: the status is `timeout`.
7. Then the failing tests (or the module-level error), each given a category; the sample takes the
   most decisive one in this order: `memory` (MemoryError), `import` (ImportError /
   ModuleNotFoundError), `name` (NameError), `api` (AttributeError or TypeError on a library's
   object or function), `exception` (any other exception raised while the solution's own code
   ran), `assertion` (the solution returned and the test rejected what it got: a failed assertion,
   or the test's own code choking on a wrong result), `unknown` (the file records no reason, as
   files that keep only the names of failing tests).
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

from bcb.errors import one_line

CATEGORIES = (
    "syntax", "import", "name", "api", "assertion", "exception", "timeout", "memory", "lazy", "tamper", "no_code", "environment", "unknown",
)  # fmt: skip
"""Every category, in the order the views list them."""

TEST_PRECEDENCE = ("syntax", "memory", "import", "name", "api", "exception", "assertion", "unknown")
"""Among a sample's failing tests, the category that decides the sample's."""

LIBRARY_CATEGORIES = ("import", "api")
"""The categories that mean the model invented or misused a library."""

CALIBRATION_BODY = "\n    pass\n"
MODULE = "__test__.py"
"""The file name the official procedure compiles the program under."""
MAX_DETAIL = 200

_BUILTIN_TYPES = frozenset(
    "str int float complex bool bytes bytearray list tuple dict set frozenset NoneType object type function method "
    "builtin_function_or_method generator coroutine module range slice map filter zip enumerate property "
    "staticmethod classmethod memoryview ellipsis NotImplementedType cell code frame traceback".split()
)
COMMON_ALIASES = {
    "np": "numpy",
    "pd": "pandas",
    "plt": "matplotlib",
    "mpl": "matplotlib",
    "sns": "seaborn",
    "tf": "tensorflow",
    "nx": "networkx",
    "sp": "scipy",
    "dt": "datetime",
}
"""Names that, undefined, mean a forgotten import of the library they conventionally stand for."""
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>.+)$')
_HEADER = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")
_NO_MODULE = re.compile(r"No module named '(?P<module>[^']+)'")
_CANNOT_IMPORT = re.compile(r"cannot import name '(?P<name>[^']+)' from '(?P<module>[^']+)'")
_NOT_DEFINED = re.compile(r"name '(?P<name>[^']+)' is not defined")
_MODULE_ATTR = re.compile(r"module '(?P<module>[^']+)' has no attribute '(?P<attr>[^']+)'")
_OBJECT_ATTR = re.compile(r"'(?P<type>[^']+)' object has no attribute '(?P<attr>[^']+)'")
_TYPE_ATTR = re.compile(r"type object '(?P<type>[^']+)' has no attribute '(?P<attr>[^']+)'")
_CALLEE = re.compile(r"^(?P<callee>[A-Za-z_][\w.]*)\(\) (?:got|takes|missing|argument)")
_SYNTAX_MESSAGE = re.compile(r"\(__test__\.py, line \d+\)$")
_MEMORY_MESSAGE = re.compile(r"Unable to allocate|Cannot allocate memory|std::bad_alloc|out of memory", re.IGNORECASE)
_STDLIB = re.compile(r"/lib/python3\.\d+/(?P<module>[^/]+)")
_SITE = re.compile(r"/(?:site|dist)-packages/(?P<module>[^/]+)")
_HARNESS = ("unittest",)
"""Library frames that belong to the test harness, not to what the solution called."""


@dataclass(frozen=True)
class Frame:
    file: str
    line: int
    function: str


@dataclass(frozen=True)
class TestFailure:
    """One failing test (or `ALL`, the module-level error) and what it says."""

    test: str
    category: str
    exception: str | None
    """The exception's type as the traceback names it; None when the file keeps no type."""
    message: str
    """The exception line, shortened to one screen line."""
    library: str | None = None
    attribute: str | None = None
    """What of the library was used wrongly (`DataFrame.append`, `pandas.foo`), or the module
    that could not be imported, or the undefined name."""

    def to_json(self) -> dict[str, Any]:
        return {
            "test": self.test, "category": self.category, "exception": self.exception, "message": self.message,
            "library": self.library, "attribute": self.attribute,
        }  # fmt: skip


@dataclass(frozen=True)
class Diagnosis:
    """Why one sample is not solved: its category, a one-line reason, and the per-test detail."""

    category: str
    detail: str
    library: str | None = None
    attribute: str | None = None
    exception: str | None = None
    tests: tuple[TestFailure, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category, "detail": self.detail, "library": self.library, "attribute": self.attribute,
            "exception": self.exception, "tests": [t.to_json() for t in self.tests],
        }  # fmt: skip


def classify(
    status: str,
    details: Mapping[str, str],
    program: str,
    *,
    lazy: str | None = None,
    gt_failed: bool = False,
    code_prompt: str | None = None,
    entry_point: str = "task_func",
    calibrated: bool | None = None,
) -> Diagnosis | None:
    """The diagnosis of one verdict; None for a solve (a pass that is not lazy).

    `program` is the solution as the results file keeps it (with the calibration prefix when the
    run was calibrated); `code_prompt` lets the prefix be taken off exactly, else it is recognised
    by its shape; `calibrated=False` says there is none (None: unknown). `gt_failed` says whether
    the task's ground truth failed in the run's environment.
    """
    if status == "pass" and not lazy:
        return None
    own = program if calibrated is False else answer_text(program, code_prompt, entry_point)
    if not has_code(own):
        return Diagnosis(
            "no_code",
            "nothing left of the answer after sanitizing" if not own.strip() else "the answer is only imports",
        )
    syntax = syntax_error(program)
    if syntax is None and "ALL" in details and _SYNTAX_MESSAGE.search(str(details["ALL"]).strip()):
        syntax = str(details["ALL"]).strip()
    if syntax is not None:
        return Diagnosis("syntax", one_line(syntax, MAX_DETAIL), exception="SyntaxError")
    if lazy:
        return Diagnosis("lazy", lazy)
    if "TAMPER" in details:
        return Diagnosis("tamper", one_line(f"forged verdict: {details['TAMPER']}", MAX_DETAIL))
    tests = classify_tests(details, program)
    if gt_failed:
        return Diagnosis(
            "environment",
            "the task's ground truth fails in this environment: the verdict says nothing about the model",
            tests=tests,
        )
    if status == "timeout":
        return Diagnosis("timeout", "ran into the time limit (or ended without reporting)", tests=tests)
    if not tests:
        return Diagnosis("unknown", "failed with no recorded reason")
    rank = {c: i for i, c in enumerate(TEST_PRECEDENCE)}
    decisive = min(tests, key=lambda t: rank[t.category])
    return Diagnosis(
        decisive.category, _detail(decisive), decisive.library, decisive.attribute, decisive.exception, tests
    )


def classify_tests(details: Mapping[str, str], program: str) -> tuple[TestFailure, ...]:
    """A category for each failing test (and for `ALL`), in the order the file lists them."""
    own_lines = program.count("\n") + 1
    imports = imported_names(program)
    source = program.splitlines()
    own_classes = defined_classes(program)
    return tuple(
        _classify_module_error(str(text), imports)
        if test == "ALL"
        else _classify_trace(str(test), str(text), own_lines, imports, source, own_classes)
        for test, text in details.items()
        if test != "TAMPER"
    )


# ---------------------------------------------------------------------------------------------
# The answer itself


def answer_text(program: str, code_prompt: str | None = None, entry_point: str = "task_func") -> str:
    """The model's own answer: the program without the calibration prefix (`code_prompt` and a
    `pass` body), when it carries one."""
    if code_prompt is not None:
        prefix = code_prompt + CALIBRATION_BODY
        return program[len(prefix) :] if program.startswith(prefix) else program
    match = re.search(rf"^def {re.escape(entry_point)}\(", program, re.MULTILINE)
    if match is None:
        return program
    # The prompt ends its signature line with a newline, so the prefix's `pass` follows a blank line
    # (which a model's own stub seldom has).
    end = program.find("\n" + CALIBRATION_BODY, match.end())
    if end < 0:
        return program
    end += 1
    stub = program[match.start() : end + len(CALIBRATION_BODY)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(stub)
        except (SyntaxError, ValueError):
            return program
    body = tree.body[0].body if len(tree.body) == 1 and isinstance(tree.body[0], ast.FunctionDef) else []
    if len(body) == 1 and isinstance(body[0], ast.Pass):
        return program[end + len(CALIBRATION_BODY) :]
    return program


def has_code(answer: str) -> bool:
    """Whether the answer holds anything besides imports, docstrings and `pass` (what is left
    when the sanitizer found no entry point). Code that does not parse counts as code."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(answer)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return True
    inert = (ast.Import, ast.ImportFrom, ast.Pass)
    return any(
        not isinstance(node, inert) and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        for node in tree.body
    )


def syntax_error(program: str) -> str | None:
    """The SyntaxError's message as Python words it, or None when the program parses."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(program, MODULE, "exec", dont_inherit=True, flags=ast.PyCF_ONLY_AST)
        except SyntaxError as exc:
            return f"{exc.msg} ({MODULE}, line {exc.lineno})"
        except (ValueError, MemoryError, RecursionError) as exc:
            return f"{type(exc).__name__}: {exc}"
    return None


def imported_names(program: str) -> dict[str, str]:
    """Local name -> what it was imported as (`pd` -> `pandas`, `plt` -> `matplotlib.pyplot`,
    `KMeans` -> `sklearn.cluster.KMeans`), from the program's import statements anywhere in it.
    The library is the first dotted part."""
    names: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(program)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return names
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _top(path: str | None) -> str | None:
    return path.split(".")[0] if path else None


def defined_classes(program: str) -> frozenset[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(program)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return frozenset()
    return frozenset(node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef))


# ---------------------------------------------------------------------------------------------
# Tracebacks


def parse_traceback(text: str) -> tuple[list[Frame], str | None, str]:
    """(frames, exception type, message) of the last exception in a traceback. A text with no
    traceback in it (the module-level `ALL` entry is only `str(exc)`) gives no frames and no type."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last):")]
    if not starts:
        return [], None, text.strip()
    block = lines[starts[-1] + 1 :]
    frames: list[Frame] = []
    header_at = len(block)
    for i, line in enumerate(block):
        match = _FRAME.match(line)
        if match:
            frames.append(Frame(match["file"], int(match["line"]), match["func"].strip()))
            continue
        if line and not line[0].isspace():
            header_at = i
            break
    header = block[header_at] if header_at < len(block) else ""
    match = _HEADER.match(header)
    if not match:
        return frames, None, header.strip()
    rest = "\n".join([match["message"] or "", *block[header_at + 1 :]]).strip()
    return frames, match["type"], rest


_STDLIB_HOMES = {
    "posixpath": "os",
    "ntpath": "os",
    "genericpath": "os",
    "_strptime": "datetime",
    "_pydecimal": "decimal",
    "_collections_abc": "collections",
    "sre_compile": "re",
    "sre_parse": "re",
}
"""Standard modules that implement another's public API (`os.path` lives in `posixpath`)."""


def library_of(path: str) -> str | None:
    """The top-level module a file belongs to (`.../site-packages/pandas/core/frame.py` ->
    `pandas`, `/usr/lib/python3.11/json/decoder.py` -> `json`); None for other files."""
    for pattern in (_SITE, _STDLIB):
        match = pattern.search(path)
        if match:
            name = match["module"]
            name = name[:-3] if name.endswith(".py") else name
            if name in ("site-packages", "dist-packages"):
                return None
            return _STDLIB_HOMES.get(name, name) if pattern is _STDLIB else name
    if path.startswith("<frozen "):
        name = path[len("<frozen ") : -1].split(".")[0]
        return _STDLIB_HOMES.get(name, name)
    return None


def is_bcb_internal(path: str) -> bool:
    """Frames of bcb's own runner (the sandbox's entry-point wrapper), which no sample wrote."""
    return "/bcb/execution/" in path or "/bcb/evaluation/" in path


def _classify_trace(
    test: str, text: str, own_lines: int, imports: Mapping[str, str], source: list[str], own_classes: frozenset[str]
) -> TestFailure:
    frames, kind, message = parse_traceback(text)
    line = one_line(f"{kind}: {message}" if kind and message else kind or message, MAX_DETAIL)
    if not text.strip():
        return TestFailure(test, "unknown", None, "")
    if kind is None:
        return _classify_module_error(text, imports, test=test)
    base = kind.rsplit(".", 1)[-1]
    frames = [f for f in frames if not is_bcb_internal(f.file)]
    solution_at = [i for i, f in enumerate(frames) if f.file == MODULE and f.line <= own_lines]
    below = frames[solution_at[-1] + 1 :] if solution_at else []
    called = next((lib for f in below for lib in [library_of(f.file)] if lib and lib not in _HARNESS), None)
    if base == "MemoryError" or (_MEMORY_MESSAGE.search(message) and "Error" in base):
        return TestFailure(test, "memory", kind, line, called)
    if base in ("ModuleNotFoundError", "ImportError"):
        return _import_failure(test, kind, message, line)
    if base in ("NameError", "UnboundLocalError") and solution_at:
        found = _NOT_DEFINED.search(message)
        return _name_failure(test, kind, line, found["name"] if found else None)
    if not solution_at:
        # The solution returned; the test rejected (or choked on) what it got.
        return TestFailure(test, "assertion", kind, line)
    if base in ("AttributeError", "TypeError"):
        frame = frames[solution_at[-1]]
        code = source[frame.line - 1] if 0 < frame.line <= len(source) else ""
        library, attribute = _api_target(base, message, called, below, code, imports, own_classes)
        if library is not None:
            return TestFailure(test, "api", kind, line, library, attribute)
    return TestFailure(test, "exception", kind, line, called)


def _classify_module_error(text: str, imports: Mapping[str, str], test: str = "ALL") -> TestFailure:
    """The module-level error, which the official procedure records as `str(exc)` alone."""
    message = text.strip()
    line = one_line(message, MAX_DETAIL)
    if not message:
        return TestFailure(test, "unknown", None, "")
    if _SYNTAX_MESSAGE.search(message):
        return TestFailure(test, "syntax", None, line)
    if _NO_MODULE.match(message) or _CANNOT_IMPORT.match(message):
        return _import_failure(test, None, message, line)
    found = _NOT_DEFINED.match(message)
    if found:
        return _name_failure(test, None, line, found["name"])
    if _MEMORY_MESSAGE.search(message):
        return TestFailure(test, "memory", None, line)
    for pattern in (_MODULE_ATTR, _OBJECT_ATTR, _TYPE_ATTR):
        found = pattern.match(message)
        if found:
            library, attribute = _attribute_target(found, None, imports, frozenset())
            if library is not None:
                return TestFailure(test, "api", None, line, library, attribute)
    return TestFailure(test, "exception", None, line)


def _name_failure(test: str, kind: str | None, line: str, name: str | None) -> TestFailure:
    """A NameError; when the name is a module (`os`) or a module's usual alias (`np`), the library
    whose import was forgotten is named."""
    library = None
    if name:
        library = COMMON_ALIASES.get(name) or (name if name in sys.stdlib_module_names else None)
    return TestFailure(test, "name", kind, line, library, name)


def _import_failure(test: str, kind: str | None, message: str, line: str) -> TestFailure:
    found = _NO_MODULE.search(message)
    if found:
        module = found["module"]
        return TestFailure(test, "import", kind, line, module.split(".")[0], module)
    found = _CANNOT_IMPORT.search(message)
    if found:
        module = found["module"]
        return TestFailure(test, "import", kind, line, module.split(".")[0], f"{module}.{found['name']}")
    return TestFailure(test, "import", kind, line)


def _api_target(
    kind: str,
    message: str,
    called: str | None,
    below: list[Frame],
    code: str,
    imports: Mapping[str, str],
    own_classes: frozenset[str],
) -> tuple[str | None, str | None]:
    """(library, attribute) when an AttributeError/TypeError is a library misused; (None, None)
    when it is the solution's own objects or Python's built-in types."""
    if kind == "AttributeError":
        for pattern in (_MODULE_ATTR, _OBJECT_ATTR, _TYPE_ATTR):
            found = pattern.search(message)
            if found:
                return _attribute_target(found, called, imports, own_classes, code)
        return (called, _entry_function(below, called)) if called else (None, None)
    found = _CALLEE.search(message)
    callee = found["callee"] if found else None
    if called:
        return called, callee or _call_on_line(code, imports, called) or _entry_function(below, called)
    if callee:
        library = _library_on_line(code, imports, callee)
        if library:
            return library, callee
    return None, None


def _attribute_target(
    found: re.Match[str], called: str | None, imports: Mapping[str, str], own_classes: frozenset[str], code: str = ""
) -> tuple[str | None, str | None]:
    groups = found.groupdict()
    attr = groups["attr"]
    if "module" in groups and groups.get("module"):
        module = groups["module"]
        return module.split(".")[0], f"{module}.{attr}"
    owner = groups["type"]
    if "." in owner:
        return owner.split(".")[0], f"{owner.rsplit('.', 1)[-1]}.{attr}"
    if called:
        return called, f"{owner}.{attr}"
    if owner in _BUILTIN_TYPES or owner in own_classes:
        return None, None
    library = _top(imports.get(owner)) or _library_on_line(code, imports, owner)
    return library or "unknown", f"{owner}.{attr}"


def _call_on_line(code: str, imports: Mapping[str, str], library: str) -> str | None:
    """`pandas.to_datetime` when the solution's failing line calls `pd.to_datetime(...)`: the
    first call on the line reached through a name imported from `library`, spelled out."""
    for match in re.finditer(r"(?<![\w.])([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)\s*\(", code):
        alias, rest = match.group(1), match.group(2)
        if _top(imports.get(alias)) == library:
            return f"{imports[alias]}{rest}"
    return None


def _entry_function(below: list[Frame], library: str) -> str | None:
    """The first function of `library` the solution's call went through that says something
    (not a dunder, private helper or decorator wrapper)."""
    functions = [f.function for f in below if library_of(f.file) == library]
    telling = [
        f for f in functions if not f.startswith("_") and f not in ("inner", "wrapper", "wrapped", "func", "<module>")
    ]
    first = telling or functions
    return first[0] if first else None


def _library_on_line(code: str, imports: Mapping[str, str], name: str) -> str | None:
    """The library behind `name` on a source line: the imported name it is reached through."""
    head = name.split(".")[0]
    if head in imports:
        return _top(imports[head])
    for alias, path in imports.items():
        if re.search(rf"(?<![\w.]){re.escape(alias)}\.(?:[\w.]*\.)?{re.escape(name.rsplit('.', 1)[-1])}\b", code):
            return _top(path)
    return None


def _detail(failure: TestFailure) -> str:
    where = "" if failure.test == "ALL" else f" (in {failure.test})"
    if failure.category == "import" and failure.attribute:
        return one_line(f"cannot import {failure.attribute}{where}", MAX_DETAIL)
    if failure.category == "api" and failure.library:
        return one_line(f"{failure.library}: {failure.message}{where}", MAX_DETAIL)
    if failure.category == "name" and failure.attribute:
        missing = f" (a missing import of {failure.library})" if failure.library else ""
        return one_line(f"{failure.attribute} is not defined{missing}{where}", MAX_DETAIL)
    return one_line(f"{failure.message or failure.category}{where}", MAX_DETAIL)
