"""The Hugging Face download path against a real HTTP server on loopback that speaks the dataset
viewer's `/rows` protocol, serving the released files from ../shared/data."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from bcb.dataset import VERSIONS, DatasetError, load_dataset
from bcb.dataset.hub import FULL_REPO, HARD_REPO
from helpers import shared_file


class RowsServer:
    """Serves {(repo, split): rows}; `mutate` lets a test corrupt what is served."""

    def __init__(self, splits: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
        self.splits = splits
        self.requests: list[str] = []
        self.mutate: Callable[[dict[str, Any]], dict[str, Any]] = lambda page: page
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                rows = outer.splits.get((query.get("dataset", ""), query.get("split", "")))
                if url.path != "/rows" or rows is None:
                    body, status = json.dumps({"error": "Not found."}).encode(), 404
                else:
                    offset, length = int(query["offset"]), min(int(query["length"]), 100)
                    page = {
                        "features": [],
                        "rows": [
                            {"row_idx": i, "row": rows[i], "truncated_cells": []}
                            for i in range(offset, min(offset + length, len(rows)))
                        ],
                        "num_rows_total": len(rows),
                        "num_rows_per_page": 100,
                        "partial": False,
                    }
                    body, status = json.dumps(outer.mutate(page)).encode(), 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _rows(version: str) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in gzip.open(shared_file(f"BigCodeBench-{version}.jsonl.gz"), "rt", encoding="utf-8")
    ]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[RowsServer]:
    full = _rows("v0.1.4")
    hard_ids = set(json.loads(shared_file("BigCodeBench-Hard-task-ids.json").read_text()))
    srv = RowsServer(
        {(FULL_REPO, "v0.1.4"): full, (HARD_REPO, "v0.1.4"): [r for r in full if r["task_id"] in hard_ids]}
    )
    monkeypatch.setenv("BCB_HF_DATASETS_SERVER", srv.url)
    yield srv
    srv.close()


def test_download_once_into_cache_then_reuse(server: RowsServer, isolated_cache: Path) -> None:
    seen: list[tuple[int, int]] = []
    dataset = load_dataset(version="v0.1.4", progress=lambda done, total: seen.append((done, total)))
    assert dataset.content_hash == VERSIONS["v0.1.4"] and dataset.verified and len(dataset) == 1140
    assert len(server.requests) == 12 and seen[-1] == (1140, 1140)
    cached = isolated_cache / "BigCodeBench-v0.1.4.jsonl.gz"
    assert cached.is_file() and Path(dataset.source) == cached
    again = load_dataset(version="v0.1.4")
    assert again.content_hash == dataset.content_hash and len(server.requests) == 12


def test_hard_ids_come_from_the_hard_dataset(server: RowsServer, isolated_cache: Path) -> None:
    hard = load_dataset(version="v0.1.4", subset="hard")
    assert len(hard) == 148 and hard.verified
    assert (isolated_cache / "BigCodeBench-Hard-v0.1.4-task-ids.json").is_file()
    before = len(server.requests)
    assert len(load_dataset(version="v0.1.4", subset="hard")) == 148 and len(server.requests) == before


def test_corrupted_download_is_refused_and_not_cached(server: RowsServer, isolated_cache: Path) -> None:
    def corrupt(page: dict[str, Any]) -> dict[str, Any]:
        for entry in page["rows"]:
            if entry["row"]["task_id"] == "BigCodeBench/500":
                entry["row"] = dict(entry["row"], test=entry["row"]["test"] + "\n# tampered\n")
        return page

    server.mutate = corrupt
    with pytest.raises(DatasetError, match="hashes to .* not the released"):
        load_dataset(version="v0.1.4")
    assert not (isolated_cache / "BigCodeBench-v0.1.4.jsonl.gz").exists()


def test_truncated_cells_are_refused(server: RowsServer) -> None:
    def truncate(page: dict[str, Any]) -> dict[str, Any]:
        page["rows"][3]["truncated_cells"] = ["test"]
        return page

    server.mutate = truncate
    with pytest.raises(DatasetError, match="truncated fields \\['test'\\]"):
        load_dataset(version="v0.1.4")


def test_unknown_split_is_a_clear_error(server: RowsServer) -> None:
    with pytest.raises(DatasetError, match="HTTP 404 \\(does that version exist\\?\\)"):
        load_dataset(version="v0.1.3")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_hub_fails_fast_with_instructions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BCB_HF_DATASETS_SERVER", f"http://127.0.0.1:{_closed_port()}")
    start = time.monotonic()
    with pytest.raises(DatasetError) as info:
        load_dataset(version="v0.1.4")
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert "cannot reach" in message and "--dataset-file" in message and "BCB_DATA_DIR" in message


def test_offline_switch_never_touches_the_network(server: RowsServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetError, match="offline mode is on"):
        load_dataset(version="v0.1.4")
    assert server.requests == []
