"""What a client may ask of one evaluation, parsed once for every front end (JSON API, Gradio).

The names are the official ones (``bigcodebench.evaluate`` and the Gradio ``/predict`` API), so a
client written for the Hugging Face Space sends them unchanged. Values arrive as text (query
strings) or as JSON/Gradio values; both are accepted, and anything else is a 400 with one line
saying which option is wrong and what it takes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from bcb.dataset import SPLITS, SUBSETS
from bcb.evaluation.evaluate import EvalConfig
from bcb.execution import Limits

#: Accepted for compatibility and ignored: the server, not the client, decides how many workers run.
IGNORED = ("parallel",)


class RequestError(Exception):
    """A request the server refuses; ``status`` is the HTTP status, the message one line for the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class JobOptions:
    """One evaluation's options, with the official defaults. ``dataset`` (empty: the server's)
    lets ``bcb evaluate --remote`` check it talks to a server of the dataset it means;
    ``timeout`` and ``allow_partial`` are bcb's own, as on ``bcb evaluate``; ``filename`` is the
    uploaded file's name, from which the official model name comes."""

    split: str = "complete"
    subset: str = "full"
    pass_k: tuple[int, ...] = (1, 5, 10)
    min_time_limit: float = 1.0
    max_as_limit: int = 30 * 1024
    max_data_limit: int = 30 * 1024
    max_stack_limit: int = 10
    calibrated: bool = True
    check_gt_only: bool = False
    no_gt: bool = False
    selective_evaluate: str = ""
    timeout: float | None = None
    allow_partial: bool = False
    dataset: str = ""
    filename: str = "samples.jsonl"

    @property
    def limits(self) -> Limits:
        return Limits(self.max_as_limit, self.max_data_limit, self.max_stack_limit)

    def eval_config(self) -> EvalConfig:
        return EvalConfig(
            split=self.split,  # type: ignore[arg-type]
            calibrated=self.calibrated,
            pass_k=self.pass_k,
            min_time_limit=self.min_time_limit,
            limits=self.limits,
            timeout=self.timeout,
            no_gt=self.no_gt,
            allow_partial=self.allow_partial,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobOptions:
        raw = json.loads(text)
        raw["pass_k"] = tuple(raw["pass_k"])
        return cls(**raw)

    def request_key(self, samples: bytes) -> str:
        """Identical uploads with identical options are one request: answered by the same job."""
        digest = hashlib.sha256(samples)
        digest.update(b"\0" + self.to_json().encode())
        return digest.hexdigest()


_TEXT = ("split", "subset", "selective_evaluate", "dataset", "filename")
_BOOLS = ("calibrated", "check_gt_only", "no_gt", "allow_partial")
_INTS = ("max_as_limit", "max_data_limit", "max_stack_limit")
_FLOATS = ("min_time_limit", "timeout")


def parse_options(raw: Mapping[str, Any]) -> JobOptions:
    """Options from a query string or a Gradio call; a missing or empty value keeps its default."""
    known = {f.name for f in fields(JobOptions)}
    unknown = sorted(set(raw) - known - set(IGNORED))
    if unknown:
        raise RequestError(400, f"unknown option {unknown[0]!r}: the options are {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name in IGNORED or value is None or (isinstance(value, str) and not value.strip()):
            continue
        if name in ("pass_k", "selective_evaluate"):
            # The official CLI reads `--pass_k 1,5,10` with python-fire, which makes it a tuple;
            # a Gradio Textbox then hands it over as its text, "(1, 5, 10)".
            if isinstance(value, (list, tuple)):
                value = ",".join(str(v) for v in value)
            elif isinstance(value, str) and value.strip()[:1] in ("[", "("):
                value = value.strip()[1:-1].replace("'", "").replace('"', "")
        if name in _TEXT:
            values[name] = _text(name, value)
        elif name in _BOOLS:
            values[name] = _bool(name, value)
        elif name in _INTS:
            values[name] = _int(name, value)
        elif name in _FLOATS:
            values[name] = _float(name, value)
        elif name == "pass_k":
            values[name] = _pass_k(value)
    options = JobOptions(**values)
    if options.split not in SPLITS:
        raise RequestError(400, f"unknown split {options.split!r}: choose one of {', '.join(SPLITS)}")
    if options.subset not in SUBSETS:
        raise RequestError(400, f"unknown subset {options.subset!r}: choose one of {', '.join(SUBSETS)}")
    if options.check_gt_only and options.no_gt:
        raise RequestError(400, "check_gt_only and no_gt contradict each other")
    if options.timeout is not None and options.timeout > 3600:
        raise RequestError(400, f"timeout {options.timeout:g} s is too long: at most 3600 s per sample")
    if options.min_time_limit > 3600:
        raise RequestError(400, f"min_time_limit {options.min_time_limit:g} s is too long: at most 3600 s")
    if "/" in options.filename or "\\" in options.filename or options.filename in ("", ".", ".."):
        raise RequestError(
            400, f"filename {options.filename!r}: give a plain file name, e.g. model--bigcodebench-complete.jsonl"
        )
    return options


def _text(name: str, value: Any) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise RequestError(400, f"option {name}: expected text, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > 10_000:
        raise RequestError(400, f"option {name}: too long ({len(text)} characters)")
    return text


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise RequestError(400, f"option {name}: expected true or false, got {value!r}")


def _int(name: str, value: Any) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RequestError(400, f"option {name}: expected a whole number of MiB, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(number) or number != int(number) or number < 0:
        raise RequestError(400, f"option {name}: expected a whole number of MiB >= 0, got {value!r}")
    return int(number)


def _float(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RequestError(400, f"option {name}: expected a number of seconds, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
        raise RequestError(400, f"option {name}: expected a positive number of seconds, got {value!r}")
    return number


def _pass_k(value: Any) -> tuple[int, ...]:
    parts = [value] if isinstance(value, int) and not isinstance(value, bool) else str(value).split(",")
    try:
        ks = tuple(int(str(k).strip()) for k in parts if str(k).strip())
    except ValueError:
        raise RequestError(400, f"option pass_k: write comma-separated integers, e.g. 1,5,10; got {value!r}") from None
    if not ks or min(ks) < 1 or max(ks) > 10_000:
        raise RequestError(400, f"option pass_k: every k must be between 1 and 10000; got {value!r}")
    return ks
