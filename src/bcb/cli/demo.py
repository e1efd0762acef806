"""`bcb demo`: the README's first command; shows a new machine works end to end, offline."""

from __future__ import annotations

from bcb.cli.common import DataDir, console, open_dataset, user_errors
from bcb.cli.data import _print_summary
from bcb.dataset import DEFAULT_VERSION, DatasetError
from bcb.dataset.domains import lib_domains_for
from bcb.dataset.summary import summarize


def demo(data_dir: DataDir = None) -> None:
    """Load the bundled bcb-mini and, when a local copy exists, BigCodeBench itself; summarise both."""
    with user_errors():
        mini = open_dataset("bcb-mini", None, None, "full", None)
        _print_summary(summarize(mini, lib_domains_for(mini)), top=0)
    console.print()
    try:
        full = open_dataset("bigcodebench", None, None, "full", data_dir) if data_dir else None
    except DatasetError as exc:
        console.print(f"[yellow]BigCodeBench {DEFAULT_VERSION} not loaded:[/] {exc}", highlight=False)
        return
    if full is None:
        console.print(
            f"BigCodeBench {DEFAULT_VERSION} not loaded: pass --data-dir DIR (or set BCB_DATA_DIR) to a directory "
            f"with BigCodeBench-{DEFAULT_VERSION}.jsonl.gz, or run `bcb data info` online to download it.",
            highlight=False,
        )
        return
    _print_summary(summarize(full, lib_domains_for(full, data_dir)), top=15)
