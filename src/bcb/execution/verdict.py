"""From what a worker reports about one run to the official verdict.

Kept apart from the process machinery so that the mapping (the part fidelity depends on) is a
plain function with its own tests. The official rules (``untrusted_check``): the status is
unknown until the sample's process sets it; unknown becomes ``timeout``; a reported success with
any failing test becomes ``fail``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bcb.execution.jobs import Status


def verdict_from_report(report: Mapping[str, Any], kill_after_s: float) -> tuple[Status, dict[str, str], str]:
    """Return ``(status, details, note)`` for a zygote's ``result`` message.

    ``outcome`` is one of: ``reported`` (the sample's runner sent its result), ``deadline`` (killed
    at ``kill_after_s``), ``exited`` (the process ended without reporting: ``os._exit``, a signal,
    a crash in the interpreter), ``malformed`` (something unreadable arrived on the result pipe).
    ``setup_error`` (bcb's sandbox failed, not the sample) and ``aborted`` (the parent stopped the
    sample: its job was cancelled) are not verdicts and are handled by the executor before this is called.
    """
    outcome = report.get("outcome")
    if outcome == "reported":
        details = {str(k): str(v) for k, v in dict(report.get("details") or {}).items()}
        if report.get("stat") == "success" and not details:
            return "pass", {}, ""
        return "fail", details, ""
    if outcome == "deadline":
        return "timeout", {}, f"killed at the deadline ({kill_after_s:g} s after start)"
    if outcome == "exited":
        how = report.get("exit") or "ended"
        return (
            "timeout",
            {},
            f"the sample's process ended ({how}) before reporting; officially an unknown status, i.e. timeout",
        )
    if outcome == "malformed":
        return (
            "timeout",
            {},
            f"unreadable result from the sample's process ({report.get('error')}); treated as no report",
        )
    raise ValueError(f"not a verdict outcome: {outcome!r}")
