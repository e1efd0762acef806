"""Pure parts of the execution layer: time-limit policy, verdict mapping, preload choice,
the sample's environment and the worker protocol's framing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bcb.execution import (
    Job,
    Limits,
    _zygote,
    imported_modules,
    kill_after,
    official_time_limit,
    preload_modules,
    program_modules,
)
from bcb.execution.child_env import build_child_env
from bcb.execution.limits import time_limit_for
from bcb.execution.scheduling import expected_seconds, longest_first, may_hang_until_limit
from bcb.execution.verdict import verdict_from_report


@pytest.mark.parametrize(
    ("gt", "min_limit", "expected"),
    [
        (None, 1.0, 241.0),  # failed ground truth: officially 20 s assumed, floor 240 wins
        (0.0, 1.0, 241.0),  # 0 is falsy in the official code too
        (0.07, 1.0, 241.0),
        (239.5, 1.0, 241.0),
        (300.0, 1.0, 301.0),
        (5.0, 250.0, 251.0),
    ],
)
def test_official_time_limit(gt: float | None, min_limit: float, expected: float) -> None:
    assert official_time_limit(gt, min_limit) == expected
    assert kill_after(expected) == expected + 1


@pytest.mark.parametrize(
    ("gt", "min_limit", "expected"),
    [
        (None, 1.0, 241.0),  # no measured ground truth: nothing to scale, official limit
        (0.07, 1.0, 121.0),  # the floor
        (30.0, 1.0, 151.0),  # 5 x gt
        (100.0, 1.0, 241.0),  # never above the official limit
        (300.0, 1.0, 301.0),
        (0.07, 200.0, 201.0),  # --min-time-limit still raises it
    ],
)
def test_scaled_time_limit(gt: float | None, min_limit: float, expected: float) -> None:
    assert time_limit_for("scaled", gt, min_limit) == expected
    assert time_limit_for("official", gt, min_limit) == official_time_limit(gt, min_limit)
    with pytest.raises(ValueError, match="timeout policy"):
        time_limit_for("fast", gt, min_limit)


def test_limits_defaults_are_official() -> None:
    assert Limits().to_wire() == {"max_as_mb": 30 * 1024, "max_data_mb": 30 * 1024, "max_stack_mb": 10}
    with pytest.raises(ValueError):
        Limits(max_stack_mb=-1)


def test_job_rejects_non_positive_limit() -> None:
    with pytest.raises(ValueError):
        Job(key="k", task_id="t", solution="", test="", time_limit=0)


def test_verdict_mapping() -> None:
    ok = {"outcome": "reported", "stat": "success", "details": {}}
    assert verdict_from_report(ok, 3) == ("pass", {}, "")
    failing = {"outcome": "reported", "stat": "success", "details": {"test_a": "tb"}}
    assert verdict_from_report(failing, 3)[:2] == ("fail", {"test_a": "tb"})
    crashed = {"outcome": "reported", "stat": "failed", "details": {"ALL": "boom"}}
    assert verdict_from_report(crashed, 3)[:2] == ("fail", {"ALL": "boom"})
    assert verdict_from_report({"outcome": "deadline"}, 3)[:2] == ("timeout", {})
    assert verdict_from_report({"outcome": "exited", "exit": "exit status 0"}, 3)[:2] == ("timeout", {})
    assert verdict_from_report({"outcome": "malformed", "error": "x"}, 3)[:2] == ("timeout", {})
    with pytest.raises(ValueError):
        verdict_from_report({"outcome": "setup_error"}, 3)


def test_preload_modules() -> None:
    programs = [
        {"random", "pandas", "numpy"},
        {"tensorflow", "sklearn.preprocessing", "pandas", "os.path"},
        {"requests", "keras", "torch.nn"},
    ]
    mods = preload_modules(programs)
    assert mods[:2] == ["matplotlib", "matplotlib.pyplot"]  # always: the official guard imports it
    assert mods[2] == "pandas"  # imported by two programs here
    assert {"sklearn", "sklearn.preprocessing", "requests", "numpy"} <= set(mods)
    assert not {"random", "os", "os.path", "tensorflow", "keras", "torch", "torch.nn"} & set(mods)
    assert "pandas" not in preload_modules([{"pandas"}], deny={"pandas"})
    # Break-even: with 2 workers a module imported by 2 programs is cheaper imported by those programs;
    # a package counts for every program that imports any of its submodules.
    few = preload_modules(
        [
            {"pandas", "sklearn.cluster"},
            {"pandas", "sklearn.preprocessing"},
            {"pandas", "sklearn.preprocessing"},
            {"numpy"},
        ],
        min_uses=3,
    )
    assert few == ["matplotlib", "matplotlib.pyplot", "pandas", "sklearn"]
    # Over many programs a module must also be imported by 1% of them: every sample pays for the
    # worker's size at fork and exit, and a handful of imports do not make up for that.
    many = [{"pandas"}] * 400 + [{"sympy"}] * 3 + [{"scipy.stats"}] * 5
    assert preload_modules(many, min_uses=3) == ["matplotlib", "matplotlib.pyplot", "pandas", "scipy", "scipy.stats"]
    assert "sympy" in preload_modules(many, min_uses=3, min_share=0)


def test_imported_modules_reads_every_form_of_import() -> None:
    source = (
        "import numpy as np, pandas as pd\n"
        "from sklearn.preprocessing import StandardScaler, MinMaxScaler as M\n"
        "from scipy import (stats,\n    optimize)\n"
        "from . import sibling\n"
        "from .package import thing\n"
        "def f():\n    from matplotlib import pyplot as plt\n"
        "text = 'import nothing from here'\n"
    )
    assert imported_modules(source, "import faker") == {
        "numpy",
        "pandas",
        "sklearn.preprocessing",
        "sklearn.preprocessing.StandardScaler",
        "sklearn.preprocessing.MinMaxScaler",
        "scipy",
        "scipy.stats",
        "matplotlib",
        "matplotlib.pyplot",
        "faker",
    }


def test_child_env_is_an_allow_list() -> None:
    source = {
        "PATH": "/usr/bin",
        "LC_ALL": "C.UTF-8",
        "OPENAI_API_KEY": "secret",
        "HF_TOKEN": "t",
        "TZ": "Europe/Paris",
        "PYTHONPATH": "/x",
    }
    env = build_child_env("/venv/bin/python", source, extra={"NLTK_DATA": "/data"})
    assert env["PATH"] == "/venv/bin" + os.pathsep + "/usr/bin"
    assert env["LC_ALL"] == "C.UTF-8" and env["TZ"] == "UTC" and env["NLTK_DATA"] == "/data"
    assert not {"OPENAI_API_KEY", "HF_TOKEN", "PYTHONPATH"} & set(env)
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1" and env["MPLBACKEND"] == "Agg"


def test_frames_roundtrip_and_reject_garbage() -> None:
    buf = _zygote.FrameBuffer()
    data = _zygote.encode_frame({"a": "\udcff surrogate", "b": [1, 2]})
    buf.feed(data[:3])
    assert buf.next_frame() is None
    buf.feed(data[3:] + _zygote.encode_frame({"c": 1}))
    assert buf.next_frame() == {"a": "\udcff surrogate", "b": [1, 2]}
    assert buf.next_frame() == {"c": 1}
    bad = _zygote.FrameBuffer()
    bad.feed(b"\xff\xff\xff\xff")
    with pytest.raises(_zygote.ProtocolError):
        bad.next_frame()


def test_child_steps_are_named_and_ordered() -> None:
    names = [step.__name__ for step in _zygote.CHILD_STEPS]
    assert names[0] == "step_close_protocol_fds" and names[-2:] == [
        "step_official_safe_environment",
        "step_sandbox_lock",
    ]
    assert (
        names.index("step_redirect_std_fds")
        < names.index("step_sandbox_enter")
        < names.index("step_enter_private_dirs")
    )
    assert (
        names.index("step_new_session") < names.index("step_enter_private_dirs") < names.index("step_clean_environment")
    )
    assert len(set(names)) == len(names)


def test_capped_sink() -> None:
    sink = _zygote.CappedWriteOnlyStringIO(5)
    assert sink.write("abc") == 3 and sink.write("defgh") == 5
    assert sink.getvalue() == "abcde"
    for read in (sink.read, sink.readline, sink.readlines):
        with pytest.raises(OSError):
            read()
    assert not sink.readable()


def test_child_env_points_nltk_at_the_users_data(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "nltk_data").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path))
    assert build_child_env("/p/bin/python", {"PATH": "/usr/bin"})["NLTK_DATA"] == str(tmp_path / "nltk_data")
    assert build_child_env("/p/bin/python", {"PATH": "/usr/bin", "NLTK_DATA": "/d"})["NLTK_DATA"] == "/d"


def test_orphaned_work_dirs_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    """An executor killed together with its keepers leaves its work directory; the next
    executor removes it, but never one whose owner still holds its lock, nor a young one."""
    import tempfile

    from bcb.execution.executor import hold_work_dir, sweep_orphaned_work_dirs

    old = 1_000_000_000
    orphan, live, young = (Path(tempfile.mkdtemp(prefix="bcb", dir=tmp_path)) for _ in range(3))
    (orphan / "w0n1" / "home").mkdir(parents=True)
    unrelated = tmp_path / "bcb-not-ours"
    unrelated.mkdir()
    for path in (orphan, live, unrelated):
        os.utime(path, (old, old))
    lock = hold_work_dir(live)
    try:
        assert sweep_orphaned_work_dirs(tmp_path) == [orphan]
    finally:
        os.close(lock)
    assert not orphan.exists() and live.is_dir() and young.is_dir() and unrelated.is_dir()


@pytest.mark.parametrize(
    ("solution", "test", "hangs"),
    [
        ("from multiprocessing import Pool\n", "", True),
        ("import multiprocessing as mp\n", "", True),
        ("from concurrent.futures import ProcessPoolExecutor\n", "", True),
        ("", "import multiprocessing\n", True),
        ("from concurrent.futures import ThreadPoolExecutor\n", "", False),
        ("import threading\nmultiprocessing_helper = 1\n", "", False),
        ("import subprocess\n", "", False),
    ],
)
def test_programs_that_start_processes_are_planned_at_their_limit(solution: str, test: str, hangs: bool) -> None:
    job = Job("k", "T/1", solution, test, time_limit=241.0, expected_time=0.2)
    assert may_hang_until_limit(job) is hangs
    assert expected_seconds(job) == (241.0 if hangs else 0.2)


def test_longest_first_keeps_the_given_order_on_ties() -> None:
    jobs = [
        Job(k, "T/1", s, "", time_limit=60.0, expected_time=t)
        for k, s, t in [
            ("a", "", 1.0),
            ("b", "", 0.0),
            ("c", "import multiprocessing", 0.0),
            ("d", "", 1.0),
            ("e", "", 90.0),
        ]
    ]
    assert [jobs[i].key for i in longest_first(jobs)] == ["e", "c", "a", "d", "b"]


def test_the_facade_names_each_export_once_and_loads_only_its_submodule() -> None:
    """`bcb.execution` exports what the layers above use; its table, its `TYPE_CHECKING` imports
    (what mypy sees) and `__all__` name the same things, each the submodule's own object; and
    taking one name imports its submodule, not the executors."""
    import ast
    import importlib
    import json
    import subprocess
    import sys

    import bcb.execution as facade

    tree = ast.parse(Path(facade.__file__).read_text(encoding="utf-8"))
    typed = {
        alias.asname or alias.name: (node.module.rsplit(".", 1)[1], alias.name)
        for block in tree.body
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    assert typed == facade._EXPORTS
    assert sorted(facade.__all__) == sorted(facade._EXPORTS)
    for name, (module, attr) in facade._EXPORTS.items():
        assert getattr(facade, name) is getattr(importlib.import_module(f"bcb.execution.{module}"), attr)
    with pytest.raises(AttributeError):
        facade.no_such_name  # noqa: B018

    probe = "import json, sys\nfrom bcb.execution import Limits, SandboxOptions\nprint(json.dumps(sorted(sys.modules)))"
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    )
    assert {"bcb.execution.limits", "bcb.execution.sandbox"} <= loaded
    assert not loaded & {"bcb.execution.executor", "bcb.execution.protocol", "bcb.execution.worker", "numpy"}


def test_program_modules_reads_the_prompt_the_solution_and_the_tests() -> None:
    from bcb.dataset import load_dataset

    task = next(t for t in load_dataset("bcb-mini").tasks if "import" in t.test)
    ground_truth = program_modules(task)
    assert imported_modules(task.code_prompt, task.test) <= ground_truth
    assert imported_modules(task.solution) <= ground_truth
    answer = program_modules(task, "import faker\ndef task_func():\n    return 1\n")
    assert "faker" in answer and imported_modules(task.code_prompt, task.test) <= answer
