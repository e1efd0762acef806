"""A loopback HTTP server that speaks enough of the OpenAI and Anthropic APIs for the real client
libraries to talk to it, and misbehaves on cue (429 with Retry-After, 500, answers slower than the
client's timeout), recording every request it gets."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class Action:
    """What to do with one request: answer with `status` (an error unless 200), after `sleep` s."""

    status: int = 200
    sleep: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def answer_text(counter: int) -> str:
    """A chat answer: prose around a fenced program whose entry point returns a unique number."""
    return f"Here is the solution:\n```python\nimport math\n\ndef task_func(*args, **kwargs):\n    return {counter}\n```\nIt works."


def continuation_text(counter: int) -> str:
    """A base-model continuation that runs past the function, as base models do."""
    return f"    return {counter}\n\ndef helper():\n    return None\n"


class FakeLLMServer:
    def __init__(self, delay: float = 0.0) -> None:
        self.requests: list[Seen] = []
        self.script: deque[Action] = deque()
        self.delay = delay
        self.ignore_n = False
        self.counter = 0
        self.lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.fake = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeLLMServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def then(self, *actions: Action) -> None:
        with self.lock:
            self.script.extend(actions)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    # ---------------------------------------------------------------------------------------

    def next_action(self) -> Action:
        with self.lock:
            return self.script.popleft() if self.script else Action(sleep=self.delay)

    def next_numbers(self, count: int) -> list[int]:
        with self.lock:
            start = self.counter
            self.counter += count
        return list(range(start, start + count))

    def respond(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path.endswith("/messages"):
            return self.anthropic_message(body)
        if path.endswith("/chat/completions"):
            return self.chat_completion(body)
        if path.endswith("/completions"):
            return self.text_completion(body)
        raise KeyError(path)

    def chat_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        n = 1 if self.ignore_n else int(body.get("n") or 1)
        choices = []
        for i, k in enumerate(self.next_numbers(n)):
            message: dict[str, Any] = {"role": "assistant", "content": answer_text(k)}
            if "reasoner" in body["model"]:
                message["reasoning_content"] = f"thinking about sample {k}"
            choices.append({"index": i, "message": message, "finish_reason": "stop", "logprobs": None})
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": choices,
            "usage": {"prompt_tokens": 100, "completion_tokens": 10 * n, "total_tokens": 100 + 10 * n},
        }

    def text_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        n = 1 if self.ignore_n else int(body.get("n") or 1)
        choices = [
            {"index": i, "text": continuation_text(k), "finish_reason": "stop", "logprobs": None}
            for i, k in enumerate(self.next_numbers(n))
        ]
        return {
            "id": "cmpl-test",
            "object": "text_completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": choices,
            "usage": {"prompt_tokens": 50, "completion_tokens": 5 * n, "total_tokens": 50 + 5 * n},
        }

    def anthropic_message(self, body: dict[str, Any]) -> dict[str, Any]:
        (k,) = self.next_numbers(1)
        content: list[dict[str, Any]] = []
        if "thinking" in body:
            content.append({"type": "thinking", "thinking": f"careful thoughts {k}", "signature": "sig"})
        content.append({"type": "text", "text": answer_text(k)})
        return {
            "id": f"msg_{k}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 120, "output_tokens": 12},
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    fake: FakeLLMServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with fake.lock:
            fake.requests.append(
                Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
            )
        action = fake.next_action()
        if action.sleep:
            time.sleep(action.sleep)
        if action.status != 200:
            anthropic = self.path.endswith("/messages")
            kind = "rate_limit_error" if action.status == 429 else "api_error"
            message = f"injected HTTP {action.status}"
            payload = (
                {"type": "error", "error": {"type": kind, "message": message}}
                if anthropic
                else {"error": {"message": message, "type": kind}}
            )
            self._send(action.status, payload, action.headers)
            return
        try:
            payload = fake.respond(self.path, body)
        except KeyError:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}, {})
            return
        self._send(200, payload, action.headers)

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): nothing to answer
