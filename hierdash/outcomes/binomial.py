"""Yes/no and successes-of-trials outcomes on the logit scale: Bernoulli and binomial.

A binomial row has ``y`` successes of ``trials`` tries, each a success with probability
``expit(eta)``; a Bernoulli row is a binomial row of one trial. Rows of one task with
the same features merge into one binomial row (their successes and trials summed), which
changes the likelihood only by a constant: this is what makes binary radon (919 homes,
two kinds of floor) as cheap as 170 binomial rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import expit, gammaln

from hierdash.outcomes.family import Family, first_bad, numbers

__all__ = ["Bernoulli", "Binomial"]


@dataclass(frozen=True)
class Binomial(Family):
    """``y ~ Binomial(trials, expit(eta))``: successes of a number of trials per row."""

    name: ClassVar[str] = "binomial"
    link: ClassVar[str] = "logit"
    size_name: ClassVar[str | None] = "trials"
    mergeable: ClassVar[bool] = True

    def kernel(self, eta, y, size):
        eta = np.asarray(eta, dtype=float)
        prob = expit(eta)
        # n log(1 + e^eta), stable on both tails.
        value = y * eta - size * np.logaddexp(0.0, eta)
        return value, y - size * prob, size * prob * expit(-eta)

    def value(self, eta, y, size):
        eta = np.asarray(eta, dtype=float)
        # log(1 + e^eta) = max(eta, 0) + log1p(e^-|eta|): stable, and cheaper than logaddexp.
        return y * eta - size * (np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta))))

    def constant(self, y, size):
        return gammaln(size + 1.0) - gammaln(y + 1.0) - gammaln(size - y + 1.0)

    def simulate(self, eta, size, rng):
        trials = np.broadcast_to(np.asarray(size), np.shape(eta)).astype(np.int64)
        return rng.binomial(trials, expit(eta)).astype(float)

    def check(self, y, size, *, where=""):
        y = numbers("y", y, where)
        if size is None:
            raise ValueError("a binomial outcome needs trials: how many tries each count of "
                             "successes (y) is out of")
        trials = np.broadcast_to(numbers("trials", size, where), y.shape).astype(float)
        _whole_and_not_negative("trials", trials, where)
        _whole_and_not_negative("successes (y)", y, where)
        over = y > trials
        if np.any(over):
            i = int(np.flatnonzero(over)[0])
            raise ValueError(f"successes (y) cannot be more than trials: {where}row {i + 1} has "
                             f"{int(y[i])} successes of {int(trials[i])} trials")
        return y, trials


@dataclass(frozen=True)
class Bernoulli(Binomial):
    """``y ~ Bernoulli(expit(eta))``: one yes (1) or no (0) per row."""

    name: ClassVar[str] = "bernoulli"
    size_name: ClassVar[str | None] = None

    # The likelihood is the binomial one with one trial per row (log C(1, y) = 0): rows
    # merged by the quadrature are binomial rows of several trials.

    def simulate(self, eta, size, rng):
        return rng.binomial(1, expit(np.asarray(eta, dtype=float))).astype(float)

    def check(self, y, size, *, where=""):
        y = numbers("y", y, where)
        bad = (y != 0) & (y != 1)
        if np.any(bad):
            raise ValueError("y must be 0 or 1 for a yes/no (bernoulli) outcome: "
                             + first_bad(bad, y, where))
        return y, np.ones_like(y)


def _whole_and_not_negative(name: str, values: np.ndarray, where: str) -> None:
    negative = values < 0
    if np.any(negative):
        raise ValueError(f"{name} cannot be negative: " + first_bad(negative, values, where))
    fractional = values != np.round(values)
    if np.any(fractional):
        raise ValueError(f"{name} must be whole numbers: " + first_bad(fractional, values, where))
