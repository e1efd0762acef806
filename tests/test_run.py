"""`bcb run`: generation through a real OpenAI client against a loopback model server, then
evaluation by real workers, in one command."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from bcb.dataset import load_dataset
from bcb.evaluation.results import read_eval_results
from generation_server import FakeLLMServer


class KnowingServer(FakeLLMServer):
    """Answers tasks with an even number with their canonical solution (in a fenced block with prose,
    as chat models do), the rest with a wrong one."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks = list(load_dataset("bcb-mini"))

    def chat_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = super().chat_completion(body)
        prompt = body["messages"][-1]["content"]
        task = next(t for t in self.tasks if t.complete_prompt.strip() in prompt)
        good = task.number % 2 == 0
        code = task.solution if good else task.code_prompt + "    return 'wrong'\n"
        reply["choices"][0]["message"]["content"] = f"Sure.\n```python\n{code}\n```\nDone."
        return reply


@pytest.fixture
def server() -> Iterator[KnowingServer]:
    fake = KnowingServer().start()
    yield fake
    fake.stop()


def test_run_generates_then_evaluates(bcb_cmd: list[str], server: KnowingServer, tmp_path: Path) -> None:
    env = {**os.environ, "OPENAI_API_KEY": "sk-test", "NO_COLOR": "1", "COLUMNS": "200"}
    args = [
        "run",
        "--model",
        "org/knowing",
        "--backend",
        "openai",
        "--base-url",
        server.url + "/v1",
        "--dataset",
        "bcb-mini",
        "--root",
        str(tmp_path),
        "--greedy",
        "--eval-timeout",
        "20",
    ]
    result = subprocess.run([*bcb_cmd, *args], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    samples = tmp_path / "org--knowing--main--bcb-mini-complete--openai-0-1-sanitized_calibrated.jsonl"
    assert samples.is_file() and len(samples.read_text().splitlines()) == 32
    evaluated = read_eval_results(samples.with_name(samples.stem + "_eval_results.json"))
    verdicts = {t: rows[0].status for t, rows in evaluated.eval.items()}
    assert verdicts == {t.task_id: ("pass" if t.number % 2 == 0 else "fail") for t in server.tasks}
    pass_at_k = json.loads(samples.with_name(samples.stem + "_pass_at_k.json").read_text())
    assert pass_at_k["pass@1"] == 0.5 and pass_at_k["model"] == "org--knowing--main"
    assert evaluated.bcb["manifest"]["limits"]["fixed_timeout_s"] == 20
    # A second run asks the model nothing and executes nothing.
    before = len(server.requests)
    again = subprocess.run([*bcb_cmd, *args], capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert len(server.requests) == before
    assert read_eval_results(samples.with_name(samples.stem + "_eval_results.json")).bcb["manifest"]["executed"] == 0
