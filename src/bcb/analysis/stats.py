"""The few statistics the analyses need, written out so that every number can be checked by hand.

numpy only: the breakdowns bootstrap hundreds of groups (domains x libraries x models), which the
pure-Python bootstrap of `bcb.evaluation.passk` would make slow; the leaderboard's pass@1 interval
still comes from there, so it is the very interval `bcb evaluate` printed for the same file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from bcb.evaluation.passk import Interval


def bootstrap_mean(values: Sequence[float], *, level: float = 0.95, resamples: int = 1000, seed: int = 0) -> Interval:
    """Percentile bootstrap of a mean over tasks, seeded. An empty group has no estimate (nan)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return Interval(math.nan, math.nan, math.nan, level)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail], method="inverted_cdf")
    return Interval(float(data.mean()), float(low), float(high), level)


@dataclass(frozen=True)
class McNemar:
    """McNemar's test on paired per-task outcomes: only the discordant tasks carry information."""

    only_a: int
    only_b: int
    p_value: float
    """Exact two-sided binomial p-value (discordant tasks split 50/50 under 'no difference')."""
    statistic: float
    """The continuity-corrected chi-square statistic, for readers used to that form."""

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05

    def to_json(self) -> dict[str, float | int]:
        return {"only_a": self.only_a, "only_b": self.only_b, "p_value": self.p_value, "chi2_corrected": self.statistic}


def mcnemar(only_a: int, only_b: int) -> McNemar:
    """The exact form: with a few hundred discordant tasks at most, exact integer arithmetic is
    cheap, and it stays right for the small counts where the chi-square approximation is not."""
    n = only_a + only_b
    if n == 0:
        return McNemar(only_a, only_b, 1.0, 0.0)
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1))
    p_value = min(1.0, 2 * tail / 2**n)
    statistic = max(abs(only_a - only_b) - 1, 0) ** 2 / n
    return McNemar(only_a, only_b, p_value, float(statistic))
