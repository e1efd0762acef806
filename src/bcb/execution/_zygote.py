# mypy: disable-error-code="assignment,misc"
# (the official guard is reproduced by monkey-patching os and subprocess, which mypy rejects)
"""The worker side of bcb's executor: keeper, zygote and per-sample child, in one stdlib-only file.

Why one file, stdlib only: workers run under the *task* environment's interpreter, where bcb is
not installed. The parent starts this file by absolute path::

    /path/to/task-env/bin/python -I _zygote.py CMD_FD EVENT_FD LIFELINE_FD

(``-I``: no user site, no ``PYTHON*`` variables, and neither this directory nor the cwd on
``sys.path``, so ``import jobs`` in a sample cannot find a bcb file.) The parent also imports this
module for the framing functions and the step list, so there is one definition of the protocol.
Nothing runs at import time.

Processes, outermost first:

- **keeper** (the process the parent starts): a child subreaper that forks the zygote and does
  nothing else. When the zygote dies, whatever the zygote's samples left behind is re-parented to
  the keeper, which kills it all and exits. When the parent dies (EOF on the lifeline pipe), it
  kills the zygote and does the same. Without it, a zygote killed mid-sample would leave that
  sample's processes to init.
- **zygote**: imports the heavy libraries once (with one OS thread: thread pools are pinned to one
  thread by the environment, and modules that start threads anyway are reported), freezes its
  heap (``gc.freeze``), then serves run requests: for each sample it forks a child, watches it
  until it reports, exits or reaches its deadline, then kills the child's whole tree (its process
  group, and every process re-parented to the zygote, which is a child subreaper too), reaps it,
  removes the sample's directory, and only then answers the parent. So when the parent has a
  result, nothing of that sample is alive any more.
- **child**: runs :data:`CHILD_STEPS` in order (each a named function of a :class:`SampleContext`),
  then the official evaluator's procedure (:func:`run_official_procedure`), writes one result
  frame to a pipe only it and the zygote hold, and ``_exit``\\ s. Later hardening layers (network
  namespace, Landlock, seccomp) are more steps in that tuple; the zygote moves the child into its
  job cgroups meanwhile, and the child's last step waits until it has.

Protocol: frames of a 4-byte big-endian length followed by that many bytes of UTF-8 JSON.

- parent -> zygote: ``{"type": "config", ...}`` once, then ``{"type": "run", ...}`` per sample;
  ``{"type": "abort", "key": ...}`` while that sample runs ends it as its deadline would (answered
  with ``"outcome": "aborted"``; an abort that arrives after its sample ended is ignored).
- zygote -> parent: ``{"type": "ready", ...}`` once, then ``{"type": "result", ...}`` per run.
- child -> zygote: one ``{"kind": "result" | "setup_error", ...}`` on its own result pipe.

Verdict semantics are the official evaluator's (``bigcodebench`` 0.2.5, ``eval/__init__.py`` and
``eval/utils.py``); every quirk reproduced here says so where it is done.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import gc
import importlib
import importlib.util
import io
import json
import mmap
import os
import select
import shutil
import signal
import struct
import sys
import tempfile
import time
import types
import unittest
from typing import Any

# ---------------------------------------------------------------------------------------------
# Framing

_HEADER = struct.Struct(">I")
# Bound at import, before any sample runs: a sample that replaces ``os.write`` or ``json.dumps``
# must not change how its own result is sent.
_os_write = os.write
_encoder = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))
#: No frame is larger: a result carries at most a few tracebacks, each capped (see TRACE_CAP).
MAX_FRAME_BYTES = 64 * 1024 * 1024


class ProtocolError(RuntimeError):
    """A frame that cannot be read: truncated, oversized or not JSON."""


def encode_frame(obj: object) -> bytes:
    data = _encoder.encode(obj).encode("ascii")
    if len(data) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(data)} bytes exceeds {MAX_FRAME_BYTES}")
    return _HEADER.pack(len(data)) + data


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = _os_write(fd, view)
        except InterruptedError:
            continue
        view = view[n:]


def write_frame(fd: int, obj: object) -> None:
    write_all(fd, encode_frame(obj))


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        try:
            chunk = os.read(fd, min(n, 1 << 20))
        except InterruptedError:
            continue
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> object | None:
    """Blocking read of one frame; ``None`` on a clean EOF between frames."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame header announces {size} bytes")
    data = _read_exact(fd, size)
    if data is None:
        raise ProtocolError("EOF inside a frame")
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from None


class FrameBuffer:
    """Incremental frame parser for non-blocking readers (deadlines need ``poll``)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_frame(self) -> object | None:
        """The next complete frame, or ``None`` if more bytes are needed."""
        if len(self._buf) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack_from(self._buf)
        if size > MAX_FRAME_BYTES:
            raise ProtocolError(f"frame header announces {size} bytes")
        end = _HEADER.size + size
        if len(self._buf) < end:
            return None
        data = bytes(self._buf[_HEADER.size : end])
        del self._buf[:end]
        try:
            return json.loads(data)
        except ValueError as exc:
            raise ProtocolError(f"frame is not JSON: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Process utilities (Linux)

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_libc = None


def _prctl(option: int, arg: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}) failed: {os.strerror(err)}")


def set_child_subreaper() -> None:
    """Orphaned descendants are re-parented to this process instead of init (which reaps only
    after ~1.5 s here), so it can kill and reap them."""
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def set_parent_death_signal(sig: int) -> None:
    _prctl(_PR_SET_PDEATHSIG, int(sig))


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (zombies included), from ``/proc/PID/task/*/children``."""
    kids: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                kids.extend(int(x) for x in fh.read().split())
        except (OSError, ValueError):
            continue
    return kids


def kill_children(me: int, *, rounds: int = 10000) -> int:
    """SIGKILL and reap every child of ``me`` until none is left; returns how many were reaped.

    Killing a child re-parents its own children to ``me`` (a subreaper), so the loop descends the
    whole tree, including processes that left the sample's session with ``setsid``. A child that
    leads a process group has the whole group killed at once.
    """
    reaped = 0
    for _ in range(rounds):
        kids = children_of(me)
        if not kids:
            return reaped
        for kid in kids:
            with contextlib.suppress(OSError):
                if os.getpgid(kid) == kid:
                    os.killpg(kid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(kid, signal.SIGKILL)
        for kid in kids:
            try:
                os.waitpid(kid, 0)
                reaped += 1
            except ChildProcessError:
                pass
            except InterruptedError:
                pass
    return reaped


def thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return -1


def describe_wait_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"killed by signal {name}"
    if os.WIFEXITED(status):
        return f"exit status {os.WEXITSTATUS(status)}"
    return f"wait status {status}"


def remove_tree(path: str) -> None:
    """Remove a sample's directory even if the sample made parts of it read-only."""

    def fix_and_retry(func, target, _exc):  # type: ignore[no-untyped-def]
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(target) or ".", 0o700)
            os.chmod(target, 0o700)
        with contextlib.suppress(OSError):
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target, ignore_errors=True)
            else:
                os.unlink(target)

    shutil.rmtree(path, onerror=fix_and_retry)


# ---------------------------------------------------------------------------------------------
# The official evaluator's in-process guard, reproduced for fidelity.
#
# Verdicts depend on these quirks, so they are kept as the official 0.2.5 code behaves:
# - ``os.kill`` only reaches the sample's own pid and processes started with ``subprocess.Popen``
#   (so ``multiprocessing`` cannot terminate its own workers: a ``Pool`` exit can hang);
# - ``Popen`` children are put in a new session; ``Popen.kill()``/``terminate()`` send SIGTERM;
#   ``communicate()`` returns ``(None, None)`` on a timeout instead of raising;
# - ``os.system``/``subprocess.call``/``subprocess.run``/``os.popen`` pretend to succeed when the
#   command mentions "kill"; ``subprocess.check_output`` returns ``b""`` when it mentions "ps";
# - ``os.execv``/``execvp``/``execvpe`` do nothing;
# - while the sample runs, ``subprocess.Popen`` is a *function* that defaults ``stdout`` and
#   ``stderr`` to PIPE (so a subprocess writing much to an unread pipe blocks, as officially);
# - each intercepted call prints a line to (the swallowed) stdout.


class SharedPidList:
    """The pids of ``Popen`` children, shared with forked descendants of the sample (officially a
    ``multiprocessing.Manager().list()``: a process per sample). An anonymous shared mapping gives
    the same cross-process membership for the price of one page."""

    _SLOTS = 1023

    def __init__(self) -> None:
        self._map = mmap.mmap(-1, 4 * (self._SLOTS + 1))

    def _count(self) -> int:
        return struct.unpack_from("i", self._map, 0)[0]

    def append(self, pid: int) -> None:
        n = self._count()
        if n < self._SLOTS:
            struct.pack_into("i", self._map, 4 * (n + 1), int(pid))
            struct.pack_into("i", self._map, 0, n + 1)

    def __iter__(self):  # type: ignore[no-untyped-def]
        n = self._count()
        return iter(struct.unpack_from(f"{n}i", self._map, 4))

    def __contains__(self, pid: object) -> bool:
        return pid in list(iter(self))

    def __len__(self) -> int:
        return self._count()


def install_official_safe_environment() -> SharedPidList:
    """Patch ``os`` and ``subprocess`` as the official ``safe_environment()`` does."""
    import subprocess

    real_kill = os.kill
    real_killpg = os.killpg
    real_system = os.system
    real_call = subprocess.call
    real_check_output = subprocess.check_output
    real_run = subprocess.run
    real_popen_class = subprocess.Popen
    real_os_popen = os.popen
    getpgid = os.getpgid

    own_pid = os.getpid()
    own_pgid = getpgid(own_pid)
    popen_pids = SharedPidList()

    def guarded_kill(pid, sig):  # type: ignore[no-untyped-def]
        try:
            getpgid(pid)  # officially evaluated first: a missing pid is silently ignored
            if pid == own_pid or pid in popen_pids:
                real_kill(pid, sig)
            else:
                print(f"Prevented attempt to kill PID {pid} with signal {sig}")
        except ProcessLookupError:
            pass

    def guarded_killpg(pgid, sig):  # type: ignore[no-untyped-def]
        if pgid == own_pgid or pgid in {getpgid(p) for p in popen_pids}:
            real_killpg(pgid, sig)
        else:
            print(f"Prevented attempt to kill PGID {pgid} with signal {sig}")

    def guarded_system(command):  # type: ignore[no-untyped-def]
        print(f"Intercepted system command: {command}")
        if "kill" in command or "killall" in command:
            return 0
        return real_system(command)

    def guarded_call(command, *args, **kwargs):  # type: ignore[no-untyped-def]
        print(f"Intercepted subprocess call: {command}")
        if "kill" in command or "killall" in command:
            return 0
        return real_call(command, *args, **kwargs)

    def guarded_check_output(command, *args, **kwargs):  # type: ignore[no-untyped-def]
        print(f"Intercepted command: {command}")
        if "ps" in command:
            return b""
        return real_check_output(command, *args, **kwargs)

    def guarded_run(*args, **kwargs):  # type: ignore[no-untyped-def]
        print(f"Intercepted subprocess run command: {args}")
        if "kill" in args[0] or "killall" in args[0]:
            return subprocess.CompletedProcess(args, 0, b"", b"")
        return real_run(*args, **kwargs)

    class GuardedPopen(real_popen_class):  # type: ignore[valid-type]
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            print(f"Intercepted Popen command: {args}")
            kwargs["preexec_fn"] = os.setsid
            super().__init__(*args, **kwargs)
            popen_pids.append(self.pid)

        def communicate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            try:
                return super().communicate(*args, **kwargs)
            except subprocess.TimeoutExpired:
                print("Timeout expired, intercepted and returning None")
                return None, None

        def kill(self):  # type: ignore[no-untyped-def]
            print(f"Intercepted kill call for PID {self.pid}")
            guarded_kill(self.pid, signal.SIGTERM)

        def terminate(self):  # type: ignore[no-untyped-def]
            print(f"Intercepted terminate call for PID {self.pid}")
            guarded_kill(self.pid, signal.SIGTERM)

    def guarded_os_popen(command):  # type: ignore[no-untyped-def]
        print(f"Intercepted os.popen command: {command}")
        if "kill" in command or "killall" in command:
            return os.popen("echo Intercepted")
        return real_os_popen(command)

    def ignored_exec(*args, **kwargs):  # type: ignore[no-untyped-def]
        print(f"Intercepted exec command: {args}")

    os.kill = guarded_kill
    os.killpg = guarded_killpg
    os.system = guarded_system
    subprocess.call = guarded_call
    subprocess.check_output = guarded_check_output
    subprocess.run = guarded_run
    subprocess.Popen = GuardedPopen
    os.popen = guarded_os_popen
    os.execv = ignored_exec
    os.execvp = ignored_exec
    os.execvpe = ignored_exec
    return popen_pids


class CappedWriteOnlyStringIO(io.StringIO):
    """What stdout, stderr and stdin are while the sample runs.

    Officially one ``WriteOnlyStringIO`` serves all three: writes are kept, reads raise
    ``OSError``, ``readable()`` is False. It keeps *everything*, so a sample printing gigabytes
    holds gigabytes; this one keeps the first ``cap`` characters and silently drops the rest
    (``write`` still returns the full length, so nothing the sample can observe changes except a
    ``getvalue()`` past the cap).
    """

    def __init__(self, cap: int) -> None:
        super().__init__()
        self._room = cap

    def write(self, s):  # type: ignore[no-untyped-def]
        if not isinstance(s, str):
            raise TypeError(f"string argument expected, got '{type(s).__name__}'")
        if self._room > 0:
            kept = s[: self._room]
            super().write(kept)
            self._room -= len(kept)
        return len(s)

    def read(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError

    def readline(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError

    def readlines(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError

    def readable(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return False


@contextlib.contextmanager
def swallowed_io(cap: int):  # type: ignore[no-untyped-def]
    """The official ``swallow_io()``: one write-only sink for stdout, stderr and stdin, and
    ``subprocess.Popen``/``run`` wrapped to default ``stdout``/``stderr`` to PIPE."""
    import subprocess

    sink = CappedWriteOnlyStringIO(cap)
    saved = (sys.stdout, sys.stderr, sys.stdin)
    outer_popen = subprocess.Popen
    outer_run = subprocess.run

    def _default_pipes(kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("capture_output"):
            kwargs.pop("stdout", None)
            kwargs.pop("stderr", None)
        else:
            kwargs.setdefault("stdout", subprocess.PIPE)
            kwargs.setdefault("stderr", subprocess.PIPE)

    def popen_with_pipes(*args, **kwargs):  # type: ignore[no-untyped-def]
        _default_pipes(kwargs)
        return outer_popen(*args, **kwargs)

    def run_with_pipes(*args, **kwargs):  # type: ignore[no-untyped-def]
        _default_pipes(kwargs)
        return outer_run(*args, **kwargs)

    sys.stdout, sys.stderr, sys.stdin = sink, sink, sink
    subprocess.Popen = popen_with_pipes
    subprocess.run = run_with_pipes
    try:
        yield sink
    finally:
        subprocess.Popen = outer_popen
        subprocess.run = outer_run
        sys.stdout, sys.stderr, sys.stdin = saved


class TimeoutException(Exception):
    """Raised in the running test by the in-process alarm (officially ``TimeoutException``)."""


@contextlib.contextmanager
def alarm(seconds: float):  # type: ignore[no-untyped-def]
    """The official ``time_limit``: SIGALRM after ``seconds`` raises in whatever code runs then
    (inside a test, unittest records it as that test's error and goes on to the next test)."""

    def on_alarm(signum, frame):  # type: ignore[no-untyped-def]
        raise TimeoutException("Timed out!")

    signal.setitimer(signal.ITIMER_REAL, seconds)
    signal.signal(signal.SIGALRM, on_alarm)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


#: Longest traceback text kept per test (head and tail are kept; the middle is elided).
TRACE_CAP = 64 * 1024


def _cap_text(text: str) -> str:
    if len(text) <= TRACE_CAP:
        return text
    half = TRACE_CAP // 2
    return text[:half] + f"\n... [{len(text) - TRACE_CAP} characters elided by bcb] ...\n" + text[-half:]


#: Called with the program's namespace right after it executed, before its tests are loaded (the
#: sandbox's entry-point check); filled in the child only.
AFTER_EXEC: list = []


def run_official_procedure(solution: str, test: str, time_limit: float, output_cap: int) -> dict:
    """Execute ``solution + "\\n" + test`` and its ``TestCases`` exactly as the official
    ``unsafe_execute`` does, returning ``{"stat": "success" | "failed", "details": ...}``.

    Semantics kept: the module is ``__test__`` with ``__builtins__``, ``__file__ = "__test__.py"``,
    ``sys``, ``os`` and ``environ`` in its globals, and is put in ``sys.modules`` only after it
    executed; only the test run is under the alarm (module-level code is not); ``details`` maps the
    last dotted part of each failing or erroring test's id to its traceback; any exception out of
    compiling, executing, loading or running is ``{"ALL": str(exc)}``. If even ``str(exc)``
    raises, the exception propagates and no result is reported (officially the status then stays
    unknown, i.e. ``timeout``).
    """
    module_name = "__test__"
    module = types.ModuleType(module_name)
    module.__dict__.update(
        {
            "__builtins__": builtins,
            "__file__": f"{module_name}.py",
            "__package__": None,
            "__doc__": None,
            "sys": sys,
            "os": os,
            "environ": os.environ,
        }
    )
    details: dict[str, str] = {}
    tests_run = None
    try:
        program = solution + "\n" + test
        with swallowed_io(output_cap):
            # dont_inherit: this file's `from __future__ import annotations` must not reach the
            # sample (officially `-> pd.DataFrame` with pandas not imported is a NameError).
            exec(compile(program, f"{module_name}.py", "exec", dont_inherit=True), module.__dict__)
            sys.modules[module_name] = module
            for hook in tuple(AFTER_EXEC):
                hook(module.__dict__)
            test_cases = module.TestCases
            suite = unittest.TestLoader().loadTestsFromTestCase(test_cases)
            outcome = unittest.TestResult()
            with alarm(time_limit):
                suite.run(outcome)
        tests_run = outcome.testsRun
        for case, trace in outcome.failures + outcome.errors:
            details[case.id().split(".")[-1]] = _cap_text(trace)
        stat = "success"
    except BaseException as exc:
        details["ALL"] = _cap_text(str(exc))
        stat = "failed"
    return {"stat": stat, "details": details, "tests_run": tests_run}


def run_with_coverage(solution: str, test: str, time_limit: float, output_cap: int) -> dict:
    """The official procedure under coverage.py in branch mode (``bcb qa``, ``bcb task check``).

    The report gains ``coverage``: the executed and missing lines and branch arcs of the
    solution's own lines (1 to the solution's last line; the test code is not counted), or
    ``{"error": ...}``. coverage.py is imported here, never in the zygote's normal path.
    """
    try:
        import coverage
    except ImportError as exc:
        report = run_official_procedure(solution, test, time_limit, output_cap)
        report["coverage"] = {"error": f"coverage.py is not installed in {sys.executable} ({exc})"}
        return report
    cov = coverage.Coverage(data_file=None, branch=True, config_file=False)
    cov.start()
    try:
        report = run_official_procedure(solution, test, time_limit, output_cap)
    finally:
        cov.stop()
    report["coverage"] = _solution_coverage(cov, solution + "\n" + test, solution.count("\n") + 1)
    return report


def _solution_coverage(cov: Any, program: str, last_line: int) -> dict:
    """coverage.py's own analysis of the traced program, restricted to the solution's lines.

    The program ran from memory as ``__test__.py`` (officially so); coverage.py needs its source
    at the path it recorded (in the sample's cwd, removed with the sample), so it is written there
    once the tests are over.
    """
    try:
        measured = [p for p in cov.get_data().measured_files() if os.path.basename(p) == "__test__.py"]
        if not measured:
            return {"error": "coverage.py recorded nothing for the program"}
        path = measured[0]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(program)
        out = os.path.join(os.path.dirname(path), "bcb_coverage.json")
        cov.json_report(morfs=[path], outfile=out)
        with open(out, encoding="utf-8") as fh:
            entry = next(iter(json.load(fh)["files"].values()))
        lines = {k: sorted(n for n in entry[k] if 0 < n <= last_line) for k in ("executed_lines", "missing_lines")}
        arcs = {
            k: sorted([a, b] for a, b in entry[k] if 0 < a <= last_line)
            for k in ("executed_branches", "missing_branches")
        }
        return {**lines, **arcs}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:500]}


# ---------------------------------------------------------------------------------------------
# The child: ordered start-up steps, then the official procedure.


class SampleContext:
    """What the child's steps need. Built by the zygote before forking."""

    def __init__(self, zygote: Zygote, job: dict, root: str, result_fd: int) -> None:
        self.zygote = zygote
        self.job = job
        self.root = root  # private directory: TMPDIR; holds home/, mpl/ and the cwd
        self.result_fd = result_fd
        #: Where the zygote says whether the child is in its job cgroups (-1: it has none).
        self.cgroups_fd = -1
        self.pid = 0
        self.cwd = ""
        self.popen_pids: SharedPidList | None = None
        #: Functions of the report applied, in order, after the official procedure (tamper checks).
        self.report_filters: list = []


def step_close_protocol_fds(ctx: SampleContext) -> None:
    """The child must not hold the zygote's pipes: the parent detects a dead zygote by EOF, and a
    sample must not be able to write frames to the parent."""
    for fd in ctx.zygote.protocol_fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def step_new_session(ctx: SampleContext) -> None:
    """Own session and process group (pgid == pid), so the zygote can kill the sample's whole
    group, and signals to the zygote's group do not reach it."""
    os.setsid()
    ctx.pid = os.getpid()


def step_die_with_zygote(ctx: SampleContext) -> None:
    """If the zygote dies, so does the sample (the keeper then kills what is left)."""
    set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != ctx.zygote.pid:
        os._exit(75)


def step_reset_signals(ctx: SampleContext) -> None:
    """A fresh interpreter's signal state: default handlers, no pending timer."""
    signal.setitimer(signal.ITIMER_REAL, 0)
    for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def step_redirect_std_fds(ctx: SampleContext) -> None:
    """fd-level output (subprocesses, C libraries) goes to /dev/null; stdin reads get EOF."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)


def step_enter_private_dirs(ctx: SampleContext) -> None:
    """cwd is a fresh ``tmpXXXXXXXX`` directory inside the sample's private TMPDIR (officially a
    ``tempfile.TemporaryDirectory()`` in the system temp dir); HOME and MPLCONFIGDIR are private
    too. The zygote removes the whole directory when the sample is over."""
    home = os.path.join(ctx.root, "home")
    mpl = os.path.join(ctx.root, "mpl")
    os.mkdir(home, 0o700)
    os.mkdir(mpl, 0o700)
    tempfile.tempdir = ctx.root  # the module caches the zygote's answer otherwise
    ctx.cwd = tempfile.mkdtemp(dir=ctx.root)
    os.chdir(ctx.cwd)


def step_clean_environment(ctx: SampleContext) -> None:
    """``os.environ`` is rebuilt from the allow-listed base the parent sent (no API keys or tokens
    of the harness), plus the private directories."""
    base = ctx.zygote.config.get("child_env") or {}
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in base.items()})
    os.environ["HOME"] = os.path.join(ctx.root, "home")
    os.environ["TMPDIR"] = ctx.root
    os.environ["MPLCONFIGDIR"] = os.path.join(ctx.root, "mpl")


def step_reseed_random(ctx: SampleContext) -> None:
    """A forked child inherits the zygote's random state; seed it from the OS as a new process
    would be (``random``'s own at-fork hook covers only the module-level instance)."""
    for holder, attr in ctx.zygote.rng_holders:
        with contextlib.suppress(Exception):
            getattr(holder, attr).seed()
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        with contextlib.suppress(Exception):
            numpy_random.seed()


def step_resource_limits(ctx: SampleContext) -> None:
    """RLIMIT_AS / RLIMIT_DATA / RLIMIT_STACK as the official ``reliability_guard`` sets them (all
    three only when all three are non-zero). A value above the current hard limit is lowered to
    it: raising a hard limit is not permitted here, and officially it would crash the sample."""
    import resource

    limits = ctx.job.get("limits") or {}
    as_mb = limits.get("max_as_mb", 30 * 1024)
    data_mb = limits.get("max_data_mb", 30 * 1024)
    stack_mb = limits.get("max_stack_mb", 10)
    if not (as_mb and data_mb and stack_mb):
        return
    for which, mb in ((resource.RLIMIT_AS, as_mb), (resource.RLIMIT_DATA, data_mb), (resource.RLIMIT_STACK, stack_mb)):
        value = int(mb) * 1024 * 1024
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY and value > hard:
            value = hard
        resource.setrlimit(which, (value, value))


def step_official_reliability_guard(ctx: SampleContext) -> None:
    """The rest of the official ``reliability_guard``: UTC, one OpenMP thread, quiet TensorFlow,
    no faulthandler, ``exit``/``quit`` set to None, and all pyplot figures closed."""
    import faulthandler

    os.environ["TZ"] = "UTC"
    time.tzset()
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # officially a crash; bcb tolerates an environment without matplotlib
        return
    plt.close("all")


def step_official_safe_environment(ctx: SampleContext) -> None:
    """The official ``safe_environment()`` patches (see :func:`install_official_safe_environment`).
    Last, so bcb's own steps use the real functions."""
    ctx.popen_pids = install_official_safe_environment()


def step_sandbox_enter(ctx: SampleContext) -> None:
    """Private network and mount namespaces and the rlimit caps: the layers the zygote's probe
    found working (see ``_sandbox.py``). The job cgroups are joined by the zygote meanwhile."""
    sandbox = ctx.zygote.sandbox
    if sandbox is not None:
        sandbox.child_enter(ctx.zygote.work_dir, ctx.root)


def step_sandbox_lock(ctx: SampleContext) -> None:
    """Tamper evidence snapshots, the result fd moved out of the way, then Landlock and seccomp
    (neither can be undone). Runs after the official guard, just before the sample. Last, it
    waits until the zygote has moved this process into its job cgroups (tree kill, memory and
    pids caps): no code of the sample runs outside them."""
    sandbox = ctx.zygote.sandbox
    if sandbox is None:
        return
    mod = sandbox_module()
    if sandbox.layers.get("tamper"):
        ctx.result_fd = mod.hide_fd(ctx.result_fd)
        guard = mod.TamperGuard(ctx.job["test"], [sys.modules[__name__], mod])
        ctx.report_filters.append(guard.check)
        AFTER_EXEC.append(guard.after_exec)
    sandbox.child_lock(ctx.root)
    if ctx.cgroups_fd >= 0:
        answer = b""
        while True:
            chunk = os.read(ctx.cgroups_fd, 512)
            if not chunk:
                break
            answer += chunk
        os.close(ctx.cgroups_fd)
        ctx.cgroups_fd = -1
        if answer != b"1":
            why = answer[1:].decode(errors="replace") or "the zygote gave no answer"
            raise OSError(f"not moved into its job cgroups: {why}")


#: The child's start-up, in order. Hardening layers (cgroup membership, network namespace,
#: Landlock, seccomp, tamper evidence) are further steps, inserted after ``step_redirect_std_fds``
#: (before the environment is exposed to sample code). The official guard's steps come last.
CHILD_STEPS = (
    step_close_protocol_fds,
    step_new_session,
    step_die_with_zygote,
    step_reset_signals,
    step_redirect_std_fds,
    step_sandbox_enter,
    step_enter_private_dirs,
    step_clean_environment,
    step_reseed_random,
    step_resource_limits,
    step_official_reliability_guard,
    step_official_safe_environment,
    step_sandbox_lock,
)


def child_main(ctx: SampleContext) -> None:
    """Runs in the forked child; never returns into the zygote's loop."""
    for step in CHILD_STEPS:
        try:
            step(ctx)
        except BaseException as exc:
            with contextlib.suppress(BaseException):
                write_frame(
                    ctx.result_fd,
                    {"kind": "setup_error", "step": step.__name__, "error": f"{type(exc).__name__}: {exc}"},
                )
            os._exit(71)
    job = ctx.job
    # Bound before the sample runs, since it can patch os and this module's globals.
    write, getpid, exit_now = write_frame, os.getpid, os._exit
    result_fd = ctx.result_fd
    own_pid = ctx.pid
    filters = tuple(ctx.report_filters)
    procedure = run_with_coverage if job.get("coverage") else run_official_procedure
    report = procedure(
        job["solution"], job["test"], float(job["time_limit"]), int(ctx.zygote.config.get("output_cap", 65536))
    )
    for report_filter in filters:
        report = report_filter(report)
    if getpid() == own_pid:  # a fork the sample made that got here does not report
        report["kind"] = "result"
        write(result_fd, report)
    exit_now(0)


# ---------------------------------------------------------------------------------------------
# The zygote


class Zygote:
    def __init__(
        self,
        cmd_fd: int,
        event_fd: int,
        extra_fds: tuple[int, ...] = (),
        worker_ns: dict | None = None,
        keeper_pid: int = 0,
    ) -> None:
        self.cmd_fd = cmd_fd
        self.event_fd = event_fd
        self.protocol_fds = (cmd_fd, event_fd, *extra_fds)
        self.pid = os.getpid()  # 1 when the keeper gave the worker its own PID namespace
        #: What the keeper's ``enter_worker_namespaces`` made (the sandbox's tier starts there).
        self.worker_ns = dict(worker_ns or {})
        self.keeper_pid = keeper_pid or os.getppid()
        self.config: dict = {}
        self.rng_holders: list[tuple[Any, str]] = []
        self.sandbox: Any = None  # _sandbox.Sandbox, when the config asks for one
        self.job_cgroups: Any = None  # the running sample's _sandbox.JobCgroups

    # -- start-up ---------------------------------------------------------------------------
    def preload(self, modules: list[str]) -> dict:
        imported: list[str] = []
        failed: dict[str, str] = {}
        thread_starters: dict[str, int] = {}
        seconds: dict[str, float] = {}
        for name in modules:
            before = thread_count()
            t0 = time.monotonic()
            try:
                if "." in name and importlib.util.find_spec(name) is None:
                    continue  # a name imported from a module (``from scipy.stats import zscore``)
                importlib.import_module(name)
            except BaseException as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"[:500]
            else:
                imported.append(name)
                warm = _WARMUPS.get(name)
                if warm is not None:
                    with contextlib.suppress(BaseException):
                        warm()
            seconds[name] = round(time.monotonic() - t0, 3)
            after = thread_count()
            if after > before:
                thread_starters[name] = after - before
        return {"imported": imported, "failed": failed, "thread_starters": thread_starters, "seconds": seconds}

    def find_rng_holders(self) -> None:
        import random

        holders = []
        for mod in list(sys.modules.values()):
            namespace = getattr(mod, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for attr, value in list(namespace.items()):
                try:
                    if isinstance(value, random.Random) and not isinstance(value, random.SystemRandom):
                        holders.append((mod, attr))
                except Exception:
                    continue
        self.rng_holders = holders

    def main(self) -> None:
        set_child_subreaper()
        config = read_frame(self.cmd_fd)
        if not isinstance(config, dict) or config.get("type") != "config":
            raise ProtocolError(f"expected a config frame, got {config!r:.200}")
        self.config = config
        self.work_dir = config["work_dir"]
        sandbox_report: dict = {"enabled": False}
        host_pid = self.pid
        if config.get("sandbox") is not None:
            self.sandbox = sandbox_module().Sandbox(config["sandbox"], self.worker_ns)
            host_pid = self.sandbox.host_pid
            sandbox_report = self.sandbox.probe()
            self.sandbox.prepare(self.work_dir)
        t0 = time.monotonic()
        report = self.preload(list(config.get("preload") or []))
        self.find_rng_holders()
        gc.collect()
        gc.freeze()
        write_frame(
            self.event_fd,
            {
                "type": "ready",
                "pid": host_pid,
                "keeper_pid": self.keeper_pid,
                "python": sys.version.split()[0],
                "executable": sys.executable,
                "preload": report,
                "preload_s": round(time.monotonic() - t0, 3),
                "threads": thread_count(),
                "sandbox": sandbox_report,
            },
        )
        while True:
            msg = read_frame(self.cmd_fd)
            if msg is None:
                return
            if not isinstance(msg, dict):
                raise ProtocolError(f"unexpected frame {msg!r:.200}")
            if msg.get("type") == "run":
                write_frame(self.event_fd, self.run_sample(msg))
            elif msg.get("type") == "abort":
                pass  # its sample ended before the abort arrived
            elif msg.get("type") == "ping":
                write_frame(self.event_fd, {"type": "pong", "pid": self.pid})
            else:
                raise ProtocolError(f"unknown message type {msg.get('type')!r}")

    # -- one sample -------------------------------------------------------------------------
    def run_sample(self, job: dict) -> dict:
        # Every bcb path component is made of [a-z0-9_], like the official ``/tmp/tmpXXXXXXXX``:
        # tests split paths on "-" and other delimiters (task 1127 fails under "s-xxxx").
        root = tempfile.mkdtemp(prefix="s", dir=self.work_dir)
        rfd, wfd = os.pipe()
        cgroups = self.job_cgroups = self.sandbox.job_cgroups() if self.sandbox is not None else None
        joined_r, joined_w = os.pipe() if cgroups is not None and cgroups.dirs else (-1, -1)
        gc.freeze()
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child
            try:
                os.close(rfd)
                ctx = SampleContext(self, job, root, wfd)
                if joined_w >= 0:
                    os.close(joined_w)
                    ctx.cgroups_fd = joined_r
                child_main(ctx)
            finally:
                os._exit(70)
        os.close(wfd)
        if joined_w >= 0:
            os.close(joined_r)
            self._join_job_cgroups(cgroups, pid, joined_w)
        try:
            outcome = self._watch(pid, rfd, t0 + float(job["kill_after"]), job.get("key"))
        finally:
            os.close(rfd)
        duration = outcome.pop("_t_end") - t0
        # Kill the sample's cgroup and process group, reap it, then everything re-parented to us.
        if cgroups is not None:
            cgroups.kill()
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        status, rusage = outcome.pop("_wait", (None, None))
        if status is None:  # not reaped yet, so the pid cannot have been reused
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if status is None:
            while True:
                try:
                    _, status, rusage = os.wait4(pid, 0)
                    break
                except InterruptedError:
                    continue
                except ChildProcessError:
                    break
        stray = kill_children(self.pid)
        cgroups_left = cgroups.remove() if cgroups is not None else []
        self.job_cgroups = None
        remove_tree(root)
        outcome.update(
            {
                "type": "result",
                "key": job.get("key"),
                "duration_s": round(duration, 6),
                "maxrss_kb": getattr(rusage, "ru_maxrss", None),
                "exit": describe_wait_status(status) if status is not None else None,
                "stray_processes": stray,
                "dir_left": os.path.exists(root),
                "cgroups_left": cgroups_left,
            }
        )
        return outcome

    def _join_job_cgroups(self, cgroups: Any, pid: int, answer_fd: int) -> None:
        """Move the child into its job cgroups while it sets itself up (the kernel may make the
        first move wait for an RCU grace period), then tell it: ``1``, or ``0`` and why. The
        child runs no code of the sample before it reads ``1``; a child already gone reads nothing."""
        try:
            self.sandbox.join_job_cgroups(cgroups, pid)
            answer = b"1"
        except OSError as exc:
            answer = b"0" + str(exc).encode()[:400]
        try:
            with contextlib.suppress(OSError):
                os.write(answer_fd, answer)
        finally:
            os.close(answer_fd)

    def _watch(self, pid: int, rfd: int, deadline: float, key: object = None) -> dict:
        """Wait for the child's report, its exit, the deadline or the parent's ``abort`` of this
        sample (its job was cancelled), whichever comes first. An abort ends the sample as the
        deadline does: ``run_sample`` kills its whole tree the same way."""
        frames = FrameBuffer()
        poller = select.poll()
        poller.register(rfd, select.POLLIN)
        poller.register(self.cmd_fd, select.POLLIN)  # the parent writes only an abort while a sample runs
        pidfd = -1
        with contextlib.suppress(AttributeError, OSError):
            pidfd = os.pidfd_open(pid)
        if pidfd >= 0:
            poller.register(pidfd, select.POLLIN)
        pipe_open = True
        exited: tuple | None = None
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return {"outcome": "deadline", "_t_end": time.monotonic()}
                wait_ms = remaining * 1000 if pidfd >= 0 else min(remaining, 0.02) * 1000
                try:
                    events = poller.poll(max(1, int(wait_ms)))
                except InterruptedError:
                    continue
                for fd, _ev in events:
                    if fd == rfd:
                        data = os.read(rfd, 1 << 20)
                        if data:
                            frames.feed(data)
                        else:
                            poller.unregister(rfd)
                            pipe_open = False
                    elif fd == pidfd:
                        exited = self._reap(pid)
                        poller.unregister(pidfd)
                    elif fd == self.cmd_fd:
                        msg = read_frame(self.cmd_fd)
                        if msg is None:  # the parent hung up: the sample runs on until the keeper stops us
                            poller.unregister(self.cmd_fd)
                        elif isinstance(msg, dict) and msg.get("type") == "abort" and msg.get("key") == key:
                            return {"outcome": "aborted", "_t_end": time.monotonic()}
                if pidfd < 0 and exited is None:
                    exited = self._reap(pid, block=False)
                try:
                    frame = frames.next_frame()
                except ProtocolError as exc:
                    return {
                        "outcome": "malformed",
                        "error": str(exc),
                        "_t_end": time.monotonic(),
                        **({"_wait": exited} if exited else {}),
                    }
                if frame is not None:
                    return self._from_child_frame(frame, exited)
                if exited is not None:
                    t_end = time.monotonic()
                    if pipe_open:  # collect what is already in the pipe, without waiting
                        os.set_blocking(rfd, False)
                        with contextlib.suppress(BlockingIOError, OSError):
                            while True:
                                data = os.read(rfd, 1 << 20)
                                if not data:
                                    break
                                frames.feed(data)
                    try:
                        frame = frames.next_frame()
                    except ProtocolError as exc:
                        return {"outcome": "malformed", "error": str(exc), "_t_end": t_end, "_wait": exited}
                    if frame is not None:
                        out = self._from_child_frame(frame, exited)
                        out["_t_end"] = t_end
                        return out
                    return {"outcome": "exited", "_t_end": t_end, "_wait": exited}
        finally:
            if pidfd >= 0:
                os.close(pidfd)

    @staticmethod
    def _reap(pid: int, block: bool = True) -> tuple | None:
        while True:
            try:
                wpid, status, rusage = os.wait4(pid, 0 if block else os.WNOHANG)
            except InterruptedError:
                continue
            except ChildProcessError:
                return None
            if wpid == 0:
                return None
            return (status, rusage)

    @staticmethod
    def _from_child_frame(frame: object, exited: tuple | None) -> dict:
        out: dict = {"_t_end": time.monotonic()}
        if exited is not None:
            out["_wait"] = exited
        if not isinstance(frame, dict):
            out.update({"outcome": "malformed", "error": "result frame is not an object"})
        elif frame.get("kind") == "setup_error":
            out.update({"outcome": "setup_error", "step": str(frame.get("step")), "error": str(frame.get("error"))})
        elif (
            frame.get("kind") == "result"
            and frame.get("stat") in ("success", "failed")
            and isinstance(frame.get("details"), dict)
        ):
            out.update(
                {
                    "outcome": "reported",
                    "stat": frame["stat"],
                    "details": {str(k): str(v) for k, v in frame["details"].items()},
                    "tests_run": frame.get("tests_run"),
                }
            )
            if "coverage" in frame:
                out["coverage"] = frame["coverage"]
        else:
            out.update({"outcome": "malformed", "error": "result frame lacks kind/stat/details"})
        return out


def _warm_pyplot() -> None:
    """Draw one figure with text so the backend and the default font are loaded in the zygote;
    otherwise every sample pays for it again."""
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.text(0.5, 0.5, "warm-up")
    fig.canvas.draw()
    plt.close(fig)


_WARMUPS = {"matplotlib.pyplot": _warm_pyplot}


_SANDBOX_MODULE: Any = None


def sandbox_module() -> Any:
    """``_sandbox.py`` from this file's directory, loaded by path (``-I`` keeps that directory
    off ``sys.path``; bcb is not installed in the task environment)."""
    global _SANDBOX_MODULE
    if _SANDBOX_MODULE is None:
        import importlib.util

        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_sandbox.py")
        spec = importlib.util.spec_from_file_location("_bcb_sandbox", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _SANDBOX_MODULE = module
    return _SANDBOX_MODULE


# ---------------------------------------------------------------------------------------------
# The keeper


#: What the parent writes on the lifeline when it stops a worker on purpose (EOF alone: it died).
STOP_BYTE = b"q"


def keeper_main(
    cmd_fd: int, event_fd: int, lifeline_fd: int, work_dir: str = "", log_path: str = "", namespaces: bool = False
) -> int:
    """Fork the zygote, wait for it to end, then kill what is left and remove the worker's
    directory (samples' directories survive a zygote killed mid-sample). If the executor itself
    died (the keeper was re-parented), the log goes too, and the executor's directory once that
    leaves it empty: an executor killed without ``close()`` leaves nothing behind.

    With ``namespaces`` (a sandboxed worker), the keeper and everything it starts are
    non-dumpable, and the zygote starts as init of its own PID namespace (inside a user namespace
    when bcb is not root) where the machine allows it."""
    set_child_subreaper()
    keeper_pid = os.getpid()
    parent_pid = os.getppid()
    worker_ns: dict = {}
    if namespaces:
        sandbox = sandbox_module()
        worker_ns = sandbox.enter_worker_namespaces()
        sandbox.set_dumpable(False)  # after: a non-dumpable process cannot write its own uid_map
    zygote_pid = os.fork()
    if zygote_pid == 0:
        code = 1
        try:
            os.close(lifeline_fd)
            set_parent_death_signal(signal.SIGKILL)
            if os.getppid() not in (keeper_pid, 0):  # 0: init of a new PID namespace has no parent in it
                os._exit(1)
            Zygote(cmd_fd, event_fd, worker_ns=worker_ns, keeper_pid=keeper_pid).main()
            code = 0
        except BaseException as exc:
            with contextlib.suppress(BaseException):
                sys.stderr.write(f"bcb zygote: {type(exc).__name__}: {exc}\n")
                sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(cmd_fd)
    os.close(event_fd)
    poller = select.poll()
    poller.register(lifeline_fd, select.POLLIN | select.POLLHUP)
    # Wake up the moment the zygote ends (a pidfd becomes readable), not at the next poll tick:
    # closing an executor waits for its keepers.
    with contextlib.suppress(AttributeError, OSError):
        poller.register(os.pidfd_open(zygote_pid), select.POLLIN)
    zygote_alive = True
    parent_died = False
    while zygote_alive:
        try:
            events = poller.poll(200)
        except InterruptedError:
            continue
        if any(fd == lifeline_fd for fd, _ in events):  # the parent closed the lifeline or died
            with contextlib.suppress(OSError):
                parent_died = os.read(lifeline_fd, 1) != STOP_BYTE
            with contextlib.suppress(OSError):
                os.kill(zygote_pid, signal.SIGKILL)
            poller.unregister(lifeline_fd)
        while True:  # reap whatever ended: the zygote, or orphans while it is gone
            try:
                wpid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                zygote_alive = False
                break
            if wpid == 0:
                break
            if wpid == zygote_pid:
                zygote_alive = False
    kill_children(keeper_pid)
    with contextlib.suppress(Exception):
        sandbox_module().remove_leftover_cgroups(zygote_pid, parent_pid, os.getppid() != parent_pid)
    if work_dir:
        remove_tree(work_dir)
    if parent_died or os.getppid() != parent_pid:
        # The executor died without close(): the lifeline closes before the kernel re-parents us,
        # so wait for that (or give up after a second) before cleaning up after the executor.
        end = time.monotonic() + 1.0
        while os.getppid() == parent_pid and time.monotonic() < end:
            time.sleep(0.01)
    if os.getppid() != parent_pid and log_path:  # re-parented: the executor died without close()
        with contextlib.suppress(OSError):
            os.unlink(log_path)
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(log_path))  # only succeeds once the executor's dir is empty
    return 0


def _main(argv: list[str]) -> int:
    if len(argv) not in (4, 6, 7):
        sys.stderr.write(
            "usage: python -I _zygote.py CMD_FD EVENT_FD LIFELINE_FD [WORK_DIR LOG_PATH [sandbox|plain]]\n"
        )
        return 2
    cmd_fd, event_fd, lifeline_fd = (int(x) for x in argv[1:4])
    work_dir, log_path = (argv[4], argv[5]) if len(argv) >= 6 else ("", "")
    namespaces = len(argv) == 7 and argv[6] == "sandbox"
    # Library chatter at import time must not reach the parent's terminal or the protocol.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    del sys.argv[1:]
    return keeper_main(cmd_fd, event_fd, lifeline_fd, work_dir, log_path, namespaces)


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
