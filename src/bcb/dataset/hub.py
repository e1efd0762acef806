"""Downloading BigCodeBench from Hugging Face, with nothing but the standard library.

The dataset viewer's `/rows` endpoint serves the same rows as the Parquet files as plain JSON, so
bcb needs neither `datasets` nor `pyarrow` to fetch 1,140 tasks. Rows it reports as truncated are
refused, and the caller verifies the content hash, so a partial download can never pass as a
released version.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

from bcb.errors import BcbError

DATASETS_SERVER = "https://datasets-server.huggingface.co"
FULL_REPO = "bigcode/bigcodebench"
HARD_REPO = "bigcode/bigcodebench-hard"
PAGE = 100
TIMEOUT_S = 10.0

#: Told (rows downloaded, rows in all) as a download goes on.
DownloadProgress = Callable[[int, int], None]


class DownloadError(BcbError, RuntimeError):
    """The dataset could not be fetched; the message says how to proceed offline."""


def offline() -> bool:
    """The user's standard Hugging Face switch is honoured, as are bcb's own."""
    return any(
        os.environ.get(v, "").lower() in ("1", "true", "yes")
        for v in ("BCB_OFFLINE", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )


def server() -> str:
    return os.environ.get("BCB_HF_DATASETS_SERVER", DATASETS_SERVER).rstrip("/")


def _get_json(url: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": "bcb", "Accept": "application/json"})
    token = os.environ.get("HF_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def fetch_rows(
    repo: str, split: str, *, progress: DownloadProgress | None = None, timeout: float = TIMEOUT_S
) -> list[dict[str, Any]]:
    """All rows of one split of a Hugging Face dataset, in order.

    Raises DownloadError (never a bare network traceback) when offline, unreachable, or when the
    server answers with something that is not the full split.
    """
    if offline():
        raise DownloadError(
            f"offline mode is on (BCB_OFFLINE/HF_HUB_OFFLINE), so {repo} split {split} cannot be downloaded"
        )
    rows: list[dict[str, Any]] = []
    total: int | None = None
    while total is None or len(rows) < total:
        query = urllib.parse.urlencode(
            {"dataset": repo, "config": "default", "split": split, "offset": len(rows), "length": PAGE}
        )
        url = f"{server()}/rows?{query}"
        try:
            page = _get_json(url, timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace").strip()
            hint = " (does that version exist?)" if exc.code in (404, 422) else ""
            raise DownloadError(f"{url} answered HTTP {exc.code}{hint}: {detail}") from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(f"cannot reach {server()} ({reason})") from None
        except json.JSONDecodeError:
            raise DownloadError(f"{url} did not answer with JSON") from None
        if not isinstance(page, dict) or not isinstance(page.get("rows"), list):
            raise DownloadError(f"{url} answered without a 'rows' list")
        total = int(page.get("num_rows_total", 0))
        if not page["rows"]:
            break
        for entry in page["rows"]:
            if entry.get("truncated_cells"):
                raise DownloadError(
                    f"{repo} {split}: the server truncated fields {entry['truncated_cells']} of row "
                    f"{entry.get('row_idx')}; download the file by hand and use --dataset-file"
                )
            rows.append(entry["row"])
        if progress is not None:
            progress(len(rows), total)
    if total is None or len(rows) != total:
        raise DownloadError(f"{repo} {split}: got {len(rows)} rows, the server announced {total}")
    return rows
