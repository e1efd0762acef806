"""The parent's handle on one worker: a keeper process and its zygote (see ``_zygote.py``).

The handle owns three pipes: commands to the zygote, events from it, and a lifeline the keeper
watches (its EOF means the parent is gone). A worker that dies is detected as EOF on the event
pipe; one that hangs is detected by a backstop deadline well past the sample's own. Either way the
handle is discarded and the executor starts a new one.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bcb.execution import _zygote

ZYGOTE_PATH = Path(_zygote.__file__).resolve()


class WorkerError(RuntimeError):
    """A worker could not be started or stopped answering."""


class WorkerDied(WorkerError):
    """The zygote ended (or stopped answering) while it was running a sample."""


class WorkerProcess:
    """One keeper + zygote pair. Not thread-safe: one executor thread drives one worker (only
    :meth:`abort` may be called from another thread)."""

    def __init__(self, python: str, config: dict[str, Any], env: dict[str, str], log_path: Path) -> None:
        self.python = python
        self.config = config
        self.env = env
        self.log_path = log_path
        self.ready: dict[str, Any] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._cmd_w = -1
        self._evt_r = -1
        self._life_w = -1
        self._frames = _zygote.FrameBuffer()
        self._send_lock = threading.Lock()  # an abort from another thread never splits a run frame

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, timeout: float) -> dict[str, Any]:
        """Start the keeper, send the config, wait for the zygote's ``ready`` (after its preload)."""
        cmd_r, cmd_w = os.pipe()
        evt_r, evt_w = os.pipe()
        life_r, life_w = os.pipe()
        child_fds = (cmd_r, evt_w, life_r)
        try:
            with open(self.log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    [
                        self.python,
                        "-I",
                        str(ZYGOTE_PATH),
                        str(cmd_r),
                        str(evt_w),
                        str(life_r),
                        self.config["work_dir"],
                        str(self.log_path),
                        "sandbox" if (self.config.get("sandbox") or {}).get("enabled") else "plain",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    pass_fds=child_fds,
                    env=self.env,
                    cwd=self.config["work_dir"],
                    start_new_session=True,
                    close_fds=True,
                )
        except BaseException:
            for fd in (*child_fds, cmd_w, evt_r, life_w):
                os.close(fd)
            raise
        for fd in child_fds:
            os.close(fd)
        self._cmd_w, self._evt_r, self._life_w = cmd_w, evt_r, life_w
        try:
            _zygote.write_frame(self._cmd_w, self.config)
            msg = self._read_event(time.monotonic() + timeout)
        except (WorkerDied, OSError) as exc:
            tail = self._log_tail()  # before kill(): the keeper removes the log once we hang up
            self.kill()
            raise WorkerError(f"worker did not start: {exc}{tail}") from None
        if msg.get("type") != "ready":
            tail = self._log_tail()
            self.kill()
            raise WorkerError(f"worker sent {msg.get('type')!r} instead of 'ready'{tail}")
        self.ready = msg
        return msg

    @property
    def zygote_pid(self) -> int | None:
        return self.ready.get("pid")

    @property
    def keeper_pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._evt_r >= 0

    def execute(self, message: dict[str, Any], backstop_s: float) -> dict[str, Any]:
        """Send one ``run`` message and return the zygote's ``result``.

        Raises :class:`WorkerDied` if the zygote dies or has not answered ``backstop_s`` seconds
        after the request (the zygote enforces the sample's own deadline; this only catches a
        zygote that is itself stuck).
        """
        if not self.alive():
            raise WorkerDied("worker is not running")
        try:
            with self._send_lock:
                _zygote.write_frame(self._cmd_w, message)
        except OSError as exc:
            raise WorkerDied(f"cannot send to the zygote: {exc}") from None
        msg = self._read_event(time.monotonic() + backstop_s)
        if msg.get("type") != "result" or msg.get("key") != message.get("key"):
            raise WorkerDied(f"unexpected answer from the zygote: {str(msg)[:200]}")
        return msg

    def abort(self, key: str) -> None:
        """Ask the zygote to end the running sample ``key`` now (killed as at its deadline; the
        driving thread's :meth:`execute` then returns ``"outcome": "aborted"``). Harmless when that
        sample has already ended: the zygote ignores an abort for a sample it is not running."""
        with self._send_lock:
            if self._cmd_w >= 0:
                with contextlib.suppress(OSError):
                    _zygote.write_frame(self._cmd_w, {"type": "abort", "key": key})

    def request_stop(self) -> None:
        """Ask the worker to stop (EOF on its command pipe, the stop byte and EOF on its lifeline)
        without waiting. A lifeline closed without the stop byte tells the keeper that bcb died."""
        if self._life_w >= 0:
            with contextlib.suppress(OSError):
                os.write(self._life_w, _zygote.STOP_BYTE)
        with self._send_lock:
            for attr in ("_cmd_w", "_life_w"):
                fd = getattr(self, attr)
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
                    setattr(self, attr, -1)

    def close(self, timeout: float = 10.0) -> None:
        """Ask the worker to stop, then make sure it did."""
        self.request_stop()
        if self._proc is not None:
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_evt()

    def kill(self) -> None:
        """Kill the zygote (the keeper then kills whatever it left) and then the keeper."""
        zpid = self.zygote_pid
        if zpid and self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(OSError):
                os.kill(zpid, signal.SIGKILL)
        self.request_stop()
        if self._proc is not None:
            try:
                self._proc.wait(5.0)  # the keeper cleans up after the zygote, then exits
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._close_evt()

    # -- internals --------------------------------------------------------------------------------
    def _close_evt(self) -> None:
        if self._evt_r >= 0:
            with contextlib.suppress(OSError):
                os.close(self._evt_r)
            self._evt_r = -1

    def _read_event(self, deadline: float) -> dict[str, Any]:
        while True:
            try:
                frame = self._frames.next_frame()
            except _zygote.ProtocolError as exc:
                raise WorkerDied(f"garbled message from the zygote: {exc}") from None
            if frame is not None:
                if not isinstance(frame, dict):
                    raise WorkerDied(f"garbled message from the zygote: {str(frame)[:200]}")
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerDied("the zygote did not answer in time")
            poller = select.poll()
            poller.register(self._evt_r, select.POLLIN)
            try:
                if not poller.poll(int(min(remaining, 3600.0) * 1000) + 1):
                    continue
            except InterruptedError:
                continue
            data = os.read(self._evt_r, 1 << 20)
            if not data:
                code = self._proc.poll() if self._proc else None
                raise WorkerDied("the zygote exited" + (f" (keeper exit status {code})" if code is not None else ""))
            self._frames.feed(data)

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        tail = "\n".join(text.strip().splitlines()[-lines:])
        return f"\n--- worker log ({self.log_path}) ---\n{tail}" if tail else ""
