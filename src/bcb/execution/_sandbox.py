# mypy: disable-error-code="no-untyped-def,no-untyped-call,attr-defined"
"""Hardening layers for the zygote's per-sample child, stdlib only (loaded by path, like
``_zygote.py``, under the task environment's interpreter).

:data:`LAYERS` is the one table of layers: each is probed once when a worker starts (by doing it),
used only where the probe succeeded, and named in the report, ``bcb doctor``, the CLI's
``--disable-sandbox-layer`` and the run's manifest. :data:`GUARANTEES` says which layers give each
property a run needs; a worker whose layers give them all may run untrusted code.

Which layers work decides the **tier**:

- ``root``: bcb runs as root (cgroups for the tree kill and the memory and process caps, network,
  mount and PID namespaces);
- ``rootless``: a normal user where unprivileged user namespaces are allowed: each worker gets its
  own user and PID namespace (the keeper creates them, mapping the user to itself), so network and
  mount namespaces work as for root; RLIMIT_NPROC is the process cap (it binds a non-root user,
  and counts per user namespace, so per worker) and RLIMIT_AS the memory cap where no memory cgroup
  is delegated;
- ``no_namespaces``: containers whose seccomp profile forbids new namespaces: seccomp denies the
  Internet and packet sockets instead of a network namespace, RLIMIT_NPROC is the process cap
  (shared by the executor's samples), the zygote's subreaper kills the tree, and bcb's own
  processes are non-dumpable so samples cannot read their environment or memory.

Nothing here changes a verdict for an ordinary sample: a layer either is invisible to it or turns
a harmful action into an ordinary error.

Why one file of this size: the zygote loads it by path under the task environment's interpreter,
where bcb is not installed, so it cannot import siblings; the table, its probes and applies and the
cgroup helpers travel together as one stdlib-only file (whose bytes Ray nodes compare).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import ctypes
import ctypes.util
import errno
import os
import signal
import struct
import sys
import time

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1,
    2,
    4,
    8,
    32,
    4096,
    16384,
    1 << 18,
)
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
CAP_LAST = 40


class Layer:
    """One hardening layer, in one place. ``phase``: where it is applied (``worker``: once, by the
    keeper or the zygote; ``enter``: first thing in the sample's child, in table order; ``lock``:
    last before the sample's code, irreversible, in table order; ``check``: on the sample's
    report). ``what``: the one-line guarantee ``bcb doctor`` shows. ``probe``: the
    :class:`Sandbox` method that tries the layer once in the zygote's throw-away probe child
    (``None``: decided in the zygote itself, from cgroups, the worker's namespaces or the other
    layers). ``apply``: the method that sets it up for each sample (``None``: another step does,
    named in ``what``, or, for the job cgroups, the zygote: see :meth:`Sandbox.join_job_cgroups`).
    ``needs``: a layer that must be on for this one to be tried."""

    __slots__ = ("name", "phase", "what", "probe", "apply", "needs")

    def __init__(
        self, name: str, phase: str, what: str, probe: str | None = None, apply: str | None = None, needs: str = ""
    ) -> None:
        self.name, self.phase, self.what, self.probe, self.apply, self.needs = name, phase, what, probe, apply, needs


#: Every layer, in the order a sample meets it (the probe child tries them in this order too:
#: the mounts need the namespaces, and nothing can be mounted once capabilities are dropped).
LAYERS = (
    Layer(
        "pidns",
        "worker",
        "the worker has its own PID namespace and /proc: a sample sees no process of bcb or of the host",
    ),
    Layer("executor_memory_cap", "worker", "one memory cgroup bounds all samples of the run together"),
    Layer(
        "cgroup_kill",
        "enter",
        "a job cgroup kills the sample's whole tree at its end (cgroup.kill)",
    ),
    Layer("memory_cap", "enter", "a memory cgroup caps the sample's resident memory"),
    Layer(
        "pids_cap",
        "enter",
        "a pids cgroup caps the sample's processes and threads (binds root)",
    ),
    Layer(
        "nproc_cap",
        "enter",
        "RLIMIT_NPROC caps the sample's processes and threads (binds a normal user)",
        "_probe_nproc",
        "_enter_nproc_cap",
    ),
    Layer(
        "as_cap",
        "enter",
        "RLIMIT_AS caps the sample's address space at its share of RAM (no memory cgroup)",
        apply="_enter_as_cap",
    ),
    Layer(
        "netns", "enter", "a private network namespace: only the sample's own loopback", "_probe_netns", "_enter_netns"
    ),
    Layer(
        "private_shm",
        "enter",
        "a private mount and IPC namespace with its own /dev/shm",
        "_probe_private_shm",
        "_enter_private_shm",
    ),
    Layer(
        "private_tmp",
        "enter",
        "a private, empty /tmp (paths bcb needs under /tmp stay visible, read-only)",
        "_probe_private_tmp",
        "_enter_private_tmp",
        needs="private_shm",
    ),
    Layer(
        "disk_cap",
        "enter",
        "the sample's directory and /tmp are size-capped tmpfs: the host disk is never written",
        "_probe_disk_cap",
        "_enter_disk_cap",
        needs="private_shm",
    ),
    Layer(
        "drop_caps",
        "lock",
        "every capability is dropped: a root sample keeps uid 0 but not root's privileges (raw devices, ptrace, file permissions)",
        "_lock_drop_caps",
        "_lock_drop_caps",
    ),
    Layer(
        "landlock",
        "lock",
        "Landlock: the system read-only, writes only in the sample's own directories; no ptrace or /proc/PID/environ of processes outside",
        "_probe_landlock",
        "_lock_landlock",
    ),
    Layer(
        "landlock_scope",
        "lock",
        "Landlock scoping (part of the landlock step): no signals or abstract UNIX sockets to processes outside the sample",
    ),
    Layer(
        "socket_filter",
        "lock",
        "seccomp rules (part of the seccomp step): no UNIX, packet or vsock sockets (host services); no "
        "Internet sockets where no network namespace isolates them, no System V IPC where no IPC namespace does",
    ),
    Layer(
        "seccomp",
        "lock",
        "seccomp: ptrace, mount, unshare, bpf, io_uring, kexec, module loading... fail with EPERM",
        "_probe_seccomp",
        "_lock_seccomp",
    ),
    Layer("tamper", "check", "tamper evidence: a run whose test machinery was patched, or a forged report, is a fail"),
)

#: The layer names, in table order.
LAYER_NAMES = tuple(layer.name for layer in LAYERS)

#: What untrusted code needs (the parent refuses a worker that lacks one, unless ``--unsafe``):
#: name, label, and the way out when it is missing. :func:`guarantees` says which layers give each.
GUARANTEES = (
    (
        "no_network",
        "network isolation",
        "enable unprivileged user namespaces (sysctl user.max_user_namespaces > 0; "
        "kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu), or use a kernel with seccomp",
    ),
    ("tree_kill", "the whole process tree killed at the end", "run on Linux 3.4+ (child subreapers)"),
    (
        "process_cap",
        "a process cap",
        "run bcb as a normal user (RLIMIT_NPROC does not bind root), or as root where bcb may create a pids cgroup",
    ),
    ("memory_cap", "a memory cap", "keep --max-as-limit non-zero, or give bcb a memory cgroup"),
    (
        "confined_writes",
        "writes confined to the sample's own directories",
        "use a kernel with Landlock (Linux 5.13+, landlock in the lsm= list)",
    ),
    (
        "no_secrets",
        "no access to other processes' secrets",
        "enable unprivileged user namespaces, or use a kernel with Landlock",
    ),
)


def guarantees(layers: dict, allow_network: bool, subreaper: bool = True) -> dict[str, bool]:
    """Which of :data:`GUARANTEES` the working layers give (``allow_network``: the run asked for
    the network, so isolation is not required)."""
    return {
        "no_network": allow_network or bool(layers.get("netns") or layers.get("socket_filter_inet")),
        "tree_kill": bool(layers.get("cgroup_kill") or layers.get("pidns") or subreaper),
        "process_cap": bool(layers.get("pids_cap") or layers.get("nproc_cap")),
        "memory_cap": bool(layers.get("memory_cap") or layers.get("as_cap")),
        "confined_writes": bool(layers.get("landlock")),
        # Landlock keeps ptrace (and so /proc/PID/environ and mem) within the sample's domain,
        # unless the sample holds CAP_SYS_PTRACE: drop_caps removes every capability.
        "no_secrets": bool(layers.get("pidns") or (layers.get("landlock") and layers.get("drop_caps"))),
    }


def set_dumpable(on: bool) -> None:
    """A non-dumpable process's /proc files (environ, mem, fd...) belong to root and it cannot be
    ptraced by its own user: bcb's processes hold keys and the verdict channel."""
    _libc.prctl(PR_SET_DUMPABLE, 1 if on else 0, 0, 0, 0)


def enter_worker_namespaces() -> dict:
    """Run by the keeper before it forks the zygote: a new PID namespace for the zygote and its
    samples (the zygote becomes its init), inside a new user namespace when bcb is not root. The
    user is mapped to itself, so samples see the same uid as outside. Returns what was made and,
    when nothing could be, why (a container's seccomp profile, or user namespaces switched off)."""
    out: dict = {"userns": False, "pidns": False}
    if os.geteuid() == 0 and _libc.unshare(CLONE_NEWPID) == 0:
        out["pidns"] = True
        return out
    root_note = _err("unshare(CLONE_NEWPID)").strerror if os.geteuid() == 0 else ""
    uid, gid = os.geteuid(), os.getegid()
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0:
        out["note"] = "; ".join(
            x for x in (root_note, f"unshare(CLONE_NEWUSER|CLONE_NEWPID): {os.strerror(ctypes.get_errno())}") if x
        )
        return out
    try:
        with open("/proc/self/setgroups", "w") as fh:
            fh.write("deny")
        with open("/proc/self/uid_map", "w") as fh:
            fh.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as fh:
            fh.write(f"{gid} {gid} 1")
    except OSError as exc:
        # The namespaces exist but the user has no identity in them: samples could not even read
        # their own files. Report it; the zygote runs without namespace layers.
        out["note"] = f"user namespace id map: {exc}"
        out["broken"] = True
        return out
    out.update(userns=True, pidns=True)
    return out


def enter_worker_mount_namespace() -> str | None:
    """Run by the zygote as its PID namespace's init: its own mount namespace with a fresh /proc,
    so /proc lists only the worker's processes. Returns the zygote's pid as seen outside (the
    parent kills it by that pid), read from the old /proc before it is replaced."""
    host_pid = os.readlink("/proc/self")
    if _libc.unshare(CLONE_NEWNS) != 0:
        raise _err("unshare(CLONE_NEWNS)")
    if _libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise _err("mount --make-rprivate /")
    if _libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0:
        raise _err("mount proc")
    return host_pid


def count_user_tasks(uid: int) -> int:
    """Processes and threads of ``uid`` on this machine (what RLIMIT_NPROC counts outside a user
    namespace)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as fh:
                uid_ok = threads = 0
                for line in fh:
                    if line.startswith(b"Uid:"):
                        uid_ok = int(line.split()[1]) == uid
                    elif line.startswith(b"Threads:"):
                        threads = int(line.split()[1])
                        break
        except (OSError, ValueError, IndexError):
            continue
        if uid_ok:
            total += threads
    return total


def drop_capabilities() -> None:
    """Drop every capability from the effective, permitted and inheritable sets and the bounding
    set: a root sample keeps uid 0 (its verdicts are those of root) but is no more privileged than
    the normal user the official image runs tasks as; no raw devices, no kernel memory, no
    ptrace or /proc/PID/environ outside its Landlock domain, no bypassing file permissions. In a
    user namespace the capabilities would only serve to escape the sample's namespaces. A process
    that holds none (a normal user outside a user namespace) has nothing to drop; no_new_privs (set
    by Landlock) keeps it from gaining any through exec."""
    drop = range(CAP_LAST + 1)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (ctypes.c_uint32 * 6)()  # {effective, permitted, inheritable} x 2 words
    if _libc.capget(header, data) != 0:
        raise _err("capget")
    held = [cap for cap in drop if data[(cap // 32) * 3 + 1] & (1 << (cap % 32))]
    if not held:
        return
    for cap in drop:
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            raise _err(f"PR_CAPBSET_DROP {cap}")
    for cap in drop:
        word, bit = divmod(cap, 32)
        for base in (0, 1, 2):
            data[word * 3 + base] &= ~(1 << bit) & 0xFFFFFFFF
    if _libc.capset(header, data) != 0:
        raise _err("capset")


_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1

# Landlock filesystem access rights, and the ABI that introduced the newer ones.
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ABI1_ALL = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_FS_READ = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR

#: Syscalls no BigCodeBench sample needs and a hostile one could use to escape or attack the host.
SECCOMP_DENY = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    "unshare",
    "setns",
    "bpf",
    "perf_event_open",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "open_by_handle_at",
    "name_to_handle_at",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "sethostname",
    "setdomainname",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "syslog",
    "lookup_dcookie",
    "vhangup",
    "iopl",
    "ioperm",
)

_CGROOT = "/sys/fs/cgroup"


def _err(what: str) -> OSError:
    e = ctypes.get_errno()
    return OSError(e, f"{what}: {os.strerror(e)}")


def own_cgroup_paths() -> dict[str, str]:
    """``{"unified": path, "memory": path, "pids": path, ...}`` of this process, from /proc."""
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as fh:
        for line in fh:
            parts = line.rstrip("\n").split(":", 2)
            if len(parts) != 3:
                continue
            hid, controllers, path = parts
            if hid == "0" and controllers == "":
                paths["unified"] = path
            for c in controllers.split(","):
                if c:
                    paths[c] = path
    return paths


def cgroup_dir(kind: str, own: dict[str, str]) -> str | None:
    """Where this process's ``kind`` cgroup is mounted, or ``None``; public because the parent's
    executor-wide cgroup (``sandbox.ExecutorCgroup``) nests under the same directory."""
    if kind not in own:
        return None
    mount = os.path.join(_CGROOT, "unified" if kind == "unified" else kind)
    if kind == "unified" and not os.path.exists(os.path.join(mount, "cgroup.procs")):
        mount = _CGROOT if os.path.exists(os.path.join(_CGROOT, "cgroup.kill")) else mount
    d = os.path.normpath(mount + "/" + own[kind].lstrip("/"))
    return d if os.path.isdir(d) else None


def write_value(path: str, value: str) -> None:
    """The whole value in one write(2), which is how cgroup and /proc files take a value."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


class JobCgroups:
    """The cgroups of one sample: created by the zygote before the fork, joined by the child,
    killed and removed (by their exact paths) by the zygote after."""

    def __init__(self, dirs: dict[str, str]) -> None:
        self.dirs = dirs

    def members(self) -> set[int]:
        pids: set[int] = set()
        for d in self.dirs.values():
            with contextlib.suppress(OSError, ValueError), open(os.path.join(d, "cgroup.procs")) as fh:
                pids.update(int(x) for x in fh.read().split())
        return pids

    def kill(self) -> None:
        unified = self.dirs.get("unified")
        if unified:
            with contextlib.suppress(OSError):
                write_value(os.path.join(unified, "cgroup.kill"), "1")
        # v1 fallback (and belt and braces): SIGKILL every member until none is left; the pids cap
        # bounds how many a fork loop can make meanwhile.
        for _ in range(200):
            left = self.members()
            if not left:
                return
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.001)

    def remove(self) -> list[str]:
        """rmdir every job cgroup; returns those that could not be removed."""
        left = []
        for d in self.dirs.values():
            for i in range(100):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:  # a just-killed member not gone yet
                    time.sleep(0.002 * (i + 1))
            else:
                left.append(d)
        return left


def remove_leftover_cgroups(zygote_pid: int, executor_pid: int, executor_gone: bool) -> None:
    """Run by a keeper once its zygote is dead: the job cgroups of a zygote killed mid-sample
    (``bcb_<zygote>_<n>``, possibly nested in the executor's cgroup), and, if the executor itself
    died without ``close()``, its executor cgroup (``rmdir`` only succeeds for the last keeper)."""
    import glob

    own = own_cgroup_paths()
    for kind in ("unified", "memory", "pids"):
        base = cgroup_dir(kind, own)
        if base is None:
            continue
        executor_dirs = glob.glob(os.path.join(base, f"bcb_{executor_pid}_exec*"))
        for parent in [base, *executor_dirs]:
            for d in glob.glob(os.path.join(parent, f"bcb_{zygote_pid}_*")):
                job = JobCgroups({kind: d})
                job.kill()
                job.remove()
        if executor_gone:
            for d in executor_dirs:
                with contextlib.suppress(OSError):
                    os.rmdir(d)


def sweep_stale_cgroups(min_age_s: float = 600.0) -> int:
    """Remove bcb's own cgroups that outlived their process (a keeper killed along with its
    zygote cannot clean up): ``bcb_<pid>_*`` directories, at the top of each hierarchy or inside
    an executor's, whose pid is gone, that are empty and older than ``min_age_s``. ``rmdir`` never
    removes a cgroup with a live member, and the age keeps a cgroup that is being set up (or one
    named after a pid this process cannot see, from inside a PID namespace) safe. Returns the count."""
    import glob
    import re

    pattern = re.compile(r"bcb_(\d+)_\w+$")
    now = time.time()

    def stale(path: str) -> bool:
        match = pattern.search(path)
        if match is None:
            return False
        try:
            os.kill(int(match.group(1)), 0)
            return False
        except ProcessLookupError:
            pass
        except OSError:
            return False
        try:
            return now - os.stat(path).st_mtime > min_age_s
        except OSError:
            return False

    removed = 0
    own = own_cgroup_paths()
    for kind in ("unified", "memory", "pids"):
        base = cgroup_dir(kind, own)
        if base is None:
            continue
        tops = glob.glob(os.path.join(base, "bcb_*"))
        for top in tops:
            nested = glob.glob(os.path.join(top, "bcb_*")) if "_exec" in os.path.basename(top) else []
            for d in [*nested, top]:
                if stale(d):
                    with contextlib.suppress(OSError):
                        os.rmdir(d)
                        removed += 1
    return removed


class Sandbox:
    """The zygote's side. ``settings`` is the ``sandbox`` object of the config frame;
    ``worker_ns`` what the keeper's :func:`enter_worker_namespaces` made."""

    def __init__(self, settings: dict, worker_ns: dict | None = None) -> None:
        self.settings = dict(settings or {})
        self.enabled = bool(self.settings.get("enabled", True))
        self.allow_network = bool(self.settings.get("allow_network", False))
        self.memory_mb = int(self.settings.get("memory_mb") or 0)
        self.as_mb = int(self.settings.get("as_mb") or 0)
        self.disk_mb = int(self.settings.get("disk_mb") or 0) or 1024
        self.pids_max = int(self.settings.get("pids_max") or 0)
        self.workers = max(1, int(self.settings.get("workers") or 1))
        self.disabled = set(self.settings.get("disable_layers") or ())
        self.worker_ns = dict(worker_ns or {})
        self.layers: dict[str, bool] = {}
        self.report: dict[str, object] = {}
        #: This zygote's pid outside its PID namespace (names its cgroups; the parent kills by it).
        self.host_pid = os.getpid()
        self.pidns_note = ""
        if self.enabled and self.worker_ns.get("pidns") and "pidns" not in self.disabled:
            try:
                self.host_pid = int(enter_worker_mount_namespace() or os.getpid())
            except (OSError, ValueError) as exc:
                self.pidns_note = str(exc)
        elif self.worker_ns.get("pidns"):
            self.pidns_note = "disabled by the run's options"
        self.executor_memory_mb = (
            self._join_executor_cgroup(str(self.settings.get("executor_cgroup") or "")) if self.enabled else 0
        )
        self._own = own_cgroup_paths()
        self._counter = 0
        self.landlock_abi = 0
        self.private_tmp = False
        self._seccomp: tuple | None = None
        self._nproc = 0
        self._etc: list[str] | None = None
        #: In the probe child, whether it got an IPC namespace (the layers are not known yet).
        self._probing_ipc_ns = False
        #: The probe child's results so far (a later probe may depend on an earlier one).
        self._probed: dict[str, object] = {}
        #: Paths under /tmp that samples must still see once /tmp is private (the interpreter, its
        #: import path, paths the run shares): ``(path, writable)``, outermost only.
        self._tmp_binds: list[tuple[str, bool]] = []
        # Built in the zygote, before any sample: this is the worker's HOME, not a sample's.
        self.worker_home = os.environ.get("HOME", "")

    @property
    def tier(self) -> str:
        if not self.enabled:
            return "off"
        if self.layers.get("netns") or self.layers.get("pidns") or self.layers.get("private_shm"):
            return "rootless" if self.worker_ns.get("userns") else "root"
        # No namespace works (a container's profile, or a user namespace without capabilities,
        # as Ubuntu's AppArmor restriction leaves it).
        return "no_namespaces"

    def _join_executor_cgroup(self, path: str) -> int:
        """Move this zygote into the executor's memory cgroup (before anything is preloaded, so
        that is charged there too); its cap in MiB, 0 when there is none."""
        if not path or "executor_memory_cap" in self.disabled:
            return 0
        try:
            write_value(os.path.join(path, "cgroup.procs"), str(os.getpid()))
            with open(os.path.join(path, "memory.limit_in_bytes")) as fh:
                return int(fh.read().strip()) // (1024 * 1024)
        except (OSError, ValueError):
            return 0

    # -- probing -----------------------------------------------------------------------------
    def probe(self) -> dict:
        """Find which layers work here (each by doing it once) and return the report."""
        notes: dict[str, str] = {}
        layers = dict.fromkeys(LAYER_NAMES, False)
        layers["socket_filter_inet"] = False
        if self.enabled:
            with contextlib.suppress(OSError):
                sweep_stale_cgroups()
            cg = None
            try:
                cg = self._make_cgroups("probe", notes)
                layers["cgroup_kill"] = "unified" in cg.dirs and os.path.exists(
                    os.path.join(cg.dirs["unified"], "cgroup.kill")
                )
                layers["memory_cap"] = "memory" in cg.dirs
                layers["pids_cap"] = "pids" in cg.dirs
            finally:
                if cg is not None:
                    notes.update({f"cgroup_left:{d}": "not removed" for d in cg.remove()})
            with contextlib.suppress(OSError):
                self.landlock_abi = max(
                    0,
                    int(
                        _libc.syscall(
                            _SYS_LANDLOCK_CREATE_RULESET,
                            None,
                            ctypes.c_size_t(0),
                            ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION),
                        )
                    ),
                )
            layers["pidns"] = bool(self.worker_ns.get("pidns")) and not self.pidns_note
            if self.pidns_note or self.worker_ns.get("note"):
                notes["pidns"] = self.pidns_note or str(self.worker_ns.get("note"))
            child = self._probe_in_child()
            for name in (
                "netns",
                "private_shm",
                "private_tmp",
                "disk_cap",
                "nproc_cap",
                "drop_caps",
                "landlock",
                "landlock_scope",
                "socket_filter",
                "seccomp",
            ):
                layers[name] = child.get(name) is True
                if isinstance(child.get(name), str):
                    notes[name] = str(child[name])
            layers["socket_filter_inet"] = layers["socket_filter"] and bool(child.get("socket_filter_inet"))
            layers["tamper"] = bool(self.settings.get("tamper", True))
            layers["executor_memory_cap"] = self.executor_memory_mb > 0
            for name in self.disabled & set(layers):
                layers[name] = False
                notes[name] = "disabled by the run's options"
            # A memory cgroup turned off after the probe must not be created per sample either.
            if not layers["memory_cap"]:
                layers["executor_memory_cap"] = False
            # Without a memory cgroup, the address space is the cap (as officially, at the
            # sample's share of RAM instead of a fixed 30 GiB).
            layers["as_cap"] = not layers["memory_cap"] and self.as_mb > 0 and "as_cap" not in self.disabled
        self.layers = layers
        promised = (
            guarantees(layers, self.allow_network) if self.enabled else dict.fromkeys((g[0] for g in GUARANTEES), False)
        )
        self.report = {
            **layers,
            "tier": self.tier,
            "guarantees": promised,
            "enabled": self.enabled,
            "allow_network": self.allow_network,
            "unsafe": bool(self.settings.get("unsafe", False)),
            "network_isolated": bool(layers["netns"] or layers["socket_filter_inet"]) and not self.allow_network,
            "process_cap": promised["process_cap"],
            "wall_clock_kill": True,
            "memory_mb": self.memory_mb if layers["memory_cap"] else (self.as_mb if layers["as_cap"] else 0),
            "executor_memory_mb": self.executor_memory_mb if layers["executor_memory_cap"] else 0,
            "disk_mb": self.disk_mb if layers["disk_cap"] else 0,
            "pids_max": self.pids_max if (layers["pids_cap"] or layers["nproc_cap"]) else 0,
            "landlock_abi": self.landlock_abi,
            "notes": notes,
        }
        return self.report

    def _probe_in_child(self) -> dict:
        """Apply the child-side layers in a throw-away fork and report which worked, each
        checked by its effect (a private /tmp that still shows the interpreter, a fork refused
        by RLIMIT_NPROC, a socket refused by the filter)."""
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            out: dict[str, object] = {}
            try:
                os.close(rfd)
                self._tmp_binds = self._paths_under_tmp(os.getcwd())
                self._probed = out
                for layer in LAYERS:
                    if layer.probe is None:
                        continue
                    if layer.name in self.disabled:
                        out[layer.name] = "disabled by the run's options"
                        continue
                    if layer.needs and out.get(layer.needs) is not True:
                        continue
                    try:
                        result = getattr(self, layer.probe)()
                        out[layer.name] = True if result is None else result
                    except BaseException as exc:  # noqa: BLE001
                        out[layer.name] = f"{type(exc).__name__}: {exc}"[:300]
                if out.get("seccomp") is True and "socket_filter" not in self.disabled:
                    import socket

                    out["socket_filter"] = _refused(socket.AF_UNIX) or "socket(AF_UNIX) was not refused"
                    out["socket_filter_inet"] = _refused(socket.AF_INET) is True
                out["landlock_scope"] = out.get("landlock") is True and self.landlock_abi >= 6
                os.write(wfd, repr(out).encode())
            finally:
                os._exit(0)
        os.close(wfd)
        data = b""
        while True:
            chunk = os.read(rfd, 65536)
            if not chunk:
                break
            data += chunk
        os.close(rfd)
        os.waitpid(pid, 0)
        try:
            return dict(ast.literal_eval(data.decode() or "{}"))
        except (ValueError, SyntaxError):
            return {}

    def _probe_netns(self) -> str | None:
        self._enter_netns(force=True)
        import socket

        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("192.0.2.1", 9))  # no route in a private namespace
        except OSError:
            return None
        return "a route out exists in the new namespace"

    def _probe_private_shm(self) -> None:
        self._enter_private_shm()
        self._probing_ipc_ns = True

    def _probe_private_tmp(self) -> str | None:
        self.mount_private_tmp()
        for path, _writable in self._tmp_binds:
            if not os.path.isdir(path):
                return f"{path} is hidden by the private /tmp"
        if not os.path.isdir(sys.prefix):
            return f"the interpreter's prefix {sys.prefix} is hidden by the private /tmp"
        return None

    def _probe_landlock(self) -> None:
        self.apply_landlock(os.getcwd(), [])

    def _probe_seccomp(self) -> None:
        self.apply_seccomp(deny_inet=not self.allow_network and self._probed.get("netns") is not True)

    @staticmethod
    def _probe_nproc() -> str | None:
        """RLIMIT_NPROC binds where a fork beyond it fails (not for root outside a user
        namespace). The count includes this process, its zygote and keeper, so 1 refuses. Only
        the soft limit is lowered, and put back, so later probes may still fork."""
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        resource.setrlimit(resource.RLIMIT_NPROC, (1, hard))
        try:
            pid = os.fork()
        except OSError as exc:
            if exc.errno == errno.EAGAIN:
                return None
            raise
        finally:
            resource.setrlimit(resource.RLIMIT_NPROC, (soft, hard))
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        return "a fork beyond RLIMIT_NPROC succeeded (it does not bind root)"

    @staticmethod
    def _probe_disk_cap() -> str | None:
        """In the probe's private mount namespace: a 1 MiB tmpfs over a fresh directory must
        refuse a 2 MiB file with ENOSPC."""
        import tempfile

        target = tempfile.mkdtemp(prefix="diskprobe")
        try:
            _mount_tmpfs(target, 1, 0o700)
            try:
                with open(os.path.join(target, "fill"), "wb") as fh:
                    fh.write(b"\0" * (2 << 20))
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    return None
                raise
            return "a 1 MiB tmpfs accepted 2 MiB"
        finally:
            with contextlib.suppress(OSError):
                _libc.umount2(target.encode(), 2)  # MNT_DETACH
            with contextlib.suppress(OSError):
                os.rmdir(target)

    # -- cgroups (zygote side) ----------------------------------------------------------------
    def _make_cgroups(self, tag: str, notes: dict | None = None) -> JobCgroups:
        dirs: dict[str, str] = {}
        name = f"bcb_{self.host_pid}_{tag}"
        for kind in ("unified", "memory", "pids"):
            base = cgroup_dir(kind, self._own)
            if base is None:
                continue
            d = os.path.join(base, name)
            try:
                os.mkdir(d)
            except FileExistsError:
                pass
            except OSError as exc:
                if notes is not None:
                    notes[kind] = f"mkdir: {exc}"
                continue
            try:
                if kind == "memory":
                    limit = str((self.memory_mb or 1 << 20) * 1024 * 1024)
                    write_value(os.path.join(d, "memory.limit_in_bytes"), limit)
                    with contextlib.suppress(OSError):
                        write_value(os.path.join(d, "memory.memsw.limit_in_bytes"), limit)
                elif kind == "pids":
                    write_value(os.path.join(d, "pids.max"), str(self.pids_max or "max"))
                elif not os.path.exists(os.path.join(d, "cgroup.kill")):
                    raise OSError(errno.ENOTSUP, "no cgroup.kill")
            except OSError as exc:
                if notes is not None:
                    notes[kind] = str(exc)
                with contextlib.suppress(OSError):
                    os.rmdir(d)
                continue
            dirs[kind] = d
        return JobCgroups(dirs)

    def job_cgroups(self) -> JobCgroups | None:
        if not (self.layers.get("cgroup_kill") or self.layers.get("memory_cap") or self.layers.get("pids_cap")):
            return None
        self._counter += 1
        cg = self._make_cgroups(str(self._counter))
        for kind, layer in (("unified", "cgroup_kill"), ("memory", "memory_cap"), ("pids", "pids_cap")):
            if not self.layers.get(layer) and kind in cg.dirs:
                with contextlib.suppress(OSError):
                    os.rmdir(cg.dirs.pop(kind))
        return cg

    @staticmethod
    def join_job_cgroups(cg: JobCgroups, pid: int) -> None:
        """Move the just-forked child ``pid`` into its job cgroups, in table order (those of the
        layers that are on: :meth:`job_cgroups` made no others). Done by the zygote while the child
        sets itself up, because the first cgroup migration after an idle spell waits for an RCU
        grace period (the kernel's ``cgroup_threadgroup_rwsem``), 5 to 15 ms here; the child waits
        for the outcome (``await_job_cgroups`` in ``_zygote``) before any code of the sample runs."""
        for kind in ("unified", "memory", "pids"):
            if kind in cg.dirs:
                write_value(os.path.join(cg.dirs[kind], "cgroup.procs"), str(pid))

    # -- child side ---------------------------------------------------------------------------
    def _enter_nproc_cap(self, step: SampleStep) -> None:
        import resource

        if self._nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (self._nproc, self._nproc))

    def _enter_as_cap(self, step: SampleStep) -> None:
        import resource

        if self.as_mb:
            cap = self.as_mb * 1024 * 1024
            _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard == resource.RLIM_INFINITY or hard > cap:
                resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    def _enter_netns(self, step: SampleStep | None = None, force: bool = False) -> None:
        if self.allow_network and not force:
            return  # the run asked for the host's network
        if _libc.unshare(CLONE_NEWNET) != 0:
            raise _err("unshare(CLONE_NEWNET)")
        _loopback_up()

    def _enter_private_shm(self, step: SampleStep | None = None) -> None:
        if _libc.unshare(CLONE_NEWNS | CLONE_NEWIPC) != 0:
            raise _err("unshare(CLONE_NEWNS|CLONE_NEWIPC)")
        if _libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            raise _err("mount --make-rprivate /")
        _mount_tmpfs("/dev/shm", self.disk_mb, 0o1777)

    def _enter_private_tmp(self, step: SampleStep) -> None:
        self.mount_private_tmp()
        self.private_tmp = True

    def _enter_disk_cap(self, step: SampleStep) -> None:
        if step.own_dir:
            _mount_tmpfs(step.own_dir, self.disk_mb, 0o700)

    def _lock_drop_caps(self, step: SampleStep | None = None) -> None:
        drop_capabilities()

    def _lock_landlock(self, step: SampleStep) -> None:
        self.apply_landlock(step.rw_dir, [self.worker_home] if self.worker_home else [])

    def _lock_seccomp(self, step: SampleStep) -> None:
        self.apply_seccomp(self._deny_inet())

    def mount_private_tmp(self) -> None:
        """Samples may write to hard-coded /tmp paths (the official evaluator lets them): each
        gets its own empty /tmp, so nothing reaches the host's or another sample's. What bcb needs
        under /tmp (a venv there, as in CI; the worker's directory) is bound back at its own path
        first, read-only unless the run shares it for writing."""
        held = []
        try:
            for path, writable in self._tmp_binds:
                held.append((os.open(path, os.O_PATH | os.O_CLOEXEC), path, writable))
            _mount_tmpfs("/tmp", self.disk_mb, 0o1777)
            for fd, path, writable in held:
                os.makedirs(path, exist_ok=True)
                source = f"/proc/self/fd/{fd}".encode()
                if _libc.mount(source, path.encode(), None, MS_BIND | MS_REC, None) != 0:
                    raise _err(f"bind {path}")
                if (
                    not writable
                    and _libc.mount(
                        b"none", path.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None
                    )
                    != 0
                ):
                    raise _err(f"remount {path} read-only")
        finally:
            for fd, _path, _writable in held:
                os.close(fd)

    def _paths_under_tmp(self, work_dir: str) -> list[tuple[str, bool]]:
        """The real paths under /tmp a sample must still see, outermost only: the worker's own
        directory and shared write paths (writable), the interpreter, its import path and shared
        read paths (read-only)."""
        writable = [work_dir] + [str(p) for p in self.settings.get("write_paths") or []]
        readable = [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))]
        readable += [p for p in sys.path if p] + [str(p) for p in self.settings.get("read_paths") or []]
        if self.worker_home:
            readable.append(self.worker_home)
        found: dict[str, bool] = {}
        for paths, rw in ((writable, True), (readable, False)):
            for p in paths:
                if not p:
                    continue
                real = os.path.realpath(p)
                if not real.startswith("/tmp/"):
                    continue
                while real != "/tmp" and not os.path.isdir(real):  # a zip on sys.path: its directory
                    real = os.path.dirname(real)
                if real == "/tmp":
                    continue
                found[real] = found.get(real, False) or rw
        outer: list[tuple[str, bool]] = []
        for path in sorted(found, key=len):
            parent = next((rw for q, rw in reversed(outer) if path.startswith(q + "/")), None)
            if parent is None or parent != found[path]:
                outer.append((path, found[path]))
        return outer

    def read_only_paths(self, extra: list[str]) -> list[str]:
        """What a sample may read: the system's programs and libraries, ``/etc`` without its
        secrets, ``/proc`` and ``/sys``, a few devices, the interpreter and its import path. Not
        ``/run`` (container secrets, service sockets), not raw devices or the kernel log, not other
        users' homes: a root sample, owner of all of those, must not read them either."""
        if self._etc is None:
            self._etc = _readable_children("/etc", ETC_SECRETS)
        paths = ["/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/opt", "/proc", "/sys", *self._etc]
        paths += ["/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"]
        paths += [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))]
        paths += [p for p in sys.path if p]
        paths += [str(p) for p in self.settings.get("read_paths") or []]
        paths += extra
        return paths

    def apply_landlock(self, rw_dir: str, extra_read: list[str]) -> None:
        abi = self.landlock_abi
        if abi < 1:
            raise OSError(errno.ENOSYS, "Landlock unavailable")
        fs_all = (
            _FS_ABI1_ALL
            | (_FS_REFER if abi >= 2 else 0)
            | (_FS_TRUNCATE if abi >= 3 else 0)
            | (_FS_IOCTL_DEV if abi >= 5 else 0)
        )
        scoped = (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0
        if abi >= 6:
            attr = struct.pack("=QQQ", fs_all, 0, scoped)
        elif abi >= 4:
            attr = struct.pack("=QQ", fs_all, 0)
        else:
            attr = struct.pack("=Q", fs_all)
        buf = ctypes.create_string_buffer(attr, len(attr))
        ruleset = int(_libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0)))
        if ruleset < 0:
            raise _err("landlock_create_ruleset")
        try:
            rw = fs_all
            dev_rw = (
                _FS_READ_FILE | _FS_WRITE_FILE | (_FS_TRUNCATE if abi >= 3 else 0) | (_FS_IOCTL_DEV if abi >= 5 else 0)
            )
            rules: list[tuple[str, int]] = [(p, _FS_READ) for p in self.read_only_paths(extra_read)]
            rules += [(rw_dir, rw), ("/dev/shm", rw)] + ([("/tmp", rw)] if self.private_tmp else [])
            rules += [(p, dev_rw) for p in ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")]
            rules += [(str(p), rw) for p in self.settings.get("write_paths") or []]
            for path, access in rules:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    if not os.path.isdir(path):
                        access &= _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
                    rule = ctypes.create_string_buffer(struct.pack("=Qi", access, fd), 12)
                    if (
                        _libc.syscall(
                            _SYS_LANDLOCK_ADD_RULE,
                            ctypes.c_int(ruleset),
                            ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH),
                            rule,
                            ctypes.c_uint32(0),
                        )
                        != 0
                    ):
                        raise _err(f"landlock_add_rule {path}")
                finally:
                    os.close(fd)
            if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise _err("PR_SET_NO_NEW_PRIVS")
            if _libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
                raise _err("landlock_restrict_self")
        finally:
            os.close(ruleset)

    def prepare(self, work_dir: str) -> None:
        """In the zygote, after :meth:`probe`: do once what every sample's start-up would
        otherwise repeat (finding libseccomp runs ``ldconfig`` in a subprocess, a fork of the
        whole preloaded zygote; the filter, the /tmp binds and the process cap never change
        between samples)."""
        if self.layers.get("seccomp"):
            self._seccomp = self._seccomp_filter(self._deny_inet())
        self._tmp_binds = self._paths_under_tmp(work_dir)
        # Listed once here: each sample's child inherits it instead of reading /etc again.
        self._etc = _readable_children("/etc", ETC_SECRETS)
        if self.layers.get("nproc_cap"):
            if self.worker_ns.get("userns"):
                # Counted per user namespace, i.e. per worker: its keeper, zygote and sample.
                self._nproc = self.pids_max + 3
            else:
                # Counted over all of the user's processes: those already running, plus every
                # worker's samples (the cap is shared; a fork bomb in one can starve the others).
                self._nproc = count_user_tasks(os.geteuid()) + self.pids_max * self.workers + 64

    def _deny_inet(self) -> bool:
        return bool(self.layers.get("socket_filter_inet")) or (not self.allow_network and not self.layers.get("netns"))

    def apply_seccomp(self, deny_inet: bool = False) -> None:
        lib, ctx = self._seccomp or self._seccomp_filter(deny_inet)
        rc = lib.seccomp_load(ctx)
        if rc < 0:
            raise OSError(-rc, "seccomp_load")

    def _seccomp_filter(self, deny_inet: bool) -> tuple:
        """libseccomp and a filter context denying :data:`SECCOMP_DENY` and, unless
        ``socket_filter`` is off, sockets that reach beyond the sample: UNIX sockets (a host
        service's socket file is reachable by path: the Docker socket, an ssh-agent), datagram
        socketpairs (they can be re-connected to such a socket), packet, vsock and other families,
        and, where no network namespace isolates the sample (``deny_inet``), the Internet ones.
        Kept for the zygote's lifetime; loading it into a child compiles and installs it there."""
        name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
        lib = ctypes.CDLL(name, use_errno=True)
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
        lib.seccomp_rule_add_array.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_void_p,
        ]
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_load.argtypes = [ctypes.c_void_p]
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        ctx = lib.seccomp_init(0x7FFF0000)  # SCMP_ACT_ALLOW
        if not ctx:
            raise OSError(errno.ENOMEM, "seccomp_init failed")
        try:
            deny = 0x00050000 | errno.EPERM  # SCMP_ACT_ERRNO(EPERM)
            for syscall in SECCOMP_DENY:
                nr = lib.seccomp_syscall_resolve_name(syscall.encode())
                if nr < 0:
                    continue
                rc = lib.seccomp_rule_add(ctx, deny, nr, 0)
                if rc < 0:
                    raise OSError(-rc, f"seccomp_rule_add {syscall}")
            if "socket_filter" not in self.disabled:
                if not self.layers.get("private_shm") and not self._probing_ipc_ns:
                    # No IPC namespace: System V IPC objects are the host's (other programs'
                    # shared memory); nothing in BigCodeBench uses them.
                    for syscall in SYSV_IPC:
                        nr = lib.seccomp_syscall_resolve_name(syscall.encode())
                        if nr >= 0 and lib.seccomp_rule_add(ctx, deny, nr, 0) < 0:
                            raise OSError(errno.EINVAL, f"seccomp_rule_add {syscall}")
                for syscall, arg, op, a, b in _socket_rules(deny_inet):
                    nr = lib.seccomp_syscall_resolve_name(syscall.encode())
                    cmp_struct = struct.pack("=IIQQ", arg, op, a, b)  # struct scmp_arg_cmp
                    buf = ctypes.create_string_buffer(cmp_struct, len(cmp_struct))
                    rc = lib.seccomp_rule_add_array(ctx, deny, nr, 1, buf)
                    if rc < 0:
                        raise OSError(-rc, f"seccomp_rule_add {syscall} arg{arg}")
        except BaseException:
            lib.seccomp_release(ctx)
            raise
        return lib, ctx

    def child_enter(self, work_dir: str = "", own_dir: str = "") -> None:
        """First thing in the child (before anything of the sample's environment exists): every
        ``enter`` layer that is on, in table order (rlimit caps, private network,
        mount and IPC namespaces, private /tmp, the size-capped sample directory ``own_dir``)."""
        # An OOM anywhere (the executor's cgroup, or the machine) kills a sample, never bcb.
        with contextlib.suppress(OSError):
            write_value("/proc/self/oom_score_adj", "1000")
        # The zygote is non-dumpable (it holds the verdict channel); the sample's own process
        # need not be, so its /proc files stay its own, as in a fresh process.
        set_dumpable(True)
        self.private_tmp = False
        self._apply_phase("enter", SampleStep(own_dir=own_dir))

    def child_lock(self, rw_dir: str) -> None:
        """Last thing before the sample's code: every ``lock`` layer that is on, in table order;
        once on, none can be undone. The worker's HOME stays readable: libraries imported before
        the fork keep paths into it."""
        self._apply_phase("lock", SampleStep(rw_dir=rw_dir))

    def _apply_phase(self, phase: str, step: SampleStep) -> None:
        for layer in LAYERS:
            if layer.phase == phase and layer.apply is not None and self.layers.get(layer.name):
                getattr(self, layer.apply)(step)


class SampleStep:
    """What a layer's per-sample step needs: the sample's still-empty own directory (``enter``),
    the directory it may write (``lock``)."""

    __slots__ = ("own_dir", "rw_dir")

    def __init__(self, own_dir: str = "", rw_dir: str = "") -> None:
        self.own_dir, self.rw_dir = own_dir, rw_dir


#: System V IPC, denied where no IPC namespace keeps the host's objects out of reach.
SYSV_IPC = (
    "shmget",
    "shmat",
    "shmctl",
    "shmdt",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
)

_SCMP_CMP_EQ, _SCMP_CMP_GE, _SCMP_CMP_MASKED_EQ = 4, 5, 7
_AF_UNIX, _AF_INET, _AF_INET6, _AF_NETLINK = 1, 2, 10, 16
_SOCK_STREAM, _SOCK_TYPE_MASK = 1, 0xF


def _socket_rules(deny_inet: bool) -> list[tuple[str, int, int, int, int]]:
    """``(syscall, argument, operator, a, b)`` rules denying socket families: everything but
    AF_INET/AF_INET6 (only when the network is isolated otherwise) and AF_NETLINK (read-only
    kernel queries), and socketpair(AF_UNIX) except connected streams."""
    families = [f for f in range(0, _AF_NETLINK) if f not in (_AF_INET, _AF_INET6)]
    if deny_inet:
        families += [_AF_INET, _AF_INET6]
    rules = [("socket", 0, _SCMP_CMP_EQ, f, 0) for f in sorted(families)]
    rules.append(("socket", 0, _SCMP_CMP_GE, _AF_NETLINK + 1, 0))
    for stype in range(2, 11):  # SOCK_DGRAM, SOCK_RAW, SOCK_RDM, SOCK_SEQPACKET, ... SOCK_PACKET
        rules.append(("socketpair", 1, _SCMP_CMP_MASKED_EQ, _SOCK_TYPE_MASK, stype))
    return rules


#: Under /etc, what no sample may read, even one running as root (which owns them): password
#: hashes, sudo rules, host keys, TLS private keys.
ETC_SECRETS = (
    "shadow",
    "shadow-",
    "gshadow",
    "gshadow-",
    "sudoers",
    "sudoers.d",
    "security/opasswd",
    "ssl/private",
    "ssh/ssh_host_dsa_key",
    "ssh/ssh_host_ecdsa_key",
    "ssh/ssh_host_ed25519_key",
    "ssh/ssh_host_rsa_key",
)


def _readable_children(root: str, secrets: tuple[str, ...]) -> list[str]:
    """``root`` as paths Landlock may allow, without ``secrets`` (relative paths): the directories
    on the way to a secret are listed entry by entry, everything else is allowed whole."""
    tree: dict = {}
    for secret in secrets:
        node = tree
        for part in secret.split("/"):
            node = node.setdefault(part, {})
    out: list[str] = []

    def walk(path: str, node: dict) -> None:
        try:
            names = sorted(os.listdir(path))
        except OSError:
            return
        for name in names:
            child = node.get(name)
            full = os.path.join(path, name)
            if child is None:
                out.append(full)
            elif child:  # a directory holding a secret: descend
                walk(full, child)
            # else: the secret itself, left out

    walk(root, tree)
    return out


def _refused(family: int) -> bool | str:
    import socket

    try:
        socket.socket(family, socket.SOCK_STREAM if family == socket.AF_UNIX else socket.SOCK_DGRAM).close()
    except PermissionError:
        return True
    except OSError as exc:
        return f"socket({family}): {exc}"
    return f"socket({family}) was not refused"


def _mount_tmpfs(target: str, size_mb: int, mode: int) -> None:
    opts = f"size={max(1, size_mb)}m,mode={mode:o}".encode()
    if _libc.mount(b"tmpfs", target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts) != 0:
        raise _err(f"mount tmpfs {target}")


def _loopback_up() -> None:
    import fcntl
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), 0x8913, req))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(s.fileno(), 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1))  # SIOCSIFFLAGS IFF_UP


# ---------------------------------------------------------------------------------------------
# Tamper evidence


def count_test_methods(test_source: str) -> int | None:
    """How many tests ``unittest.TestLoader().loadTestsFromTestCase(TestCases)`` finds, read from
    the test source alone; ``None`` when that cannot be known statically."""
    try:
        tree = ast.parse(test_source)
    except (SyntaxError, ValueError):
        return None
    classes: dict[str, ast.ClassDef] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and t.id in classes:
                    classes.pop(t.id)  # rebound: unknown
    if "TestCases" not in classes:
        return None

    def names(cls: ast.ClassDef, seen: frozenset) -> set[str] | None:
        if cls.name in seen:
            return None
        found: set[str] = set()
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if stmt.name.startswith("test"):
                    found.add(stmt.name)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if any(isinstance(t, ast.Name) and t.id.startswith("test") for t in targets):
                    return None
            elif isinstance(stmt, (ast.Expr, ast.Pass, ast.ClassDef, ast.Import, ast.ImportFrom)):
                continue
            else:
                return None  # if/for/with/... in a class body: not worth guessing
        for base in cls.bases:
            text = ast.unparse(base)
            if text in ("unittest.TestCase", "TestCase", "unittest.IsolatedAsyncioTestCase"):
                continue
            if text in classes:
                inherited = names(classes[text], seen | {cls.name})
                if inherited is None:
                    return None
                found |= inherited
            else:
                return None
        return found

    result = names(classes["TestCases"], frozenset())
    return None if result is None else len(result)


def _class_snapshot(cls: type) -> dict[str, int]:
    return {k: id(v) for k, v in vars(cls).items()}


class TamperGuard:
    """Snapshots taken just before the solution runs; :meth:`check` says what changed."""

    def __init__(self, test_source: str, runner_modules: list) -> None:
        import unittest
        import unittest.case
        import unittest.loader
        import unittest.result
        import unittest.suite

        self.expected = count_test_methods(test_source)
        self.unittest = unittest
        self.modules = {
            "unittest": unittest,
            "unittest.case": unittest.case,
            "unittest.result": unittest.result,
            "unittest.loader": unittest.loader,
            "unittest.suite": unittest.suite,
        }
        self.classes = {
            c.__name__: c
            for c in (
                unittest.TestCase,
                unittest.TestResult,
                unittest.TestLoader,
                unittest.TestSuite,
                unittest.suite.BaseTestSuite,
            )
        }
        self.class_dicts = {n: _class_snapshot(c) for n, c in self.classes.items()}
        self.codes = {
            f"{n}.{k}": id(v.__code__)
            for n, c in self.classes.items()
            for k, v in vars(c).items()
            if hasattr(v, "__code__")
        }
        self.module_dicts = {n: {k: id(v) for k, v in vars(m).items()} for n, m in self.modules.items()}
        self.builtins = {k: id(v) for k, v in vars(builtins).items() if k not in ("_", "exit", "quit")}
        self.runner = [(getattr(m, "__name__", "?"), m, {k: id(v) for k, v in vars(m).items()}) for m in runner_modules]
        self.runner_codes = {
            f"{m.__name__}.{k}": (v, id(v.__code__))
            for m in runner_modules
            for k, v in vars(m).items()
            if isinstance(v, type(count_test_methods))
        }
        self._sys_modules = sys.modules
        self._vars, self._id, self._len = vars, id, len
        self.returns = ReturnCheck()

    def after_exec(self, namespace: dict) -> None:
        """Called by the runner once the program (solution + tests) executed, before the tests."""
        try:
            self.returns.install(namespace)
        except Exception:  # noqa: BLE001 - bcb's check must never change an ordinary verdict
            self.returns.hooked = True

    def check(self, report: dict) -> dict:
        """``report`` unchanged, or turned into a ``TAMPER`` failure if it would be a pass."""
        if report.get("stat") != "success" or report.get("details"):
            return report
        what = self.find()
        if what is None:
            what = self.returns.finding()
        if what is None and self.expected is not None and report.get("tests_run") != self.expected:
            what = f"{report.get('tests_run')} tests ran where the test source defines {self.expected}"
        if what is not None:
            return {**report, "stat": "failed", "details": {"TAMPER": what}}
        return report

    def find(self) -> str | None:
        v, i = self._vars, self._id
        for name, mod in self.modules.items():
            if self._sys_modules.get(name) is not mod:
                return f"sys.modules[{name!r}] was replaced"
            now = v(mod)
            for k, ident in self.module_dicts[name].items():
                if k not in now or i(now[k]) != ident:
                    return f"{name}.{k} was replaced"
        for name, cls in self.classes.items():
            members = v(cls)
            for k, ident in self.class_dicts[name].items():
                if k not in members or i(members[k]) != ident:
                    return f"{name}.{k} was replaced"
            for k in members:
                if k not in self.class_dicts[name] and not k.startswith("_abc"):
                    return f"{name}.{k} was added"
        for key, ident in self.codes.items():
            cname, attr = key.split(".", 1)
            fn = v(self.classes[cname]).get(attr)
            if fn is None or i(getattr(fn, "__code__", None)) != ident:
                return f"{key}.__code__ was replaced"
        now = v(builtins)
        for k, ident in self.builtins.items():
            if k not in now or i(now[k]) != ident:
                return f"builtins.{k} was replaced"
        for name, mod, snap in self.runner:
            now = v(mod)
            for k, ident in snap.items():
                if k not in now or i(now[k]) != ident:
                    return f"the runner's {name}.{k} was replaced"
        for key, (fn, ident) in self.runner_codes.items():
            if i(fn.__code__) != ident:
                return f"the runner's {key}.__code__ was replaced"
        return None


_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement or type(), not C
#: Types whose comparison is the interpreter's own: the common leaves of a return value.
_PLAIN = frozenset({int, float, complex, bool, str, bytes, bytearray, type(None), range, slice, type(Ellipsis)})
_CONTAINERS = (list, tuple, set, frozenset, dict)


class ReturnCheck:
    """Flags entry-point return values that can forge an equality assertion.

    The rule: a value the entry point returns is suspect when its class's ``__eq__`` or ``__ne__``
    (as Python looks it up, through the MRO) is code the sample brought, i.e. it is defined on a
    Python class and is not a function compiled from a file of the interpreter's or the task
    environment's trees (stdlib, site-packages), nor exactly the ``__eq__`` that ``dataclasses``
    generates (which is only ever true against an instance of the same class, so it cannot match
    a test's expected value by itself; its fields are checked in turn). Classes a solution defines
    without its own ``__eq__``/``__ne__`` (identity comparison), subclasses of library classes
    that keep the library's comparison, named tuples and enums are not suspect. Elements of
    lists, tuples, sets, dicts, dataclass fields and object-dtype numpy arrays / pandas columns
    are checked too, up to a small budget per call (:data:`BUDGET` values), since ``[x] == [1]``
    compares ``x``. A comparison object that is not a function (``unittest.mock``'s MagicProxy)
    is trusted when both it and the class it sits on come from library modules. Not caught: code
    compiled under a forged library file name, a library object configured to compare equal (a
    MagicMock whose ``__eq__`` returns True), values hidden deeper than the budget or inside
    other objects. A legitimate solution that returns its own
    class with its own ``__eq__`` is flagged too (BigCodeBench's ground truths never do this:
    the tests compare against values they build themselves).

    The entry point is wrapped once the program has executed; while a call is in progress the
    original function is put back in the module, so recursion costs no extra stack depth.
    """

    BUDGET = 2000

    def __init__(self, entry_point: str = "task_func") -> None:
        import dataclasses
        import types

        self.entry_point = entry_point
        self.hooked = False
        self.found: str | None = None
        self._verdicts: dict[type, str | None] = {}
        self._function_type = types.FunctionType
        self._make_dataclass, self._fields = dataclasses.make_dataclass, dataclasses.fields
        roots = {sys.prefix, sys.base_prefix, sys.exec_prefix} | {p for p in sys.path if os.path.isabs(p)}
        # Both spellings of each root, computed now: at check time the tests may have patched
        # os.path (task 211 patches os.path.join), so the check itself only compares strings.
        spelled = {os.path.join(q, "") for p in roots for q in (p, os.path.realpath(p))}
        self._trusted = tuple(sorted(spelled - {"/"}))
        self._builtin_modules = frozenset(sys.builtin_module_names)

    def finding(self) -> str | None:
        if not self.hooked:
            return "the entry-point check never ran (the runner's hook was removed)"
        return self.found

    def install(self, namespace: dict) -> None:
        self.hooked = True
        name = self.entry_point
        fn = namespace.get(name)
        if not callable(fn) or isinstance(fn, type):
            return
        import functools

        inspect_value = self.inspect

        def entry_point(*args, **kwargs):
            namespace[name] = fn
            try:
                result = fn(*args, **kwargs)
            finally:
                namespace[name] = entry_point
            inspect_value(result)
            return result

        try:
            functools.update_wrapper(entry_point, fn)
        except (AttributeError, TypeError):
            return
        namespace[name] = entry_point

    def inspect(self, value: object) -> None:
        if self.found is not None:
            return
        try:
            self.found = self._scan(value)
        except Exception:  # noqa: BLE001 - exotic values: no evidence either way
            return

    def _scan(self, value: object) -> str | None:
        np = sys.modules.get("numpy")
        pd = sys.modules.get("pandas")
        stack = [value]
        budget = self.BUDGET
        while stack and budget > 0:
            budget -= 1
            item = stack.pop()
            cls = type(item)
            if cls in _PLAIN:
                continue
            what = self._verdicts[cls] if cls in self._verdicts else self._verdicts.setdefault(cls, self._suspect(cls))
            if what is not None:
                return (
                    f"the entry point returned a value of class {cls.__qualname__!r} whose {what} is the "
                    "solution's own (an always-equal object can forge a pass)"
                )
            if isinstance(item, dict):
                stack.extend(list(item.keys())[:budget])
                stack.extend(list(item.values())[:budget])
            elif isinstance(item, _CONTAINERS):
                stack.extend(list(item)[:budget])
            elif hasattr(cls, "__dataclass_fields__"):
                stack.extend(getattr(item, f.name, None) for f in self._fields(item))  # type: ignore[arg-type]
            elif np is not None and isinstance(item, np.ndarray):
                if item.dtype == object:
                    stack.extend(item.ravel()[:budget].tolist())
            elif pd is not None and isinstance(item, (pd.DataFrame, pd.Series)):
                frame = item.to_frame() if isinstance(item, pd.Series) else item
                for i, dtype in enumerate(frame.dtypes):
                    if dtype == object:  # noqa: E721 (a numpy dtype equals the object dtype; `is` would never be true)
                        stack.extend(frame.iloc[:budget, i].tolist())
        return None

    def _suspect(self, cls: type) -> str | None:
        for name in ("__eq__", "__ne__"):
            owner = next((k for k in cls.__mro__ if name in k.__dict__), object)
            if not owner.__flags__ & _HEAPTYPE:
                continue  # implemented in C: builtins, numpy, ...
            impl = owner.__dict__[name]
            func = impl if isinstance(impl, self._function_type) else getattr(impl, "__func__", None)
            if isinstance(func, self._function_type):
                if self._trusted_file(func.__code__.co_filename):
                    continue
                if name == "__eq__" and self._is_dataclass_eq(owner, func):
                    continue
            elif self._library_made(owner) and self._library_made(type(impl)):
                # A library's own comparison object on a library's class: unittest.mock gives each
                # MagicMock its own class whose __eq__ is a MagicProxy, and ground truths return
                # mocks when their tests patch what the function builds.
                continue
            return f"{owner.__qualname__}.{name}"
        return None

    def _trusted_file(self, path: str | None) -> bool:
        """A file under the interpreter's or the environment's trees, or a frozen stdlib module
        (``<frozen _collections_abc>``: ``Mapping.__eq__``, which ConfigParser inherits)."""
        return isinstance(path, str) and (path.startswith(self._trusted) or path.startswith("<frozen "))

    def _library_made(self, cls: type) -> bool:
        """Implemented in C, or defined in a module loaded from the interpreter's or the task
        environment's trees (not the sample's ``__test__`` module, not code compiled from a string).
        A module compiled into the interpreter (Debian's ``array``: a heap type since 3.10, with no
        ``__file__``) is the interpreter's own."""
        if not cls.__flags__ & _HEAPTYPE:
            return True
        name = getattr(cls, "__module__", "") or ""
        if name in self._builtin_modules:
            return True
        module = sys.modules.get(name)
        return self._trusted_file(getattr(module, "__file__", None))

    def _is_dataclass_eq(self, owner: type, impl) -> bool:
        params = owner.__dict__.get("__dataclass_params__")
        if params is None or not getattr(params, "eq", False):
            return False
        names = [f.name for f in self._fields(owner) if f.compare]
        ref = self._make_dataclass("Ref", names, eq=True).__eq__.__code__
        code = impl.__code__
        return (code.co_code, code.co_names, code.co_consts, code.co_varnames) == (
            ref.co_code,
            ref.co_names,
            ref.co_consts,
            ref.co_varnames,
        )


def hide_fd(fd: int) -> int:
    """Move ``fd`` to a high, unpredictable number (close-on-exec), closing the original."""
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    top = min(soft, 65536) - 1
    for _ in range(16):
        target = 256 + int.from_bytes(os.urandom(2), "little") % max(1, top - 256)
        try:
            os.fstat(target)
            continue  # in use
        except OSError:
            pass
        new = os.dup2(fd, target, inheritable=False)
        os.close(fd)
        return new
    return fd
