"""Dataset verification cached by file (path, size, mtime, ctime, inode -> content hash): reused while
the file is unchanged, redone after any change, and never a reason to trust a changed file."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import pytest

from bcb import filecache
from bcb.dataset import VERSIONS, DatasetError, content_hash, load_dataset, loading, read_tasks, write_tasks
from helpers import shared_file


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the real hashing the loader does (the real function still runs)."""
    calls: list[int] = []

    def counting(tasks):  # type: ignore[no-untyped-def]
        calls.append(1)
        return content_hash(tasks)

    monkeypatch.setattr(loading, "content_hash", counting)
    return calls


def _settle() -> None:
    """Past the window in which a just-written file is not cached (its times may not yet tell a
    second write apart)."""
    time.sleep(filecache.SETTLE_S + 0.1)


def _flip_one_letter(path: Path) -> None:
    """Change one byte of a task's instruction (prose, no code), keeping the size, then give the file its old mtime back."""
    before = path.stat()
    data = bytearray(path.read_bytes())
    at = data.index(b'"instruct_prompt": "') + len(b'"instruct_prompt": "')
    data[at] = ord("X") if data[at] != ord("X") else ord("Y")
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert after.st_size == before.st_size and after.st_mtime_ns == before.st_mtime_ns


def _custom_file(tmp_path: Path, hash_calls: list[int]) -> Path:
    """A custom dataset file (bcb-mini's tasks; loading those is hashing not counted)."""
    path = write_tasks(tmp_path / "custom.jsonl", load_dataset("bcb-mini").tasks)
    hash_calls.clear()
    return path


def test_hash_is_reused_until_the_file_changes(tmp_path: Path, hash_calls: list[int]) -> None:
    path = _custom_file(tmp_path, hash_calls)
    _settle()
    first = load_dataset(dataset_file=path)
    assert len(hash_calls) == 1
    again = load_dataset(dataset_file=path)
    assert len(hash_calls) == 1, "an unchanged file was hashed again"
    assert again.content_hash == first.content_hash
    assert (filecache.cache_dir() / "dataset-hashes.json").is_file()

    # Same size, same mtime (set back), other content: the ctime gives it away.
    _flip_one_letter(path)
    _settle()
    tampered = load_dataset(dataset_file=path)
    assert len(hash_calls) == 2
    assert tampered.content_hash != first.content_hash
    assert tampered.content_hash == content_hash(read_tasks(path, check=False))

    # Same content, new mtime only: hashed again (and the same hash).
    os.utime(path)
    _settle()
    assert load_dataset(dataset_file=path).content_hash == tampered.content_hash
    assert len(hash_calls) == 3

    # Another size.
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    _settle()
    assert load_dataset(dataset_file=path).content_hash == tampered.content_hash
    assert len(hash_calls) == 4
    load_dataset(dataset_file=path)
    assert len(hash_calls) == 4


def test_a_file_changed_just_now_is_not_cached(tmp_path: Path, hash_calls: list[int]) -> None:
    """Within the file system's clock tick a second same-size write would leave the stamp as it
    was, so a file that changed under SETTLE_S ago is hashed every time."""
    path = _custom_file(tmp_path, hash_calls)
    load_dataset(dataset_file=path)
    load_dataset(dataset_file=path)
    assert len(hash_calls) == 2
    assert not (filecache.cache_dir() / "dataset-hashes.json").exists()


def test_tampered_release_is_still_refused(tmp_path: Path, hash_calls: list[int]) -> None:
    records = [
        json.loads(line) for line in gzip.open(shared_file("BigCodeBench-v0.1.4.jsonl.gz"), "rt", encoding="utf-8")
    ]
    release = tmp_path / "BigCodeBench-v0.1.4.jsonl"
    release.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    _settle()
    assert load_dataset(data_dir=tmp_path).content_hash == VERSIONS["v0.1.4"]
    assert load_dataset(data_dir=tmp_path).verified
    assert len(hash_calls) == 1

    _flip_one_letter(release)
    with pytest.raises(DatasetError, match=r"claims to be v0\.1\.4 but hashes to"):
        load_dataset(data_dir=tmp_path)
    assert len(hash_calls) == 2


@pytest.mark.parametrize(
    "content",
    [
        "not json at all {",
        "[]",
        '{"format": 1, "entries": []}',
        '{"format": 999, "entries": {}}',
        '{"format": 1, "entries": {"KEY": {"stamp": "STAMP", "value": "not a hash"}}}',
        '{"format": 1, "entries": {"KEY": {"stamp": "STAMP", "value": 12}}}',
        '{"format": 1, "entries": {"KEY": {"stamp": 5, "value": "HASH"}}}',
        '{"format": 1, "entries": {"KEY": {"stamp": "0000", "value": "HASH"}}}',
        '{"format": 1, "entries": {"KEY": "HASH"}}',
    ],
)
def test_corrupt_cache_means_hashing_again(tmp_path: Path, hash_calls: list[int], content: str) -> None:
    path = _custom_file(tmp_path, hash_calls)
    _settle()
    good = load_dataset(dataset_file=path).content_hash
    cache = filecache.cache_dir() / "dataset-hashes.json"
    entry = json.loads(cache.read_text())["entries"][str(path.resolve())]
    wrong = "0" * 64
    cache.write_text(
        content.replace("KEY", json.dumps(str(path.resolve()))[1:-1])
        .replace("STAMP", entry["stamp"])
        .replace("HASH", wrong),
        encoding="utf-8",
    )
    assert load_dataset(dataset_file=path).content_hash == good
    assert len(hash_calls) == 2
    # The cache is written afresh and used again.
    assert load_dataset(dataset_file=path).content_hash == good
    assert len(hash_calls) == 2


def test_unwritable_cache_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hash_calls: list[int]) -> None:
    path = _custom_file(tmp_path, hash_calls)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("BCB_CACHE_DIR", str(blocker / "cache"))  # no directory can be made there, not even by root
    _settle()
    first = load_dataset(dataset_file=path).content_hash
    assert load_dataset(dataset_file=path).content_hash == first
    assert len(hash_calls) == 2


def test_cache_dir_follows_bcb_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hash_calls: list[int]
) -> None:
    monkeypatch.setenv("BCB_CACHE_DIR", str(tmp_path / "elsewhere"))
    path = _custom_file(tmp_path, hash_calls)
    _settle()
    load_dataset(dataset_file=path)
    assert (tmp_path / "elsewhere" / "dataset-hashes.json").is_file()
