"""The content hash every result records, so a score can always be traced to the exact tasks."""

from __future__ import annotations

import hashlib
import json
from typing import Iterable

from bcb.dataset.task import Task


def content_hash(tasks: Iterable[Task]) -> str:
    """sha256 over the tasks in numeric id order, each as sorted-key compact JSON of its nine
    official string fields, joined by newlines. Independent of file order and serialization."""
    lines = (
        json.dumps(t.to_record(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        for t in sorted(tasks, key=lambda t: (t.number, t.task_id))
    )
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
