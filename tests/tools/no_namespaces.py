#!/usr/bin/env python3
"""Run a command confined the way a container's default seccomp profile confines it.

    python tests/tools/no_namespaces.py CMD [ARG...]

Docker, Podman and Kubernetes' ``RuntimeDefault`` profile leave an unprivileged container no way to
create namespaces or mount anything: ``unshare``, ``setns``, ``mount``, ``umount2`` and
``pivot_root`` fail with EPERM, ``clone`` with any ``CLONE_NEW*`` flag fails with EPERM, and
``clone3`` fails with ENOSYS (its flags sit in memory a filter cannot read, so libc is made to fall
back to ``clone``). bcb's *no_namespaces* tier is meant for exactly that world; this tool lets the
test suite run there on a machine that does allow namespaces. Everything else is allowed.

The filter is installed with ``no_new_privs`` and is inherited by every descendant; nothing in
the confined tree can lift it. Standard library only (ctypes), x86-64 and aarch64.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys

# <linux/audit.h> architectures and the syscall numbers the filter names, per architecture.
ARCHES = {
    "x86_64": (
        0xC000003E,
        {"unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "clone": 56, "clone3": 435},
    ),
    "aarch64": (
        0xC00000B7,
        {"unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "clone": 220, "clone3": 435},
    ),
}
#: x32 system calls on x86-64 are numbered with this bit set: refused outright, so that the same
#: calls cannot be reached under another number.
X32_SYSCALL_BIT = 0x40000000

# <linux/sched.h>: every flag that makes a new namespace.
CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWTIME = 0x10000000, 0x20000000, 0x40000000, 0x00000080
CLONE_NEW_ANY = (
    CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET
    | CLONE_NEWTIME
)

# <linux/seccomp.h>, <linux/filter.h>, <linux/prctl.h>
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_JSET_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
OFF_NR, OFF_ARCH, OFF_ARG0_LOW = 0, 4, 16  # struct seccomp_data, little-endian
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2

#: What each refused call answers.
REFUSED = {
    "unshare": errno.EPERM,
    "setns": errno.EPERM,
    "mount": errno.EPERM,
    "umount2": errno.EPERM,
    "pivot_root": errno.EPERM,
    "clone3": errno.ENOSYS,
}


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def build_filter(machine: str) -> list[bytes]:
    """The BPF program. Jumps are relative to the next instruction; each block is self-contained
    (a test that falls through goes to the next block)."""
    if machine not in ARCHES:
        raise SystemExit(f"no_namespaces: unsupported architecture {machine!r} (supported: {', '.join(ARCHES)})")
    audit_arch, nr = ARCHES[machine]
    prog = [
        _insn(BPF_LD_W_ABS, OFF_ARCH),
        _insn(BPF_JEQ_K, audit_arch, jt=1, jf=0),
        _insn(BPF_RET_K, SECCOMP_RET_KILL_PROCESS),  # a foreign ABI: numbers would mean other calls
        _insn(BPF_LD_W_ABS, OFF_NR),
    ]
    if machine == "x86_64":
        prog += [_insn(BPF_JGE_K, X32_SYSCALL_BIT, jt=0, jf=1), _insn(BPF_RET_K, SECCOMP_RET_ERRNO | errno.EPERM)]
    for name, answer in REFUSED.items():
        prog += [_insn(BPF_JEQ_K, nr[name], jt=0, jf=1), _insn(BPF_RET_K, SECCOMP_RET_ERRNO | answer)]
    # clone(flags, ...): refused only when a namespace flag is set (plain fork/threads go through).
    prog += [
        _insn(BPF_JEQ_K, nr["clone"], jt=0, jf=3),
        _insn(BPF_LD_W_ABS, OFF_ARG0_LOW),
        _insn(BPF_JSET_K, CLONE_NEW_ANY, jt=0, jf=1),
        _insn(BPF_RET_K, SECCOMP_RET_ERRNO | errno.EPERM),
        _insn(BPF_RET_K, SECCOMP_RET_ALLOW),
    ]
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> None:
    """Confine this process and everything it will start."""
    prog = build_filter(platform.machine())
    code = ctypes.create_string_buffer(b"".join(prog))
    fprog = _SockFprog(len(prog), ctypes.addressof(code))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        install()
    except OSError as exc:
        print(f"no_namespaces: cannot install the seccomp filter: {exc}", file=sys.stderr)
        return 1
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"no_namespaces: cannot run {argv[0]}: {exc}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
