"""Tasks, versions and loading: the bottom layer, which every other layer reads from."""

from bcb.dataset.hashing import content_hash
from bcb.dataset.loading import (
    DATASETS,
    SUBSETS,
    Dataset,
    Subset,
    cache_dir,
    check_jsonl_path,
    load_dataset,
    read_tasks,
    write_tasks,
)
from bcb.dataset.selection import parse_id_range, parse_ids, select_tasks
from bcb.dataset.task import FIELDS, SPLITS, DatasetError, Split, Task, TaskError, parse_task, task_number
from bcb.dataset.versions import DEFAULT_VERSION, VERSIONS

__all__ = [
    "DATASETS",
    "DEFAULT_VERSION",
    "FIELDS",
    "SPLITS",
    "SUBSETS",
    "VERSIONS",
    "Dataset",
    "DatasetError",
    "Split",
    "Subset",
    "Task",
    "TaskError",
    "cache_dir",
    "check_jsonl_path",
    "content_hash",
    "load_dataset",
    "parse_id_range",
    "parse_ids",
    "parse_task",
    "read_tasks",
    "select_tasks",
    "task_number",
    "write_tasks",
]
