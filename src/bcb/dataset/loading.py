"""Finding, reading, verifying and caching datasets.

Every result bcb writes names the exact tasks it ran by content hash. So a file that claims to be
a released version but hashes otherwise is refused (it would silently change scores), and a custom
file is accepted only when the user says so with `--dataset-file`, its hash recorded as is.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal

from bcb.dataset import hub
from bcb.dataset.hashing import content_hash
from bcb.dataset.task import DatasetError, Task, TaskError, check_code, parse_task, task_number
from bcb.dataset.versions import DEFAULT_VERSION, VERSIONS, check_version_name, version_of_hash
from bcb.filecache import FileCache, cache_dir
from bcb.fileio import write_atomic

Subset = Literal["full", "hard"]
SUBSETS: tuple[Subset, ...] = ("full", "hard")
DATASETS: tuple[str, ...] = ("bigcodebench", "bcb-mini")
HARD_IDS_FILE = "BigCodeBench-Hard-task-ids.json"


@dataclass(frozen=True)
class Dataset:
    """A loaded set of tasks and where they came from: the provenance every result records."""

    name: str
    version: str | None
    subset: Subset
    tasks: tuple[Task, ...]
    content_hash: str
    source: str
    verified: bool
    """True when the content is byte-for-byte a released version (or bcb-mini as bundled)."""
    notes: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    @cached_property
    def by_id(self) -> dict[str, Task]:
        return {t.task_id: t for t in self.tasks}

    @property
    def id_prefix(self) -> str:
        return self.tasks[0].task_id.rsplit("/", 1)[0] if self.tasks and "/" in self.tasks[0].task_id else ""

    def resolve_id(self, task_id: str) -> str:
        """Accept `13` as well as `BigCodeBench/13`, as users type both."""
        task_id = task_id.strip()
        if task_id in self.by_id:
            return task_id
        if task_id.isdigit() and self.id_prefix and f"{self.id_prefix}/{task_id}" in self.by_id:
            return f"{self.id_prefix}/{task_id}"
        raise DatasetError(f"no task {task_id!r} in {self.label} (ids look like {self.tasks[0].task_id!r})")

    def task(self, task_id: str) -> Task:
        return self.by_id[self.resolve_id(task_id)]

    @property
    def label(self) -> str:
        version = f" {self.version}" if self.version else ""
        subset = "" if self.subset == "full" else f" ({self.subset})"
        return f"{self.name}{version}{subset}"


# ---------------------------------------------------------------------------------------------
# Locations


def search_dirs(
    data_dir: str | os.PathLike[str] | None = None, near: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Where companion files (Hard ids, domain map) are looked for: the data directory, the
    directory of a `--dataset-file` (they usually travel together), then the cache."""
    dirs: list[Path] = []
    explicit = data_dir or os.environ.get("BCB_DATA_DIR")
    if explicit:
        dirs.append(Path(explicit).expanduser())
    if near is not None:
        dirs.append(Path(near).expanduser())
    dirs.append(cache_dir())
    return dirs


def _check_data_dir(data_dir: str | os.PathLike[str] | None) -> None:
    """A data directory that does not exist is a typo, never a reason to look elsewhere unsaid."""
    given = data_dir or os.environ.get("BCB_DATA_DIR")
    if given and not Path(given).expanduser().is_dir():
        raise DatasetError(
            f"the data directory {given} (--data-dir or BCB_DATA_DIR) does not exist; name the directory holding BigCodeBench-<version>.jsonl.gz "
            '(README: "Without internet" says how to get the files there)'
        )


def _version_file_names(version: str) -> list[str]:
    # The gzip name is the released one; the plain name is what the official evaluator caches.
    return [f"BigCodeBench-{version}.jsonl.gz", f"BigCodeBench-{version}.jsonl"]


def find_local_version(version: str, data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    for directory in search_dirs(data_dir):
        for name in _version_file_names(version):
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


# ---------------------------------------------------------------------------------------------
# Reading and writing


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


#: The longest line a task or samples file may have, in characters. The longest task of
#: BigCodeBench is ~20 kB and a sample rarely passes 100 kB; the bound keeps a device or a file
#: without newlines (``/dev/zero``) from being read into memory without end.
MAX_LINE_CHARS = 64 * 1024 * 1024


def _lines(handle: io.TextIOBase, path: Path) -> Iterator[tuple[int, str]]:
    lineno = 0
    while True:
        line = handle.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        lineno += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            raise DatasetError(
                f"{path}:{lineno}: a line longer than {MAX_LINE_CHARS // (1024 * 1024)} MiB: not a JSONL file"
            )
        yield lineno, line


def check_jsonl_path(path: Path) -> None:
    """Refuse a device (``/dev/zero`` would be read without end) or a socket before anything is
    done with it; a file, a directory, a pipe (``<(...)``) or a missing path pass, for the reader
    to judge."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISFIFO(mode)):
        raise DatasetError(f"{path}: not a regular file, expected a .jsonl or .jsonl.gz file")


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-blank line; errors name the file and line."""
    check_jsonl_path(path)
    try:
        with _open_text(path) as handle:
            for lineno, line in _lines(handle, path):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line.rstrip("\r\n"))
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno})") from None
                except RecursionError:
                    raise DatasetError(f"{path}:{lineno}: JSON nested too deeply to be a task or a sample") from None
                except ValueError as exc:  # e.g. an integer beyond Python's digit limit
                    raise DatasetError(f"{path}:{lineno}: not valid JSON ({exc})") from None
                if not isinstance(record, dict):
                    raise DatasetError(f"{path}:{lineno}: expected a JSON object per line, got {type(record).__name__}")
                yield lineno, record
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a directory, expected a .jsonl or .jsonl.gz file") from None
    except (gzip.BadGzipFile, EOFError) as exc:
        raise DatasetError(f"{path}: not a readable gzip file ({exc})") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def tasks_from_records(records: Iterable[tuple[str, dict[str, Any]]], *, check: bool) -> tuple[Task, ...]:
    """Parse and validate; `records` pairs each record with where it came from (for messages)."""
    tasks: list[Task] = []
    seen: dict[str, str] = {}
    for where, record in records:
        task = parse_task(record, where=where)
        if task.task_id in seen:
            raise DatasetError(f"{where}: {task.task_id}: duplicate task_id (first at {seen[task.task_id]})")
        seen[task.task_id] = where
        if check:
            try:
                check_code(task)
            except TaskError as exc:
                raise DatasetError(f"{where}: {exc}") from None
        tasks.append(task)
    if not tasks:
        raise DatasetError("the dataset holds no tasks")
    return tuple(tasks)


def read_tasks(path: str | os.PathLike[str], *, check: bool = True) -> tuple[Task, ...]:
    """Tasks of a .jsonl or .jsonl.gz file, in file order."""
    path = Path(path)
    return tasks_from_records(((f"{path}:{n}", r) for n, r in read_records(path)), check=check)


#: Content hashes of dataset files by path: hashing all 1140 tasks costs more than any other part of
#: loading them, and a released file is loaded unchanged by every run.
HASHES = FileCache("dataset-hashes")


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def read_hashed(path: Path) -> tuple[tuple[Task, ...], str]:
    """The tasks of a file and their content hash, the hash from `HASHES` while the file is as it
    was when it was hashed (same size, mtime, ctime and inode)."""
    started = time.time()
    tasks = read_tasks(path, check=False)
    key = str(path.resolve())
    digest = HASHES.get(key, lambda _: [key], _is_sha256)
    if digest is None:
        digest = content_hash(tasks)
        HASHES.put(key, [key], digest, started)
    return tasks, digest


def write_tasks(path: str | os.PathLike[str], tasks: Iterable[Task]) -> Path:
    """Write atomically; gzip (mtime 0, reproducible bytes) when the name ends in .gz."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(t.to_record(), ensure_ascii=False) + "\n" for t in tasks).encode("utf-8")
    if path.suffix == ".gz":
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as gz:
            gz.write(payload)
        payload = buffer.getvalue()
    return write_atomic(path, payload)


def _hard_ids_files(version: str, data_dir: str | os.PathLike[str] | None, near: Path | None) -> Iterator[Path]:
    for directory in search_dirs(data_dir, near):
        yield directory / f"BigCodeBench-Hard-{version}-task-ids.json"
        yield directory / HARD_IDS_FILE


def hard_task_ids(
    version: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    near: Path | None = None,
    download: bool = True,
    progress: hub.DownloadProgress | None = None,
) -> list[str]:
    """The 148 Hard ids: a local id list if there is one, else the ids of the Hugging Face Hard
    split (cached). The Hard tasks themselves are always taken from a verified full dataset."""
    for candidate in _hard_ids_files(version, data_dir, near):
        if candidate.is_file():
            try:
                ids = json.loads(candidate.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise DatasetError(f"{candidate}: not a JSON list of task ids ({exc})") from None
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise DatasetError(f"{candidate}: expected a JSON list of task id strings")
            return ids
    if not download:
        raise DatasetError(_missing_message("the Hard task id list", HARD_IDS_FILE))
    try:
        rows = hub.fetch_rows(hub.HARD_REPO, version, progress=progress)
    except hub.DownloadError as exc:
        raise DatasetError(f"{exc}. " + _missing_message("the Hard task id list", HARD_IDS_FILE)) from None
    ids = [str(r["task_id"]) for r in rows]
    target = cache_dir() / f"BigCodeBench-Hard-{version}-task-ids.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(ids), encoding="utf-8")
    return ids


def _missing_message(what: str, file_name: str) -> str:
    return (
        f"bcb needs {what} and cannot download it. Offline, point bcb at a local copy: "
        f"--dataset-file PATH (a .jsonl or .jsonl.gz), or put {file_name} in a directory and pass "
        f"--data-dir DIR (or set BCB_DATA_DIR=DIR), or copy it into the cache {cache_dir()}"
    )


def download_version(version: str, *, progress: hub.DownloadProgress | None = None) -> Path:
    """Fetch a released version into the cache, verified, and return the cached file."""
    check_version_name(version)
    try:
        rows = hub.fetch_rows(hub.FULL_REPO, version, progress=progress)
    except hub.DownloadError as exc:
        raise DatasetError(
            f"{exc}. " + _missing_message(f"BigCodeBench {version}", _version_file_names(version)[0])
        ) from None
    tasks = tasks_from_records(((f"{hub.FULL_REPO}[{version}] row {i}", r) for i, r in enumerate(rows)), check=False)
    got = content_hash(tasks)
    if got != VERSIONS[version]:
        raise DatasetError(
            f"the download of {version} hashes to {got[:16]}..., not the released {VERSIONS[version][:16]}...; "
            "nothing was cached. Try again later, or use a local copy with --dataset-file"
        )
    return write_tasks(cache_dir() / f"BigCodeBench-{version}.jsonl.gz", sorted(tasks, key=lambda t: t.number))


# ---------------------------------------------------------------------------------------------
# The one entry point


def load_dataset(
    name: str = "bigcodebench",
    *,
    version: str | None = None,
    subset: Subset = "full",
    dataset_file: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: hub.DownloadProgress | None = None,
) -> Dataset:
    """Resolve what the user asked for into verified tasks.

    Order of lookup for a released version: `data_dir` (or BCB_DATA_DIR), then the cache, then
    Hugging Face (once, into the cache). `dataset_file` bypasses the lookup and makes the dataset
    custom unless its hash happens to be a released version's.
    """
    if subset not in SUBSETS:
        raise DatasetError(f"unknown subset {subset!r}: choose one of {', '.join(SUBSETS)}")
    if name == "bcb-mini":
        return _load_mini(version, subset, dataset_file)
    if name != "bigcodebench":
        raise DatasetError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    if version is not None:
        check_version_name(version)
    _check_data_dir(data_dir)

    if dataset_file is not None:
        path = Path(dataset_file).expanduser()
        tasks, digest = read_hashed(path)
        released = version_of_hash(digest)
        notes: list[str] = []
        if released is None:
            tasks_checked(tasks, str(path))
            if version is not None:
                notes.append(f"--version {version} ignored: {path} is a custom dataset")
        elif version is not None and version != released:
            notes.append(f"{path} is {released}, not {version}: using {released}")
        dataset_name = "bigcodebench" if released else "custom"
        full = Dataset(dataset_name, released, "full", tasks, digest, str(path), released is not None, tuple(notes))
    else:
        version = version or DEFAULT_VERSION
        local = find_local_version(version, data_dir)
        if local is None:
            if not download:
                raise DatasetError(_missing_message(f"BigCodeBench {version}", _version_file_names(version)[0]))
            local = download_version(version, progress=progress)
        path = local
        tasks, digest = read_hashed(path)
        if digest != VERSIONS[version]:
            actual = version_of_hash(digest)
            what = f"is {actual}" if actual else f"hashes to {digest[:16]}..."
            raise DatasetError(
                f"{path} claims to be {version} but {what} (released {version}: {VERSIONS[version][:16]}...). "
                f"Remove or replace it, or use it as a custom dataset with --dataset-file {path}"
            )
        full = Dataset("bigcodebench", version, "full", tasks, digest, str(path), True)

    if subset == "full":
        return full
    return _hard_subset(full, data_dir=data_dir, download=download, progress=progress)


def tasks_checked(tasks: Iterable[Task], where: str) -> None:
    """Parse every program of a custom dataset; released versions are known good and skip this."""
    for task in tasks:
        try:
            check_code(task)
        except TaskError as exc:
            raise DatasetError(f"{where}: {exc}") from None


def _hard_subset(full: Dataset, *, data_dir: Any, download: bool, progress: hub.DownloadProgress | None) -> Dataset:
    near = Path(full.source).parent if Path(full.source).is_file() else None
    ids = hard_task_ids(
        full.version or DEFAULT_VERSION, data_dir=data_dir, near=near, download=download, progress=progress
    )
    wanted = set(ids)
    tasks = tuple(t for t in full.tasks if t.task_id in wanted)
    if not tasks:
        raise DatasetError(f"{full.source} holds none of the {len(ids)} Hard task ids; is it a full BigCodeBench file?")
    missing = wanted - {t.task_id for t in tasks}
    notes = full.notes
    if missing and full.verified:
        raise DatasetError(f"{full.label} lacks {len(missing)} Hard tasks, e.g. {sorted(missing, key=task_number)[0]}")
    if missing:
        notes = notes + (f"{len(missing)} Hard tasks are not in this file",)
    return Dataset(full.name, full.version, "hard", tasks, content_hash(tasks), full.source, full.verified, notes)


def _load_mini(version: str | None, subset: str, dataset_file: Any) -> Dataset:
    from bcb import __version__
    from bcb.dataset import mini

    if dataset_file is not None or version is not None:
        raise DatasetError("bcb-mini is bundled with bcb: it takes neither --version nor --dataset-file")
    if subset != "full":
        raise DatasetError("bcb-mini has no Hard subset: use --subset full")
    tasks = tasks_from_records(((f"bcb-mini[{i}]", r) for i, r in enumerate(mini.RECORDS)), check=False)
    return Dataset("bcb-mini", None, "full", tasks, content_hash(tasks), f"bundled with bcb {__version__}", True)
