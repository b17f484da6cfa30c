"""Quantiles of Gaussian mixtures: the intervals of both reference posteriors.

:mod:`hierdash.exact` (the Gaussian model's mixture over its grid) and
:mod:`hierdash.outcomes.result` (the quadrature's mixture over spreads and parent nodes)
both hold their posterior as a weighted sum of Gaussians; this is their one root finder.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

__all__ = ["mixture_quantiles"]


def mixture_quantiles(w: np.ndarray, means: np.ndarray, sds: np.ndarray, probs: np.ndarray,
                      centre: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Quantiles of Gaussian mixtures, one mixture per quantity, by bracketed Newton.

    Parameters
    ----------
    w : ndarray (C,)
        Weights of the components (summing to 1), shared by every quantity.
    means, sds : ndarray (C, Q)
        Mean and sd of each component (rows) for each quantity (columns).
    probs : ndarray (A,)
        The probabilities wanted, in (0, 1).
    centre, spread : ndarray (Q,)
        Each mixture's mean and sd: the first guess is the Gaussian quantile with these,
        and ``spread`` sets the tolerance (``1e-12`` of it).

    Returns
    -------
    ndarray (A, Q)
        The quantile of each probability (rows) for each quantity (columns).
    """
    sds = np.maximum(sds, 1e-300)
    out = np.empty((len(probs), means.shape[1]))
    lo0 = (means - 40 * sds).min(axis=0)
    hi0 = (means + 40 * sds).max(axis=0)
    for a, prob in enumerate(probs):
        x = np.clip(centre + ndtri(prob) * spread, lo0, hi0)
        lo, hi = lo0.copy(), hi0.copy()
        tol = 1e-12 * np.maximum(spread, 1e-300)
        for _ in range(200):
            zz = (x - means) / sds
            f = w @ ndtr(zz) - prob
            with np.errstate(over="ignore"):  # a component of sd ~0 far away: density 0
                dens = w @ (np.exp(-0.5 * zz**2) / sds) / math.sqrt(2 * math.pi)
            lo = np.where(f < 0, x, lo)
            hi = np.where(f > 0, x, hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                new = x - f / dens
            # Newton where it stays inside the bracket, bisection where it does not.
            ok = np.isfinite(new) & (new >= lo) & (new <= hi)
            new = np.where(ok, new, 0.5 * (lo + hi))
            done = (np.abs(new - x) <= tol) | (hi - lo <= tol) | (f == 0)
            x = np.where(f == 0, x, new)
            if np.all(done):
                break
        out[a] = x
    return out
