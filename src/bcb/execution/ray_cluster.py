"""A throwaway multi-node Ray cluster on this machine, for tests, benchmarks and trying ``--executor ray``.

Each node is its own ``ray start`` with its own CPU count and its own loopback address
(127.0.0.2 for the head, 127.0.0.3, ... for the others): Ray turns ``127.0.0.1`` and
``localhost`` into the machine's outward address, so only other 127.x addresses keep every
connection on loopback. All nodes share one short temporary directory (Ray's socket paths must
fit in 107 bytes, so a pytest ``tmp_path`` is too long).

Stopping never uses ``ray stop``, which kills every Ray process on the machine, other people's
clusters included: each ``ray start`` runs in a process group of its own that its daemons inherit,
and :meth:`LocalRayCluster.stop` signals exactly those groups.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LocalRayCluster", "RayNode"]

#: Faster failure detection than Ray's defaults (a node is declared dead after ~3 s instead of
#: ~30 s), so a test that kills a node does not wait half a minute for Ray to notice.
FAST_HEALTH_CHECKS: dict[str, str] = {
    "RAY_health_check_initial_delay_ms": "1000",
    "RAY_health_check_period_ms": "1000",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "3",
}


@dataclass(frozen=True)
class RayNode:
    """One ``ray start`` of this cluster: its address, CPUs and the process group its daemons share."""

    address: str
    cpus: int
    pgid: int
    head: bool


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _live_processes() -> Iterator[tuple[int, list[str]]]:
    """Each live process (zombies excluded) with the fields of its /proc stat after the name:
    state, parent, process group, ..."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields and fields[0] != "Z":
            yield int(entry), fields


def _group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid``."""
    return [pid for pid, fields in _live_processes() if int(fields[2]) == pgid]


def _descendants(roots: list[int]) -> list[int]:
    """Every live process below ``roots`` (Ray's worker processes leave their parent's group)."""
    children: dict[int, list[int]] = {}
    for pid, fields in _live_processes():
        children.setdefault(int(fields[1]), []).append(pid)
    found: list[int] = []
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.append(child)
                todo.append(child)
    return found


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks: with the pid, it names one process, not a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 2 :].split()[19])


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


class LocalRayCluster:
    """Start with :meth:`start_head`, add nodes with :meth:`add_node`, always :meth:`stop` (or use
    ``with``). ``ray`` is the ``ray`` command (default: the one beside this interpreter)."""

    def __init__(
        self,
        *,
        object_store_mb: int = 200,
        ray: str | None = None,
        fast_failure_detection: bool = True,
        env: dict[str, str] | None = None,
        log_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.object_store_mb = object_store_mb
        self.ray = ray or str(Path(sys.executable).with_name("ray"))
        if not os.path.exists(self.ray):
            self.ray = shutil.which("ray") or self.ray
        self.env = dict(os.environ)
        self.env["RAY_USAGE_STATS_ENABLED"] = "0"
        if fast_failure_detection:
            self.env.update(FAST_HEALTH_CHECKS)
        if env:
            self.env.update(env)
        self.temp_dir = Path(tempfile.mkdtemp(prefix="bcbray", dir="/tmp"))
        self.log_dir = Path(log_dir) if log_dir else self.temp_dir
        self.nodes: list[RayNode] = []
        self.gcs_port: int | None = None

    def __enter__(self) -> LocalRayCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """What ``--ray-address`` / ``ray.init(address=...)`` take."""
        if self.gcs_port is None:
            raise RuntimeError("the head is not started")
        return f"127.0.0.2:{self.gcs_port}"

    def start_head(self, cpus: int = 0) -> RayNode:
        """The head (GCS and a raylet); ``cpus=0`` keeps samples off it."""
        ip = "127.0.0.2"
        self.gcs_port = _free_port(ip)
        return self._start(
            ip,
            cpus,
            head=True,
            extra=["--head", f"--port={self.gcs_port}", "--include-dashboard=false"],
        )

    def add_node(self, cpus: int = 1) -> RayNode:
        """One more node joining the head, with its own address and ``cpus`` CPUs."""
        ip = f"127.0.0.{len(self.nodes) + 2}"
        return self._start(ip, cpus, head=False, extra=[f"--address={self.address}"])

    def _start(self, ip: str, cpus: int, *, head: bool, extra: list[str]) -> RayNode:
        argv = [
            self.ray,
            "start",
            *extra,
            f"--node-ip-address={ip}",
            f"--num-cpus={cpus}",
            "--num-gpus=0",
            f"--object-store-memory={self.object_store_mb * 1_000_000}",
            f"--temp-dir={self.temp_dir}",
            f"--dashboard-agent-listen-port={_free_port(ip)}",
            "--disable-usage-stats",
        ]
        log = self.log_dir / f"ray-start-{ip}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
            node = RayNode(ip, cpus, proc.pid, head)
            self.nodes.append(node)  # recorded first: stop() must find it even if the start fails
            try:
                code = proc.wait(timeout=180)
            except subprocess.TimeoutExpired:
                code = None
        if code != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(
                f"`ray start` for {ip} failed ({'timed out' if code is None else f'exit {code}'}):\n{tail}"
            )
        return node

    def raylet_pid(self, node: RayNode) -> int | None:
        for pid in _group_members(node.pgid):
            argv = _cmdline(pid)
            if argv and os.path.basename(argv[0]) == "raylet":
                return pid
        return None

    def kill_raylet(self, node: RayNode) -> int:
        """SIGKILL the node's raylet (a node failure as Ray sees one); returns its pid."""
        pid = self.raylet_pid(node)
        if pid is None:
            raise RuntimeError(f"no raylet found for node {node.address}")
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self, grace_s: float = 3.0) -> None:
        """End every process the ``ray start`` commands of this cluster started (their process
        groups and whatever those processes started), then remove the cluster's files."""
        members = [pid for node in self.nodes for pid in _group_members(node.pgid)]
        below = [(pid, _start_time(pid)) for pid in _descendants(members) if pid not in members]
        for node in sorted(self.nodes, key=lambda n: n.head):  # the head (GCS) last
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(node.pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(_group_members(n.pgid) for n in self.nodes):
            time.sleep(0.1)
        for node in self.nodes:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(node.pgid, signal.SIGKILL)
        for pid, started in below:  # Ray's workers: they normally exit with their raylet
            if started is not None and _start_time(pid) == started:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(_group_members(n.pgid) for n in self.nodes):
            time.sleep(0.1)
        self.nodes.clear()
        shutil.rmtree(self.temp_dir, ignore_errors=True)
