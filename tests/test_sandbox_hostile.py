"""Hostile samples through a real :class:`LocalExecutor`, with assertions that hold in every tier.

The same file runs as root, as a normal user, and as that user inside a no-namespaces confinement
(``.ci/sandbox-tiers``). Each case attacks the machine the way a malicious sample would and then
checks the *effect* on the host (a listener that must receive nothing, files that must not change,
a marker a daemon would keep growing, a secret that must not come back), never only the sample's
own account of it. After each case the harness is alive, its zygote was not replaced, no process
of the sample is left, and an ordinary sample still passes.

A case is skipped only where the tier (``sandbox_report["tier"]``) genuinely cannot give the
property, and says why. An executor that refuses to start is a failure of every case, with the
refusal as the message: that is what a user of this tier would see.

``BCB_TASK_PYTHON`` names the task environment's interpreter (default: this interpreter).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pwd
import selectors
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bcb.execution import ExecutionResult, Job, LocalExecutor
from bcb.execution.sandbox import SandboxOptions
from helpers import alive

pytestmark = pytest.mark.timeout(300)

REPO = Path(__file__).resolve().parents[1]
PYTHON = os.environ.get("BCB_TASK_PYTHON") or sys.executable
#: Put where a user keeps secrets (the parent's environment, a host process's argv, 0600 files):
#: none may ever appear in a result.
ENV_SECRET = "sk-hostile-env-5d1b0c"
ARGV_SECRET = "sk-hostile-argv-77e2aa"
FILE_SECRET = "sk-hostile-file-3f9e41"
MEMORY_MB = 512
PIDS_MAX = 64
DISK_MB = 64
TAG = f"bcb-hostile-{os.getpid()}"

ADD = "def task_func(a, b):\n    return a + b\n"
CHECK3 = "import unittest\nclass TestCases(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(task_func(1, 2), 3)\n"


def sample(source: str) -> str:
    return textwrap.dedent(source).lstrip("\n")


# -- the machine seen from outside the sandbox --------------------------------------------------


def _ppid_map() -> dict[int, int]:
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                out[int(name)] = int(fields[1])
    return out


def descendants(roots: list[int]) -> set[int]:
    """Live (non-zombie) processes below ``roots``."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _ppid_map().items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def real_home() -> Path:
    """The user's real home (where their keys are), not a directory the test made up: a sandbox
    that hid only a fake HOME, or only /tmp, would pass a test that used one."""
    return Path(pwd.getpwuid(os.getuid()).pw_dir)


@dataclass
class Planted:
    """Files and directories this module created on the host, removed by exact path."""

    files: list[Path] = field(default_factory=list)
    dirs: list[Path] = field(default_factory=list)

    def file(self, path: Path, text: str, mode: int = 0o600) -> Path:
        """Create ``path`` unless something is there already (a real key is never overwritten)."""
        if path.exists() or path.is_symlink():
            return path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        self.files.append(path)
        return path

    def dir(self, path: Path, mode: int = 0o700) -> Path:
        if not path.exists():
            path.mkdir(mode=mode)
            self.dirs.append(path)
        return path

    def remove(self) -> None:
        for path in reversed(self.files):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        for path in reversed(self.dirs):
            with contextlib.suppress(OSError):
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


@pytest.fixture(scope="module")
def planted() -> Iterator[Planted]:
    p = Planted()
    try:
        yield p
    finally:
        p.remove()


@pytest.fixture(scope="module")
def shared_dir(planted: Planted) -> Path:
    """A directory samples may write (``write_paths``), outside /tmp so that sharing it does not
    cost the samples their private /tmp: daemons report through it that they are still alive."""
    path = Path(tempfile.mkdtemp(prefix=f"{TAG}-shared-", dir="/var/tmp"))
    planted.dirs.append(path)
    return path


def sandbox_options(shared: Path) -> SandboxOptions:
    return SandboxOptions(memory_mb=MEMORY_MB, pids_max=PIDS_MAX, disk_mb=DISK_MB, write_paths=(str(shared),))


def start_or_fail(executor: LocalExecutor) -> None:
    """A refusal is the outcome under test, not a reason to skip: every case fails with it."""
    from bcb.execution.executor import ExecutorError

    try:
        executor.start()
    except ExecutorError as exc:
        pytest.fail(f"LocalExecutor refused to start as uid {os.getuid()} (python {PYTHON}): {exc}", pytrace=False)


@pytest.fixture(scope="module")
def ex(shared_dir: Path) -> Iterator[LocalExecutor]:
    executor = LocalExecutor(python=PYTHON, workers=1, preload=(), sandbox=sandbox_options(shared_dir))
    try:
        start_or_fail(executor)
        yield executor
    finally:
        executor.close()


def tier(ex: LocalExecutor) -> str:
    """Before issue 14 the report has no ``tier``: the only sandbox that started was root's."""
    return str(ex.sandbox_report.get("tier") or "root")


def skip_in(ex: LocalExecutor, tiers: dict[str, str]) -> None:
    if tier(ex) in tiers:
        pytest.skip(f"tier {tier(ex)}: {tiers[tier(ex)]}")


def run_one(ex: LocalExecutor, solution: str, test: str = CHECK3, time_limit: float = 10.0) -> ExecutionResult:
    (r,) = list(ex.run([Job(key="k", task_id="BigCodeBench/0", solution=solution, test=test, time_limit=time_limit)]))
    return r


def where_found(said: str, secret: str) -> list[str]:
    """The /proc paths a PROC_SAMPLE named just before each copy of ``secret`` it found."""
    words = said.replace("\\n", " ").replace('"', " ").split()
    return sorted(
        {
            next((w for w in reversed(words[:i]) if w.startswith("/proc/")), "?")
            for i, w in enumerate(words)
            if secret in w
        }
    )


def everything_said(r: ExecutionResult) -> str:
    """All a result carries to the results file and the store."""
    return json.dumps(r.to_dict())


@pytest.fixture
def healthy(ex: LocalExecutor) -> Iterator[None]:
    """After the case: the same zygote, nothing new below it, an ordinary sample passes."""
    before = ex.worker_pids()
    resident = descendants(before)
    yield
    assert ex.worker_pids() == before and all(alive(p) for p in before), "the zygote died or was replaced"
    deadline = time.monotonic() + 5
    while (left := descendants(before) - resident) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"processes of the sample still alive below the zygote: {sorted(left)}"
    r = run_one(ex, ADD)
    assert (r.status, r.details) == ("pass", {}), r


# -- resource bombs -------------------------------------------------------------------------------


def test_fork_bomb(ex: LocalExecutor, healthy: None) -> None:
    r = run_one(
        ex,
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n" + ADD,
        time_limit=3,
    )
    assert r.status in ("fail", "timeout"), r


def test_thread_bomb(ex: LocalExecutor, healthy: None, shared_dir: Path) -> None:
    """The thread count is reported through the shared directory: threads beyond the cap must not
    have started, whatever the sample's verdict."""
    count = shared_dir / "threads.txt"
    solution = sample(f"""
        import threading, time
        def task_func(a, b):
            n = 0
            try:
                while True:
                    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
                    n += 1
                    if n % 8 == 0:
                        open({str(count)!r}, "w").write(str(n))
            finally:
                open({str(count)!r}, "w").write(str(n))
        """)
    r = run_one(ex, solution, time_limit=5)
    assert r.status in ("fail", "timeout"), r
    started = int(count.read_text())
    assert 0 < started <= PIDS_MAX, f"{started} threads started with a cap of {PIDS_MAX}"


def test_memory_bomb(ex: LocalExecutor, healthy: None) -> None:
    r = run_one(
        ex,
        "def task_func(a, b):\n    hog = []\n    while True:\n        hog.append(b'x' * (16 << 20))\n",
        time_limit=10,
    )
    assert r.status in ("fail", "timeout"), r


def test_memory_bomb_split_across_processes(ex: LocalExecutor, healthy: None, shared_dir: Path) -> None:
    """Eight children each touching 3/4 of the sample's cap: a cap that binds each process but
    not the sample as a whole lets all eight hold it at once (6x the cap). Each child records when
    it had its memory and, if it was not killed meanwhile, when it let go; what counts is how many
    held it *at the same time*. (The memory cgroup's OOM killer may kill a child that already holds
    its memory so that the next one gets it: one after the other is within the cap.)"""
    reason = (
        "without a memory cgroup the cap is RLIMIT_AS, which binds each process: together they are bounded by the "
        "process cap, and each sample is first in line for the OOM killer, so the machine and bcb survive (README)"
    )
    skip_in(ex, {"rootless": reason, "no_namespaces": reason})
    chunk = MEMORY_MB * 3 // 4
    got = shared_dir / "split"
    got.mkdir()
    solution = sample(f"""
        import os, time
        def task_func(a, b):
            kids = []
            for i in range(8):
                pid = os.fork()
                if pid == 0:
                    try:
                        hog = b"x" * ({chunk} << 20)
                        held = time.monotonic()
                        time.sleep(3)
                        open(os.path.join({str(got)!r}, str(i)), "w").write(f"{{held}} {{time.monotonic()}} {{len(hog)}}")
                    finally:
                        os._exit(0)
                kids.append(pid)
            for pid in kids:
                os.waitpid(pid, 0)
            return a + b
        """)
    run_one(ex, solution, time_limit=40)
    spans = [tuple(float(x) for x in f.read_text().split()[:2]) for f in got.iterdir()]
    at_once = max((sum(1 for s, e in spans if s <= t <= e) for t, _ in spans), default=0)
    assert at_once * chunk <= MEMORY_MB, (
        f"{at_once} processes of one sample held {chunk} MiB each at once (cap {MEMORY_MB} MiB)"
    )


# -- signals and processes that outlive the sample ---------------------------------------------------

DAEMON = """
import os, time
MARK = {mark!r}
def _daemon():
    for fd in range(3, 256):
        try:
            os.close(fd)
        except OSError:
            pass
    hop = {hop!r}
    while True:
        try:
            with open(MARK, "a") as fh:
                fh.write("x")
        except OSError:
            pass
        time.sleep(0.05)
        if hop and os.fork() != 0:
            os._exit(0)  # a new pid every 50 ms: a kill that walks the tree chases it
def _start():
    if os.fork() == 0:
        if {setsid!r}:
            os.setsid()
        if os.fork() == 0:
            _daemon()
        os._exit(0)
    os.wait()
    deadline = time.time() + 5
    while not os.path.exists(MARK) and time.time() < deadline:
        time.sleep(0.01)
{when}
"""


@pytest.mark.parametrize("setsid", [False, True], ids=["double_fork", "setsid"])
@pytest.mark.parametrize("hop", [False, True], ids=["still", "pid_hopping"])
@pytest.mark.parametrize("when", ["import", "call"])
def test_daemon_is_gone_after_the_sample(
    ex: LocalExecutor, healthy: None, shared_dir: Path, setsid: bool, hop: bool, when: str
) -> None:
    mark = shared_dir / f"daemon-{setsid}-{hop}-{when}.mark"
    start = "_start()\n" + ADD if when == "import" else "def task_func(a, b):\n    _start()\n    return a + b\n"
    r = run_one(ex, DAEMON.format(mark=str(mark), hop=hop, setsid=setsid, when=start))
    assert r.status == "pass", r
    assert mark.exists(), "the daemon never ran: this case proves nothing"
    time.sleep(0.3)
    size = mark.stat().st_size
    time.sleep(0.7)
    assert mark.stat().st_size == size, "a daemon of the sample is still writing after its verdict"


#: Runs the executor in its own process; with ``--pid-namespace`` as root that process is the init
#: of a private PID namespace, so that ``kill(-1)`` escaping the sandbox could not hurt the machine.
DRIVER = r"""
import json, os, subprocess, sys, time
from bcb.execution import Job, LocalExecutor
from bcb.execution.sandbox import SandboxOptions

spec = json.loads(sys.argv[1])
out = {"pid": os.getpid()}
bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
ex = LocalExecutor(python=spec["python"], workers=1, preload=(), sandbox=SandboxOptions(**spec["sandbox"]))
try:
    ex.start()
except Exception as exc:
    out["refused"] = f"{type(exc).__name__}: {exc}"
else:
    out["report"] = ex.sandbox_report
    before = ex.worker_pids()
    out["results"] = []
    for i, solution in enumerate(spec["solutions"]):
        (r,) = list(ex.run([Job(f"j{i}", "BigCodeBench/0", solution, spec["test"], spec["time_limit"])]))
        out["results"].append(r.to_dict())
    out["same_zygote"] = ex.worker_pids() == before
    ex.close()
out["bystander_alive"] = bystander.poll() is None
bystander.kill()
bystander.wait()
time.sleep(0.2)
out["processes_left"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid())
print("RESULT " + json.dumps(out), flush=True)
"""


def run_driver(
    tmp_path: Path,
    shared: Path,
    solutions: list[str],
    *,
    env: dict[str, str] | None = None,
    pid_namespace: bool = False,
) -> dict:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    spec = {
        "python": PYTHON,
        "test": CHECK3,
        "time_limit": 10,
        "solutions": solutions,
        "sandbox": {"memory_mb": MEMORY_MB, "pids_max": PIDS_MAX, "disk_mb": DISK_MB, "write_paths": [str(shared)]},
    }
    cmd = [sys.executable, str(script), json.dumps(spec)]
    if pid_namespace:
        cmd = ["unshare", "--pid", "--fork", "--mount-proc", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"the driver died (exit {proc.returncode}): {proc.stderr[-3000:]}"
    out = json.loads(lines[0][len("RESULT ") :])
    if "refused" in out:
        pytest.fail(f"LocalExecutor refused to start as uid {os.getuid()}: {out['refused']}", pytrace=False)
    return out


def test_kill_everything(tmp_path: Path, shared_dir: Path) -> None:
    """``kill(-1, SIGKILL)`` from a sample: the harness, a process of the same user outside the
    sandbox (the driver's bystander) and the next sample are unharmed. As root this runs only
    inside a private PID namespace: a broken sandbox would otherwise kill the machine's processes."""
    root = os.geteuid() == 0
    if (
        root
        and subprocess.run(["unshare", "--pid", "--fork", "true"], capture_output=True, check=False).returncode != 0
    ):
        pytest.skip("as root, kill(-1) is only tried inside a private PID namespace, and unshare --pid fails here")
    kill_all = "import ctypes\nctypes.CDLL(None).kill(-1, 9)\n" + ADD
    out = run_driver(tmp_path, shared_dir, [kill_all, ADD], pid_namespace=root)
    assert out["bystander_alive"], out
    assert out["same_zygote"] is True, out
    assert [r["status"] for r in out["results"]][1] == "pass", out
    if root:
        assert out["pid"] == 1 and out["processes_left"] == [], out


# -- the network ----------------------------------------------------------------------------------


class Listeners:
    """Listeners on this machine, in a thread; ``heard`` collects every connection and datagram."""

    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.heard: list[str] = []
        self.targets: list[tuple[str, object]] = []  # (kind, address) for the sample
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def add(self, family: int, kind: int, address: object, label: str) -> None:
        s = socket.socket(family, kind)
        s.bind(address)  # type: ignore[arg-type]
        if kind == socket.SOCK_STREAM:
            s.listen(16)
        s.setblocking(False)
        self.sel.register(s, selectors.EVENT_READ, label)
        bound = s.getsockname()
        fam = {socket.AF_INET: "inet", socket.AF_INET6: "inet6", socket.AF_UNIX: "unix"}[family]
        typ = "stream" if kind == socket.SOCK_STREAM else "dgram"
        if family == socket.AF_UNIX and isinstance(bound, bytes):
            bound = "\0" + bound[1:].decode()
        elif family != socket.AF_UNIX:
            bound = [address[0], bound[1]]  # type: ignore[index]
        self.targets.append((f"{fam}/{typ}", bound))

    def _serve(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.sel.select(0.05):
                s = key.fileobj
                try:
                    if s.type == socket.SOCK_STREAM:  # type: ignore[union-attr]
                        conn, _ = s.accept()  # type: ignore[union-attr]
                        conn.settimeout(0.5)
                        with conn:
                            self.heard.append(f"{key.data}: connection {conn.recv(100)!r}")
                    else:
                        self.heard.append(f"{key.data}: datagram {s.recv(100)!r}")  # type: ignore[union-attr]
                except OSError as exc:
                    self.heard.append(f"{key.data}: {exc}")

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self.sel.close()


def host_addresses() -> list[str]:
    """This machine's non-loopback IPv4 address, where it has one (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
            addr = s.getsockname()[0]
        except OSError:
            return []
    return [addr] if not addr.startswith("127.") else []


NET_SAMPLE = """
import socket
TARGETS = {targets!r}
def task_func(a, b):
    for kind, address in TARGETS:
        fam, typ = kind.split("/")
        family = {{"inet": socket.AF_INET, "inet6": socket.AF_INET6, "unix": socket.AF_UNIX}}[fam]
        sock_type = socket.SOCK_STREAM if typ == "stream" else socket.SOCK_DGRAM
        address = tuple(address) if fam != "unix" else address
        try:
            with socket.socket(family, sock_type) as s:
                s.settimeout(1)
                if typ == "stream":
                    s.connect(address)
                    s.sendall(b"leak")
                else:
                    s.sendto(b"leak", address)
        except OSError:
            pass
    return a + b
"""


def test_no_connection_reaches_a_listener_on_this_machine(
    ex: LocalExecutor, healthy: None, planted: Planted, shared_dir: Path
) -> None:
    """TCP and UDP to loopback (v4, v6) and to the machine's own address; unix sockets where a
    host service or an agent would put them (host /tmp like ssh-agent, the user's home like
    gpg-agent, /var/tmp, /run like docker.sock when we may create one there), and abstract ones."""
    lis = Listeners()
    try:
        for addr in ["127.0.0.1", *host_addresses()]:
            lis.add(socket.AF_INET, socket.SOCK_STREAM, (addr, 0), f"tcp {addr}")
            lis.add(socket.AF_INET, socket.SOCK_DGRAM, (addr, 0), f"udp {addr}")
        with contextlib.suppress(OSError):
            lis.add(socket.AF_INET6, socket.SOCK_STREAM, ("::1", 0), "tcp ::1")
            lis.add(socket.AF_INET6, socket.SOCK_DGRAM, ("::1", 0), "udp ::1")
        places = [Path(tempfile.gettempdir()), real_home(), Path("/var/tmp"), Path("/run")]
        for i, place in enumerate(places):
            try:
                d = planted.dir(place / f".{TAG}-sock{i}", 0o755)
            except OSError:
                continue  # /run is root's
            lis.add(socket.AF_UNIX, socket.SOCK_STREAM, str(d / "s"), f"unix stream {d}")
            lis.add(socket.AF_UNIX, socket.SOCK_DGRAM, str(d / "d"), f"unix dgram {d}")
        lis.add(socket.AF_UNIX, socket.SOCK_STREAM, f"\0{TAG}-abstract", "unix stream abstract")
        lis.add(socket.AF_UNIX, socket.SOCK_DGRAM, f"\0{TAG}-abstract-d", "unix dgram abstract")
        lis.thread.start()
        r = run_one(ex, NET_SAMPLE.format(targets=lis.targets), time_limit=30)
        time.sleep(0.3)
    finally:
        lis.close()
    assert r.status == "pass", r
    assert lis.heard == [], f"reached from the sandbox (tier {tier(ex)}): {lis.heard}"


def test_no_host_unix_socket_answers(ex: LocalExecutor, healthy: None) -> None:
    """Every unix socket the machine already has in the usual places (system bus, databases,
    container runtimes, agents): the sample connects to each; none may accept."""
    solution = sample(f"""
        import os, socket
        def task_func(a, b):
            reached = []
            for top in ("/run", "/var/run", "/tmp", "/var/tmp", {str(real_home())!r}, "/dev/shm"):
                for dirpath, dirnames, filenames in os.walk(top):
                    for name in filenames:
                        path = os.path.join(dirpath, name)
                        try:
                            if not __import__("stat").S_ISSOCK(os.lstat(path).st_mode):
                                continue
                            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                                s.settimeout(1)
                                s.connect(path)
                                reached.append(path)
                        except OSError:
                            pass
            assert not reached, "REACHED " + " ".join(reached)
            return a + b
        """)
    r = run_one(ex, solution, time_limit=30)
    assert (r.status, r.details) == ("pass", {}), r


# -- the file system ------------------------------------------------------------------------------


def test_writes_outside_the_sample_change_nothing(
    ex: LocalExecutor, healthy: None, planted: Planted, tmp_path: Path
) -> None:
    """New files in the host's /tmp, the user's home, the repository, its importable source,
    the interpreter's site-packages (a .pth runs in every later Python), /var/tmp and the harness's
    work directory; appends to existing files in the home and the repository."""
    home = real_home()
    canaries = [
        planted.file(home / f".{TAG}-canary", "keep\n", 0o644),
        planted.file(REPO / f".{TAG}-canary", "keep\n", 0o644),
    ]
    purelib = subprocess.run(
        [PYTHON, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert ex.work_dir is not None
    new = [
        tmp_path / "new",
        Path("/tmp") / f"{TAG}-new",
        home / f".{TAG}-new",
        REPO / f"{TAG}-new",
        REPO / "src" / "bcb" / f"_{TAG.replace('-', '_')}.py",
        Path(purelib) / f"{TAG}.pth",
        Path("/var/tmp") / f"{TAG}-new",
        ex.work_dir / f"{TAG}-new",
        Path(sysconfig.get_paths()["purelib"]) / f"{TAG}-own.pth",
    ]
    planted.files.extend(new)  # removed at the end if the sandbox let them through
    solution = sample(f"""
        def task_func(a, b):
            for path in {[str(p) for p in new]!r}:
                try:
                    with open(path, "w") as fh:
                        fh.write("import os; os.system('echo owned')\\n")
                except OSError:
                    pass
            for path in {[str(p) for p in canaries]!r}:
                try:
                    with open(path, "a") as fh:
                        fh.write("owned\\n")
                except OSError:
                    pass
            return a + b
        """)
    r = run_one(ex, solution)
    assert r.status == "pass", r
    written = [str(p) for p in new if p.exists()]
    assert written == [], f"tier {tier(ex)}: a sample created {written}"
    assert [p.read_text() for p in canaries] == ["keep\n", "keep\n"]


def test_the_hosts_shared_memory_files_are_not_shared(ex: LocalExecutor, healthy: None, planted: Planted) -> None:
    """/dev/shm holds other programs' POSIX shared memory and semaphores (browsers, audio servers,
    databases, other samples' multiprocessing): the sample must neither read, change nor add
    files there (it gets a /dev/shm of its own where the tier can give one)."""
    skip_in(
        ex,
        {
            "no_namespaces": "without a mount namespace /dev/shm is the one the sandbox runs in (a container's own, or the "
            "user's): multiprocessing needs it writable (README, tier table)"
        },
    )
    canary = planted.file(Path("/dev/shm") / f"{TAG}-canary", FILE_SECRET)
    new = Path("/dev/shm") / f"{TAG}-new"
    planted.files.append(new)
    solution = sample(f"""
        import os
        def task_func(a, b):
            said = []
            for action in (lambda: said.append(open({str(canary)!r}).read()), lambda: open({str(canary)!r}, "a").write("x"),
                           lambda: open({str(new)!r}, "w").write("x"), lambda: said.append(" ".join(os.listdir("/dev/shm")))):
                try:
                    action()
                except OSError:
                    pass
            raise AssertionError(" | ".join(said))
        """)
    r = run_one(ex, solution)
    assert FILE_SECRET not in everything_said(r), f"tier {tier(ex)}: {r.details}"
    assert canary.read_text() == FILE_SECRET and not new.exists(), f"tier {tier(ex)}: the host's /dev/shm was written"


READ_SAMPLE = """
import glob, os
CANARIES = {canaries!r}
PROBES = {probes!r}
def task_func(a, b):
    said = []
    for path in CANARIES:
        try:
            said.append(path + "=" + open(path, errors="replace").read())
        except OSError as exc:
            said.append(path + ": " + exc.__class__.__name__)
    for pattern in PROBES:
        for path in glob.glob(pattern):
            try:
                with open(path, "rb") as fh:
                    data = fh.read(4096)
                said.append("READ " + path + " " + str(len(data)))  # never the content of real files
            except OSError:
                pass
    raise AssertionError(" | ".join(said))
"""


def test_the_users_own_secret_files_are_unreadable(ex: LocalExecutor, healthy: None, planted: Planted) -> None:
    """0600 files in the user's real home: ``~/.ssh/id_rsa`` and ``~/.netrc`` (created with a
    canary secret only where the user has none; a real one is probed but never printed), and
    canaries of our own beside them."""
    home = real_home()
    ssh = planted.dir(home / ".ssh")
    canaries = [
        planted.file(ssh / "id_rsa", FILE_SECRET),
        planted.file(home / ".netrc", f"machine example.com password {FILE_SECRET}\n"),
        planted.file(ssh / f"{TAG}-key", FILE_SECRET),
        planted.file(home / f".{TAG}-token", FILE_SECRET),
    ]
    mine = [str(p) for p in canaries if p in planted.files]
    probes = [
        str(home / ".ssh" / "*"),
        str(home / ".netrc"),
        str(home / ".*_history"),
        str(home / ".config" / "*" / "*"),
        str(home / ".aws" / "*"),
        str(home / ".docker" / "config.json"),
        str(home / ".git-credentials"),
    ]
    r = run_one(ex, READ_SAMPLE.format(canaries=mine, probes=probes))
    said = everything_said(r)
    assert FILE_SECRET not in said, f"tier {tier(ex)}: a sample read the user's 0600 files: {r.details}"
    assert "READ " not in said, f"tier {tier(ex)}: a sample read files in the user's home: {r.details}"


def test_host_secrets_and_raw_devices_are_unreadable(ex: LocalExecutor, healthy: None, planted: Planted) -> None:
    """What root's DAC would allow and a root sample must still not read: password hashes, host
    keys, raw disks (every file of every user), physical and kernel memory, the kernel log; and
    what containers mount under /run for anyone to read (Docker secrets, the Kubernetes
    service-account token), with a world-readable canary there where we may create one."""
    canaries = []
    with contextlib.suppress(OSError):
        secrets = planted.dir(Path("/run") / f".{TAG}-secrets", 0o755)
        canaries.append(str(planted.file(secrets / "token", FILE_SECRET, 0o644)))
    probes = [
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/ssh/ssh_host_*_key",
        "/etc/sudoers",
        "/dev/sd*",
        "/dev/vd*",
        "/dev/nvme*",
        "/dev/xvd*",
        "/dev/loop*",
        "/dev/zram*",
        "/dev/dm-*",
        "/dev/mem",
        "/proc/kcore",
        "/dev/kmsg",
        "/root/*",
        "/root/.*",
        "/home/*/.ssh/*",
        "/home/*/.netrc",
        "/run/secrets/*",
        "/run/secrets/*/*/*",
        "/var/run/secrets/*/*/*",
    ]
    r = run_one(ex, READ_SAMPLE.format(canaries=canaries, probes=probes))
    said = everything_said(r)
    assert "READ " not in said and FILE_SECRET not in said, f"tier {tier(ex)}: {r.details}"


# -- other processes ------------------------------------------------------------------------------

PROC_SAMPLE = """
import os, re, stat
def _regular(path):
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
def task_func(a, b):
    said = [os.environ.get("OPENAI_API_KEY", "")]
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    for pid in pids:
        paths = [f"/proc/{pid}/{what}" for what in ("environ", "cmdline", "mem", "maps")]
        try:  # regular files only: reading another process's pipe would steal its data
            paths += [f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd") if _regular(f"/proc/{pid}/fd/{fd}")]
        except OSError:
            pass
        for path in paths:
            try:  # non-blocking all the same: nothing may hang the reader
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                data = os.read(fd, 1 << 16).decode("latin-1")
            except OSError:
                data = ""
            finally:
                os.close(fd)
            said.append(path)
            said += re.findall(r"sk-[A-Za-z0-9_-]+", data)  # what an attacker looks for, first
    said.append("PIDS " + " ".join(pids))
    raise AssertionError(" ".join(said))
"""


@pytest.fixture
def victim() -> Iterator[subprocess.Popen[bytes]]:
    """A process of the same user outside the sandbox, as the user's shell or another tool would
    be: the secret in its environment and on its command line."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(240)", ARGV_SECRET],
        env=dict(os.environ, OPENAI_API_KEY=ENV_SECRET),
    )
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_no_process_environment_leaks(tmp_path: Path, shared_dir: Path, victim: subprocess.Popen[bytes]) -> None:
    """The executor's own parent has ``OPENAI_API_KEY`` in its real environment (a driver process
    started with it: setting ``os.environ`` here would not change ``/proc/self/environ``), and so
    does a bystander process of the user. The sample reads every ``/proc/*/environ`` (and memory,
    maps, open files): the secret appears nowhere in what it reports."""
    env = dict(os.environ, OPENAI_API_KEY=ENV_SECRET)
    out = run_driver(tmp_path, shared_dir, [PROC_SAMPLE, ADD], env=env)
    proc_result, after = out["results"]
    said = json.dumps(proc_result)
    assert ENV_SECRET not in said, (
        f"tier {out['report'].get('tier', 'root')}: the secret came from {where_found(said, ENV_SECRET)} (driver pid {out['pid']}, bystander pid {victim.pid})"
    )
    assert proc_result["status"] == "fail"  # it raised with what it found: the case really ran
    assert after["status"] == "pass" and out["same_zygote"] is True, out


def test_host_processes_are_invisible(ex: LocalExecutor, healthy: None, victim: subprocess.Popen[bytes]) -> None:
    """Secrets on a command line (``--api-key ...``) are readable by anyone who can see the
    process, and so is the process list itself: the sample must see neither."""
    skip_in(
        ex,
        {
            "no_namespaces": "without a PID namespace every process's /proc/<pid>/cmdline is world-readable (hiding it needs a mount)"
        },
    )
    r = run_one(ex, PROC_SAMPLE)
    said = everything_said(r)
    assert ARGV_SECRET not in said, (
        f"tier {tier(ex)}: a host process's command line reached the result: {where_found(said, ARGV_SECRET)} (bystander pid {victim.pid})"
    )
    assert "PIDS " in said, r  # the sample really listed /proc
    pids = said.split("PIDS ", 1)[1].split('"', 1)[0].split()
    assert str(victim.pid) not in pids and str(os.getpid()) not in pids, (
        f"tier {tier(ex)}: the sample sees host processes ({len(pids)} pids)"
    )


OPEN_FOR_WRITING = """
import os, stat
def _pipe_or_socket(path):
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
def task_func(a, b):
    opened = []
    me = str(os.getpid())
    for pid in (p for p in os.listdir("/proc") if p.isdigit() and p != me):
        paths = [f"/proc/{pid}/mem"]
        try:  # pipes and sockets only: opening a device (a watchdog...) could act by itself
            paths += [f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd") if _pipe_or_socket(f"/proc/{pid}/fd/{fd}")]
        except OSError:
            pass
        for path in paths:
            try:  # opened and closed at once: nothing is written
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                opened.append(path)
            except OSError:
                pass
    assert not opened, "OPENED " + " ".join(opened)
    return a + b
"""


def test_other_processes_cannot_be_written(ex: LocalExecutor, healthy: None) -> None:
    """The memory of another process (the zygote's: code injection) and its open descriptors (the
    zygote's event pipe to the executor: verdicts forged for other samples) must not open for
    writing. The sample opens and closes at once, so a failure here writes nothing."""
    r = run_one(ex, OPEN_FOR_WRITING)
    assert (r.status, r.details) == ("pass", {}), f"tier {tier(ex)}: {r.details}"


SYSV_SAMPLE = """
import ctypes, re
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
def task_func(a, b):
    found = []
    try:
        lines = open("/proc/sysvipc/shm").read().splitlines()[1:]
    except OSError:
        lines = []
    for line in lines:
        shmid = int(line.split()[1])
        addr = libc.shmat(shmid, None, 0o10000)  # SHM_RDONLY
        if addr in (None, ctypes.c_void_p(-1).value):
            continue
        found.append(f"ATTACHED {shmid} " + " ".join(re.findall(r"sk-[A-Za-z0-9_-]+", ctypes.string_at(addr, 4096).decode("latin-1"))))
        libc.shmdt(ctypes.c_void_p(addr))
    assert not found, " | ".join(found)
    return a + b
"""


@pytest.fixture
def sysv_segment() -> Iterator[int]:
    """A System V shared-memory segment of this user holding a secret, as databases and some
    scientific tools keep them: no file-system rule covers it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    shmid = libc.shmget(0, 4096, 0o1000 | 0o600)  # IPC_PRIVATE, IPC_CREAT
    assert shmid >= 0, f"shmget: errno {ctypes.get_errno()}"
    try:
        addr = libc.shmat(shmid, None, 0)
        ctypes.memmove(addr, ENV_SECRET.encode(), len(ENV_SECRET))
        libc.shmdt(ctypes.c_void_p(addr))
        yield shmid
    finally:
        libc.shmctl(shmid, 0, None)  # IPC_RMID


def test_system_v_ipc_of_the_host_is_unreachable(ex: LocalExecutor, healthy: None, sysv_segment: int) -> None:
    r = run_one(ex, SYSV_SAMPLE)
    assert ENV_SECRET not in everything_said(r) and "ATTACHED" not in everything_said(r), (
        f"tier {tier(ex)}: {r.details}"
    )
    assert (r.status, r.details) == ("pass", {}), r


# -- forged results -------------------------------------------------------------------------------

WRONG = "def task_func(a, b):\n    return 0\n"

FORGE_FRAMES = """
import gc, json, os, re, struct, sys
def _frame(obj):
    data = json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data
def _tests():
    f = sys._getframe()
    while f is not None:
        value = f.f_locals.get("test")
        if isinstance(value, str) and "class TestCases" in value:
            return len(re.findall(r"^\\s+def test", value, re.M))
        f = f.f_back
    return 1
def _fds():
    fds = []
    f = sys._getframe()
    while f is not None:
        for name, value in f.f_locals.items():
            if isinstance(value, int) and not isinstance(value, bool) and "fd" in name and value > 2:
                fds.append(value)
        f = f.f_back
    for obj in gc.get_objects():
        with __import__("contextlib").suppress(Exception):
            value = getattr(obj, "result_fd", None)
            if isinstance(value, int) and value > 2:
                fds.append(value)
    return fds
_frame_bytes = _frame({"kind": "result", "stat": "success", "details": {}, "tests_run": _tests()})
for _fd in dict.fromkeys(_fds()):
    try:
        os.write(_fd, _frame_bytes)
    except OSError:
        pass
os._exit(0)
"""

FORGE_FD_SCAN = """
import json, os, stat, struct
_n = 1
_data = json.dumps({"kind": "result", "stat": "success", "details": {}, "tests_run": _n}).encode()
_frame_bytes = struct.pack(">I", len(_data)) + _data
for _fd in range(3, 65536):
    try:
        if stat.S_ISFIFO(os.fstat(_fd).st_mode) or stat.S_ISSOCK(os.fstat(_fd).st_mode):
            os.write(_fd, _frame_bytes)
    except OSError:
        pass
os._exit(0)
"""


FORGERS = {"frames_and_gc": FORGE_FRAMES, "fd_scan": FORGE_FD_SCAN}


@pytest.mark.xfail(
    strict=True, reason="in-process grading: a sample can write the runner's report itself (README: 'Forged verdicts')"
)
@pytest.mark.parametrize("forge", sorted(FORGERS))
def test_a_forged_result_is_not_a_pass(ex: LocalExecutor, healthy: None, forge: str) -> None:
    """At import, the sample finds the runner's result pipe (walking frames and ``gc``, or every
    inherited descriptor), writes a ``success`` frame with the right test count and ``_exit``\\ s
    before any test runs. bcb cannot rule this out while the sample shares its tests' process (the
    README says so); strict: the day a change closes it, this test says so and must be updated."""
    r = run_one(ex, FORGERS[forge] + WRONG)
    assert r.status != "pass", f"tier {tier(ex)}: a forged result was accepted: {r}"


@pytest.mark.parametrize("forge", sorted(FORGERS))
def test_a_forger_decides_only_its_own_verdict(ex: LocalExecutor, healthy: None, forge: str) -> None:
    """What the sandbox does guarantee against a forger: run next to it, in the same run and the
    same worker, a wrong solution still fails and a right one passes, and no secret leaks."""
    jobs = [
        Job(
            key="forger",
            task_id="BigCodeBench/0",
            solution=textwrap.dedent(FORGERS[forge] + WRONG),
            test=CHECK3,
            time_limit=10.0,
        ),
        Job(key="wrong", task_id="BigCodeBench/0", solution=textwrap.dedent(WRONG), test=CHECK3, time_limit=10.0),
        Job(key="right", task_id="BigCodeBench/0", solution=textwrap.dedent(ADD), test=CHECK3, time_limit=10.0),
    ]
    results = {r.key: r for r in ex.run(jobs)}
    assert results["wrong"].status == "fail" and list(results["wrong"].details) == ["test_add"], results["wrong"]
    assert (results["right"].status, results["right"].details) == ("pass", {})
    assert all(ENV_SECRET not in everything_said(r) for r in results.values())
