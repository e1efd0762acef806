"""Elo ratings from task-level duels, the way the official leaderboard ranks models.

On every task, each pair of models plays one game: the model with the higher solve rate on that
task wins, and equal rates (both solved, both failed) are no game at all. A Bradley-Terry model
is fitted to the win counts by maximum likelihood and put on the Elo scale (400 points per factor
of ten in odds, mean 1000). Tasks are resampled with replacement for the confidence intervals.

Two choices keep the numbers reproducible. The fit carries a very weak Gaussian prior on the
strengths, so a model that never loses (the MLE would be infinite) still gets a finite rating and
the optimum is unique. Models and tasks are put in a canonical order before anything is drawn, so
the same results give the same ratings whatever order the files were named in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

ELO_BASE = 1000.0
ELO_SCALE = 400.0 / math.log(10.0)
"""Elo points per unit of log-odds strength."""
PRIOR = 0.01
"""Precision of the zero-mean Gaussian prior on log-strengths: negligible next to the hundreds of
games per pair of a real run, decisive only when the likelihood alone has no maximum."""


@dataclass(frozen=True)
class Rating:
    label: str
    elo: float
    low: float
    high: float
    wins: int
    """Games (tasks) won against any other model."""
    losses: int
    level: float = 0.95

    def to_json(self) -> dict[str, float | int | str]:
        return {
            "elo": self.elo,
            "low": self.low,
            "high": self.high,
            "level": self.level,
            "wins": self.wins,
            "losses": self.losses,
        }


def duels(rates: np.ndarray) -> np.ndarray:
    """rates: models x tasks solve rates. Returns tasks x models x models, 1 where the row model
    beat the column model on that task."""
    return (rates.T[:, :, None] > rates.T[:, None, :]).astype(float)


def fit_bradley_terry(wins: np.ndarray, *, prior: float = PRIOR, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Log-strengths (mean 0) maximising sum W_ij log sigmoid(s_i - s_j) - prior/2 |s|^2.

    Newton's method with step halving: the objective is strictly concave, the Hessian is small
    (models x models), and it converges in a handful of steps where minorization would take
    thousands on the lopsided win matrices a strong and a weak model produce."""
    m = wins.shape[0]
    games = wins + wins.T
    s = np.zeros(m)

    def objective(x: np.ndarray) -> float:
        diff = x[:, None] - x[None, :]
        return float(-(wins * np.logaddexp(0.0, -diff)).sum() - 0.5 * prior * x @ x)

    current = objective(s)
    for _ in range(max_iter):
        diff = s[:, None] - s[None, :]
        p = 1.0 / (1.0 + np.exp(-diff))
        grad = (wins - games * p).sum(axis=1) - prior * s
        weight = games * p * (1.0 - p)
        hessian = weight - np.diag(weight.sum(axis=1) + prior)
        step = np.linalg.solve(hessian, -grad)
        t = 1.0
        while True:
            candidate = s + t * step
            value = objective(candidate)
            if value >= current - 1e-12 or t < 1e-8:
                break
            t /= 2
        s, previous, current = candidate, current, value
        if abs(current - previous) < tol * (1.0 + abs(current)) and np.abs(t * step).max() < 1e-8:
            break
    return s - s.mean()


def to_elo(strengths: np.ndarray) -> np.ndarray:
    return ELO_BASE + ELO_SCALE * (strengths - strengths.mean())


def elo_ratings(
    outcomes: Mapping[str, Mapping[str, float]],
    tasks: Sequence[str],
    *,
    resamples: int = 500,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Rating]:
    """`outcomes`: label -> task -> solve rate, over at least `tasks`. Returns label -> rating
    with a percentile-bootstrap interval over tasks. Fewer than two models: no games, no ratings."""
    labels = sorted(outcomes)
    ordered = sorted(set(tasks))
    if len(labels) < 2 or not ordered:
        return {}
    rates = np.array([[outcomes[label][t] for t in ordered] for label in labels], dtype=float)
    per_task = duels(rates)
    wins = per_task.sum(axis=0)
    point = to_elo(fit_bradley_terry(wins))
    rng = np.random.default_rng(seed)
    draws = (
        rng.multinomial(len(ordered), np.full(len(ordered), 1.0 / len(ordered)), size=resamples)
        if resamples
        else np.zeros((0, len(ordered)))
    )
    samples = (
        np.array([to_elo(fit_bradley_terry(np.tensordot(w, per_task, axes=1))) for w in draws])
        if resamples
        else point[None, :]
    )
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(samples, [tail, 1.0 - tail], axis=0, method="inverted_cdf")
    return {
        label: Rating(
            label, float(point[i]), float(low[i]), float(high[i]), int(wins[i].sum()), int(wins[:, i].sum()), level
        )
        for i, label in enumerate(labels)
    }
