"""Executors: run many :class:`~bcb.execution.jobs.Job`\\ s, yield their verdicts as they complete.

:class:`LocalExecutor` runs pre-warmed workers on this machine. Each worker is a zygote process
(under the task environment's interpreter) that has already imported the heavy libraries and forks
a fresh child per sample, so a sample starts in milliseconds instead of the ~1-2 s a new
interpreter spends importing pandas, matplotlib or sklearn. The parent side here only schedules:
one thread per worker takes the longest-expected job left, sends it, waits for the verdict, and
replaces the worker if it dies (re-running its sample; after ``max_attempts`` deaths on the same
sample the sample is recorded as ``fail``, never dropped).
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcb.execution._sandbox import set_dumpable
from bcb.execution.child_env import DEFAULT_ENV_ALLOW, build_child_env, data_read_paths
from bcb.execution.jobs import ExecutionResult, Job
from bcb.execution.limits import Limits, kill_after
from bcb.execution.preload import DEFAULT_PRELOAD, preload_modules
from bcb.execution.sandbox import ExecutorCgroup, SandboxOptions
from bcb.execution.scheduling import longest_first
from bcb.execution.verdict import verdict_from_report
from bcb.execution.worker import WorkerDied, WorkerError, WorkerProcess

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["ExecutorError", "LocalExecutor", "preload_modules", "resolve_python"]

DEFAULT_LIMITS = Limits()

#: Default cap on what a sample's Python-level stdout/stderr keeps (the rest is dropped).
DEFAULT_OUTPUT_CAP = 64 * 1024


class ExecutorError(RuntimeError):
    """The executor cannot run samples at all (e.g. no worker starts in this environment)."""


def resolve_python(python: str) -> str:
    """The interpreter's real executable, by absolute path.

    Asking the interpreter itself skips launchers such as the pyenv shim (~110 ms per exec),
    while keeping a virtual environment's own ``bin/python`` (resolving symlinks would lose it).
    """
    candidate = python if os.path.isabs(python) else (shutil.which(python) or python)
    try:
        out = subprocess.run(
            [candidate, "-I", "-c", "import sys; print(sys.executable)"],
            env=build_child_env(candidate),  # the task environment's code never sees bcb's keys
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ExecutorError(f"cannot run the task interpreter {python!r}: {exc}") from None
    real = out.stdout.strip()
    return real if real and os.path.isabs(real) else os.path.abspath(candidate)


def _default_mpl_cache() -> Path:
    base = os.environ.get("BCB_CACHE_DIR")
    if not base:
        import platformdirs

        base = platformdirs.user_cache_dir("bcb")
    return Path(base) / "matplotlib"


def _default_work_parent() -> Path | None:
    """Outside /tmp when possible, so the sandbox can give every sample a private, empty /tmp
    (a mount over /tmp would hide a sample directory that lives under it)."""
    candidate = Path("/var/tmp")
    return candidate if candidate.is_dir() and os.access(candidate, os.W_OK) else None


#: An executor's work directory as :func:`tempfile.mkdtemp` names it (prefix "bcb").
_WORK_DIR_NAME = re.compile(r"bcb[a-z0-9_]{8}")


def hold_work_dir(path: Path) -> int:
    """Lock ``path`` for as long as the returned descriptor is open: the kernel drops the lock
    when the executor's process dies, however it dies (a lock on the directory itself, so the
    keepers' "remove it once empty" still works)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


def sweep_orphaned_work_dirs(parent: Path, min_age_s: float = 60.0) -> list[Path]:
    """Remove work directories of executors that died without ``close()`` and whose keepers died
    with them (a Ray worker killed with its process group): bcb-named directories directly under
    ``parent``, older than ``min_age_s`` (one being set up is not locked yet), whose lock nobody
    holds. Returns what was removed."""
    removed: list[Path] = []
    now = time.time()
    for path in parent.iterdir() if parent.is_dir() else ():
        if not _WORK_DIR_NAME.fullmatch(path.name):
            continue
        try:
            if not path.is_dir() or path.is_symlink() or now - path.stat().st_mtime < min_age_s:
                continue
            fd = hold_work_dir(path)
        except OSError:
            continue  # locked: its executor is alive
        try:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class LocalExecutor:
    """Pre-warmed, supervised workers on this machine. Use as a context manager.

    ``python`` is the task environment's interpreter (bcb need not be installed there);
    ``preload`` the modules each worker imports before forking (see
    :func:`~bcb.execution.preload.preload_modules`; import failures are tolerated and listed in
    :attr:`preload_report`); ``limits`` the per-sample rlimits. ``env_allow`` lists the harness
    variables a sample may see (``LC_*`` style prefixes allowed) and ``extra_env`` adds fixed ones.
    ``backstop_s`` is how long past a sample's own kill deadline the parent waits for its zygote
    before declaring the worker dead.
    """

    def __init__(
        self,
        python: str = sys.executable,
        workers: int = 2,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        limits: Limits = DEFAULT_LIMITS,
        *,
        output_cap: int = DEFAULT_OUTPUT_CAP,
        env_allow: Iterable[str] = DEFAULT_ENV_ALLOW,
        extra_env: Mapping[str, str] | None = None,
        work_dir: str | os.PathLike[str] | None = None,
        mpl_cache_dir: str | os.PathLike[str] | None = None,
        start_timeout: float = 600.0,
        backstop_s: float = 60.0,
        max_attempts: int = 3,
        sandbox: SandboxOptions | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        self.python = resolve_python(python)
        self.workers = workers
        self.preload = list(preload)
        self.limits = limits
        self.output_cap = output_cap
        self.child_env = build_child_env(self.python, allow=env_allow, extra=extra_env)
        self.mpl_cache_dir = Path(mpl_cache_dir) if mpl_cache_dir else _default_mpl_cache()
        self.start_timeout = start_timeout
        self.backstop_s = backstop_s
        self.max_attempts = max_attempts
        #: The hardening layers (see ``_sandbox.py``); :attr:`sandbox_report` says which are on.
        self.sandbox = sandbox if sandbox is not None else SandboxOptions()
        data = [p for p in data_read_paths(self.child_env) if p not in self.sandbox.read_paths]
        if data:
            self.sandbox = dataclasses.replace(self.sandbox, read_paths=(*self.sandbox.read_paths, *data))
        self.sandbox_report: dict[str, Any] = {}
        self._cgroup: ExecutorCgroup | None = None
        self._parent_dir = Path(work_dir) if work_dir else None
        self._work_dir: Path | None = None
        self._work_dir_lock = -1
        self._slots: list[WorkerProcess | None] = [None] * workers
        self._excluded: set[str] = set()
        self._spawned = 0
        self._lock = threading.Lock()
        self._running = False
        self._closed = False
        #: The first worker's ``ready`` report: interpreter, imported and failed preload modules,
        #: modules that started threads (and were then dropped), import seconds.
        self.preload_report: dict[str, Any] = {}

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start every worker (in parallel: each spends seconds importing its preload)."""
        if self._closed:
            raise ExecutorError("executor is closed")
        if self._work_dir is None:
            parent = self._parent_dir or _default_work_parent()
            if parent is not None:
                parent.mkdir(parents=True, exist_ok=True)
            if parent is not None:
                sweep_orphaned_work_dirs(parent)
            # No "-" in the name: samples see it in their cwd (see _zygote.Zygote.run_sample).
            self._work_dir = Path(tempfile.mkdtemp(prefix="bcb", dir=parent))
            self._work_dir_lock = hold_work_dir(self._work_dir)
            self.mpl_cache_dir.mkdir(parents=True, exist_ok=True)
            if self.sandbox.enabled and self._cgroup is None:
                self._cgroup = ExecutorCgroup.create(self.sandbox.total_memory_mb())
            if self.sandbox.enabled:
                # This process holds the keys and the results: its /proc files (environ, mem)
                # become root's, unreadable by samples running as the same user.
                set_dumpable(False)
        missing = [i for i, w in enumerate(self._slots) if w is None or not w.alive()]
        errors: list[BaseException] = []

        def start_slot(i: int) -> None:
            try:
                self._slots[i] = self._start_worker(i)
            except BaseException as exc:  # noqa: BLE001 - reported to the caller below
                errors.append(exc)

        threads = [threading.Thread(target=start_slot, args=(i,), daemon=True) for i in missing]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            if not any(w is not None and w.alive() for w in self._slots):
                self.close()  # a refused or failed start leaves nothing behind (work dir, cgroup)
            raise ExecutorError(str(errors[0])) from errors[0]

    def close(self) -> None:
        """Stop the workers (killing any sample still running) and remove the work directory."""
        if self._closed:
            return
        self._closed = True
        for worker in self._slots:  # all at once: each zygote then exits while the next is awaited
            if worker is not None:
                worker.request_stop()
        for i, worker in enumerate(self._slots):
            if worker is not None:
                worker.close()
                self._slots[i] = None
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None
        if self._work_dir_lock >= 0:
            os.close(self._work_dir_lock)
            self._work_dir_lock = -1
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None

    def worker_pids(self) -> list[int]:
        """The zygotes' pids (for supervision tests and diagnostics)."""
        return [w.zygote_pid for w in self._slots if w is not None and w.zygote_pid]

    @property
    def work_dir(self) -> Path | None:
        return self._work_dir

    # -- running ----------------------------------------------------------------------------------
    def run(
        self,
        jobs: Iterable[Job],
        on_result: Callable[[ExecutionResult], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[ExecutionResult]:
        """Judge ``jobs``; yield each result as it completes (and pass it to ``on_result``).

        Jobs start longest planned time first (:mod:`bcb.execution.scheduling`; ties in the given
        order), so the slowest samples do not trail at the end. Stopping the iteration early kills the samples in flight.
        Setting ``cancel`` ends the run early without that cost: the samples in flight are killed
        as at their deadline (their workers stay warm) and give no result, the rest never start;
        results finished before are still yielded.
        """
        todo = list(jobs)
        if not todo or (cancel is not None and cancel.is_set()):
            return
        with self._lock:
            if self._running:
                raise ExecutorError("run() is already in progress on this executor")
            self._running = True
        try:
            yield from self._run(todo, on_result, cancel)
        finally:
            with self._lock:
                self._running = False

    def _run(
        self,
        todo: list[Job],
        on_result: Callable[[ExecutionResult], None] | None,
        cancel: threading.Event | None = None,
    ) -> Iterator[ExecutionResult]:
        self.start()
        order = longest_first(todo)
        pending = deque(todo[i] for i in order)
        pending_lock = threading.Lock()
        results: queue.Queue[ExecutionResult | _Failure] = queue.Queue()
        stop = threading.Event()
        in_flight: dict[int, Job] = {}

        def drive(slot: int) -> None:
            try:
                while not stop.is_set():
                    with pending_lock:
                        if not pending:
                            return
                        job = pending.popleft()
                        in_flight[slot] = job
                    result = self._execute(slot, job, stop)
                    with pending_lock:
                        in_flight.pop(slot, None)
                    if result is not None:
                        results.put(result)
            except BaseException as exc:  # noqa: BLE001 - surfaced by run()
                stop.set()
                results.put(_Failure(exc))

        threads = [
            threading.Thread(target=drive, args=(i,), name=f"bcb-worker-{i}", daemon=True) for i in range(self.workers)
        ]
        for t in threads:
            t.start()
        delivered = 0
        aborted = False
        try:
            while delivered < len(todo):
                if cancel is None:
                    item = results.get()
                else:
                    try:
                        item = results.get(timeout=0.05)
                    except queue.Empty:
                        if cancel.is_set():
                            stop.set()
                            aborted = self._abort(threads, in_flight, pending_lock)
                            break
                        continue
                if isinstance(item, _Failure):
                    raise ExecutorError(f"execution stopped: {item.exc}") from item.exc
                delivered += 1
                if on_result is not None:
                    on_result(item)
                yield item
            while aborted:  # what finished while the others were being stopped
                try:
                    left = results.get_nowait()
                except queue.Empty:
                    break
                if isinstance(left, ExecutionResult):
                    delivered += 1
                    if on_result is not None:
                        on_result(left)
                    yield left
        finally:
            if delivered < len(todo) and not aborted:
                stop.set()
                with pending_lock:
                    busy = list(in_flight)
                for slot in busy:  # unblock the threads waiting on those samples
                    worker = self._slots[slot]
                    if worker is not None:
                        worker.kill()
            for t in threads:
                t.join()

    def _abort(self, threads: list[threading.Thread], in_flight: dict[int, Job], lock: threading.Lock) -> bool:
        """Abort the samples in flight through their zygotes and wait for their threads (``stop``
        is set). The abort is sent again until each thread is done, so a sample sent just after a
        first abort is stopped too. Returns False when the zygotes did not answer in time (the
        caller then kills those workers, the way a stopped iteration does)."""
        give_up = time.monotonic() + 10.0
        while time.monotonic() < give_up:
            with lock:
                busy = dict(in_flight)
            for slot, job in busy.items():
                worker = self._slots[slot]
                if worker is not None:
                    worker.abort(job.key)
            alive = [t for t in threads if t.is_alive()]
            if not alive:
                return True
            alive[0].join(0.1)
        return False

    def _execute(self, slot: int, job: Job, stop: threading.Event) -> ExecutionResult | None:
        deadline = kill_after(job.time_limit)
        message = {
            "type": "run",
            "key": job.key,
            "solution": job.solution,
            "test": job.test,
            "time_limit": job.time_limit,
            "kill_after": deadline,
            "limits": self.limits.to_wire(),
        }
        if job.coverage:
            message["coverage"] = True
        problems: list[str] = []
        attempts = 0
        while True:
            if stop.is_set():
                return None
            attempts += 1
            worker = self._slots[slot]
            if worker is None or not worker.alive():
                worker = self._slots[slot] = self._start_worker(slot)
            try:
                report = worker.execute(message, backstop_s=deadline + self.backstop_s)
            except WorkerDied as exc:
                worker.kill()
                self._slots[slot] = None
                if stop.is_set():
                    return None
                problems.append(f"worker died ({exc})")
                if attempts >= self.max_attempts:
                    return self._infrastructure_failure(
                        job, attempts, f"worker died {attempts} times while running this sample; last: {exc}", problems
                    )
                continue
            if report.get("outcome") == "aborted":
                return None
            if report.get("outcome") == "setup_error":
                problems.append(f"sandbox set-up failed at {report.get('step')}: {report.get('error')}")
                if attempts >= self.max_attempts:
                    return self._infrastructure_failure(job, attempts, problems[-1], problems)
                continue
            status, details, note = verdict_from_report(report, deadline)
            extra = []
            if problems:
                extra.append("re-run after: " + "; ".join(problems))
            if report.get("stray_processes"):
                extra.append(f"killed {report['stray_processes']} process(es) the sample left behind")
            if report.get("cgroups_left"):
                extra.append(f"job cgroups not removed: {report['cgroups_left']}")
            if report.get("dir_left"):
                extra.append("the sample's directory could not be fully removed")
            note = "; ".join([n for n in (note, *extra) if n])
            maxrss = report.get("maxrss_kb")
            return ExecutionResult(
                key=job.key,
                task_id=job.task_id,
                status=status,
                details=details,
                duration_s=float(report.get("duration_s") or 0.0),
                peak_rss_mb=round(maxrss / 1024, 1) if isinstance(maxrss, (int, float)) else None,
                tests_run=report.get("tests_run"),
                attempts=attempts,
                note=note,
                coverage=report.get("coverage"),
            )

    @staticmethod
    def _infrastructure_failure(job: Job, attempts: int, message: str, problems: list[str]) -> ExecutionResult:
        return ExecutionResult(
            key=job.key,
            task_id=job.task_id,
            status="fail",
            details={"ALL": message},
            duration_s=0.0,
            peak_rss_mb=None,
            tests_run=None,
            attempts=attempts,
            note="; ".join(problems),
        )

    # -- workers ----------------------------------------------------------------------------------
    def _start_worker(self, slot: int) -> WorkerProcess:
        if self._work_dir is None:
            raise ExecutorError("executor not started")
        last: BaseException | None = None
        for _ in range(3):
            try:
                worker = self._spawn(slot)
            except WorkerError as exc:
                last = exc
                continue
            starters = (worker.ready.get("preload") or {}).get("thread_starters") or {}
            if starters:
                # Fork is only safe with one thread: drop those modules and start again.
                with self._lock:
                    self._excluded.update(starters)
                worker.kill()
                last = WorkerError(f"preload modules started threads: {sorted(starters)}")
                continue
            with self._lock:
                if not self.sandbox_report:
                    report = dict(worker.ready.get("sandbox") or {"enabled": False})
                    problem = self.sandbox.refusal(report)
                    if problem:
                        worker.kill()
                        raise ExecutorError(problem)
                    self.sandbox_report = report
                if not self.preload_report:
                    self.preload_report = dict(worker.ready)
                    self.preload_report["excluded"] = sorted(self._excluded)
            return worker
        raise ExecutorError(f"worker {slot} could not be started: {last}")

    def _spawn(self, slot: int) -> WorkerProcess:
        assert self._work_dir is not None
        # A fresh directory per worker process: the keeper of a replaced worker may still be
        # removing its own when the new one starts.
        with self._lock:
            self._spawned += 1
            serial = self._spawned
        wdir = self._work_dir / f"w{slot}n{serial}"
        wdir.mkdir()
        (wdir / "home").mkdir(exist_ok=True)
        with self._lock:
            preload = [m for m in self.preload if m not in self._excluded]
        config = {
            "type": "config",
            "preload": preload,
            "output_cap": self.output_cap,
            "child_env": self.child_env,
            "work_dir": str(wdir),
            "sandbox": self.sandbox.to_wire(self.workers, self._cgroup.path if self._cgroup else None),
        }
        env = dict(self.child_env)
        env.update({"HOME": str(wdir / "home"), "TMPDIR": str(wdir), "MPLCONFIGDIR": str(self.mpl_cache_dir)})
        worker = WorkerProcess(self.python, config, env, self._work_dir / f"worker{slot}n{serial}.log")
        worker.start(self.start_timeout)
        return worker
