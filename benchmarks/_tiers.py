"""Run a command in a chosen sandbox tier, for the benchmarks that compare tiers.

The tier follows from who runs bcb: ``root`` (this process's user, when it is root),
``rootless`` (a normal user, ``runuser``), ``no_namespaces`` (that user inside
``tests/tools/no_namespaces.py``, a container's default seccomp profile). The user's interpreter
(``user_python``) must be one it can run (root's pyenv interpreters live in /root, mode 0700) with
bcb's dependencies; bcb itself comes from this checkout through PYTHONPATH, so every tier runs the
same code.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFINE = REPO / "tests" / "tools" / "no_namespaces.py"
TIERS = ("root", "rootless", "no_namespaces")


def tier_command(
    tier: str, argv: list[str], *, user: str, user_python: str, extra_env: dict[str, str] | None = None
) -> list[str]:
    """``argv`` is a Python command line without the interpreter (``["-m", "bcb.cli", ...]`` or a
    script and its arguments)."""
    if tier == "root":
        if os.geteuid() != 0:
            raise SystemExit("the root tier needs this benchmark to run as root")
        import sys

        return [sys.executable, *argv]
    if tier not in TIERS:
        raise SystemExit(f"unknown tier {tier!r}: choose from {', '.join(TIERS)}")
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": os.path.expanduser(f"~{user}"),
        "USER": user,
        "LOGNAME": user,
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(REPO / "src"),
        **(extra_env or {}),
    }
    inner = [user_python, *argv]
    if tier == "no_namespaces":
        inner = [user_python, str(CONFINE), *inner]
    prefix = ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []
    return [*prefix, "env", "-i", *(f"{k}={v}" for k, v in env.items()), *inner]
