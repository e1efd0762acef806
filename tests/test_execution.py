"""The executor end to end: real worker processes under this interpreter, no mocks.

Every case asserts the verdict the official evaluator (bigcodebench 0.2.5) gives for the same
sample; the comments say why when it is not obvious (e.g. ``os._exit`` is a ``timeout``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from bcb.execution import ExecutionResult, Job, LocalExecutor
from bcb.execution.sandbox import SandboxOptions

pytestmark = pytest.mark.timeout(120)

SECRET = "sk-test-secret-value"


def suite_of(body: str) -> str:
    """A ``TestCases`` class whose body is ``body`` (methods, indented by 4)."""
    return "import unittest\nclass TestCases(unittest.TestCase):\n" + textwrap.indent(textwrap.dedent(body), "    ")


def job(solution: str, test: str, *, key: str = "k", time_limit: float = 20.0, expected_time: float = 0.0) -> Job:
    return Job(
        key=key,
        task_id="BigCodeBench/0",
        solution=textwrap.dedent(solution),
        test=test,
        time_limit=time_limit,
        expected_time=expected_time,
    )


def run_one(ex: LocalExecutor, solution: str, test: str, **kw: object) -> ExecutionResult:
    (result,) = list(ex.run([job(solution, test, **kw)]))  # type: ignore[arg-type]
    return result


def alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_gone(pids: list[int], timeout: float = 2.0) -> list[int]:
    """The pids still alive after ``timeout`` (normally none survive the result at all)."""
    end = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < end:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left


@pytest.fixture(scope="module")
def ex(tmp_path_factory: pytest.TempPathFactory) -> LocalExecutor:
    """Two workers, started with a secret in the harness environment. Samples here report through
    files under pytest's temp dir, so Landlock lets them write there."""
    old = os.environ.get("OPENAI_API_KEY")
    os.environ["OPENAI_API_KEY"] = SECRET
    try:
        executor = LocalExecutor(workers=2, sandbox=SandboxOptions(write_paths=[str(tmp_path_factory.getbasetemp())]))
        executor.start()
    finally:
        if old is None:
            os.environ.pop("OPENAI_API_KEY", None)
        else:
            os.environ["OPENAI_API_KEY"] = old
    yield executor
    executor.close()


ADD = """
def task_func(a, b):
    return a + b
"""


# -- verdicts -----------------------------------------------------------------------------------


def test_pass(ex: LocalExecutor) -> None:
    r = run_one(
        ex,
        ADD,
        suite_of(
            "def test_one(self):\n    self.assertEqual(task_func(1, 2), 3)\ndef test_two(self):\n    self.assertEqual(task_func(0, 0), 0)\n"
        ),
    )
    assert (r.status, r.details, r.tests_run, r.attempts) == ("pass", {}, 2, 1)
    assert r.duration_s < 5 and r.peak_rss_mb and r.peak_rss_mb > 1


def test_failing_assertion_details_keyed_by_method(ex: LocalExecutor) -> None:
    r = run_one(
        ex,
        ADD,
        suite_of(
            "def test_ok(self):\n    self.assertEqual(task_func(1, 2), 3)\ndef test_bad(self):\n    self.assertEqual(task_func(1, 2), 4)\n"
        ),
    )
    assert r.status == "fail"
    assert list(r.details) == ["test_bad"]
    trace = r.details["test_bad"]
    assert trace.startswith("Traceback (most recent call last):")
    assert 'File "__test__.py"' in trace and "AssertionError: 3 != 4" in trace


def test_error_in_test_is_a_fail(ex: LocalExecutor) -> None:
    r = run_one(ex, ADD, suite_of("def test_err(self):\n    task_func(1)\n"))
    assert r.status == "fail" and "TypeError" in r.details["test_err"]


def test_syntax_error_is_all(ex: LocalExecutor) -> None:
    r = run_one(ex, "def task_func(:\n    pass\n", suite_of("def test_x(self):\n    pass\n"))
    assert r.status == "fail" and list(r.details) == ["ALL"]
    assert "(__test__.py, line 1)" in r.details["ALL"]
    assert r.tests_run is None


def test_import_error_is_all(ex: LocalExecutor) -> None:
    r = run_one(ex, "import no_such_module_for_bcb\n" + ADD, suite_of("def test_x(self):\n    pass\n"))
    assert (r.status, r.details) == ("fail", {"ALL": "No module named 'no_such_module_for_bcb'"})


def test_missing_testcases_is_all(ex: LocalExecutor) -> None:
    r = run_one(ex, ADD, "x = 1\n")
    assert (r.status, r.details) == ("fail", {"ALL": "module '__test__' has no attribute 'TestCases'"})


def test_module_globals_as_official(ex: LocalExecutor) -> None:
    # __file__, and sys/os/environ injected without import; the module is __test__ in sys.modules.
    test = suite_of(
        """
        def test_globals(self):
            self.assertEqual(__file__, "__test__.py")
            self.assertIs(environ, os.environ)
            self.assertIn("__test__", sys.modules)
            self.assertEqual(__name__, "__test__")
        """
    )
    r = run_one(ex, "", test)
    assert (r.status, r.details) == ("pass", {})


# -- time limits -------------------------------------------------------------------------------------


def test_loop_in_test_is_interrupted_by_alarm_and_fails(ex: LocalExecutor) -> None:
    # Officially the in-process alarm (T) raises inside the test: an error, so "fail".
    test = suite_of("def test_loop(self):\n    while True:\n        pass\ndef test_fine(self):\n    pass\n")
    t0 = time.monotonic()
    r = run_one(ex, ADD, test, time_limit=2)
    assert r.status == "fail"
    assert list(r.details) == ["test_loop"] and "Timed out!" in r.details["test_loop"]
    assert 1.8 < time.monotonic() - t0 < 6
    assert r.tests_run == 2


def test_loop_at_module_level_is_timeout(ex: LocalExecutor) -> None:
    # Module code runs before the alarm is armed: the parent kills at T + 1, "timeout".
    t0 = time.monotonic()
    r = run_one(ex, "while True:\n    pass\n", suite_of("def test_x(self):\n    pass\n"), time_limit=2)
    assert (r.status, r.details) == ("timeout", {})
    assert 2.9 < r.duration_s < 5 and time.monotonic() - t0 < 10
    assert "deadline" in r.note


def test_sleep_in_test_is_interrupted(ex: LocalExecutor) -> None:
    r = run_one(ex, "import time\n", suite_of("def test_sleep(self):\n    time.sleep(30)\n"), time_limit=1)
    assert r.status == "fail" and "Timed out!" in r.details["test_sleep"]


# -- process exits -------------------------------------------------------------------------------------


def test_os_exit_in_test_is_timeout(ex: LocalExecutor) -> None:
    # Officially the status stays unknown when the process ends without setting it: "timeout".
    r = run_one(ex, "import os\n", suite_of("def test_exit(self):\n    os._exit(0)\n"))
    assert (r.status, r.details) == ("timeout", {})
    assert r.duration_s < 2 and "exit status 0" in r.note


def test_sys_exit_at_module_level_is_all(ex: LocalExecutor) -> None:
    r = run_one(ex, "import sys\nsys.exit(0)\n", suite_of("def test_x(self):\n    pass\n"))
    assert (r.status, r.details) == ("fail", {"ALL": "0"})


def test_sys_exit_inside_test_is_that_tests_error(ex: LocalExecutor) -> None:
    r = run_one(ex, "import sys\n", suite_of("def test_exit(self):\n    sys.exit(3)\ndef test_ok(self):\n    pass\n"))
    assert r.status == "fail" and list(r.details) == ["test_exit"]
    assert "SystemExit: 3" in r.details["test_exit"] and r.tests_run == 2


def test_exit_builtin_is_none(ex: LocalExecutor) -> None:
    r = run_one(
        ex, "", suite_of("def test_exit(self):\n    exit()\ndef test_quit(self):\n    self.assertIsNone(quit)\n")
    )
    assert r.status == "fail" and list(r.details) == ["test_exit"]
    assert "'NoneType' object is not callable" in r.details["test_exit"]


def test_recursion_error_is_a_fail(ex: LocalExecutor) -> None:
    r = run_one(ex, "def f(n):\n    return f(n + 1)\n", suite_of("def test_rec(self):\n    f(0)\n"))
    assert r.status == "fail" and "RecursionError" in r.details["test_rec"]


def test_c_stack_overflow_is_timeout(ex: LocalExecutor) -> None:
    # A crash of the interpreter (SIGSEGV on the 10 MiB stack) leaves the status unknown: "timeout".
    solution = """
    import sys
    def task_func():
        sys.setrecursionlimit(10**8)
        nested = []
        for _ in range(2_000_000):
            nested = [nested]
        return repr(nested)
    """
    r = run_one(ex, solution, suite_of("def test_crash(self):\n    task_func()\n"))
    assert (r.status, r.details) == ("timeout", {})
    assert "SIGSEGV" in r.note


# -- I/O ---------------------------------------------------------------------------------------------------


def test_stdin_reads_raise(ex: LocalExecutor) -> None:
    test = suite_of(
        """
        def test_input(self):
            with self.assertRaises(OSError):
                input()
        def test_read(self):
            with self.assertRaises(OSError):
                sys.stdin.read()
            self.assertFalse(sys.stdin.readable())
        """
    )
    assert run_one(ex, "", test).status == "pass"


def test_huge_print_is_dropped_not_buffered(ex: LocalExecutor) -> None:
    baseline = run_one(ex, "", suite_of("def test_x(self):\n    pass\n"))
    solution = """
    import sys
    def task_func():
        chunk = "x" * (1 << 20)
        for _ in range(1024):  # 1 GiB
            print(chunk)
            sys.stderr.write(chunk)
        return len(sys.stdout.getvalue())
    """
    r = run_one(ex, solution, suite_of("def test_print(self):\n    self.assertEqual(task_func(), 64 * 1024)\n"))
    assert (r.status, r.details) == ("pass", {})
    assert r.peak_rss_mb is not None and baseline.peak_rss_mb is not None
    assert r.peak_rss_mb < baseline.peak_rss_mb + 100


def test_subprocess_output_defaults_to_pipes(ex: LocalExecutor) -> None:
    # Officially, while a sample runs, subprocess.run/Popen default stdout and stderr to PIPE.
    test = suite_of(
        """
        def test_run(self):
            import subprocess
            out = subprocess.run(["echo", "hi"])
            self.assertEqual(out.stdout, b"hi\\n")
        """
    )
    assert run_one(ex, "", test).status == "pass"


# -- the official guard ------------------------------------------------------------------------------------


def test_official_guard_blocks_kills_and_ps(ex: LocalExecutor) -> None:
    test = suite_of(
        """
        def test_guard(self):
            import signal, subprocess
            os.kill(os.getppid(), signal.SIGKILL)          # prevented: not the sample's
            self.assertEqual(os.system("kill -9 1"), 0)   # pretends to succeed
            self.assertEqual(subprocess.check_output(["ps", "aux"]), b"")
            os.execv("/bin/true", ["true"])               # does nothing
        """
    )
    r = run_one(ex, "", test)
    assert (r.status, r.details, r.attempts) == ("pass", {}, 1)


def test_environment_is_utc_and_clean(ex: LocalExecutor) -> None:
    test = suite_of(
        f"""
        def test_env(self):
            import time
            self.assertEqual(os.environ["TZ"], "UTC")
            self.assertEqual(time.strftime("%Z"), "UTC")
            self.assertEqual(os.environ["OMP_NUM_THREADS"], "1")
            self.assertNotIn("OPENAI_API_KEY", os.environ)
            with open("/proc/self/environ", "rb") as fh:
                self.assertNotIn(b"{SECRET}", fh.read())
        """
    )
    assert os.environ.get("OPENAI_API_KEY") != SECRET  # the fixture set it only to start the workers
    r = run_one(ex, "", test)
    assert (r.status, r.details) == ("pass", {})


def test_fresh_random_state_per_sample(ex: LocalExecutor) -> None:
    solution = """
    import random
    import numpy as np
    """
    test = suite_of("def test_draw(self):\n    self.fail(repr((random.random(), float(np.random.rand()))))\n")
    draws = set()
    for i in range(4):
        r = run_one(ex, solution, test, key=f"r{i}")
        draws.add(r.details["test_draw"].strip().splitlines()[-1])
    assert len(draws) == 4


# -- process and file hygiene ---------------------------------------------------------------------------


def marked_processes(marker: str, where: str = "cmdline") -> list[int]:
    """Pids (as this process sees them) whose command line (or name) carries ``marker``: samples
    may run in their own PID namespace, so the pids they see are not ours."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/{where}", "rb") as fh:
                    if marker.encode() in fh.read() and alive(int(entry)):
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_no_process_outlives_its_sample(ex: LocalExecutor) -> None:
    marker = f"{time.time() % 1000:.6f}"
    solution = f"""
    import os, subprocess, time
    SLEEP = ["sleep", "{marker}"]
    def task_func():
        subprocess.Popen(SLEEP)                                       # new session (official guard)
        r, w = os.pipe()
        if os.fork() == 0:                                            # same process group
            os.execve("/bin/sleep", SLEEP, {{}})
        daemon = os.fork()
        if daemon == 0:                                               # double fork + setsid
            os.setsid()
            if os.fork() == 0:
                os.execve("/bin/sleep", SLEEP, {{}})
            os._exit(0)
        os.waitpid(daemon, 0)
        for _ in range(200):                                          # all three started
            running = [p for p in os.listdir("/proc") if p.isdigit() and open(f"/proc/{{p}}/cmdline", "rb").read().startswith(b"sleep\\x00{marker}\\x00")]
            if len(running) == 3:
                return True
            time.sleep(0.01)
        return len(running)
    """
    r = run_one(ex, solution, suite_of("def test_spawn(self):\n    self.assertIs(task_func(), True)\n"))
    assert (r.status, r.details) == ("pass", {}), r.details
    deadline = time.monotonic() + 0.5
    while marked_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marked_processes(marker) == []


def test_private_dirs_are_removed(ex: LocalExecutor, tmp_path: Path) -> None:
    out = tmp_path / "dirs.json"
    solution = f"""
    import json, os, tempfile
    def task_func():
        with open("here.txt", "w") as fh:
            fh.write("x")
        dirs = {{"cwd": os.getcwd(), "tmp": tempfile.gettempdir(), "home": os.path.expanduser("~"),
                 "mpl": os.environ["MPLCONFIGDIR"]}}
        with open({str(out)!r}, "w") as fh:
            json.dump(dirs, fh)
    """
    r = run_one(ex, solution, suite_of("def test_dirs(self):\n    task_func()\n"))
    assert r.status == "pass"
    dirs = json.loads(out.read_text())
    assert os.path.dirname(dirs["cwd"]) == dirs["tmp"]
    assert os.path.basename(dirs["cwd"]).startswith("tmp")
    # Only [a-z0-9_] below the system temp dir, like the official /tmp/tmpXXXXXXXX (task 1127's
    # test splits a path on "-").
    assert re.fullmatch(r"[a-z0-9_/]+", dirs["cwd"][len(tempfile.gettempdir()) :])
    for path in dirs.values():
        assert ex.work_dir is not None and path.startswith(str(ex.work_dir))
        assert not os.path.exists(path), path


def test_cancel_stops_running_samples_and_keeps_workers_warm(ex: LocalExecutor) -> None:
    """Setting a run's ``cancel`` kills its samples in flight within a second, through their
    zygotes (the workers stay, warm), gives those samples no result, and keeps what had finished."""
    marker = f"{time.time() % 1000 + 1000:.6f}"  # a number: sleep must accept it
    long = f"""
    import subprocess, time
    def task_func():
        subprocess.Popen(["sleep", "{marker}"])
        time.sleep(60)
    """
    test = suite_of("def test_x(self):\n    task_func()\n")
    quick = job(ADD, suite_of("def test_add(self):\n    self.assertEqual(task_func(1, 2), 3)\n"), key="quick")
    # Equal expected times keep this order: the quick one and one long one first, then the other long one.
    jobs = [quick, job(long, test, key="long1", time_limit=120), job(long, test, key="long2", time_limit=120)]
    zygotes = ex.worker_pids()
    cancel = threading.Event()
    results = ex.run(jobs, cancel=cancel)
    first = next(results)
    assert (first.key, first.status) == ("quick", "pass")
    deadline = time.monotonic() + 20
    while len(marked_processes(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(marked_processes(marker)) == 2  # both long samples are running
    cancel.set()
    t0 = time.monotonic()
    rest = list(results)
    assert time.monotonic() - t0 < 1.5
    assert rest == []
    assert wait_gone(marked_processes(marker), timeout=1.0) == []
    assert ex.worker_pids() == zygotes
    t1 = time.monotonic()
    again = run_one(ex, ADD, suite_of("def test_add(self):\n    self.assertEqual(task_func(2, 2), 4)\n"))
    assert again.status == "pass" and time.monotonic() - t1 < 5


def test_cancel_set_before_the_run_starts_nothing(ex: LocalExecutor) -> None:
    cancel = threading.Event()
    cancel.set()
    assert list(ex.run([job(ADD, suite_of("def test_x(self):\n    pass\n"))], cancel=cancel)) == []


def test_longest_expected_first(tmp_path: Path) -> None:
    test = suite_of("def test_x(self):\n    pass\n")
    expected = {"a": 0.1, "b": 5.0, "c": 1.0, "d": 3.0, "e": 0.0}
    jobs = [job("", test, key=k, expected_time=t) for k, t in expected.items()]
    # Quick by its ground truth, but it starts processes: planned at its whole limit, so first.
    jobs.append(job("import multiprocessing\n", test, key="pool", expected_time=0.01))
    seen: list[str] = []
    with LocalExecutor(workers=1, preload=()) as one:
        order = [r.key for r in one.run(jobs, on_result=lambda r: seen.append(r.key))]
    assert order == ["pool", "b", "d", "c", "a", "e"] == seen


@pytest.mark.slow
def test_killed_zygote_is_replaced_and_sample_rerun(tmp_path: Path) -> None:
    marks = tmp_path / "attempts"
    marker = f"bcbt{int(time.time() * 1000) % 10**9}"
    solution = f"""
    import ctypes, os, time
    def task_func():
        ctypes.CDLL(None).prctl(15, b"{marker}", 0, 0, 0)  # PR_SET_NAME: seen from outside its PID namespace
        with open({str(marks)!r}, "a") as fh:
            fh.write(f"{{os.getpid()}}\\n")
        time.sleep(2)
        return 42
    """
    test = suite_of(
        "def test_slow(self):\n    self.assertEqual(task_func(), 42)\ndef test_bad(self):\n    self.assertEqual(1, 2)\n"
    )
    with LocalExecutor(workers=1, sandbox=SandboxOptions(write_paths=[str(tmp_path)])) as one:
        (clean,) = one.run([job(solution, test, key="clean")])
        marks.unlink()
        (zygote,) = one.worker_pids()

        def kill_soon() -> None:
            deadline = time.monotonic() + 10
            while not marks.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            os.kill(zygote, signal.SIGKILL)

        killer = threading.Thread(target=kill_soon)
        killer.start()
        (rerun,) = one.run([job(solution, test, key="killed")])
        killer.join()
        assert one.worker_pids() and one.worker_pids()[0] != zygote
    assert not alive(zygote)
    assert (rerun.status, rerun.details.keys(), rerun.tests_run) == (
        clean.status,
        clean.details.keys(),
        clean.tests_run,
    )
    assert rerun.status == "fail" and list(rerun.details) == ["test_bad"]
    assert rerun.attempts == 2 and "worker died" in rerun.note
    assert len(marks.read_text().split()) == 2
    deadline = time.monotonic() + 2
    while marked_processes(marker, "comm") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marked_processes(marker, "comm") == []


@pytest.mark.slow
def test_sample_that_keeps_killing_its_worker_fails_after_three_tries() -> None:
    # Bypasses the official guard with libc's kill(): the worker dies on every attempt. Only
    # without the sandbox (whose Landlock signal scoping stops it: see test_sandbox.py).
    solution = """
    import ctypes, os, signal
    ctypes.CDLL(None).kill(os.getppid(), signal.SIGKILL)
    """
    with LocalExecutor(workers=1, preload=(), sandbox=SandboxOptions(enabled=False, unsafe=True)) as one:
        r = run_one(one, solution, suite_of("def test_x(self):\n    pass\n"))
        after = run_one(one, ADD, suite_of("def test_x(self):\n    self.assertEqual(task_func(1, 1), 2)\n"))
    assert r.status == "fail" and r.attempts == 3
    assert r.details["ALL"].startswith("worker died 3 times")
    assert (after.status, after.attempts) == ("pass", 1)


def test_preload_failures_are_tolerated() -> None:
    """A module that is missing is listed; a name imported from a module (``from json import
    dumps`` makes ``json.dumps`` a candidate) is not a module and is skipped without a word."""
    preload = ("json", "json.dumps", "json.decoder", "no_such_module_for_bcb", "no_such_module_for_bcb.sub")
    with LocalExecutor(workers=1, preload=preload) as one:
        report = one.preload_report["preload"]
        assert report["imported"] == ["json", "json.decoder"]
        assert set(report["failed"]) == {"no_such_module_for_bcb", "no_such_module_for_bcb.sub"}
        assert one.preload_report["threads"] == 1
        assert (
            run_one(one, ADD, suite_of("def test_x(self):\n    self.assertEqual(task_func(1, 1), 2)\n")).status
            == "pass"
        )


def test_workers_use_the_given_interpreter_by_absolute_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare name is looked up on PATH once and the workers get the absolute path. (PATH starts
    with this interpreter's directory: a user's PATH need not hold a ``python`` at all.)"""
    monkeypatch.setenv("PATH", os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    with LocalExecutor(python=os.path.basename(sys.executable), workers=1, preload=()) as one:
        assert os.path.isabs(one.python)
        assert one.python == shutil.which(os.path.basename(sys.executable))
        assert one.preload_report["executable"] == one.python


@pytest.mark.slow
def test_executor_killed_without_close_leaves_nothing(tmp_path: Path) -> None:
    # The parent dies abruptly (SIGKILL): its keepers see the lifeline close, kill their zygotes
    # and remove every directory.
    script = textwrap.dedent(
        f"""
        import json, os, signal, sys
        from bcb.execution import Job, LocalExecutor
        ex = LocalExecutor(workers=2, preload=(), work_dir={str(tmp_path)!r})
        ex.start()
        t = "import unittest\\nclass TestCases(unittest.TestCase):\\n    def test_x(self):\\n        pass\\n"
        r = list(ex.run([Job(key="a", task_id="t", solution="", test=t, time_limit=5)]))[0]
        print(json.dumps({{"status": r.status, "dir": str(ex.work_dir), "pids": ex.worker_pids()}}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == "pass"
    assert wait_gone(out["pids"], timeout=5) == []
    end = time.monotonic() + 5
    while os.path.exists(out["dir"]) and time.monotonic() < end:
        time.sleep(0.05)
    assert not os.path.exists(out["dir"])
    assert list(tmp_path.iterdir()) == []
