"""The sandbox's tiers and its one table of layers: which layers give which guarantee, the one-line
refusal naming what is missing and the way out, the socket filter, the /tmp paths bound back into
a private /tmp, and `bcb demo` refusing in one line. Real processes where a process is involved."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bcb.execution import _sandbox
from bcb.execution.sandbox import GUARANTEES, LAYER_NAMES, LAYERS, SandboxOptions
from helpers import run_bcb

ALL_GUARANTEES = {name for name, _label, _way in GUARANTEES}


def promised(**layers: bool) -> dict[str, bool]:
    return _sandbox.guarantees(layers, allow_network=False)


def test_every_layer_has_one_row_and_a_phase() -> None:
    assert len(LAYER_NAMES) == len(set(LAYER_NAMES)) == len(LAYERS)
    assert {layer.phase for layer in LAYERS} <= {"worker", "enter", "lock", "check"}
    assert all(layer.what for layer in LAYERS)


def test_root_tier_layers_give_every_guarantee() -> None:
    got = promised(
        cgroup_kill=True, memory_cap=True, pids_cap=True, netns=True, pidns=True, landlock=True, drop_caps=True
    )
    assert set(got) == ALL_GUARANTEES and all(got.values())


def test_rootless_tier_uses_rlimits_for_the_caps() -> None:
    got = promised(nproc_cap=True, as_cap=True, netns=True, pidns=True, landlock=True, drop_caps=True)
    assert all(got.values())


def test_no_namespaces_tier_relies_on_the_socket_filter_and_landlock() -> None:
    got = promised(nproc_cap=True, as_cap=True, socket_filter_inet=True, landlock=True, drop_caps=True)
    assert all(got.values())
    # Landlock keeps /proc/PID/environ of outside processes only from a sample without CAP_SYS_PTRACE.
    assert promised(nproc_cap=True, as_cap=True, socket_filter_inet=True, landlock=True)["no_secrets"] is False


def test_missing_layers_lose_exactly_their_guarantees() -> None:
    got = promised(
        nproc_cap=False, as_cap=True, netns=False, socket_filter_inet=False, landlock=True, drop_caps=True, pidns=False
    )
    assert {k for k, v in got.items() if not v} == {"process_cap", "no_network"}
    assert _sandbox.guarantees({}, allow_network=True)["no_network"] is True


def test_refusal_is_one_line_naming_what_is_missing_the_tier_and_the_way_out() -> None:
    report = {
        "tier": "no_namespaces",
        "guarantees": dict.fromkeys(ALL_GUARANTEES, True) | {"process_cap": False, "confined_writes": False},
    }
    message = SandboxOptions().refusal(report)
    assert message is not None and "\n" not in message
    assert "a process cap" in message and "writes confined to the sample's own directories" in message
    assert (
        "tier: no_namespaces" in message
        and "normal user" in message
        and "Landlock" in message
        and "--unsafe" in message
    )
    assert SandboxOptions(unsafe=True).refusal(report) is None
    assert SandboxOptions().refusal({"guarantees": dict.fromkeys(ALL_GUARANTEES, True)}) is None


def test_socket_rules_deny_unix_and_exotic_families_and_inet_only_without_a_network_namespace() -> None:
    def denied(deny_inet: bool) -> set[int]:
        families = set()
        for syscall, arg, op, a, _b in _sandbox._socket_rules(deny_inet):
            if syscall == "socket" and arg == 0 and op == _sandbox._SCMP_CMP_EQ:
                families.add(a)
            elif syscall == "socket" and op == _sandbox._SCMP_CMP_GE:
                families.update(range(a, 64))
        return families

    import socket

    assert socket.AF_UNIX in denied(False) and socket.AF_PACKET in denied(False) and 40 in denied(False)  # AF_VSOCK
    assert (
        socket.AF_INET not in denied(False)
        and socket.AF_INET6 not in denied(False)
        and socket.AF_NETLINK not in denied(False)
    )
    assert {socket.AF_INET, socket.AF_INET6} <= denied(True) and socket.AF_NETLINK not in denied(True)
    pair_types = {b for syscall, _arg, _op, _a, b in _sandbox._socket_rules(False) if syscall == "socketpair"}
    assert socket.SOCK_STREAM not in pair_types and socket.SOCK_DGRAM in pair_types


def test_paths_under_tmp_are_bound_outermost_first_keeping_writable_ones_writable(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = Path(__import__("tempfile").mkdtemp(prefix="bcbbind", dir="/tmp"))
    try:
        (base / "env" / "lib").mkdir(parents=True)
        (base / "env" / "lib" / "work").mkdir()
        (base / "data").mkdir()
        sandbox = _sandbox.Sandbox(
            {
                "enabled": True,
                "read_paths": [str(base / "env"), str(base / "env" / "lib"), str(base / "data")],
                "write_paths": [str(base / "env" / "lib" / "work")],
            }
        )
        binds = [b for b in sandbox._paths_under_tmp("/var/tmp/nowhere") if b[0].startswith(str(base))]
        assert binds == [
            (str(base / "env"), False),
            (str(base / "data"), False),
            (str(base / "env" / "lib" / "work"), True),
        ]
    finally:
        shutil.rmtree(base)


def test_demo_refuses_in_one_line_without_a_guarantee_and_runs_with_unsafe(tmp_path: Path) -> None:
    refused = run_bcb(
        "demo", "--root", str(tmp_path / "r"), "--disable-sandbox-layer", "landlock", cwd=tmp_path, columns=200
    )
    assert refused.returncode == 2, refused.stderr[-2000:]
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: refusing to run untrusted code without writes confined"), (
        refused.stderr
    )
    assert "Traceback" not in refused.stderr + refused.stdout
    assert (
        "unknown --disable-sandbox-layer"
        in run_bcb("demo", "--disable-sandbox-layer", "nonsense", cwd=tmp_path, columns=200).stderr
    )


def test_types_of_modules_compiled_into_the_interpreter_are_library_made() -> None:
    """Debian's python3 compiles ``array`` in (no ``__file__``) and ``array.array`` is a heap type:
    its C ``__eq__`` must not count as the sample's own (task 595's ground truth returns one)."""
    check = _sandbox.ReturnCheck()
    assert check._library_made(type("FromBuiltin", (), {"__module__": "builtins"}))
    assert not check._library_made(type("FromSample", (), {"__module__": "__test__"}))


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="no system python3")
def test_array_returned_under_the_system_interpreter_is_not_a_tamper() -> None:
    probe = subprocess.run(
        [
            "/usr/bin/python3",
            "-c",
            "import array, sys; print('array' in sys.builtin_module_names and bool(array.array.__flags__ & 512))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.stdout.strip() != "True":
        pytest.skip("the system python3 builds array as a separate module: nothing to check")
    from bcb.execution import Job, LocalExecutor

    solution = "import array\ndef task_func():\n    return array.array('i', [1, 2])\n"
    test = "import unittest, array\nclass TestCases(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(task_func(), array.array('i', [1, 2]))\n"
    with LocalExecutor(python="/usr/bin/python3", workers=1, preload=()) as ex:
        (r,) = list(ex.run([Job(key="k", task_id="t/0", solution=solution, test=test, time_limit=30)]))
    assert (r.status, r.details) == ("pass", {})
