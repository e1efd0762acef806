"""The environment variables a sample sees.

A sample must not see the harness's secrets (API keys, tokens, credentials in URLs), so its
environment is built from an allow-list, not by removing known-bad names. The fixed variables
are those the official ``reliability_guard`` sets, plus the thread-pool pins that make forking a
pre-warmed interpreter safe (one OS thread in the zygote) and a headless matplotlib.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from bcb.execution.nltk_data import env_named_dirs

#: Variables copied from the harness's environment when set. ``LC_*`` matches by prefix.
DEFAULT_ENV_ALLOW: tuple[str, ...] = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "USER",
    "LOGNAME",
    "NLTK_DATA",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)

#: Always set, whatever the harness has.
FIXED_ENV: Mapping[str, str] = {
    "TZ": "UTC",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
}

_FALLBACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _allowed(name: str, allow: Iterable[str]) -> bool:
    for pattern in allow:
        if pattern.endswith("*"):
            if name.startswith(pattern[:-1]):
                return True
        elif name == pattern:
            return True
    return False


def build_child_env(
    python: str,
    source: Mapping[str, str] | None = None,
    allow: Iterable[str] = DEFAULT_ENV_ALLOW,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The base environment of every sample (HOME, TMPDIR and MPLCONFIGDIR are added per sample).

    The task interpreter's directory goes first on PATH, so a sample running ``python`` or ``pip``
    in a subprocess gets the task environment, as it would in the official image where that
    interpreter is the system one.
    """
    source = os.environ if source is None else source
    allow = tuple(allow)
    env = {k: v for k, v in source.items() if _allowed(k, allow)}
    bindir = os.path.dirname(python)
    path = env.get("PATH") or _FALLBACK_PATH
    if bindir and bindir not in path.split(os.pathsep):
        path = bindir + os.pathsep + path
    env["PATH"] = path
    env.update(FIXED_ENV)
    # Samples get a private HOME, so NLTK would no longer look in the user's ~/nltk_data (where
    # ``nltk.download`` puts corpora, and where the official evaluator, keeping HOME, finds them).
    home_data = os.path.join(os.path.expanduser("~"), "nltk_data")
    if "NLTK_DATA" not in env and os.path.isdir(home_data):
        env["NLTK_DATA"] = home_data
    if extra:
        env.update({str(k): str(v) for k, v in extra.items()})
    return env


def data_read_paths(env: Mapping[str, str]) -> tuple[str, ...]:
    """The existing directories ``NLTK_DATA`` names in ``env``: data a sample must be able to read
    (the official evaluator reads it unrestricted), so the sandbox's read-only view includes it."""
    return tuple(dict.fromkeys(os.path.realpath(d) for d in env_named_dirs(env) if os.path.isdir(d)))
