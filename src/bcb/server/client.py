"""The client side of ``bcb serve``'s JSON API: ``bcb evaluate --remote URL``.

A remote evaluation can outlive a connection: the client retries what failed on the way (refused
or reset connections, 502/503/504, timeouts) with growing pauses, and remembers its job id next to
the samples (``<samples>.bcb-remote.json``), so a client that was stopped picks up the same job
when run again instead of sending the samples twice. The server answers a repeated upload with
the job it already has, so even a lost job id costs nothing but the upload.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bcb.dataset import DatasetError
from bcb.evaluation.results import keep_backup, result_paths
from bcb.fileio import write_json_atomic

RETRY_STATUSES = (502, 503, 504)


class RemoteError(DatasetError):
    """The server refused the request or could not be reached; one line saying which and why.
    ``status`` is the HTTP status of a refusal (None: the server was not reached)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RemoteClient:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        retries: int = 8,
        timeout_s: float = 60.0,
        say: Callable[[str], None] = lambda _: None,
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise RemoteError(f"--remote {url!r}: give the server's URL, e.g. http://host:7860/")
        self.base = url.rstrip("/") + "/api/v1"
        self.token = token
        self.retries = retries
        self.timeout_s = timeout_s
        self.say = say

    def call(
        self, method: str, path: str, body: bytes | None = None, query: Mapping[str, str] | None = None
    ) -> tuple[int, Any]:
        """One API call, retried while the failure is on the way rather than in the request."""
        url = self.base + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=body, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return response.status, json.loads(response.read() or b"null")
            except urllib.error.HTTPError as exc:
                message = _error_text(exc)
                if exc.code not in RETRY_STATUSES or attempt == self.retries:
                    raise RemoteError(f"{self.base}{path}: {exc.code} {message}", exc.code) from None
                problem = f"{exc.code} {message}"
            except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError) as exc:
                if attempt == self.retries:
                    reason = getattr(exc, "reason", exc)
                    raise RemoteError(
                        f"cannot reach {self.base} ({reason}) after {self.retries + 1} attempts; is bcb serve running there?"
                    ) from None
                problem = str(getattr(exc, "reason", exc))
            pause = min(30.0, 2.0**attempt)
            self.say(f"{method} {path}: {problem}; retrying in {pause:g} s")
            time.sleep(pause)
        raise AssertionError("unreachable")


def remote_evaluate(
    client: RemoteClient, samples: Path, options: Mapping[str, str], *, poll_s: float = 2.0
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Send ``samples`` (or resume its job), wait for the answer, return ``(eval_results, pass_at_k, job id)``.

    Each status request asks the server to hold it until the job ends or ``poll_s`` passes
    (``?wait=``), so the answer comes the moment the job is done, and progress every ``poll_s``.
    A server that answers at once (an older one) is asked again only after ``poll_s``."""
    data = samples.read_bytes()
    sidecar = samples.with_name(samples.name + ".bcb-remote.json")
    key = hashlib.sha256(data + json.dumps([client.base, dict(options)], sort_keys=True).encode()).hexdigest()
    job: str | None = None
    status: dict[str, Any] = {}
    if sidecar.is_file():
        try:
            saved = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        if isinstance(saved, dict) and saved.get("key") == key and isinstance(saved.get("job"), str):
            try:
                _, status = client.call("GET", f"/jobs/{urllib.parse.quote(saved['job'])}")
                job = saved["job"]
                client.say(f"resuming job {job} ({status['state']})")
            except RemoteError as exc:
                if exc.status != 404:  # a server that forgot the job (another --root) gets the samples again
                    raise
    if job is None:
        code, status = client.call("POST", "/jobs", data, options)
        job = str(status["job"])
        write_json_atomic(sidecar, {"url": client.base, "job": job, "key": key})
        client.say(
            f"job {job}: {'answered from the store' if code == 200 and status['state'] == 'done' else status['state']}"
        )
    shown = ""
    while status["state"] in ("queued", "running"):
        asked = time.monotonic()
        _, status = client.call("GET", f"/jobs/{job}", query={"wait": f"{poll_s:g}"})
        if status["state"] in ("queued", "running"):
            time.sleep(max(0.0, poll_s - (time.monotonic() - asked)))
        progress = status.get("progress") or {}
        line = (
            f"{status['state']} {progress.get('phase', '')} {progress.get('done', '')}/{progress.get('total', '')}"
            if progress
            else status["state"]
        )
        if line != shown:
            client.say(f"job {job}: {line}")
            shown = line
    if status["state"] != "done":
        sidecar.unlink(missing_ok=True)
        raise RemoteError(f"job {job} {status['state']}{': ' + status['error'] if status.get('error') else ''}")
    _, results = client.call("GET", f"/jobs/{job}/eval_results")
    _, pass_at_k = client.call("GET", f"/jobs/{job}/pass_at_k")
    sidecar.unlink(missing_ok=True)
    return results, pass_at_k, job


def write_answer(samples: Path, results: Mapping[str, Any], pass_at_k: Mapping[str, Any]) -> tuple[Path, Path]:
    """The answer's files, where a local run writes them (an existing one kept as ``.bak``)."""
    eval_path, passk_path = result_paths(samples)
    for path in (eval_path, passk_path):
        keep_backup(path)
    write_json_atomic(eval_path, dict(results))
    write_json_atomic(passk_path, dict(pass_at_k))
    return eval_path, passk_path


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        payload = {}
    return str(payload.get("error") if isinstance(payload, dict) and payload.get("error") else exc.reason)
