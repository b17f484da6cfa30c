"""The Gaussian outcome with a known noise, in the same machinery as the other families.

The dashboard's Gaussian worlds are fitted by :mod:`hierdash.exact`, which also learns
the noise. This family fixes the noise: it lets the quadrature be checked against the
closed form (where adaptive Gauss-Hermite is exact), and gives simulation one interface
for every outcome.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hierdash.outcomes.family import Family, numbers
from hierdash.values import bad_value

__all__ = ["Gaussian"]


@dataclass(frozen=True)
class Gaussian(Family):
    """``y ~ Normal(eta, noise)``, the noise known.

    Parameters
    ----------
    noise
        Standard deviation of ``y`` around ``eta`` (> 0).
    """

    noise: float = 1.0

    name: ClassVar[str] = "gaussian"
    link: ClassVar[str] = "identity"

    def __post_init__(self) -> None:
        noise = self.noise
        if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating, np.integer)) \
                or not math.isfinite(noise) or noise <= 0:
            raise bad_value("noise", noise, "must be a number > 0")
        object.__setattr__(self, "noise", float(noise))

    def kernel(self, eta, y, size):
        precision = 1.0 / self.noise**2
        r = y - np.asarray(eta, dtype=float)
        return -0.5 * precision * r**2, precision * r, np.full(np.shape(r), precision)

    def value(self, eta, y, size):
        return (-0.5 / self.noise**2) * (y - np.asarray(eta, dtype=float)) ** 2

    def constant(self, y, size):
        return np.full(np.shape(y), -math.log(self.noise) - 0.5 * math.log(2.0 * math.pi))

    def simulate(self, eta, size, rng):
        eta = np.asarray(eta, dtype=float)
        return eta + rng.normal(0.0, self.noise, size=eta.shape)

    def check(self, y, size, *, where=""):
        y = numbers("y", y, where)
        return y, np.ones_like(y)
