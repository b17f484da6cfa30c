"""Counts on the log scale: the Poisson family, with an exposure per row.

A row's count has mean ``exposure * exp(eta)``: the exposure is how long (or how much)
was observed, so ``eta`` is the log of a rate per unit of exposure (``log(exposure)`` is
the offset of a GLM). Rows of one task with the same features merge into one (counts and
exposures summed) without changing the likelihood beyond a constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import gammaln

from hierdash.outcomes.family import Family, first_bad, numbers

__all__ = ["Poisson"]

# numpy's Poisson sampler refuses larger means; far beyond any count a lesson needs.
_MAX_RATE = 1e15


@dataclass(frozen=True)
class Poisson(Family):
    """``y ~ Poisson(exposure * exp(eta))``: a count per row."""

    name: ClassVar[str] = "poisson"
    link: ClassVar[str] = "log"
    size_name: ClassVar[str | None] = "exposure"
    mergeable: ClassVar[bool] = True

    def kernel(self, eta, y, size):
        log_rate = np.asarray(eta, dtype=float) + np.log(size)
        with np.errstate(over="ignore"):
            mean = np.exp(log_rate)
        return y * log_rate - mean, y - mean, mean

    def value(self, eta, y, size):
        log_rate = np.asarray(eta, dtype=float) + np.log(size)
        with np.errstate(over="ignore"):
            return y * log_rate - np.exp(log_rate)

    def constant(self, y, size):
        return -gammaln(y + 1.0)

    def simulate(self, eta, size, rng):
        with np.errstate(over="ignore"):
            mean = np.asarray(size, dtype=float) * np.exp(np.asarray(eta, dtype=float))
        if np.any(~(mean <= _MAX_RATE)):
            raise ValueError(f"the expected count reaches {float(np.max(mean)):.3g}, too many "
                             "to draw: lower the true weights or the features' spread")
        return rng.poisson(mean).astype(float)

    def check(self, y, size, *, where=""):
        y = numbers("y", y, where)
        negative = y < 0
        if np.any(negative):
            raise ValueError("counts (y) cannot be negative: " + first_bad(negative, y, where))
        fractional = y != np.round(y)
        if np.any(fractional):
            raise ValueError("counts (y) must be whole numbers: "
                             + first_bad(fractional, y, where))
        if size is None:
            return y, np.ones_like(y)
        exposure = np.broadcast_to(numbers("exposure", size, where), y.shape).astype(float)
        empty = exposure <= 0
        if np.any(empty):
            raise ValueError("exposure must be more than 0 (a row observed for no time "
                             "cannot hold counts): " + first_bad(empty, exposure, where))
        return y, exposure
