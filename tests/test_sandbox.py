"""The hardening layers (``_sandbox.py``) against hostile samples: real worker processes, no mocks.

Each case checks the verdict, that the harness (parent, zygote) survived and stays usable, and that
nothing of the sample is left behind (processes, job cgroups, files outside its directory).
"""

from __future__ import annotations

import ast
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest

from bcb.execution import ExecutionResult, Job, LocalExecutor
from bcb.execution._sandbox import count_test_methods, own_cgroup_paths
from bcb.execution.sandbox import (
    DEFAULT_DISK_MB,
    DEFAULT_MEMORY_MB,
    SandboxOptions,
    sandbox_summary,
)
from helpers import SHARED_DATA, TASK_PYTHON, run_bcb, shared_file

pytestmark = pytest.mark.timeout(180)

SECRET = "sk-sandbox-secret-value"
DISK_MB = 64
PYTHON = str(TASK_PYTHON) if TASK_PYTHON.exists() else None


def suite_of(body: str) -> str:
    return "import unittest\nclass TestCases(unittest.TestCase):\n" + textwrap.indent(textwrap.dedent(body), "    ")


CHECK3 = suite_of("def test_add(self):\n    self.assertEqual(task_func(1, 2), 3)\n")
ADD = "def task_func(a, b):\n    return a + b\n"


def run_one(ex: LocalExecutor, solution: str, test: str = CHECK3, time_limit: float = 10.0) -> ExecutionResult:
    (r,) = list(
        ex.run(
            [
                Job(
                    key="k",
                    task_id="BigCodeBench/0",
                    solution=textwrap.dedent(solution),
                    test=test,
                    time_limit=time_limit,
                )
            ]
        )
    )
    return r


def job_cgroups_of(ex: LocalExecutor) -> list[str]:
    """Job cgroups of this executor's zygotes still present (there must be none between runs)."""
    own = own_cgroup_paths()
    found = []
    for pid in ex.worker_pids():
        for kind, mount in (
            ("unified", "/sys/fs/cgroup/unified"),
            ("memory", "/sys/fs/cgroup/memory"),
            ("pids", "/sys/fs/cgroup/pids"),
        ):
            if kind in own:
                found += glob.glob(os.path.join(mount + own[kind], f"bcb_{pid}_*"))
    return found


@pytest.fixture(scope="module")
def ex() -> LocalExecutor:
    old = os.environ.get("OPENAI_API_KEY")
    os.environ["OPENAI_API_KEY"] = SECRET
    try:
        kw = {"python": PYTHON} if PYTHON else {}
        executor = LocalExecutor(
            workers=1, preload=(), sandbox=SandboxOptions(memory_mb=512, pids_max=64, disk_mb=DISK_MB), **kw
        )  # type: ignore[arg-type]
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
    for key in (
        "cgroup_kill",
        "memory_cap",
        "pids_cap",
        "netns",
        "landlock",
        "seccomp",
        "tamper",
        "network_isolated",
        "process_cap",
        "wall_clock_kill",
    ):
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


def test_sample_code_starts_inside_its_job_cgroups(ex: LocalExecutor, healthy: None) -> None:
    # The zygote moves the child into its job cgroups while the child sets itself up: the
    # sample's first statement must already find itself in each of them.
    kinds = [
        kind
        for kind, layer in (("", "cgroup_kill"), ("memory", "memory_cap"), ("pids", "pids_cap"))
        if ex.sandbox_report.get(layer)
    ]
    if not kinds:
        pytest.skip("no job cgroup layer on this machine")
    solution = "FIRST = [line.split(':', 2) for line in open('/proc/self/cgroup').read().splitlines()]\n" + ADD
    test = suite_of(
        f"def test_in_job_cgroups(self):\n"
        f"    for kind in {kinds!r}:\n"
        f"        paths = [p for _h, ctrls, p in FIRST if (kind in ctrls.split(',') if kind else _h == '0')]\n"
        f"        self.assertTrue(paths and '/bcb_' in paths[0], (kind, FIRST))\n"
    )
    r = run_one(ex, solution, test)
    assert r.status == "pass", r.details


def test_fork_bomb(ex: LocalExecutor, healthy: None) -> None:
    need(ex, "pids_cap")
    r = run_one(
        ex,
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n" + ADD,
        time_limit=2,
    )
    assert r.status in ("fail", "timeout")


def test_memory_bomb(ex: LocalExecutor, healthy: None) -> None:
    need(ex, "memory_cap")
    r = run_one(
        ex,
        "def task_func(a, b):\n    hog = []\n    while True:\n        hog.append(bytearray(16 << 20))\n",
        time_limit=10,
    )
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


def _processes_named(comm: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as fh:
                if fh.read().strip() == comm:
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_setsid_daemon_is_killed(ex: LocalExecutor, healthy: None) -> None:
    # The daemon names itself uniquely, so this machine's /proc tells whether it outlived the
    # sample (whatever kills it: cgroup.kill, the PID namespace, the subreaper's sweep).
    name = f"bcbd{os.getpid() % 10**5}{time.monotonic_ns() % 10**5:05d}"[:15]
    solution = f"""
    import ctypes, os, time
    def running():
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if open(f"/proc/{{pid}}/comm").read().strip() == {name!r}:
                    return True
            except OSError:
                pass
        return False
    def task_func(a, b):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                ctypes.CDLL(None).prctl(15, {name.encode()!r}, 0, 0, 0)  # PR_SET_NAME
                time.sleep(120)
                os._exit(0)
            os._exit(0)
        os.wait()
        deadline = time.monotonic() + 5
        while not running() and time.monotonic() < deadline:
            time.sleep(0.01)
        raise RuntimeError(f"daemon running={{running()}}")
    """
    r = run_one(ex, solution)
    assert r.status == "fail"
    assert "daemon running=True" in r.details["test_add"], r.details
    # every process of the sample is gone when the result arrives
    assert _processes_named(name) == []


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
    assert (
        victim.read_text() == "keep me" and not (tmp_path / "new.txt").exists() and not os.path.exists("/etc/bcb_evil")
    )


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
    "garbage_fds": 'import os\nfor _fd in range(3, 65536):\n    try:\n        os.write(_fd, b\'\\x00\\x00\\x00\\x10{"kind":"result"}\' * 4)\n    except OSError:\n        pass\n',
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
    assert (
        count_test_methods(
            "import unittest, x\nclass TestCases(x.Mixin, unittest.TestCase):\n    def test_a(self):\n        pass\n"
        )
        is None
    )
    assert count_test_methods("def f(:\n") is None


PRIVATE_TMP_TEST = """
import os, sys, unittest
MARKER = {marker!r}
class TestCases(unittest.TestCase):
    def test_write_tmp(self):
        with open(MARKER, "w") as fh:
            fh.write("x")
        self.assertEqual(open(MARKER).read(), "x")
    def test_tmp_holds_only_what_bcb_bound(self):
        # Nothing of the host's /tmp, except the directories leading to paths bcb must keep.
        allowed = {{p.split("/")[2] for p in (os.path.realpath(sys.prefix), os.path.realpath(os.getcwd())) if p.startswith("/tmp/")}}
        self.assertEqual(sorted(n for n in os.listdir("/tmp") if n not in allowed | {{os.path.basename(MARKER)}}), [])
    def test_interpreter_is_read_only(self):
        with self.assertRaises(OSError):
            open(os.path.join(sys.prefix, "bcb-escape.txt"), "w")
    def test_outside_still_read_only(self):
        with self.assertRaises(OSError):
            open("/var/tmp/bcb-escape-{pid}.txt", "w")
"""


def _private_tmp_case(python: str | None) -> None:
    marker = f"/tmp/bcb-private-tmp-{os.getpid()}.txt"
    test = PRIVATE_TMP_TEST.format(marker=marker, pid=os.getpid())
    kw = {"python": python} if python else {}
    with LocalExecutor(workers=1, preload=[], **kw) as executor:  # type: ignore[arg-type]
        executor.start()
        if not executor.sandbox_report.get("private_tmp") or not executor.sandbox_report.get("landlock"):
            pytest.skip(f"tier {executor.sandbox_report.get('tier')}: no mount namespace or Landlock here")
        (result,) = list(executor.run([Job("tmp", "t", "x = 1\n", test, 30)]))
    assert (result.status, result.details) == ("pass", {})
    assert not os.path.exists(marker)
    assert not os.path.exists(
        os.path.join(sys.prefix if python is None else os.path.dirname(os.path.dirname(python)), "bcb-escape.txt")
    )


def test_each_sample_gets_a_private_writable_tmp() -> None:
    """Samples may write hard-coded /tmp paths, as the official evaluator allows: each sample gets
    its own empty /tmp and the host's is untouched."""
    _private_tmp_case(None)


def test_private_tmp_with_the_interpreter_under_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A venv under /tmp (common in CI and on clusters) is bound back into the private /tmp,
    read-only: task 30's ground truth writes /tmp/test_data.json and must still pass."""
    base = Path(tempfile.mkdtemp(prefix="bcbvenv", dir="/tmp"))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(base / "venv")], check=True, timeout=120)
        _private_tmp_case(str(base / "venv" / "bin" / "python"))
    finally:
        shutil.rmtree(base)


# -- os.kill(-1, 9), inside a private PID namespace --------------------------------------------------

KILL_ALL_DRIVER = """
import glob, json, os, sys, textwrap
from bcb.execution import Job, LocalExecutor
from bcb.execution._sandbox import own_cgroup_paths
from bcb.execution.sandbox import SandboxOptions

test = "import unittest\\nclass TestCases(unittest.TestCase):\\n    def test_add(self):\\n        self.assertEqual(task_func(1, 2), 3)\\n"
kill_all = "import ctypes\\nctypes.CDLL(None).kill(-1, 9)\\ndef task_func(a, b):\\n    return a + b\\n"
add = "def task_func(a, b):\\n    return a + b\\n"
out = {"pid": os.getpid()}
disable = tuple(filter(None, sys.argv[2].split(",")))
ex = LocalExecutor(python=sys.argv[1], workers=1, preload=(), sandbox=SandboxOptions(pids_max=64, disable_layers=disable))
ex.start()
out["report"] = ex.sandbox_report
before = ex.worker_pids()
(r,) = list(ex.run([Job("kill", "t", kill_all, test, 10)]))
out["kill"] = [r.status, r.attempts, r.details]
(r,) = list(ex.run([Job("after", "t", add, test, 10)]))
out["after"] = [r.status, r.attempts]
out["same_zygote"] = ex.worker_pids() == before
own = own_cgroup_paths()
ex.close()
left = []
for kind in ("unified", "memory", "pids"):
    if kind in own:
        for pid in before:
            left += glob.glob(f"/sys/fs/cgroup/{kind}{own[kind]}/bcb_{pid}_*")
        left += glob.glob(f"/sys/fs/cgroup/{kind}{own[kind]}/bcb_{os.getpid()}_*")
out["cgroups_left"] = left
out["processes_left"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid())
print("RESULT " + json.dumps(out))
"""


@pytest.mark.parametrize("disable", ["", "landlock_scope", "pidns,landlock_scope"])
def test_kill_all_processes_inside_a_private_pid_namespace(tmp_path: Path, disable: str) -> None:
    """``os.kill(-1, 9)`` signals every process the sample may signal: run the whole harness in a
    private PID namespace, so that even a failure of the sandbox cannot hurt this machine. Whatever
    layer is turned off, the zygote is out of the sample's reach (Landlock's signal scope, the
    sample's PID namespace, or the zygote being its worker namespace's init), so the sample passes,
    on its first attempt, and the same zygote runs the next one."""
    unshare = shutil.which("unshare")
    if unshare is None or PYTHON is None:
        pytest.skip("needs unshare(1) and the task environment")
    driver = tmp_path / "driver.py"
    driver.write_text(KILL_ALL_DRIVER)
    proc = subprocess.run(
        [unshare, "--pid", "--fork", "--mount-proc", sys.executable, str(driver), PYTHON, disable],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 and not lines and "unshare failed" in proc.stderr:
        pytest.skip(f"no private PID namespace here: {proc.stderr.strip()}")
    assert lines, proc.stderr[-3000:]
    out = json.loads(lines[0][len("RESULT ") :])
    assert out["pid"] == 1  # the driver really was the namespace's init
    for layer in filter(None, disable.split(",")):
        assert out["report"][layer] is False
    assert out["kill"][:2] == ["pass", 1], out
    assert out["same_zygote"] is True and out["after"] == ["pass", 1]
    assert out["cgroups_left"] == [] and out["processes_left"] == []


# -- disk filling ------------------------------------------------------------------------------------


def test_filling_the_disk_is_enospc_and_leaves_the_host_disk_alone(ex: LocalExecutor, healthy: None) -> None:
    need(ex, "disk_cap")
    assert ex.sandbox_report["disk_mb"] == DISK_MB and ex.work_dir is not None
    free_before = shutil.disk_usage(ex.work_dir).free
    test = suite_of(f"""
def test_cwd(self):
    self.assertEqual(task_func(".", 2 * {DISK_MB}), 0)
def test_tmp(self):
    self.assertEqual(task_func("/tmp", 2 * {DISK_MB}), 0)
def test_room_for_real_files(self):
    self.assertEqual(task_func(".", {DISK_MB} // 2), 0)
""")
    solution = """
    import errno, os
    def task_func(where, mb):
        chunk = b"x" * (1 << 20)
        path = os.path.join(where, "fill.bin")
        try:
            with open(path, "wb") as fh:
                for _ in range(mb):
                    fh.write(chunk)
        finally:
            if os.path.exists(path):
                os.remove(path)
        return 0
    """
    r = run_one(ex, solution, test=test, time_limit=30)
    assert r.status == "fail"
    assert set(r.details) == {"test_cwd", "test_tmp"}, r.details
    assert all("No space left on device" in trace for trace in r.details.values())
    # Nothing reached the host's disk (tolerance: other processes of this machine write too).
    assert shutil.disk_usage(ex.work_dir).free > free_before - (DISK_MB << 20) // 2


def test_default_disk_cap_is_generous() -> None:
    assert SandboxOptions().to_wire(1)["disk_mb"] == DEFAULT_DISK_MB >= 512


# -- the memory cap does not depend on the worker count -------------------------------------------------


def test_memory_key_is_the_same_for_any_worker_count() -> None:
    kw = {"python": PYTHON} if PYTHON else {}
    summaries = []
    for workers in (1, 2):
        with LocalExecutor(workers=workers, preload=(), **kw) as one:  # type: ignore[arg-type]
            one.start()
            summaries.append(sandbox_summary(one.sandbox_report))
            if one.sandbox_report.get("executor_memory_cap"):
                assert one.sandbox_report["memory_mb"] == DEFAULT_MEMORY_MB
                assert one.sandbox_report["executor_memory_mb"] > 0
    assert summaries[0] == summaries[1]


def test_simultaneous_memory_bombs_share_the_executor_cap() -> None:
    """Two workers, each sample allowed the default (official) 30 GiB, the executor 768 MiB in
    all: both bombs end as fail/timeout, the zygotes survive, the executor cgroup goes at close."""
    kw = {"python": PYTHON} if PYTHON else {}
    bomb = "def task_func(a, b):\n    hog = []\n    while True:\n        hog.append(bytearray(16 << 20))\n"
    executor = LocalExecutor(workers=2, preload=(), sandbox=SandboxOptions(executor_memory_mb=768), **kw)  # type: ignore[arg-type]
    try:
        executor.start()
        if not executor.sandbox_report.get("executor_memory_cap"):
            pytest.skip("no v1 memory cgroup for the executor on this machine")
        cgroup = executor._cgroup.path  # type: ignore[union-attr]
        assert executor.sandbox_report["executor_memory_mb"] == 768
        before = sorted(executor.worker_pids())
        jobs = [Job(key=f"b{i}", task_id="BigCodeBench/0", solution=bomb, test=CHECK3, time_limit=20) for i in range(2)]
        results = list(executor.run(jobs))
        assert sorted(r.status for r in results) in (["fail", "fail"], ["fail", "timeout"], ["timeout", "timeout"])
        assert sorted(executor.worker_pids()) == before
        assert all(
            r.status == "pass"
            for r in executor.run(
                [Job(key=f"a{i}", task_id="t", solution=ADD, test=CHECK3, time_limit=10) for i in range(2)]
            )
        )
        assert os.path.isdir(cgroup)
    finally:
        executor.close()
    assert not os.path.exists(cgroup)


# -- fail-closed and the manifest at the CLI ----------------------------------------------------------


def test_cli_refuses_without_an_essential_layer_unless_unsafe_and_records_the_choices(tmp_path: Path) -> None:
    from bcb.dataset import load_dataset
    from bcb.evaluation.results import read_eval_results, result_paths

    task = load_dataset("bcb-mini").tasks[0]
    samples = tmp_path / "one.jsonl"
    samples.write_text(json.dumps({"task_id": task.task_id, "solution": task.solution}) + "\n")
    base = (
        "evaluate",
        "--dataset",
        "bcb-mini",
        "--samples",
        str(samples),
        "--allow-partial",
        "--no-gt",
        "--parallel",
        "1",
        "--root",
        str(tmp_path / "root"),
        "--timeout",
        "30",
    )
    # Both layers that can give a process cap (the pids cgroup for root, RLIMIT_NPROC for a user).
    no_cap = ("--disable-sandbox-layer", "pids_cap", "--disable-sandbox-layer", "nproc_cap")
    refused = run_bcb(*base, *no_cap, cwd=tmp_path)
    assert refused.returncode != 0 and "refusing to run untrusted code without a process cap" in refused.stderr, (
        refused.stderr[-2000:]
    )
    assert not result_paths(samples)[0].exists()
    assert (
        "unknown --disable-sandbox-layer" in run_bcb(*base, "--disable-sandbox-layer", "nonsense", cwd=tmp_path).stderr
    )

    ran = run_bcb(*base, *no_cap, "--unsafe", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr[-2000:]
    sandbox = read_eval_results(result_paths(samples)[0]).bcb["manifest"]["environment"]["sandbox"]
    assert (
        sandbox["unsafe"] is True
        and sandbox["pids_cap"] is False
        and sandbox["nproc_cap"] is False
        and sandbox["allow_network"] is False
    )
    assert sandbox["guarantees"]["process_cap"] is False and sandbox["tier"] in ("root", "rootless", "no_namespaces")

    networked = run_bcb(*base, "--allow-network", "--overwrite-results", cwd=tmp_path)
    assert networked.returncode == 0, networked.stderr[-2000:]
    sandbox = read_eval_results(result_paths(samples)[0]).bcb["manifest"]["environment"]["sandbox"]
    assert sandbox["allow_network"] is True and sandbox["network_isolated"] is False and sandbox["unsafe"] is False


# -- always-equal return values ------------------------------------------------------------------------


def test_always_equal_return_value_is_a_tamper(ex: LocalExecutor, healthy: None) -> None:
    hostile = {
        "class": "class E:\n    def __eq__(self, o):\n        return True\ndef task_func(a, b):\n    return E()\n",
        "int_subclass": "class E(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\ndef task_func(a, b):\n    return E(0)\n",
        "patched_later": "class E:\n    pass\nE.__eq__ = lambda self, o: True\ndef task_func(a, b):\n    return E()\n",
        "made_in_the_call": "def task_func(a, b):\n    return type('E', (), {'__eq__': lambda s, o: True})()\n",
        "in_a_list": "class E:\n    def __eq__(self, o):\n        return True\ndef task_func(a, b):\n    return [E(), E()]\n",
    }
    for name, solution in hostile.items():
        expected = "[3, 3]" if name == "in_a_list" else "3"
        test = suite_of(
            f"def test_add(self):\n    self.assertEqual(task_func(1, 2), {expected})\ndef test_by_hand(self):\n    self.assertTrue(task_func(1, 2) == {expected})\n"
        )
        r = run_one(ex, solution, test=test)
        assert r.status == "fail" and "TAMPER" in r.details, (name, r)


def test_legitimate_classes_and_recursion_are_not_flagged(ex: LocalExecutor, healthy: None) -> None:
    legit = {
        "own_class_no_eq": "class Res:\n    def __init__(self, v):\n        self.v = v\ndef task_func(a, b):\n    return Res(a + b).v\n",
        "returns_own_class": "class Res:\n    pass\ndef task_func(a, b):\n    r = Res()\n    return r if a < 0 else a + b\n",
        "dataclass": (
            "import sys, types\nsys.modules.setdefault('__test__', types.ModuleType('__test__'))\n"
            "from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\ndef task_func(a, b):\n    return {'p': P(a + b), 'v': a + b}['v']\n"
        ),
        "deep_recursion": "def task_func(a, b, depth=0):\n    return a + b if depth >= 950 else task_func(a, b, depth + 1)\n",
        "library_class": "import collections\ndef task_func(a, b):\n    return collections.Counter({'x': a + b})['x']\n",
    }
    for name, solution in legit.items():
        r = run_one(ex, solution)
        assert (r.status, r.details) == ("pass", {}), (name, r)
    # Ground truths return mocks when their tests patch what the function builds (task 128):
    # unittest.mock gives each MagicMock its own class with a MagicProxy __eq__.
    mock = "from unittest.mock import MagicMock\ndef task_func(a, b):\n    m = MagicMock()\n    m.total = a + b\n    return [m]\n"
    r = run_one(ex, mock, test=suite_of("def test_total(self):\n    self.assertEqual(task_func(1, 2)[0].total, 3)\n"))
    assert (r.status, r.details) == ("pass", {}), r
    # ... also while the test has patched os.path, which the check must not rely on (task 211).
    patched = "import unittest.mock\ndef test_patched(self):\n    with unittest.mock.patch('os.path.join'), unittest.mock.patch('os.path.realpath'):\n        self.assertEqual(task_func(1, 2)[0].total, 3)\n"
    r = run_one(ex, mock, test=suite_of(patched))
    assert (r.status, r.details) == ("pass", {}), r
    # Library classes whose comparison comes from a frozen stdlib module (ConfigParser inherits
    # Mapping.__eq__ from <frozen _collections_abc>: task 717).
    config = "import configparser\ndef task_func(a, b):\n    c = configparser.ConfigParser()\n    c['x'] = {'v': str(a + b)}\n    return c\n"
    r = run_one(ex, config, test=suite_of("def test_v(self):\n    self.assertEqual(task_func(1, 2)['x']['v'], '3')\n"))
    assert (r.status, r.details) == ("pass", {}), r


def test_ground_truths_that_define_classes_are_not_flagged() -> None:
    """Every v0.1.4 task whose canonical solution defines a class (found by AST), run with the task
    environment: the entry-point check flags none of them."""
    if PYTHON is None:
        pytest.skip("needs the task environment")
    shared_file("BigCodeBench-v0.1.4.jsonl.gz")
    from bcb.dataset import load_dataset

    def defines_class(source: str) -> bool:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return any(isinstance(n, ast.ClassDef) for n in ast.walk(ast.parse(source)))

    tasks = [t for t in load_dataset(data_dir=SHARED_DATA, version="v0.1.4").tasks if defines_class(t.solution)]
    assert len(tasks) >= 5
    from bcb.execution.preload import preload_modules, program_modules

    preload = preload_modules((program_modules(t) for t in tasks), min_uses=1)
    with LocalExecutor(python=PYTHON, workers=1, preload=preload) as executor:
        executor.start()
        results = list(
            executor.run(
                [Job(key=t.task_id, task_id=t.task_id, solution=t.solution, test=t.test, time_limit=60) for t in tasks]
            )
        )
    flagged = {r.key: r.details for r in results if "TAMPER" in r.details}
    assert flagged == {}
    assert {r.key: r.status for r in results if r.status != "pass"} == {}


def test_stale_cgroups_of_dead_processes_are_swept() -> None:
    """A keeper killed together with its zygote leaves its job cgroups; the next executor's
    zygotes remove the empty ones whose process is gone, and never one of a live process."""
    from bcb.execution._sandbox import cgroup_dir, sweep_stale_cgroups

    base = cgroup_dir("pids", own_cgroup_paths())
    if base is None or not os.access(base, os.W_OK):
        pytest.skip("no writable pids cgroup hierarchy here")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale, live = os.path.join(base, f"bcb_{gone.pid}_swept"), os.path.join(base, f"bcb_{os.getpid()}_kept")
    os.mkdir(stale)
    os.mkdir(live)
    try:
        sweep_stale_cgroups(min_age_s=3600)
        assert os.path.isdir(stale)  # too young to be swept: it may be a cgroup being set up
        sweep_stale_cgroups(min_age_s=0)
        assert not os.path.exists(stale) and os.path.isdir(live)
    finally:
        for d in (stale, live):
            if os.path.isdir(d):
                os.rmdir(d)
