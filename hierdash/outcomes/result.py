"""The reference posterior as a result: moments on the link scale, and intervals.

:class:`QuadraturePosterior` holds the posterior as the quadrature sees it: a grid of
spreads with their weights, at each spread the parent's Gauss-Hermite nodes, and at each
node every task's conditional mean and variance. Its moments are that mixture's exact
moments; its intervals treat the parent given each spread, and each task's weights
given each parent node, as Gaussian (a mixture of many such Gaussians, so the skew of
the whole is kept).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr, ndtri

from hierdash.outcomes.family import bad_value
from hierdash.outcomes.spread_grid import Grid
from hierdash.settings import CI_PROB

__all__ = ["QuadraturePosterior", "assemble"]

_PRUNE = 1e-10  # components lighter than this (relative to the heaviest) leave the mixture


@dataclass(frozen=True, eq=False)
class _Mixture:
    """The Gaussian components the intervals are computed from."""

    parent_weight: np.ndarray  # (G,)
    parent_mean: np.ndarray  # (G, K)
    parent_sd: np.ndarray  # (G, K)
    child_weight: np.ndarray  # (C,)
    child_mean: np.ndarray  # (C, T, K)
    child_sd: np.ndarray  # (C, T, K)


@dataclass(frozen=True, eq=False)
class QuadraturePosterior:
    """The reference posterior of a hierarchical GLM, by nested quadrature.

    Attributes
    ----------
    family : str
        The outcome family fitted.
    parent_mean, parent_sd : ndarray (K,)
        Posterior mean and sd of the parent weights (link scale).
    child_mean, child_sd : ndarray (T, K)
        Posterior mean and sd of each task's weights (link scale).
    spread_mean, spread_sd : float
        Posterior mean and sd of the spread ``tau`` (the fixed value and 0 when fixed).
    spread_grid, spread_weights : ndarray (G,)
        The grid of spreads (uniform in ``asinh(tau / tau0)``: see
        :mod:`~hierdash.outcomes.spread_grid`) and the posterior mass of each point.
    log_evidence : float
        ``log p(y)`` from the same quadrature.
    nodes : tuple of int
        Gauss-Hermite nodes per feature (parent, each task).
    accurate : bool
        False where the rules were thinned for many features: the moments are then not
        checked to 0.1 posterior sd, and NUTS is the reference to trust.
    """

    family: str
    parent_mean: np.ndarray
    parent_sd: np.ndarray
    child_mean: np.ndarray
    child_sd: np.ndarray
    spread_mean: float
    spread_sd: float
    spread_grid: np.ndarray
    spread_weights: np.ndarray
    log_evidence: float
    nodes: tuple[int, int]
    accurate: bool
    spread_fixed: bool
    _mixture: _Mixture = field(repr=False)
    _spread_u: np.ndarray = field(repr=False)
    _spread_log_density: np.ndarray = field(repr=False)
    _tau0: float = field(repr=False)

    def interval(self, level: float = CI_PROB) -> dict[str, np.ndarray]:
        """Equal-tailed credible intervals (from the mixture, not from draws).

        Parameters
        ----------
        level
            Probability inside each interval, in (0, 1); by default
            :data:`hierdash.settings.CI_PROB`.

        Returns
        -------
        dict
            ``parent`` (2, K), ``child`` (2, T, K) and ``spread`` (2,): lower bounds in
            row 0, upper bounds in row 1.
        """
        if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) \
                or not 0 < level < 1:
            raise bad_value("level", level, "must be a number between 0 and 1 (exclusive)")
        probs = np.array([(1 - level) / 2, (1 + level) / 2])
        mix = self._mixture
        t, k = self.child_mean.shape
        parent = _mixture_quantiles(mix.parent_weight, mix.parent_mean, mix.parent_sd, probs,
                                    self.parent_mean, self.parent_sd)
        child = _mixture_quantiles(mix.child_weight, mix.child_mean.reshape(-1, t * k),
                                   mix.child_sd.reshape(-1, t * k), probs,
                                   self.child_mean.ravel(), self.child_sd.ravel())
        if self.spread_fixed:
            spread = np.full(2, self.spread_grid[0])
        else:
            u = _log_linear_quantiles(self._spread_u, self._spread_log_density, probs)
            spread = self._tau0 * np.sinh(u)
        return {"parent": parent, "child": child.reshape(2, t, k), "spread": spread}


def assemble(grid: Grid, *, log_evidence: float, fixed: bool, nodes: tuple[int, int],
             accurate: bool, family: str) -> QuadraturePosterior:
    """The posterior from the grid of spreads and the quadrature at each."""
    w, tau, found = grid.weights, grid.tau, grid.found
    W = w[:, None] * found.node_weight  # (G, J)
    parent_mean = np.einsum("gj,gjk->k", W, found.parent)
    parent_var = np.einsum("gj,gjk->k", W, found.parent_var
                           + (found.parent - parent_mean) ** 2)
    child_mean = np.einsum("gj,gjtk->tk", W, found.child_mean)
    child_var = np.einsum("gj,gjtk->tk", W, found.child_var
                          + (found.child_mean - child_mean) ** 2)
    spread_mean = float(w @ tau)
    spread_sd = 0.0 if fixed else float(math.sqrt(max(w @ (tau - spread_mean) ** 2, 0.0)))

    # Components: the parent given each spread; each task given each (spread, node).
    given_mean = np.einsum("gj,gjk->gk", found.node_weight, found.parent)
    given_var = np.einsum("gj,gjk->gk", found.node_weight,
                          found.parent_var + (found.parent - given_mean[:, None, :]) ** 2)
    keep_g = w > _PRUNE * w.max()
    flat_w = W.ravel()
    keep_c = flat_w > _PRUNE * flat_w.max()
    t, k = child_mean.shape
    mixture = _Mixture(
        parent_weight=w[keep_g] / w[keep_g].sum(),
        parent_mean=given_mean[keep_g],
        parent_sd=np.sqrt(given_var[keep_g]),
        child_weight=flat_w[keep_c] / flat_w[keep_c].sum(),
        child_mean=found.child_mean.reshape(-1, t, k)[keep_c],
        child_sd=np.sqrt(found.child_var.reshape(-1, t, k)[keep_c]),
    )
    return QuadraturePosterior(
        family=family,
        parent_mean=parent_mean,
        parent_sd=np.sqrt(np.maximum(parent_var, 0.0)),
        child_mean=child_mean,
        child_sd=np.sqrt(np.maximum(child_var, 0.0)),
        spread_mean=spread_mean,
        spread_sd=spread_sd,
        spread_grid=tau,
        spread_weights=w,
        log_evidence=float(log_evidence),
        nodes=nodes,
        accurate=accurate,
        spread_fixed=fixed,
        _mixture=mixture,
        _spread_u=grid.u,
        _spread_log_density=grid.log_density,
        _tau0=grid.tau0,
    )


def _mixture_quantiles(w, means, sds, probs, centre, spread) -> np.ndarray:
    """Quantiles ``probs`` of Gaussian mixtures (weights ``w`` (C,); columns of ``means``
    and ``sds`` (C, Q) are the quantities): Newton's method kept inside a bracket."""
    sds = np.maximum(sds, 1e-300)
    lo0 = (means - 40 * sds).min(axis=0)
    hi0 = (means + 40 * sds).max(axis=0)
    out = np.empty((len(probs), means.shape[1]))
    for a, prob in enumerate(probs):
        x = np.clip(centre + ndtri(prob) * spread, lo0, hi0)
        lo, hi = lo0.copy(), hi0.copy()
        tol = 1e-10 * np.maximum(spread, 1e-300)
        for _ in range(100):
            z = (x - means) / sds
            f = w @ ndtr(z) - prob
            dens = w @ (np.exp(-0.5 * z**2) / sds) / math.sqrt(2 * math.pi)
            lo = np.where(f < 0, x, lo)
            hi = np.where(f > 0, x, hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                new = x - f / dens
            ok = np.isfinite(new) & (new >= lo) & (new <= hi)
            new = np.where(ok, new, 0.5 * (lo + hi))
            done = (np.abs(new - x) <= tol) | (f == 0)
            x = np.where(f == 0, x, new)
            if np.all(done):
                break
        out[a] = x
    return out


def _log_linear_quantiles(u: np.ndarray, lp: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantiles of the density whose log is linear between the grid's points (exact
    integrals of each piece; the trapezoid cells would be coarse in the tails)."""
    if len(u) < 2:
        return np.full(len(probs), u[0])
    h = np.diff(u)
    a, b = lp[:-1] - lp.max(), lp[1:] - lp.max()
    slope = (b - a) / h
    flat = np.abs(slope) < 1e-9
    safe = np.where(flat, 1.0, slope)
    mass = np.where(flat, h * np.exp(a), (np.exp(b) - np.exp(a)) / safe)
    cdf = np.concatenate([[0.0], np.cumsum(mass)])
    out = np.empty(len(probs))
    for i, prob in enumerate(probs):
        target = prob * cdf[-1]
        j = int(np.clip(np.searchsorted(cdf, target, side="right") - 1, 0, len(h) - 1))
        left = target - cdf[j]  # mass to cover inside piece j, from u[j]
        if flat[j]:
            out[i] = u[j] + left / np.exp(a[j])
        else:
            out[i] = u[j] + np.log1p(left * slope[j] / np.exp(a[j])) / slope[j]
    return out
