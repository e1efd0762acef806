"""The plain JSON HTTP API, independent of the web server carrying it.

    POST   /api/v1/jobs?split=complete&subset=full&...   body: the samples JSONL -> 202 {"job": ID, ...}
    GET    /api/v1/jobs/ID                                status and progress
    GET    /api/v1/jobs/ID?wait=S                         the same, once the job has finished or S seconds
                                                          (at most 60) have passed: a client learns of the
                                                          end at once instead of at its next poll
    GET    /api/v1/jobs/ID/eval_results                   the official *_eval_results.json content
    GET    /api/v1/jobs/ID/pass_at_k                      the official *_pass_at_k.json content
    DELETE /api/v1/jobs/ID                                cancel (also POST /api/v1/jobs/ID/cancel)
    GET    /api/v1/health                                 version, dataset, sandbox, workers

Every refusal is a 4xx with ``{"error": "<one line>"}``; nothing a client sends reaches further
than that. :func:`handle` is called by the standard-library server below and, when the Gradio
extra is installed, by the Gradio app's routes, so both speak exactly the same API.
"""

from __future__ import annotations

import hmac
import json
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bcb import __version__
from bcb.server.options import RequestError
from bcb.server.service import EvaluationService

PREFIX = "/api/v1"
CLIENT_HEADER = "x-bcb-client"
#: The bearer token's environment variable, read by the server (``--token``) and by ``bcb evaluate --remote-token``.
TOKEN_ENV = "BCB_SERVE_TOKEN"
#: The longest a status request may wait for its job (``?wait=S``): well under the clients' and
#: proxies' usual read timeouts.
MAX_WAIT_S = 60.0


@dataclass(frozen=True)
class Response:
    status: int
    payload: Any

    def body(self) -> bytes:
        return (json.dumps(self.payload, indent=None) + "\n").encode()


def authorized(token: str | None, headers: Mapping[str, str]) -> bool:
    """``Authorization: Bearer <token>`` when the server has a token; anything goes when it has none."""
    if not token:
        return True
    given = headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def client_id(headers: Mapping[str, str], address: str) -> str:
    """Who a request is from, for fair turns and per-client limits: the ``X-BCB-Client`` header
    (harnesses behind one proxy can name themselves), else the peer address."""
    named = headers.get(CLIENT_HEADER, "").strip()
    return f"{named[:64]}@{address}" if named else address


def handle(
    service: EvaluationService,
    token: str | None,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: Callable[[], bytes],
    address: str,
) -> Response:
    """One request. ``headers`` with lower-case names; ``body`` reads the (size-checked) body."""
    try:
        return _route(service, token, method, target, headers, body, address)
    except RequestError as exc:
        return Response(exc.status, {"error": exc.message})
    except Exception as exc:  # noqa: BLE001 - the server answers 500 and keeps serving
        traceback.print_exc()
        return Response(500, {"error": f"internal error ({type(exc).__name__}); the server keeps running, see its log"})


def _route(
    service: EvaluationService,
    token: str | None,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: Callable[[], bytes],
    address: str,
) -> Response:
    url = urlsplit(target)
    path = url.path.rstrip("/")
    if not path.startswith(PREFIX):
        raise RequestError(404, f"no such endpoint {url.path!r}; the JSON API is under {PREFIX}/ (see the README)")
    parts = path[len(PREFIX) :].strip("/").split("/") if path != PREFIX else []
    if parts == ["health"] and method == "GET":
        return Response(
            200,
            {
                "ok": True,
                "bcb": __version__,
                "dataset": service.config.dataset,
                "workers": service.workers,
                "sandbox": service.fingerprint.get("sandbox", {}),
                "auth": bool(token),
            },
        )
    if not authorized(token, headers):
        raise RequestError(401, "missing or wrong bearer token: send 'Authorization: Bearer <token>'")
    if parts == ["jobs"]:
        if method != "POST":
            raise RequestError(405, "POST the samples file to /api/v1/jobs; GET /api/v1/jobs/ID for one job")
        query = parse_qsl(url.query, keep_blank_values=True)
        names = [k for k, _ in query]
        repeated = sorted({k for k in names if names.count(k) > 1})
        if repeated:
            raise RequestError(400, f"option {repeated[0]!r} given more than once")
        status, new = service.submit(client_id(headers, address), dict(query), body())
        return Response(202 if new else 200, status)
    if len(parts) in (2, 3) and parts[0] == "jobs":
        job_id = parts[1]
        action = parts[2] if len(parts) == 3 else ""
        if action == "" and method == "GET":
            wait = _wait_seconds(url.query)
            return Response(200, service.status(job_id) if wait is None else service.wait(job_id, wait))
        if (action == "" and method == "DELETE") or (action == "cancel" and method == "POST"):
            return Response(200, service.cancel(job_id))
        if action in ("eval_results", "pass_at_k") and method == "GET":
            results, pass_at_k = service.answer(job_id)
            return Response(200, results if action == "eval_results" else pass_at_k)
        if action in ("", "cancel", "eval_results", "pass_at_k"):
            raise RequestError(405, f"{method} is not allowed on {url.path}")
    raise RequestError(404, f"no such endpoint {url.path!r}")


def _wait_seconds(query: str) -> float | None:
    """``?wait=S``: how long a status request may wait for its job to finish (None: answer now)."""
    given = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "wait"]
    if not given:
        return None
    try:
        seconds = float(given[-1])
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds <= MAX_WAIT_S:  # also refuses nan
        raise RequestError(400, f"wait={given[-1]!r}: give the seconds to wait for the job, 0 to {MAX_WAIT_S:g}")
    return seconds


def read_limited(read: Callable[[int], bytes], length: int | None, limit: int) -> bytes:
    """The body, refused with a 413 before it is read when it says it is too large."""
    if length is None:
        raise RequestError(411, "send a Content-Length header (curl --data-binary @file does)")
    if length > limit:
        raise RequestError(
            413, f"the upload is {length / 2**20:.1f} MiB; this server takes at most {limit / 2**20:g} MiB"
        )
    data = read(length) if length else b""
    if len(data) != length:
        raise RequestError(400, f"the upload ended after {len(data)} of {length} bytes")
    return data


def serve_plain(service: EvaluationService, host: str, port: int, token: str | None) -> ThreadingHTTPServer:
    """The JSON API on the standard library's HTTP server (no extra needed); call ``serve_forever``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = f"bcb/{__version__}"
        protocol_version = "HTTP/1.1"
        timeout = 120  # a client that stalls mid-request loses its connection, not a server thread forever

        def _any(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            consumed: list[bool] = []

            def body() -> bytes:
                consumed.append(True)
                raw = headers.get("content-length")
                try:
                    length = int(raw) if raw is not None else None
                except ValueError:
                    raise RequestError(400, f"bad Content-Length {raw!r}") from None
                if length is not None and length < 0:
                    raise RequestError(400, f"bad Content-Length {raw!r}")
                return read_limited(self.rfile.read, length, service.config.max_upload_bytes)

            response = handle(service, token, self.command, self.path, headers, body, self.client_address[0])
            data = response.body()
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if response.status >= 400 and (not consumed or response.status in (411, 413, 400)):
                self.send_header("Connection", "close")  # an unread body must not be taken for the next request
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread
