"""The dataset layer on the real released files: hashes, versions, subsets, selection, validation."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bcb.dataset import (
    DEFAULT_VERSION,
    VERSIONS,
    DatasetError,
    content_hash,
    load_dataset,
    parse_id_range,
    parse_ids,
    read_tasks,
    select_tasks,
    write_tasks,
)
from bcb.dataset.domains import DOMAINS, domain_histogram, lib_domains_for
from bcb.dataset.summary import summarize
from helpers import SHARED_DATA, shared_file


def _records(version: str) -> list[dict]:
    return [
        json.loads(line) for line in gzip.open(shared_file(f"BigCodeBench-{version}.jsonl.gz"), "rt", encoding="utf-8")
    ]


def _write_jsonl(path: Path, records: list[dict], raw_lines: dict[int, str] | None = None) -> Path:
    lines = [json.dumps(r) for r in records]
    for index, text in (raw_lines or {}).items():
        lines[index] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("version", list(VERSIONS))
def test_released_files_hash_to_their_published_hash(version: str) -> None:
    dataset = load_dataset(dataset_file=shared_file(f"BigCodeBench-{version}.jsonl.gz"))
    assert len(dataset) == 1140
    assert dataset.content_hash == VERSIONS[version]
    assert dataset.version == version and dataset.verified and dataset.name == "bigcodebench"


def test_hash_ignores_order_and_serialization(tmp_path: Path) -> None:
    records = _records("v0.1.4")
    shuffled = list(reversed(records))
    path = tmp_path / "reordered.jsonl"
    path.write_text("\n".join(json.dumps(r, indent=None, ensure_ascii=True) for r in shuffled), encoding="utf-8")
    assert content_hash(read_tasks(path, check=False)) == VERSIONS["v0.1.4"]


def test_default_version_is_found_in_data_dir() -> None:
    shared_file(f"BigCodeBench-{DEFAULT_VERSION}.jsonl.gz")
    dataset = load_dataset(data_dir=SHARED_DATA)
    assert dataset.version == DEFAULT_VERSION == "v0.1.4"
    assert dataset.content_hash.startswith("3b778833723756bb")


def test_data_dir_file_that_is_another_version_is_refused(tmp_path: Path) -> None:
    source = shared_file("BigCodeBench-v0.1.3.jsonl.gz")
    (tmp_path / "BigCodeBench-v0.1.4.jsonl.gz").write_bytes(source.read_bytes())
    with pytest.raises(DatasetError, match=r"claims to be v0\.1\.4 but is v0\.1\.3.*--dataset-file"):
        load_dataset(version="v0.1.4", data_dir=tmp_path)


def test_edited_file_is_custom_with_its_own_hash(tmp_path: Path) -> None:
    records = _records("v0.1.4")
    records[7]["test"] = records[7]["test"] + "\n# edited\n"
    path = _write_jsonl(tmp_path / "edited.jsonl", records)
    dataset = load_dataset(dataset_file=path, version="v0.1.4")
    assert dataset.name == "custom" and not dataset.verified and dataset.version is None
    assert dataset.content_hash not in VERSIONS.values()
    assert any("custom" in note for note in dataset.notes)
    # The same edit placed where the released version is looked up is refused, not used.
    (tmp_path / "data").mkdir()
    _write_jsonl(tmp_path / "data" / "BigCodeBench-v0.1.4.jsonl", records)
    with pytest.raises(DatasetError, match="claims to be v0.1.4"):
        load_dataset(data_dir=tmp_path / "data")


def test_hard_subset_from_id_list() -> None:
    ids = json.loads(shared_file("BigCodeBench-Hard-task-ids.json").read_text())
    hard = load_dataset(data_dir=SHARED_DATA, subset="hard")
    assert len(hard) == 148 == len(ids)
    assert [t.task_id for t in hard] == sorted(ids, key=lambda i: int(i.split("/")[1]))
    assert hard.subset == "hard" and hard.verified
    assert hard.content_hash == content_hash(hard.tasks) != VERSIONS["v0.1.4"]


def test_hard_subset_next_to_dataset_file() -> None:
    hard = load_dataset(dataset_file=shared_file("BigCodeBench-v0.1.5.jsonl.gz"), subset="hard")
    assert len(hard) == 148 and hard.version == "v0.1.5"


def test_hard_without_id_list_offline_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "BigCodeBench-v0.1.4.jsonl.gz"
    copy.write_bytes(shared_file("BigCodeBench-v0.1.4.jsonl.gz").read_bytes())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetError, match="Hard task id list.*--data-dir"):
        load_dataset(data_dir=tmp_path, subset="hard")


def test_selection_follows_official_semantics() -> None:
    dataset = load_dataset(data_dir=SHARED_DATA) if (SHARED_DATA / "BigCodeBench-v0.1.4.jsonl.gz").is_file() else None
    if dataset is None:
        pytest.skip("v0.1.4 not present")
    by_range = select_tasks(dataset, id_range=parse_id_range("10-20"))
    assert [t.number for t in by_range] == list(range(10, 20))
    assert parse_id_range("[10, 20]") == (10, 20)
    chosen = select_tasks(dataset, ids=parse_ids("BigCodeBench/13, 15,1139"))
    assert [t.task_id for t in chosen] == ["BigCodeBench/13", "BigCodeBench/15", "BigCodeBench/1139"]
    both = select_tasks(dataset, ids=parse_ids("13,25"), id_range=(10, 20))
    assert [t.number for t in both] == [13]
    with pytest.raises(DatasetError, match="no task '99999'"):
        select_tasks(dataset, ids=["99999"])
    with pytest.raises(DatasetError, match="keeps no task"):
        select_tasks(dataset, ids=["25"], id_range=(10, 20))
    with pytest.raises(DatasetError, match="LOW-HIGH"):
        parse_id_range("ten")
    with pytest.raises(DatasetError, match="greater"):
        parse_id_range("20-10")


def test_task_record_helpers() -> None:
    dataset = load_dataset(dataset_file=shared_file("BigCodeBench-v0.1.4.jsonl.gz"))
    task = dataset.task("13")
    assert task.task_id == "BigCodeBench/13" and task.number == 13
    assert task.prompt("complete") == task.complete_prompt and task.prompt("instruct") == task.instruct_prompt
    assert isinstance(task.doc_struct, dict) and "description" in task.doc_struct
    assert task.libs == ("subprocess", "ftplib", "os")
    with pytest.raises(ValueError, match="unknown split"):
        task.prompt("chat")  # type: ignore[arg-type]
    assert task.to_record()["libs"] == "['subprocess', 'ftplib', 'os']"


def test_domains_and_summary() -> None:
    dataset = load_dataset(dataset_file=shared_file("BigCodeBench-v0.1.4.jsonl.gz"))
    shared_file("lib2domain.json")
    domains = lib_domains_for(dataset)
    assert domains is not None
    histogram = domain_histogram(dataset.tasks, domains)
    assert set(histogram) == set(DOMAINS) and all(histogram[d] > 0 for d in DOMAINS)
    summary = summarize(dataset, domains)
    assert summary.tasks == 1140 and len(summary.libraries) == 139
    assert list(summary.libraries)[0] == "pandas"
    assert summary.unmapped == ()
    assert sum(summary.libs_per_task.values()) == 1140


def test_write_tasks_is_reproducible(tmp_path: Path) -> None:
    dataset = load_dataset(dataset_file=shared_file("BigCodeBench-v0.1.4.jsonl.gz"))
    a = write_tasks(tmp_path / "a.jsonl.gz", dataset.tasks[:50])
    b = write_tasks(tmp_path / "b.jsonl.gz", dataset.tasks[:50])
    assert a.read_bytes() == b.read_bytes()
    assert [t.task_id for t in read_tasks(a)] == [t.task_id for t in dataset.tasks[:50]]


# -- malformed files: one line, naming the task and the problem --------------------------------


def _mini_records() -> list[dict]:
    from bcb.dataset import mini

    return [dict(r) for r in mini.RECORDS]


def _error_for(path: Path) -> str:
    with pytest.raises(DatasetError) as info:
        load_dataset(dataset_file=path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_bad_json_line(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "d.jsonl", _mini_records(), raw_lines={2: '{"task_id": "bcb-mini/2", '})
    assert (
        _error_for(path) == f"{path}:3: not valid JSON (Expecting property name enclosed in double quotes at column 27)"
    )


def test_missing_field(tmp_path: Path) -> None:
    records = _mini_records()
    del records[4]["test"]
    message = _error_for(_write_jsonl(tmp_path / "d.jsonl", records))
    assert message.endswith("d.jsonl:5: bcb-mini/4: missing field 'test'")


def test_duplicate_id(tmp_path: Path) -> None:
    records = _mini_records()
    records[6]["task_id"] = records[1]["task_id"]
    message = _error_for(_write_jsonl(tmp_path / "d.jsonl", records))
    assert "d.jsonl:7: bcb-mini/1: duplicate task_id (first at" in message and "d.jsonl:2)" in message


def test_no_testcases(tmp_path: Path) -> None:
    records = _mini_records()
    records[3]["test"] = records[3]["test"].replace("class TestCases", "class SomethingElse")
    message = _error_for(_write_jsonl(tmp_path / "d.jsonl", records))
    assert message.endswith("d.jsonl: bcb-mini/3: field 'test' defines no class TestCases")


def test_solution_that_does_not_parse(tmp_path: Path) -> None:
    records = _mini_records()
    records[0]["canonical_solution"] = "    return (\n"
    message = _error_for(_write_jsonl(tmp_path / "d.jsonl", records))
    assert "bcb-mini/0: field 'canonical_solution' does not parse" in message


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("libs", "pandas", "field 'libs' is not a list literal"),
        ("doc_struct", "{not json", "field 'doc_struct' is not valid JSON"),
        ("entry_point", "task func", "field 'entry_point' is not a Python identifier"),
        ("test", 42, "field 'test' must be a string, got int"),
    ],
)
def test_bad_field_values(tmp_path: Path, field: str, value: object, expected: str) -> None:
    records = _mini_records()
    records[2][field] = value
    message = _error_for(_write_jsonl(tmp_path / "d.jsonl", records))
    assert f"bcb-mini/2: {expected}" in message


def test_not_gzip_and_missing_file(tmp_path: Path) -> None:
    fake = tmp_path / "fake.jsonl.gz"
    fake.write_text("plain text")
    assert "not a readable gzip file" in _error_for(fake)
    assert _error_for(tmp_path / "absent.jsonl").endswith("absent.jsonl: no such file")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert "holds no tasks" in _error_for(empty)


def test_bcb_mini_is_bundled_and_refuses_version_options() -> None:
    mini = load_dataset("bcb-mini")
    assert mini.verified and mini.name == "bcb-mini" and len(mini) >= 12
    with pytest.raises(DatasetError, match="bundled"):
        load_dataset("bcb-mini", version="v0.1.4")
    with pytest.raises(DatasetError, match="no Hard subset"):
        load_dataset("bcb-mini", subset="hard")
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset("humaneval")
    with pytest.raises(ValueError, match="unknown BigCodeBench version"):
        load_dataset(version="v9")
