"""`bcb serve` as real server processes on loopback: the official Gradio `/predict` call through the
real `gradio_client`, the JSON API through urllib and raw sockets, garbage that must get a 4xx
while the server keeps serving, and a server killed with SIGKILL mid-job that finishes the job
after a restart with the verdicts an uninterrupted local run gives."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bcb.dataset import load_dataset
from bcb.evaluation.reference_samples import flawed

OFFICIAL_KEYS = {"model", "split", "subset", "calibrated", "gt_pass_rate", "failed_tasks"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A `bcb serve` process we started; stopped by its own pid only."""

    def __init__(self, bcb_cmd: list[str], root: Path, log: Path, *extra: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = root
        self.log = log
        args = [
            *bcb_cmd,
            "serve",
            "--dataset",
            "bcb-mini",
            "--port",
            str(self.port),
            "--root",
            str(root),
            "--parallel",
            "2",
            *extra,
        ]
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"bcb serve exited with {self.proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError(f"bcb serve did not answer within 120 s:\n{log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def call(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def wait_done(self, job: str, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, status = self.call("GET", f"/api/v1/jobs/{job}")
            assert code == 200, status
            if status["state"] not in ("queued", "running"):
                return status
            time.sleep(0.3)
        raise AssertionError(f"job {job} not finished within {timeout} s")


def write_samples(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def quick_flawed() -> list[dict]:
    """bcb-mini's flawed answers without the infinite loops (which run to the official 241 s limit
    when no timeout can be sent, as through /predict): a syntax error takes their place."""
    rows = []
    for row in flawed(list(load_dataset("bcb-mini").tasks)):
        if row["flaw"] == "infinite_loop":
            row = {**row, "solution": "def task_func(:\n"}
        rows.append(row)
    return rows


def verdicts(results: dict) -> dict[str, list[str]]:
    return {t: [r["status"] for r in rows] for t, rows in results["eval"].items()}


def local_evaluate(bcb_cmd: list[str], samples: Path, root: Path, *extra: str) -> tuple[dict, dict]:
    done = subprocess.run(
        [
            *bcb_cmd,
            "evaluate",
            "--dataset",
            "bcb-mini",
            "--samples",
            str(samples),
            "--root",
            str(root),
            "--parallel",
            "2",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    stem = samples.name[: -len(".jsonl")]
    return json.loads((samples.parent / f"{stem}_eval_results.json").read_text()), json.loads(
        (samples.parent / f"{stem}_pass_at_k.json").read_text()
    )


@pytest.fixture(scope="module")
def module_bcb_cmd() -> list[str]:
    import shutil
    import sys

    script = shutil.which("bcb", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "bcb"]


@pytest.fixture(scope="module")
def gradio_server(tmp_path_factory: pytest.TempPathFactory, module_bcb_cmd: list[str]) -> Iterator[Server]:
    pytest.importorskip("gradio")
    base = tmp_path_factory.mktemp("gradio_server")
    os.environ.setdefault("BCB_CACHE_DIR", str(base / "cache"))
    server = Server(
        module_bcb_cmd,
        base / "root",
        base / "serve.log",
        "--max-upload-mb",
        "1",
        "--max-samples",
        "40",
        "--max-queued",
        "3",
    )
    yield server
    server.stop()


def test_official_predict_call_gets_the_local_verdicts(
    gradio_server: Server, tmp_path: Path, bcb_cmd: list[str]
) -> None:
    from gradio_client import Client, handle_file

    samples = write_samples(tmp_path / "m--bcb-mini-complete--quick.jsonl", quick_flawed())
    client = Client(gradio_server.url + "/", verbose=False)
    # The official client's call (bigcodebench 0.2.5 evaluate.py), argument for argument.
    results, pass_at_k = client.predict(
        split="complete",
        subset="full",
        samples=handle_file(str(samples)),
        pass_k="1,5,10",
        parallel=-1,
        min_time_limit=1,
        max_as_limit=30 * 1024,
        max_data_limit=30 * 1024,
        max_stack_limit=10,
        calibrated=True,
        check_gt_only=False,
        no_gt=False,
        selective_evaluate="",
        api_name="/predict",
    )
    # Gradio kept the upload under the server's root, not in the machine-wide /tmp/gradio that
    # another user's server may own.
    assert samples.name in [p.name for p in (gradio_server.root / "serve" / "gradio").rglob("*.jsonl")]
    (tmp_path / "local").mkdir()
    local_copy = write_samples(tmp_path / "local" / samples.name, quick_flawed())
    local_results, local_passk = local_evaluate(bcb_cmd, local_copy, tmp_path / "local_root")
    assert verdicts(results) == verdicts(local_results)
    assert [r["solution"] for rows in results["eval"].values() for r in rows] == [
        r["solution"] for rows in local_results["eval"].values() for r in rows
    ]
    assert set(pass_at_k) == OFFICIAL_KEYS | {"pass@1"}  # pass@5/10 need 5/10 samples per task, as official
    assert pass_at_k["pass@1"] == pytest.approx(local_passk["pass@1"])
    assert pass_at_k["model"] == "m" and pass_at_k["gt_pass_rate"] == 1.0 and pass_at_k["failed_tasks"] == []
    assert 0 < pass_at_k["pass@1"] < 1

    # The same call again is answered from the store: same verdicts, and quickly.
    started = time.monotonic()
    again, _ = client.predict(
        split="complete",
        subset="full",
        samples=handle_file(str(samples)),
        pass_k="1,5,10",
        parallel=-1,
        min_time_limit=1,
        max_as_limit=30 * 1024,
        max_data_limit=30 * 1024,
        max_stack_limit=10,
        calibrated=True,
        check_gt_only=False,
        no_gt=False,
        selective_evaluate="",
        api_name="/predict",
    )
    assert verdicts(again) == verdicts(results)
    assert time.monotonic() - started < 10


@pytest.mark.skipif(
    not os.environ.get("BCB_OFFICIAL_EVALUATE"),
    reason="set BCB_OFFICIAL_EVALUATE to the official bigcodebench.evaluate script (bigcodebench 0.2.5 in a venv of its own)",
)
def test_official_cli_unchanged_writes_the_local_verdicts(
    gradio_server: Server, tmp_path: Path, bcb_cmd: list[str]
) -> None:
    samples = write_samples(tmp_path / "q--bigcodebench-complete--x.jsonl", quick_flawed())
    # `--pass_k 1,5` reaches the server as a tuple (python-fire), as it does from any official user.
    done = subprocess.run(
        [
            os.environ["BCB_OFFICIAL_EVALUATE"],
            "--execution",
            "gradio",
            "--gradio_endpoint",
            gradio_server.url + "/",
            "--split",
            "complete",
            "--subset",
            "full",
            "--samples",
            str(samples),
            "--pass_k",
            "1,5",
        ],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads((tmp_path / "q--bigcodebench-complete--x_eval_results.json").read_text())
    passk = json.loads((tmp_path / "q--bigcodebench-complete--x_pass_at_k.json").read_text())
    (tmp_path / "local").mkdir()
    local_results, local_passk = local_evaluate(
        bcb_cmd, write_samples(tmp_path / "local" / samples.name, quick_flawed()), tmp_path / "local_root"
    )
    assert verdicts(written) == verdicts(local_results)
    assert (
        passk["pass@1"] == pytest.approx(local_passk["pass@1"])
        and passk["model"] == "q"
        and passk["gt_pass_rate"] == 1.0
    )


def test_options_as_the_official_cli_sends_them() -> None:
    from bcb.server.options import RequestError, parse_options

    assert parse_options({"pass_k": (1, 5, 10), "selective_evaluate": (0, 1)}).selective_evaluate == "0,1"
    assert parse_options({"pass_k": "(1, 5)", "selective_evaluate": "['0', '1']"}).pass_k == (1, 5)
    assert parse_options({"pass_k": 1, "parallel": -1, "max_as_limit": 30720.0}).max_as_limit == 30720
    with pytest.raises(RequestError, match="max_stack_limit"):
        parse_options({"max_stack_limit": 1.5})
    with pytest.raises(RequestError, match="timeout"):
        parse_options({"timeout": "nan"})


def test_predict_check_gt_only_and_selective_evaluate(gradio_server: Server, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    client = Client(gradio_server.url + "/", verbose=False)
    results, pass_at_k = client.predict(
        split="complete",
        subset="full",
        samples=None,
        pass_k="1",
        parallel=-1,
        min_time_limit=1,
        max_as_limit=30 * 1024,
        max_data_limit=30 * 1024,
        max_stack_limit=10,
        calibrated=True,
        check_gt_only=True,
        no_gt=False,
        selective_evaluate="0,1,2",
        api_name="/predict",
    )
    assert results["eval"] == {} and pass_at_k["gt_pass_rate"] == 1.0 and pass_at_k["failed_tasks"] == []

    rows = [r for r in quick_flawed() if r["task_id"] in ("bcb-mini/0", "bcb-mini/1")]
    samples = write_samples(tmp_path / "two.jsonl", rows)
    results, pass_at_k = client.predict(
        split="instruct",
        subset="full",
        samples=handle_file(str(samples)),
        pass_k="1",
        parallel=4,
        min_time_limit=1,
        max_as_limit=30 * 1024,
        max_data_limit=30 * 1024,
        max_stack_limit=10,
        calibrated=True,
        check_gt_only=False,
        no_gt=True,
        selective_evaluate="0,1",
        api_name="/predict",
    )
    assert sorted(results["eval"]) == ["bcb-mini/0", "bcb-mini/1"]
    assert pass_at_k["split"] == "instruct" and pass_at_k["gt_pass_rate"] == 0.0


def test_predict_garbage_is_refused_and_the_server_keeps_serving(gradio_server: Server, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    client = Client(gradio_server.url + "/", verbose=False)
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(Exception, match="not valid JSON|not UTF-8|UTF-8"):
        client.predict(
            split="complete",
            subset="full",
            samples=handle_file(str(garbage)),
            pass_k="1,5,10",
            parallel=-1,
            min_time_limit=1,
            max_as_limit=30 * 1024,
            max_data_limit=30 * 1024,
            max_stack_limit=10,
            calibrated=True,
            check_gt_only=False,
            no_gt=False,
            selective_evaluate="",
            api_name="/predict",
        )
    with pytest.raises(Exception, match="unknown split"):
        client.predict(
            split="nonsense",
            subset="full",
            samples=handle_file(str(garbage)),
            pass_k="1",
            parallel=-1,
            min_time_limit=1,
            max_as_limit=30 * 1024,
            max_data_limit=30 * 1024,
            max_stack_limit=10,
            calibrated=True,
            check_gt_only=False,
            no_gt=False,
            selective_evaluate="",
            api_name="/predict",
        )
    big = tmp_path / "big--bigcodebench-complete.jsonl"
    big.write_bytes(b'{"task_id": "bcb-mini/0", "solution": "' + b"x" * (2 * 1024 * 1024) + b'"}\n')
    with pytest.raises(Exception):  # noqa: B017 (gradio_client raises its own types, which vary by version)
        client.predict(
            split="complete",
            subset="full",
            samples=handle_file(str(big)),
            pass_k="1",
            parallel=-1,
            min_time_limit=1,
            max_as_limit=30 * 1024,
            max_data_limit=30 * 1024,
            max_stack_limit=10,
            calibrated=True,
            check_gt_only=False,
            no_gt=False,
            selective_evaluate="",
            api_name="/predict",
        )
    assert gradio_server.call("GET", "/api/v1/health")[0] == 200


def test_json_api_submit_status_results_resubmit_cancel(gradio_server: Server, tmp_path: Path) -> None:
    body = write_samples(tmp_path / "api.jsonl", quick_flawed()).read_bytes()
    code, status = gradio_server.call(
        "POST",
        "/api/v1/jobs?split=complete&subset=full&pass_k=1&timeout=20&filename=api--bcb-mini-complete.jsonl",
        body,
    )
    assert code == 202 and status["state"] in ("queued", "running", "done"), status
    final = gradio_server.wait_done(status["job"])
    assert final["state"] == "done" and final["samples"] == 32
    assert not (gradio_server.root / "serve" / "uploads" / f"{status['job']}.jsonl").exists()  # answered: upload gone
    code, results = gradio_server.call("GET", f"/api/v1/jobs/{status['job']}/eval_results")
    assert code == 200 and len(results["eval"]) == 32
    timing = results["bcb"]["manifest"]["timing"]  # the job's own clock: its steps in order
    assert list(timing) == [
        "startup_s",
        "dataset_s",
        "fingerprint_s",
        "workers_ready_s",
        "first_verdict_s",
        "last_verdict_s",
        "writing_results_s",
    ]
    marks = [v for v in timing.values() if v is not None]  # verdicts other tests stored have no verdict times
    assert timing["startup_s"] == 0.0 and timing["writing_results_s"] is not None and marks == sorted(marks), timing
    code, pass_at_k = gradio_server.call("GET", f"/api/v1/jobs/{status['job']}/pass_at_k")
    assert code == 200 and pass_at_k["model"] == "api" and "pass@1_ci95" in pass_at_k

    # The same upload with the same options: the same job, answered at once.
    code, again = gradio_server.call(
        "POST",
        "/api/v1/jobs?split=complete&subset=full&pass_k=1&timeout=20&filename=api--bcb-mini-complete.jsonl",
        body,
    )
    assert code == 200 and again["job"] == status["job"] and again["state"] == "done"

    # A job with infinite loops, cancelled while it runs.
    rows = [r for r in flawed(list(load_dataset("bcb-mini").tasks)) if r["flaw"] == "infinite_loop"]
    code, slow = gradio_server.call(
        "POST",
        "/api/v1/jobs?allow_partial=true&timeout=5&no_gt=true",
        write_samples(tmp_path / "slow.jsonl", rows).read_bytes(),
    )
    assert code == 202
    assert gradio_server.call("GET", f"/api/v1/jobs/{slow['job']}/eval_results")[0] == 409
    code, cancelled = gradio_server.call("DELETE", f"/api/v1/jobs/{slow['job']}")
    assert code == 200 and cancelled["state"] == "cancelled"
    assert gradio_server.call("GET", f"/api/v1/jobs/{slow['job']}")[1]["state"] == "cancelled"


def test_status_wait_answers_when_the_job_ends_not_at_the_next_poll(gradio_server: Server, tmp_path: Path) -> None:
    # A job that runs for a while (one sample sleeping 2 s): ?wait=S holds the status request
    # until the job is done, however long S is; without it the request is answered at once.
    row = {"task_id": "bcb-mini/0", "solution": "import time\ntime.sleep(2)\n" + quick_flawed()[0]["solution"]}
    code, status = gradio_server.call(
        "POST",
        "/api/v1/jobs?allow_partial=true&timeout=20&no_gt=true&selective_evaluate=0",
        write_samples(tmp_path / "wait.jsonl", [row]).read_bytes(),
    )
    assert code == 202, status
    code, now = gradio_server.call("GET", f"/api/v1/jobs/{status['job']}")
    assert code == 200 and now["state"] in ("queued", "running")
    asked = time.monotonic()
    code, final = gradio_server.call("GET", f"/api/v1/jobs/{status['job']}?wait=50")
    assert code == 200 and final["state"] == "done", final
    assert time.monotonic() - asked < 45  # answered by the job's end, not by the 50 s wait

    # A job still running when the wait is over: its status then, still running.
    rows = [r for r in flawed(list(load_dataset("bcb-mini").tasks)) if r["flaw"] == "infinite_loop"]
    code, slow = gradio_server.call(
        "POST",
        "/api/v1/jobs?allow_partial=true&timeout=20&no_gt=true",
        write_samples(tmp_path / "slow-wait.jsonl", rows[:1]).read_bytes(),
    )
    assert code == 202
    asked = time.monotonic()
    code, later = gradio_server.call("GET", f"/api/v1/jobs/{slow['job']}?wait=1")
    assert code == 200 and later["state"] in ("queued", "running") and time.monotonic() - asked >= 0.9
    for bad in ("lots", "-1", "61", "nan"):
        code, refused = gradio_server.call("GET", f"/api/v1/jobs/{slow['job']}?wait={bad}")
        assert code == 400 and "wait=" in refused["error"], (bad, refused)

    # Waiting requests hold web server threads: past MAX_WAITING_REQUESTS at once, the others are
    # answered at once (the job runs for 20 s, so an early "running" answer can only be that).
    from bcb.server.service import MAX_WAITING_REQUESTS

    answers: list[tuple[float, str]] = []

    def ask() -> None:
        asked = time.monotonic()
        code, status = gradio_server.call("GET", f"/api/v1/jobs/{slow['job']}?wait=8")
        answers.append((time.monotonic() - asked, status.get("state", str(code))))

    threads = [threading.Thread(target=ask) for _ in range(MAX_WAITING_REQUESTS + 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == len(threads) and {state for _, state in answers} <= {"queued", "running"}, answers
    early = [took for took, _ in answers if took < 6]
    assert 6 <= len(early) < len(threads), sorted(answers)
    assert gradio_server.call("DELETE", f"/api/v1/jobs/{slow['job']}")[1]["state"] == "cancelled"


@pytest.mark.parametrize(
    ("query", "body", "status", "message"),
    [
        ("", b"\x00\xff\xfe garbage \x80", 400, "UTF-8"),
        ("", b'{"task_id": "bcb-mini/0", "solution": "x"}\n{not json\n', 400, "not valid JSON"),
        ("", b'{"task_id": "bcb-mini/77", "solution": "x"}\n', 400, "bcb-mini/77"),
        ("", b'{"task_id": "bcb-mini/0", "solution": "x"}\n', 400, "allow_partial=true"),
        ("", b"", 400, "empty"),
        ("?allow_partial=true", b'{"task_id": "bcb-mini/0", "solution": "\\ud800"}\n', 400, "lone surrogate"),
        ("", b"\xef\xbb\xbf{}\n", 400, "BOM"),
        ("?split=sideways", b"{}", 400, "unknown split"),
        ("?max_as_limit=lots", b"{}", 400, "max_as_limit"),
        ("?pass_k=0", b"{}", 400, "pass_k"),
        ("?frobnicate=1", b"{}", 400, "unknown option 'frobnicate'"),
        ("?filename=../../etc/passwd", b"{}", 400, "plain file name"),
        ("?selective_evaluate=9999", b"{}", 400, "selective_evaluate"),
        (
            "",
            b"".join(b'{"task_id": "bcb-mini/0", "solution": "x"}\n' for _ in range(41)) + b"",
            413,
            "at most 40 per job",
        ),
    ],
)
def test_json_api_refuses_bad_uploads_with_4xx(
    gradio_server: Server, query: str, body: bytes, status: int, message: str
) -> None:
    code, answer = gradio_server.call("POST", "/api/v1/jobs" + query, body)
    assert code == status and message in answer["error"], answer
    assert "\n" not in answer["error"]
    assert gradio_server.call("GET", "/api/v1/health")[0] == 200


def _read_http_reply(s: socket.socket) -> bytes:
    """Read one whole HTTP reply: its head and body can arrive in separate segments."""
    reply = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        reply += chunk
        head, sep, body = reply.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if sep and length and len(body) >= int(length.group(1)):
            break
    return reply


def test_oversized_upload_is_refused_before_it_is_read(gradio_server: Server) -> None:
    with socket.create_connection(("127.0.0.1", gradio_server.port), timeout=10) as s:
        s.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n" + b"x" * 1000)
        reply = _read_http_reply(s)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), reply
    assert "at most 1 MiB" in json.loads(body)["error"]
    assert gradio_server.call("GET", "/api/v1/health")[0] == 200


def test_raw_socket_garbage_and_unknown_routes(gradio_server: Server) -> None:
    for raw in (
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),
        b"GARBAGE / HTTP/1.1\r\n\r\n",
        b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
    ):
        with socket.create_connection(("127.0.0.1", gradio_server.port), timeout=10) as s:
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
            reply = s.recv(200)
        assert reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply
    assert gradio_server.call("GET", "/api/v1/nothing")[0] == 404
    assert gradio_server.call("GET", "/api/v1/jobs/unknown")[0] == 404
    assert gradio_server.call("PUT", "/api/v1/jobs/unknown/eval_results")[0] == 405
    assert gradio_server.call("GET", "/api/v1/health")[0] == 200


def test_queued_jobs_per_client_are_capped(gradio_server: Server, tmp_path: Path) -> None:
    rows = [r for r in flawed(list(load_dataset("bcb-mini").tasks)) if r["flaw"] == "infinite_loop"]
    jobs = []
    for i in range(3):
        body = write_samples(
            tmp_path / f"q{i}.jsonl", [{**rows[0], "solution": rows[0]["solution"] + f"\n# {i}\n"}]
        ).read_bytes()
        code, status = gradio_server.call(
            "POST", "/api/v1/jobs?allow_partial=true&timeout=5&no_gt=true", body, {"X-BCB-Client": "greedy"}
        )
        assert code == 202, status
        jobs.append(status["job"])
    code, refused = gradio_server.call(
        "POST",
        "/api/v1/jobs?allow_partial=true&timeout=5&no_gt=true",
        b'{"task_id": "bcb-mini/0", "solution": "y"}\n',
        {"X-BCB-Client": "greedy"},
    )
    assert code == 429 and "3 unfinished jobs" in refused["error"]
    # Another client is still served (the cap is per client).
    code, other = gradio_server.call(
        "POST",
        "/api/v1/jobs?allow_partial=true&timeout=20&no_gt=true&selective_evaluate=0",
        b'{"task_id": "bcb-mini/0", "solution": "y"}\n',
        {"X-BCB-Client": "polite"},
    )
    assert code == 202
    assert gradio_server.wait_done(other["job"], timeout=60)["state"] == "done"
    # The polite job ran once a greedy sample had hit its 5 s limit: those jobs may be done by now.
    for job in jobs:
        assert gradio_server.call("DELETE", f"/api/v1/jobs/{job}")[1]["state"] in ("cancelled", "done")


@pytest.mark.parametrize("kind", ["plain", "gradio"])
def test_token_is_required_when_set(
    tmp_path: Path, bcb_cmd: list[str], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "gradio":
        pytest.importorskip("gradio")
    monkeypatch.setenv("BCB_SERVE_TOKEN", "s3cret")  # the environment variable, not --token
    server = Server(bcb_cmd, tmp_path / "root", tmp_path / "serve.log", *(["--plain"] if kind == "plain" else []))
    try:
        assert server.call("POST", "/api/v1/jobs", b"{}")[0] == 401
        assert server.call("GET", "/api/v1/jobs/x", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert server.call("GET", "/api/v1/jobs/x", headers={"Authorization": "Bearer s3cret"})[0] == 404
        assert server.call("GET", "/api/v1/health")[0] == 200
        if kind == "gradio":
            from gradio_client import Client

            with pytest.raises(Exception):  # noqa: B017 (gradio_client raises its own types, which vary by version)
                Client(server.url + "/", verbose=False)
            samples = write_samples(tmp_path / "t.jsonl", quick_flawed()[:2])
            from gradio_client import handle_file

            client = Client(server.url + "/", verbose=False, headers={"Authorization": "Bearer s3cret"})
            results, _ = client.predict(
                split="complete",
                subset="full",
                samples=handle_file(str(samples)),
                pass_k="1",
                parallel=-1,
                min_time_limit=1,
                max_as_limit=30 * 1024,
                max_data_limit=30 * 1024,
                max_stack_limit=10,
                calibrated=True,
                check_gt_only=False,
                no_gt=True,
                selective_evaluate="0,1",
                api_name="/predict",
            )
            assert sorted(results["eval"]) == ["bcb-mini/0", "bcb-mini/1"]
    finally:
        server.stop()


def test_port_in_use_is_one_line_before_any_worker_starts(tmp_path: Path, bcb_cmd: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*bcb_cmd, "serve", "--dataset", "bcb-mini", "--port", str(port), "--root", str(tmp_path / "root")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert (
        done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr
    )


def test_cancel_stops_the_running_sample_and_frees_its_worker(tmp_path: Path, bcb_cmd: list[str]) -> None:
    """One worker, a sample sleeping 60 s under a 120 s limit: cancelled, the job is cancelled at
    once, the sample is killed (the next one-sample job on the same worker is answered in
    seconds, not after the sleep), and nothing is stored for it."""
    import sqlite3

    tasks = list(load_dataset("bcb-mini").tasks)
    sleeper, other = tasks[0].task_id, tasks[1].task_id
    root = tmp_path / "root"
    server = Server(bcb_cmd, root, tmp_path / "serve.log", "--plain", "--parallel", "1")
    query = "/api/v1/jobs?allow_partial=true&no_gt=true&timeout=120"
    try:
        rows = [{"task_id": sleeper, "solution": "import time\ntime.sleep(60)\n"}]
        code, status = server.call("POST", query, write_samples(tmp_path / "sleep.jsonl", rows).read_bytes())
        assert code == 202
        job = status["job"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            progress = server.call("GET", f"/api/v1/jobs/{job}")[1].get("progress") or {}
            if progress.get("phase") == "samples":
                break
            time.sleep(0.1)
        assert progress.get("phase") == "samples", progress
        time.sleep(1.0)  # the sample is sleeping in its worker now
        t0 = time.monotonic()
        code, cancelled = server.call("POST", f"/api/v1/jobs/{job}/cancel")
        assert code == 200 and cancelled["state"] == "cancelled"
        rows = [{"task_id": other, "solution": "def task_func(:\n"}]
        code, quick = server.call("POST", query, write_samples(tmp_path / "quick.jsonl", rows).read_bytes())
        assert code == 202
        final = server.wait_done(quick["job"], timeout=60)
        took = time.monotonic() - t0
        assert final["state"] == "done" and final["executed"] == 1, final
        assert took < 15, f"the worker was busy for {took:.1f} s after the cancel"
        assert server.call("GET", f"/api/v1/jobs/{job}")[1]["state"] == "cancelled"
    finally:
        server.stop()
    with sqlite3.connect(root / "bcb.sqlite") as db:
        stored = dict(db.execute("SELECT task_id, status FROM verdicts").fetchall())
    assert stored == {other: "fail"}


def test_cancel_leaves_another_jobs_running_sample_alone(tmp_path: Path, bcb_cmd: list[str]) -> None:
    """Two workers, two clients' jobs running side by side: cancelling one kills only its own
    sample; the other job's sample, running on the other warm worker, passes and is stored."""
    import sqlite3

    tasks = list(load_dataset("bcb-mini").tasks)
    root = tmp_path / "root"
    server = Server(bcb_cmd, root, tmp_path / "serve.log", "--plain", "--parallel", "2")
    query = "/api/v1/jobs?allow_partial=true&no_gt=true&timeout=120"
    try:
        sleeper = [{"task_id": tasks[0].task_id, "solution": "import time\ntime.sleep(60)\n"}]
        code, a = server.call(
            "POST", query, write_samples(tmp_path / "a.jsonl", sleeper).read_bytes(), {"X-BCB-Client": "a"}
        )
        assert code == 202
        slow_pass = [{"task_id": tasks[1].task_id, "solution": tasks[1].solution + "\nimport time\ntime.sleep(4)\n"}]
        code, b = server.call(
            "POST", query, write_samples(tmp_path / "b.jsonl", slow_pass).read_bytes(), {"X-BCB-Client": "b"}
        )
        assert code == 202
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            phases = [
                (server.call("GET", f"/api/v1/jobs/{j['job']}")[1].get("progress") or {}).get("phase") for j in (a, b)
            ]
            if phases == ["samples", "samples"]:
                break
            time.sleep(0.1)
        assert phases == ["samples", "samples"], phases
        time.sleep(1.0)  # both samples are in their workers now
        assert server.call("DELETE", f"/api/v1/jobs/{a['job']}")[1]["state"] == "cancelled"
        final = server.wait_done(b["job"], timeout=60)
        assert final["state"] == "done" and final["executed"] == 1, final
        results = server.call("GET", f"/api/v1/jobs/{b['job']}/eval_results")[1]
        assert verdicts(results) == {tasks[1].task_id: ["pass"]}
    finally:
        server.stop()
    with sqlite3.connect(root / "bcb.sqlite") as db:
        stored = dict(db.execute("SELECT task_id, status FROM verdicts").fetchall())
    assert stored == {tasks[1].task_id: "pass"}


@pytest.mark.slow
def test_sigkill_mid_job_then_restart_finishes_with_the_same_verdicts(tmp_path: Path, bcb_cmd: list[str]) -> None:
    rows = flawed(list(load_dataset("bcb-mini").tasks))  # with 5 infinite loops: the job takes a while
    samples = write_samples(tmp_path / "k--bcb-mini-complete.jsonl", rows)
    root = tmp_path / "root"
    server = Server(bcb_cmd, root, tmp_path / "serve.log", "--plain")
    query = "/api/v1/jobs?timeout=4&filename=k--bcb-mini-complete.jsonl"
    try:
        code, status = server.call("POST", query, samples.read_bytes())
        assert code == 202
        job = status["job"]
        deadline = time.monotonic() + 120
        done_before = 0
        while time.monotonic() < deadline:
            progress = server.call("GET", f"/api/v1/jobs/{job}")[1].get("progress") or {}
            if progress.get("phase") == "samples" and progress.get("done", 0) >= 8:
                done_before = progress["done"]
                break
            time.sleep(0.1)
        assert done_before >= 8, "the job did not get going"
        server.stop(signal.SIGKILL)
        assert server.proc.returncode == -signal.SIGKILL
    finally:
        server.stop()
    # Its workers were children of the killed process: the restart must not depend on them.
    server = Server(bcb_cmd, root, tmp_path / "serve.log", "--plain")
    try:
        final = server.wait_done(job)
        assert final["state"] == "done", final
        assert final["reused"] >= done_before and final["executed"] + final["reused"] == 32
        results = server.call("GET", f"/api/v1/jobs/{job}/eval_results")[1]
    finally:
        server.stop()
    (tmp_path / "local").mkdir()
    local_results, _ = local_evaluate(
        bcb_cmd, write_samples(tmp_path / "local" / samples.name, rows), tmp_path / "local_root", "--timeout", "4"
    )
    assert verdicts(results) == verdicts(local_results)

    # After another restart the same request is answered from the store at once.
    server = Server(bcb_cmd, root, tmp_path / "serve.log", "--plain")
    try:
        code, again = server.call("POST", query, samples.read_bytes())
        assert code == 200 and again["job"] == job and again["state"] == "done"
        assert verdicts(server.call("GET", f"/api/v1/jobs/{job}/eval_results")[1]) == verdicts(results)
    finally:
        server.stop()


def test_evaluate_remote_writes_the_local_files_and_resumes(tmp_path: Path, bcb_cmd: list[str]) -> None:
    server = Server(bcb_cmd, tmp_path / "root", tmp_path / "serve.log", "--plain")
    try:
        samples = write_samples(tmp_path / "r--bcb-mini-complete.jsonl", quick_flawed())
        done = subprocess.run(
            [
                *bcb_cmd,
                "evaluate",
                "--dataset",
                "bcb-mini",
                "--samples",
                str(samples),
                "--remote",
                server.url + "/",
                "--timeout",
                "20",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "pass@1" in done.stdout
        written = json.loads((tmp_path / "r--bcb-mini-complete_eval_results.json").read_text())
        passk = json.loads((tmp_path / "r--bcb-mini-complete_pass_at_k.json").read_text())
        assert len(written["eval"]) == 32 and passk["model"] == "r"
        assert not (tmp_path / "r--bcb-mini-complete.jsonl.bcb-remote.json").exists()

        # A flag the server decides is refused in one line; a server that is not there, too.
        refused = subprocess.run(
            [*bcb_cmd, "evaluate", "--samples", str(samples), "--remote", server.url, "--python", "/usr/bin/python3"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == 2 and "--python: the server decides this" in refused.stderr
        wrong = subprocess.run(
            [*bcb_cmd, "evaluate", "--dataset", "bigcodebench", "--samples", str(samples), "--remote", server.url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert wrong.returncode == 2 and "this server evaluates bcb-mini" in wrong.stderr

        # The server's verdicts are keyed like bcb evaluate's (same environment, same sandbox):
        # a local run on the same root runs nothing.
        local = subprocess.run(
            [
                *bcb_cmd,
                "evaluate",
                "--dataset",
                "bcb-mini",
                "--samples",
                str(samples),
                "--root",
                str(tmp_path / "root"),
                "--timeout",
                "20",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert local.returncode == 0, local.stderr
        assert "0 run, 32 from the store" in local.stdout
        assert verdicts(json.loads((tmp_path / "r--bcb-mini-complete_eval_results.json").read_text())) == verdicts(
            written
        )

        # The same upload with the same options as that run: the server answers with its job.
        code, status = server.call(
            "POST", "/api/v1/jobs?timeout=20&dataset=bcb-mini&filename=r--bcb-mini-complete.jsonl", samples.read_bytes()
        )
        assert code == 200 and status["state"] == "done"

        # Resume by job id: a client killed mid-job leaves its job id beside the samples; run
        # again, it picks that job up instead of sending the samples again.
        slow = write_samples(
            tmp_path / "s--bcb-mini-complete.jsonl",
            [r for r in flawed(list(load_dataset("bcb-mini").tasks)) if r["flaw"] == "infinite_loop"],
        )
        args = [
            *bcb_cmd,
            "evaluate",
            "--dataset",
            "bcb-mini",
            "--samples",
            str(slow),
            "--remote",
            server.url,
            "--timeout",
            "3",
            "--allow-partial",
            "--no-gt",
        ]
        sidecar = tmp_path / "s--bcb-mini-complete.jsonl.bcb-remote.json"
        first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not sidecar.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert sidecar.exists()
        finally:
            first.kill()
            first.wait()
        job = json.loads(sidecar.read_text())["job"]
        resumed = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        assert f"resuming job {job}" in resumed.stderr
        assert (
            json.loads((tmp_path / "s--bcb-mini-complete_eval_results.json").read_text())["eval"]["bcb-mini/5"][0][
                "status"
            ]
            == "timeout"
        )
    finally:
        server.stop()


def test_fair_queue_takes_turns_between_clients() -> None:
    """A client with many programs queued holds up a later client by one program, not by all of them."""
    import threading

    from bcb.execution.jobs import Job
    from bcb.execution.limits import Limits
    from bcb.server.fair import FairQueue, JobCancelled

    fair = FairQueue()
    stop = threading.Event()
    big = fair.runner("big", Limits(), stop)([Job(f"b{i}", "t", "pass", "", 1.0) for i in range(10)])
    small = fair.runner("small", Limits(), stop)([Job("s0", "t", "pass", "", 1.0)])

    def consume(results: Iterator) -> None:
        with pytest.raises(JobCancelled):
            next(results)

    threads = [threading.Thread(target=consume, args=(it,), daemon=True) for it in (big, small)]
    threads[0].start()
    time.sleep(0.2)  # the big client's programs are queued first
    threads[1].start()
    time.sleep(0.2)
    order = [fair.take(timeout=1)[1].key for _ in range(4)]  # type: ignore[index]
    assert order[:2] == ["b0", "s0"] and order[2:] == ["b1", "b2"]
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    assert not any(t.is_alive() for t in threads)
    fair.close()


def test_evaluate_remote_retries_until_the_server_is_up(tmp_path: Path, bcb_cmd: list[str]) -> None:
    port = free_port()
    samples = write_samples(tmp_path / "w--bcb-mini-complete.jsonl", quick_flawed()[:3])
    client = subprocess.Popen(
        [
            *bcb_cmd,
            "evaluate",
            "--dataset",
            "bcb-mini",
            "--samples",
            str(samples),
            "--remote",
            f"http://127.0.0.1:{port}/",
            "--allow-partial",
            "--no-gt",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)  # the client finds nobody there and keeps trying
        assert client.poll() is None
        server = Server(bcb_cmd, tmp_path / "root", tmp_path / "serve.log", "--plain", port=port)
        try:
            out, err = client.communicate(timeout=180)
        finally:
            server.stop()
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    assert client.returncode == 0, err
    assert "retrying in" in err
    assert len(json.loads((tmp_path / "w--bcb-mini-complete_eval_results.json").read_text())["eval"]) == 3
