"""The hardening layers (``_sandbox.py``) against hostile samples: real worker processes, no mocks.

Each case checks the verdict, that the harness (parent, zygote) survived and stays usable, and that
nothing of the sample is left behind (processes, job cgroups, files outside its directory).
"""

from __future__ import annotations

import glob
import os
import socket
import textwrap
import threading
from pathlib import Path

import pytest

from bcb.execution import ExecutionResult, Job, LocalExecutor
from bcb.execution._sandbox import count_test_methods, own_cgroup_paths
from bcb.execution.sandbox import SandboxOptions

pytestmark = pytest.mark.timeout(180)

SECRET = "sk-sandbox-secret-value"
TASK_PY = "/work/venvs/task-env/bin/python"
PYTHON = TASK_PY if os.path.exists(TASK_PY) else None


def suite_of(body: str) -> str:
    return "import unittest\nclass TestCases(unittest.TestCase):\n" + textwrap.indent(textwrap.dedent(body), "    ")


CHECK3 = suite_of("def test_add(self):\n    self.assertEqual(task_func(1, 2), 3)\n")
ADD = "def task_func(a, b):\n    return a + b\n"


def run_one(ex: LocalExecutor, solution: str, test: str = CHECK3, time_limit: float = 10.0) -> ExecutionResult:
    (r,) = list(ex.run([Job(key="k", task_id="BigCodeBench/0", solution=textwrap.dedent(solution), test=test, time_limit=time_limit)]))
    return r


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def job_cgroups_of(ex: LocalExecutor) -> list[str]:
    """Job cgroups of this executor's zygotes still present (there must be none between runs)."""
    own = own_cgroup_paths()
    found = []
    for pid in ex.worker_pids():
        for kind, mount in (("unified", "/sys/fs/cgroup/unified"), ("memory", "/sys/fs/cgroup/memory"), ("pids", "/sys/fs/cgroup/pids")):
            if kind in own:
                found += glob.glob(os.path.join(mount + own[kind], f"bcb_{pid}_*"))
    return found


@pytest.fixture(scope="module")
def ex() -> LocalExecutor:
    old = os.environ.get("OPENAI_API_KEY")
    os.environ["OPENAI_API_KEY"] = SECRET
    try:
        kw = {"python": PYTHON} if PYTHON else {}
        executor = LocalExecutor(workers=1, preload=(), sandbox=SandboxOptions(memory_mb=512, pids_max=64), **kw)  # type: ignore[arg-type]
        executor.start()
    finally:
        if old is None:
            os.environ.pop("OPENAI_API_KEY", None)
        else:
            os.environ["OPENAI_API_KEY"] = old
    yield executor
    executor.close()


@pytest.fixture
def healthy(ex: LocalExecutor):  # type: ignore[no-untyped-def]
    """After the test: same zygote, an ordinary sample still passes, no job cgroup left."""
    before = ex.worker_pids()
    yield
    assert run_one(ex, ADD).status == "pass"
    assert ex.worker_pids() == before, "the zygote was replaced"
    assert job_cgroups_of(ex) == []


def need(ex: LocalExecutor, *layers: str) -> None:
    off = [name for name in layers if not ex.sandbox_report.get(name)]
    if off:
        pytest.skip(f"layer(s) not available on this machine: {off}")


# -- report and fail-closed -----------------------------------------------------------------------


def test_layers_are_probed_and_reported(ex: LocalExecutor) -> None:
    rep = ex.sandbox_report
    for key in ("cgroup_kill", "memory_cap", "pids_cap", "netns", "landlock", "seccomp", "tamper", "network_isolated", "process_cap", "wall_clock_kill"):
        assert isinstance(rep[key], bool), key
    assert rep["wall_clock_kill"] is True


def test_refuses_without_essential_layers_unless_unsafe() -> None:
    opts = SandboxOptions()
    assert opts.refusal({"enabled": False, "wall_clock_kill": True}) is not None
    assert SandboxOptions(unsafe=True).refusal({"enabled": False}) is None
    with pytest.raises(Exception, match="refusing to run untrusted code"):
        LocalExecutor(workers=1, preload=(), sandbox=SandboxOptions(enabled=False)).start()


def test_allow_network_is_recorded() -> None:
    with LocalExecutor(workers=1, preload=(), sandbox=SandboxOptions(allow_network=True)) as one:
        assert one.sandbox_report["allow_network"] is True and one.sandbox_report["network_isolated"] is False


# -- safety ---------------------------------------------------------------------------------------


def test_fork_bomb(ex: LocalExecutor, healthy: None) -> None:
    need(ex, "pids_cap")
    r = run_one(ex, "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n" + ADD, time_limit=2)
    assert r.status in ("fail", "timeout")


def test_memory_bomb(ex: LocalExecutor, healthy: None) -> None:
    need(ex, "memory_cap")
    r = run_one(ex, "def task_func(a, b):\n    hog = []\n    while True:\n        hog.append(bytearray(16 << 20))\n", time_limit=10)
    assert r.status in ("fail", "timeout")


def test_loop_ignoring_sigterm_and_sigalrm(ex: LocalExecutor, healthy: None) -> None:
    solution = "import signal\ndef task_func(a, b):\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n        pass\n"
    r = run_one(ex, solution, time_limit=1)
    assert r.status == "timeout"


def test_kill_parent_is_contained(ex: LocalExecutor, healthy: None) -> None:
    need(ex, "landlock_scope")
    r = run_one(ex, "import ctypes, os\nctypes.CDLL(None).kill(os.getppid(), 9)\n" + ADD)
    assert r.status == "pass" and r.attempts == 1


def test_killpg_own_group_is_a_timeout(ex: LocalExecutor, healthy: None) -> None:
    r = run_one(ex, "import ctypes\nctypes.CDLL(None).killpg(0, 9)\n" + ADD)
    assert r.status == "timeout" and r.attempts == 1


def test_setsid_daemon_is_killed(ex: LocalExecutor, healthy: None) -> None:
    solution = """
    import os, time
    def task_func(a, b):
        r, w = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(120)
                os._exit(0)
            os._exit(0)
        os.wait()
        raise RuntimeError(f"pid={os.getpid()}")
    """
    r = run_one(ex, solution)
    assert r.status == "fail"
    # every process of the sample's cgroup is gone when the result arrives
    assert "pid=" in r.details["test_add"]
    assert "process(es) the sample left behind" in r.note or ex.sandbox_report.get("cgroup_kill")


def test_files_outside_are_read_only(ex: LocalExecutor, healthy: None, tmp_path: Path) -> None:
    need(ex, "landlock")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    solution = f"""
    import os
    def task_func(a, b):
        errors = []
        for action in (lambda: os.remove({str(victim)!r}), lambda: open({str(victim)!r}, "w").write("x"),
                       lambda: open({str(tmp_path / "new.txt")!r}, "w"), lambda: open("/etc/bcb_evil", "w")):
            try:
                action()
            except OSError as exc:
                errors.append(exc.errno)
        with open("inside.txt", "w") as fh:  # its own directory stays writable
            fh.write("ok")
        return a + b if len(errors) == 4 else -1
    """
    assert run_one(ex, solution).status == "pass"
    assert victim.read_text() == "keep me" and not (tmp_path / "new.txt").exists() and not os.path.exists("/etc/bcb_evil")


def test_harness_files_are_not_writable(ex: LocalExecutor, healthy: None) -> None:
    need(ex, "landlock")
    assert ex.work_dir is not None
    log = ex.work_dir / "worker-0.log"
    before = log.read_bytes() if log.exists() else None
    solution = f"""
    def task_func(a, b):
        try:
            open({str(log)!r}, "a").write("forged")
        except OSError:
            return a + b
    """
    assert run_one(ex, solution).status == "pass"
    assert (log.read_bytes() if log.exists() else None) == before


@pytest.mark.parametrize("kind", ["tcp", "udp"])
def test_no_network_to_loopback_listener(ex: LocalExecutor, healthy: None, kind: str) -> None:
    need(ex, "network_isolated")
    got: list[bytes] = []
    if kind == "tcp":
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.bind(("127.0.0.1", 0))
        srv.listen(5)
        srv.settimeout(3)
    else:
        srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        srv.bind(("127.0.0.1", 0))
        srv.settimeout(3)
    port = srv.getsockname()[1]

    def serve() -> None:
        try:
            if kind == "tcp":
                conn, _ = srv.accept()
                got.append(conn.recv(100))
            else:
                got.append(srv.recv(100))
        except OSError:
            pass

    t = threading.Thread(target=serve)
    t.start()
    solution = f"""
    import socket
    def task_func(a, b):
        if {kind!r} == "tcp":
            socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"leak")
        else:
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"leak", ("127.0.0.1", {port}))
        return a + b
    """
    r = run_one(ex, solution)
    t.join()
    srv.close()
    assert got == []
    if kind == "tcp":
        assert r.status == "fail"


def test_secrets_do_not_leak(ex: LocalExecutor, healthy: None, tmp_path: Path) -> None:
    need(ex, "landlock")
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET)
    secret_file.chmod(0o600)
    solution = f"""
    import os
    def task_func(a, b):
        found = [os.environ.get("OPENAI_API_KEY", "")]
        for path in ({str(secret_file)!r}, f"/proc/{{os.getppid()}}/environ", "/proc/1/environ", "/root/.bash_history"):
            try:
                found.append(open(path, "rb").read().decode("latin-1"))
            except OSError as exc:
                found.append(repr(exc))
        raise AssertionError(" | ".join(found))
    """
    r = run_one(ex, solution)
    assert r.status == "fail"
    assert SECRET not in r.details["test_add"]


# -- tamper evidence ------------------------------------------------------------------------------

WRONG = "def task_func(a, b):\n    return 0\n"

TAMPERS = {
    "add_failure": "import unittest\nunittest.TestResult.addFailure = lambda *a, **k: None\nunittest.TestResult.addError = lambda *a, **k: None\n",
    "noop_asserts": "import unittest\nfor _n in dir(unittest.TestCase):\n    if _n.startswith('assert'):\n        setattr(unittest.TestCase, _n, lambda *a, **k: None)\n",
    "loader": "import unittest\nclass _L(unittest.TestLoader):\n    def loadTestsFromTestCase(self, c):\n        return unittest.TestSuite()\nunittest.TestLoader = _L\n",
    "fake_unittest": "import sys, types\n_m = types.ModuleType('unittest')\nclass _TC:\n    def __init__(self, *a): pass\n    def __call__(self, *a, **k): pass\n_m.TestCase = _TC\nsys.modules['unittest'] = _m\n",
    "build_class": (
        "import builtins, unittest\n_real = builtins.__build_class__\n"
        "def _bc(func, name, *bases, **kw):\n    if name == 'TestCases':\n        return _real(lambda: None, name, unittest.TestCase)\n    return _real(func, name, *bases, **kw)\n"
        "builtins.__build_class__ = _bc\n"
    ),
    "garbage_fds": "import os\nfor _fd in range(3, 65536):\n    try:\n        os.write(_fd, b'\\x00\\x00\\x00\\x10{\"kind\":\"result\"}' * 4)\n    except OSError:\n        pass\n",
}


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_tampering_never_passes_a_wrong_solution(ex: LocalExecutor, healthy: None, name: str) -> None:
    r = run_one(ex, TAMPERS[name] + WRONG)
    assert r.status != "pass", r


def test_tamper_is_reported_as_such(ex: LocalExecutor) -> None:
    r = run_one(ex, TAMPERS["add_failure"] + WRONG)
    assert r.status == "fail" and "TAMPER" in r.details


def test_count_test_methods() -> None:
    src = suite_of("def test_a(self):\n    pass\ndef test_b(self):\n    pass\ndef helper(self):\n    pass\n")
    assert count_test_methods(src) == 2
    base = "import unittest\nclass Base(unittest.TestCase):\n    def test_base(self):\n        pass\nclass TestCases(Base):\n    def test_a(self):\n        pass\n    def test_base(self):\n        pass\n"
    assert count_test_methods(base) == 2
    assert count_test_methods("import unittest, x\nclass TestCases(x.Mixin, unittest.TestCase):\n    def test_a(self):\n        pass\n") is None
    assert count_test_methods("def f(:\n") is None


def test_each_sample_gets_a_private_writable_tmp() -> None:
    """Samples may write hard-coded /tmp paths, as the official evaluator allows; with the work
    directory outside /tmp each sample gets its own empty /tmp and the host's is untouched."""
    import sys

    if os.path.realpath(sys.prefix).startswith("/tmp/"):
        pytest.skip("the interpreter lives under /tmp, so bcb keeps the host's /tmp visible (a private one would hide it)")
    marker = f"/tmp/bcb-private-tmp-{os.getpid()}.txt"
    test = f'''
import os, unittest
class TestCases(unittest.TestCase):
    def test_write_tmp(self):
        with open({marker!r}, "w") as fh:
            fh.write("x")
        self.assertEqual(open({marker!r}).read(), "x")
    def test_tmp_starts_empty(self):
        self.assertEqual([n for n in os.listdir("/tmp") if n != os.path.basename({marker!r})], [])
    def test_outside_still_read_only(self):
        with self.assertRaises(OSError):
            open("/var/tmp/bcb-escape-{os.getpid()}.txt", "w")
'''
    with LocalExecutor(workers=1, preload=[]) as executor:
        executor.start()
        if not executor.sandbox_report.get("private_shm") or not executor.sandbox_report.get("landlock"):
            pytest.skip("this machine lacks mount namespaces or Landlock")
        (result,) = list(executor.run([Job("tmp", "t", "x = 1\n", test, 30)]))
    assert (result.status, result.details) == ("pass", {})
    assert not os.path.exists(marker)
