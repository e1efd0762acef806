"""`bcb doctor`: can this environment give the official ground-truth verdicts at all?

A ground truth that fails because a library, a data file or the network is missing says nothing
about the solution, yet it lowers every pass rate measured here. This module finds such causes
before a long run: it compares the task environment with the official pins, asks a sandboxed
sample what it can see (NLTK data, the network, its own user id), and counts the tasks each cause
dooms. It takes plain lists (:class:`TaskNeeds`), so the dataset layer stays out of it.

The official pins are bundled verbatim (``requirements/official-requirements-eval.txt``); the
facts about single v0.1.4 tasks that a static scan cannot find (network use, running as a
normal user, a library version) were measured on this machine type and are keyed by the hash of
the task's program, so they apply only to an identical task.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.resources
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bcb.execution.environment import run_probe
from bcb.execution.executor import LocalExecutor
from bcb.execution.jobs import Job
from bcb.execution.nltk_data import RESOURCES as NLTK_DATA_RESOURCES
from bcb.execution.sandbox import SandboxOptions

__all__ = [
    "Diagnosis",
    "LibraryReport",
    "SandboxProbe",
    "TaskNeeds",
    "diagnose",
    "official_pins",
    "probe_libraries",
    "probe_sandbox",
    "task_needs",
]

OFFICIAL_REQUIREMENTS_FILE = "official-requirements-eval.txt"

#: The ground-truth pass rate below which a run here cannot match the official one.
TARGET_GT_RATE = 0.99

#: Where a connection attempt goes to decide whether a sample reaches the internet.
DEFAULT_NETWORK_PROBE = "example.com:443"

#: Import names whose distribution (as pinned officially) has another name.
IMPORT_TO_DIST: dict[str, str] = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "PIL": "Pillow",
    "cv2": "opencv-python-headless",
    "dateutil": "python-dateutil",
    "bs4": "beautifulsoup4",
    "yaml": "PyYAML",
    "docx": "python-docx",
    "Crypto": "pycryptodome",
    "dns": "dnspython",
    "faker": "Faker",
    "django": "Django",
    "flask": "Flask",
    "flask_login": "Flask-Login",
    "flask_restful": "Flask-RESTful",
    "flask_wtf": "Flask-WTF",
    "flask_mail": "Flask-Mail",
    "wtforms": "WTForms",
    "werkzeug": "Werkzeug",
    "python_http_client": "python-http-client",
    "requests_mock": "requests-mock",
    "mpl_toolkits": "matplotlib",
}

#: What in a canonical solution needs which NLTK data package (``nltk.data.find`` paths).
#: TextBlob splits words and sentences with NLTK's punkt.
NLTK_USES: tuple[tuple[str, str], ...] = (
    (r"\bstopwords\.words\(", "corpora/stopwords"),
    (r"\b(?:word_tokenize|sent_tokenize)\b", "tokenizers/punkt"),
    (r"\bTextBlob\(", "tokenizers/punkt"),
    (r"(?<![\w.])words\.words\(|corpus\.words\.words\(", "corpora/words"),
    (r"\bpos_tag\b", "taggers/averaged_perceptron_tagger"),
    (r"\bSentimentIntensityAnalyzer\(\)", "sentiment/vader_lexicon.zip"),
    (r"\bWordNetLemmatizer\(\)|\bwordnet\.", "corpora/wordnet"),
)

#: Measured facts about single tasks (see ``shared/notes/task-environment-facts.md``): the
#: first 16 hex digits of sha256(solution + "\n" + test) -> what the ground truth needs.
#: ``network``: the internet; ``non_root``: not to run as root; ``readonly_fs``: a file system
#: it cannot write outside its directory (not root, or the sandbox's Landlock layer: task 832
#: expects creating ``/non/existent/path`` to fail); ``pin:DIST``: DIST at its official version.
KNOWN_NEEDS: dict[str, tuple[str, ...]] = {
    "2c14a0e2818640f5": ("network",),  # v0.1.4 task 101
    "bac7fdc5db70d98a": ("network",),  # 176
    "502cd2eae77986b0": ("network",),  # 314
    "9e9c25dcc5bb34da": ("network",),  # 590
    "edaf18a0e2bc38b8": ("network",),  # 1005
    "3770b607fa6e0def": ("network",),  # 1012
    "d89587c89a7c4c8b": ("non_root",),  # 812
    "c6c9836605e1c3cd": ("readonly_fs",),  # 832
    "8c791ad45dfea192": ("pin:scipy",),  # 276: scipy 1.9.3 returns NaN where 1.7.2 does not
}


#: Standard modules that distributions package apart from the interpreter.
STDLIB_PACKAGES = {
    "tkinter": "python3-tk",
    "turtle": "python3-tk",
    "venv": "python3-venv",
    "ensurepip": "python3-venv",
    "lib2to3": "python3-lib2to3",
}


def normalize_dist(name: str) -> str:
    """PEP 503 name, so `flask_login`, `Flask-Login` and `flask.login` compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def official_pins() -> dict[str, str | None]:
    """Normalized distribution name -> officially pinned version (``None``: unpinned or malformed)."""
    text = (importlib.resources.files("bcb.execution") / "requirements" / OFFICIAL_REQUIREMENTS_FILE).read_text(
        encoding="utf-8"
    )
    pins: dict[str, str | None] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, version = line.partition("==")
        version = version.strip()
        pins[normalize_dist(name.strip())] = version if re.fullmatch(r"\d+(\.\d+)*(\.?post\d+)?", version) else None
    return pins


@dataclass(frozen=True)
class TaskNeeds:
    """What one task's ground truth needs from the environment."""

    task_id: str
    libs: tuple[str, ...]
    nltk_data: tuple[str, ...] = ()
    known: tuple[str, ...] = ()
    #: What the sandbox tier must allow: ``tmp`` (a hard-coded /tmp path is written or read),
    #: ``loopback`` (sockets on this machine's loopback: servers the test starts, or mocks bound there).
    sandbox: tuple[str, ...] = ()


#: Static signs of what a task's program needs from the sandbox tier (solution and tests).
SANDBOX_USES: tuple[tuple[str, str], ...] = (
    (r"""['"]/tmp(?:/|['"])""", "tmp"),
    (
        r"\bsocket\.socket\(|\bsocketserver\b|\bHTTPServer\b|\bcreate_connection\(|\bsmtplib\.SMTP\(|\bcreate_server\(",
        "loopback",
    ),
)


def _code_only(source: str) -> str:
    """The source without docstrings and comments: a doctest example is not a use."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body[0] = ast.Pass()
    return ast.unparse(tree)


def task_needs(task_id: str, libs: Iterable[str], solution: str, test: str) -> TaskNeeds:
    """Read the needs of one task from its canonical solution (NLTK data) and the bundled
    measured facts. The scan sees uses, not whether the tests reach them: a use the tests
    bypass (v0.1.4 task 657 passes its own stopwords) is counted too."""
    code = _code_only(solution)
    nltk = tuple(dict.fromkeys(res for pattern, res in NLTK_USES if re.search(pattern, code)))
    digest = hashlib.sha256((solution + "\n" + test).encode("utf-8")).hexdigest()[:16]
    program = code + "\n" + _code_only(test)
    sandbox = tuple(dict.fromkeys(need for pattern, need in SANDBOX_USES if re.search(pattern, program)))
    return TaskNeeds(task_id, tuple(libs), nltk, KNOWN_NEEDS.get(digest, ()), sandbox)


_LIBRARY_SCRIPT = r"""
import importlib, importlib.metadata as md, importlib.util, json, sys
req = json.load(sys.stdin)
stdlib = set(getattr(sys, "stdlib_module_names", ()))
out = {"stdlib": [], "stdlib_missing": [], "missing": [], "dists": {}, "versions": {}}
try:
    owners = md.packages_distributions()
except Exception:
    owners = {}
for name in req["imports"]:
    if name in stdlib or name in sys.builtin_module_names:
        out["stdlib"].append(name)
        try:
            if name in req["import_check"]:  # found, yet needing a part the distribution ships apart
                importlib.import_module(name)
            elif importlib.util.find_spec(name) is None:
                out["stdlib_missing"].append(name)
        except Exception:
            out["stdlib_missing"].append(name)
        continue
    try:
        found = importlib.util.find_spec(name) is not None
    except Exception:
        found = False
    if not found:
        out["missing"].append(name)
    out["dists"][name] = sorted(set(owners.get(name, [])))
for dist in req["dists"]:
    try:
        out["versions"][dist] = md.version(dist)
    except Exception:
        out["versions"][dist] = None
print(json.dumps(out))
"""


@dataclass(frozen=True)
class LibraryStatus:
    """One third-party import name the tasks use, as the environment has it."""

    import_name: str
    dist: str
    installed: str | None
    official: str | None
    missing: bool

    @property
    def differs(self) -> bool:
        return not self.missing and self.official is not None and self.installed != self.official


@dataclass(frozen=True)
class LibraryReport:
    """The libraries the tasks import, and pinned distributions nobody imports directly."""

    libraries: list[LibraryStatus]
    other_pins: list[LibraryStatus]
    stdlib: list[str]
    #: Standard modules this interpreter was built without (Debian splits tkinter into python3-tk).
    stdlib_missing: list[str] = field(default_factory=list)

    def by_import(self) -> dict[str, LibraryStatus]:
        return {lib.import_name: lib for lib in self.libraries}


def probe_libraries(python: str, import_names: Sequence[str]) -> LibraryReport:
    """Which import names ``python`` lacks, and the installed versions against the official pins."""
    pins = official_pins()
    names = sorted(set(import_names))
    guessed = {n: IMPORT_TO_DIST.get(n, n) for n in names}
    dists = sorted(set(pins) | {normalize_dist(d) for d in guessed.values()})
    found = run_probe(
        python,
        _LIBRARY_SCRIPT,
        stdin=json.dumps({"imports": names, "dists": dists, "import_check": sorted(STDLIB_PACKAGES)}),
    )
    stdlib = set(found["stdlib"])
    versions: dict[str, str | None] = {normalize_dist(k): v for k, v in found["versions"].items()}
    libraries: list[LibraryStatus] = []
    used: set[str] = set()
    for name in names:
        if name in stdlib:
            continue
        owners = [normalize_dist(d) for d in found["dists"].get(name) or []]
        dist = next((d for d in owners if d in pins), owners[0] if owners else normalize_dist(guessed[name]))
        if dist not in versions:
            dist = normalize_dist(guessed[name])
        used.add(dist)
        libraries.append(LibraryStatus(name, dist, versions.get(dist), pins.get(dist), name in found["missing"]))
    others = [
        LibraryStatus("", dist, versions.get(dist), pin, versions.get(dist) is None)
        for dist, pin in sorted(pins.items())
        if dist not in used
    ]
    return LibraryReport(libraries, others, sorted(stdlib), sorted(found.get("stdlib_missing") or []))


@dataclass
class SandboxProbe:
    """What a sample sees from inside bcb's sandbox, as ``bcb evaluate`` would run it."""

    report: dict[str, Any]
    refusal: str | None
    network_reachable: bool
    network_detail: str
    runs_as_root: bool
    nltk_found: dict[str, bool] = field(default_factory=dict)
    nltk_detail: dict[str, str] = field(default_factory=dict)
    #: ``tmp`` / ``loopback`` (see :data:`SANDBOX_USES`) -> why a sample here cannot, or "" if it can.
    sandbox_limits: dict[str, str] = field(default_factory=dict)


def _probe_test(network: tuple[str, int], nltk_resources: Sequence[str]) -> str:
    lines = [
        "import os, socket, unittest",
        "class TestCases(unittest.TestCase):",
        "    def test_network(self):",
        f"        socket.create_connection(({network[0]!r}, {network[1]}), timeout=5).close()",
        "    def test_not_root(self):",
        "        self.assertNotEqual(os.geteuid(), 0)",
        "    def test_sandbox_tmp(self):",
        "        with open('/tmp/bcb_doctor_probe.txt', 'w') as fh:",
        "            fh.write('x')",
        "        os.unlink('/tmp/bcb_doctor_probe.txt')",
        "    def test_sandbox_loopback(self):",
        "        server = socket.socket()",
        "        server.bind(('127.0.0.1', 0))",
        "        server.listen()",
        "        socket.create_connection(server.getsockname(), timeout=5).close()",
        "        server.close()",
    ]
    for i, resource in enumerate(nltk_resources):
        lines += [f"    def test_nltk_{i}(self):", "        import nltk", f"        nltk.data.find({resource!r})"]
    return "\n".join(lines) + "\n"


def parse_host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def probe_sandbox(
    python: str,
    *,
    sandbox: SandboxOptions,
    nltk_resources: Sequence[str] = (),
    network: str = DEFAULT_NETWORK_PROBE,
) -> SandboxProbe:
    """Start one worker as ``bcb evaluate`` would and run a probe sample in it.

    The layers are reported even where ``evaluate`` would refuse them (``refusal`` says why), with
    the same per-sample caps as ``evaluate`` (they key cached results). The probe sample checks NLTK data inside the sandbox
    because that is where tasks look for it (their HOME is a private directory there).
    """
    host_port = parse_host_port(network)
    options = SandboxOptions(
        enabled=sandbox.enabled,
        allow_network=sandbox.allow_network,
        unsafe=True,
        memory_mb=sandbox.memory_mb,
        pids_max=sandbox.pids_max,
        read_paths=sandbox.read_paths,
        write_paths=sandbox.write_paths,
        tamper=sandbox.tamper,
    )
    resources = list(dict.fromkeys(nltk_resources))
    with LocalExecutor(python, workers=1, preload=[], sandbox=options) as executor:
        job = Job("doctor", "doctor", "", _probe_test(host_port, resources), 120.0)
        (result,) = list(executor.run([job]))
        report = dict(executor.sandbox_report)
    if result.status != "pass" and "ALL" in result.details:
        raise RuntimeError(f"the probe sample could not run in {python}: {result.details['ALL']}")

    def failure(test: str) -> str | None:
        for key, text in result.details.items():
            if key == test or key.endswith("." + test) or key.startswith(test + " "):
                text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # nltk colours its "Resource ... not found"
                lines = [line.strip() for line in text.splitlines() if line.strip().strip("*")]
                return next((line for line in lines if "not found" in line), lines[-1] if lines else "failed")
        return None

    net_error = failure("test_network")
    if result.status == "timeout":
        net_error = "the probe sample timed out"
    found = {res: failure(f"test_nltk_{i}") is None and result.status != "timeout" for i, res in enumerate(resources)}
    detail = {res: failure(f"test_nltk_{i}") or "" for i, res in enumerate(resources)}
    return SandboxProbe(
        report=report,
        refusal=sandbox.refusal(report),
        network_reachable=net_error is None,
        network_detail=net_error or f"connected to {network}",
        runs_as_root=failure("test_not_root") is not None,
        nltk_found=found,
        nltk_detail=detail,
        sandbox_limits={need: failure(f"test_sandbox_{need}") or "" for need in ("tmp", "loopback")},
    )


@dataclass
class Cause:
    """One reason some ground truths cannot pass here, and the tasks it dooms."""

    name: str
    detail: str
    tasks: list[str]


@dataclass
class Diagnosis:
    """Everything `bcb doctor` concludes, JSON-ready via :meth:`to_dict`."""

    total: int
    causes: list[Cause]
    version_risks: dict[str, list[str]]
    refusal: str | None

    @property
    def doomed(self) -> list[str]:
        seen: dict[str, None] = {}
        for cause in self.causes:
            seen.update(dict.fromkeys(cause.tasks))
        return list(seen)

    @property
    def best_gt_rate(self) -> float:
        if self.refusal is not None:
            return 0.0
        return (self.total - len(self.doomed)) / self.total if self.total else 1.0

    @property
    def ok(self) -> bool:
        return self.best_gt_rate >= TARGET_GT_RATE

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": self.total,
            "doomed": self.doomed,
            "best_gt_pass_rate": round(self.best_gt_rate, 4),
            "target": TARGET_GT_RATE,
            "ok": self.ok,
            "refusal": self.refusal,
            "causes": [{"cause": c.name, "detail": c.detail, "tasks": c.tasks} for c in self.causes],
            "version_risks": self.version_risks,
        }


def diagnose(tasks: Sequence[TaskNeeds], libraries: LibraryReport, probe: SandboxProbe | None) -> Diagnosis:
    """Which tasks each cause dooms; a library at another version than pinned is a risk only,
    unless a measured fact says the task needs the official version."""
    by_import = libraries.by_import()
    causes: list[Cause] = []
    missing = [lib.import_name for lib in libraries.libraries if lib.missing]
    for name in missing:
        hit = [t.task_id for t in tasks if name in t.libs]
        causes.append(
            Cause(f"missing library {name}", f"cannot import {name} (distribution {by_import[name].dist})", hit)
        )
    for name in libraries.stdlib_missing:
        hit = [t.task_id for t in tasks if name in t.libs]
        extra = STDLIB_PACKAGES.get(name)
        causes.append(
            Cause(
                f"missing standard module {name}",
                "the interpreter was built without it" + (f" (Debian/Ubuntu: apt install {extra})" if extra else ""),
                hit,
            )
        )
    if probe is not None:
        nltk_missing = by_import.get("nltk") is not None and by_import["nltk"].missing
        for resource, ok in probe.nltk_found.items():
            if ok or nltk_missing:
                continue
            hit = [t.task_id for t in tasks if resource in t.nltk_data]
            found_by = probe.nltk_detail.get(resource) or "not found by nltk.data.find"
            if resource in NLTK_DATA_RESOURCES:  # what `bcb env nltk-data` installs
                found_by += "; `bcb env nltk-data --python <task env>` installs it"
            causes.append(Cause(f"NLTK data {resource}", found_by, hit))
        if not probe.network_reachable:
            hit = [t.task_id for t in tasks if "network" in t.known]
            causes.append(Cause("no network in the sandbox", probe.network_detail, hit))
        tier = probe.report.get("tier", "?")
        for need, why in probe.sandbox_limits.items():
            if why:
                hit = [t.task_id for t in tasks if need in t.sandbox]
                what = {"tmp": "/tmp is not writable", "loopback": "no sockets, not even on the loopback"}[need]
                causes.append(
                    Cause(
                        f"sandbox tier {tier}: {what}",
                        f"{why} (a tier with namespaces gives each sample its own; see `bcb doctor`'s sandbox section)",
                        hit,
                    )
                )
        if probe.runs_as_root:
            unwritable = bool(probe.report.get("landlock"))
            hit = [t.task_id for t in tasks if "non_root" in t.known or ("readonly_fs" in t.known and not unwritable)]
            causes.append(Cause("samples run as root", "the official image runs tasks as a normal user", hit))
    pins_by_dist = {lib.dist: lib for lib in [*libraries.libraries, *libraries.other_pins]}
    for task in tasks:
        for need in task.known:
            if need.startswith("pin:"):
                lib = pins_by_dist.get(normalize_dist(need[4:]))
                if lib is not None and lib.differs:
                    causes.append(
                        Cause(
                            f"{lib.dist} {lib.installed} (official {lib.official})",
                            "this task needs the official version",
                            [task.task_id],
                        )
                    )
    risks: dict[str, list[str]] = {}
    for lib in libraries.libraries:
        if lib.differs:
            risks[lib.import_name] = [t.task_id for t in tasks if lib.import_name in t.libs]
    return Diagnosis(len(tasks), [c for c in causes if c.tasks], risks, probe.refusal if probe is not None else None)


def summarize_ground_truth(gt: Mapping[str, Any]) -> dict[str, Any]:
    """A cached ground-truth result as the report shows it: pass rate and the failing tasks."""
    failed = [task for task, verdict in gt.items() if not getattr(verdict, "passed", False)]
    return {
        "tasks": len(gt),
        "pass_rate": round((len(gt) - len(failed)) / len(gt), 4) if gt else None,
        "failed": failed,
    }
