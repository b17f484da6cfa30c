"""The reference posterior as a result: moments on the link scale, and intervals.

:class:`QuadraturePosterior` holds the posterior as the quadrature sees it: a grid of
spreads with their weights, at each spread the parent's Gauss-Hermite nodes, and at each
node every task's conditional mean and variance. Its moments are that mixture's exact
moments; its intervals treat the parent given each spread, and each task's weights
given each parent node, as Gaussian (a mixture of many such Gaussians, so the skew of
the whole is kept). Its draws come from the same mixture, the spread drawn within each
grid point's cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hierdash.outcomes.mixtures import mixture_quantiles
from hierdash.outcomes.spread_grid import Grid
from hierdash.settings import CI_PROB
from hierdash.values import bad_value, whole_number

__all__ = ["QuadraturePosterior", "assemble"]

_PRUNE = 1e-10  # components lighter than this (relative to the heaviest) leave the mixture
_MOST = 10**9  # the most draws (or chains) one call may ask for


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
class _Nodes:
    """The quadrature at the spreads that carry mass (G of them), for the draws."""

    point: np.ndarray  # (G,) each spread's index in the full grid
    weight: np.ndarray  # (G,) its posterior mass, summing to 1
    node_weight: np.ndarray  # (G, J)
    parent: np.ndarray  # (G, J, K)
    parent_var: np.ndarray  # (G, J, K)
    child_mean: np.ndarray  # (G, J, T, K)
    child_var: np.ndarray  # (G, J, T, K)


@dataclass(frozen=True, eq=False)
class _Continuous:
    """At each spread that carries mass (G): the parent as one Gaussian, and each task's
    weights as a Gaussian whose mean is linear in the parent, both fitted to the nodes
    (their weighted moments and least squares), for draws that are not lumped on the
    nodes."""

    parent_mean: np.ndarray  # (G, K)
    parent_chol: np.ndarray  # (G, K, K)
    child_mean: np.ndarray  # (G, T, K) at the parent's mean
    child_slope: np.ndarray  # (G, T, K, K) d child[t, k] / d parent[l]
    child_sd: np.ndarray  # (G, T, K) around the line: within and between the nodes


def _continuous(nodes: _Nodes) -> _Continuous:
    W = nodes.node_weight / nodes.node_weight.sum(axis=1, keepdims=True)
    mean = np.einsum("gj,gjk->gk", W, nodes.parent)
    D = nodes.parent - mean[:, None, :]
    between = np.einsum("gj,gjk,gjl->gkl", W, D, D)
    within = np.einsum("gj,gjk->gk", W, nodes.parent_var)
    cov = between + within[:, :, None] * np.eye(mean.shape[1])
    child = np.einsum("gj,gjtk->gtk", W, nodes.child_mean)
    E = nodes.child_mean - child[:, None]
    cross = np.einsum("gj,gjtk,gjl->gtkl", W, E, D)
    slope = cross @ np.linalg.pinv(between)[:, None]  # 0 where one node stands for all
    left = E - np.einsum("gtkl,gjl->gjtk", slope, D)
    resid = np.einsum("gj,gjtk->gtk", W, nodes.child_var + left**2)
    jitter = 1e-12 * np.eye(mean.shape[1])
    return _Continuous(parent_mean=mean, parent_chol=np.linalg.cholesky(cov + jitter),
                       child_mean=child, child_slope=slope, child_sd=np.sqrt(resid))


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
    _nodes: _Nodes = field(repr=False)
    _continuous: _Continuous = field(repr=False)
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
        parent = mixture_quantiles(mix.parent_weight, mix.parent_mean, mix.parent_sd, probs,
                                   self.parent_mean, self.parent_sd)
        child = mixture_quantiles(mix.child_weight, mix.child_mean.reshape(-1, t * k),
                                  mix.child_sd.reshape(-1, t * k), probs,
                                  self.child_mean.ravel(), self.child_sd.ravel())
        if self.spread_fixed:
            spread = np.full(2, self.spread_grid[0])
        else:
            u = _log_linear_quantiles(self._spread_u, self._spread_log_density, probs)
            spread = self._tau0 * np.sinh(u)
        return {"parent": parent, "child": child.reshape(2, t, k), "spread": spread}

    def sample(self, draws: int, chains: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Independent draws from the quadrature's posterior (the counterpart of
        :meth:`hierdash.exact.ExactPosterior.sample`).

        Each draw picks a spread grid point ``g`` by its weight. The parent is drawn
        from one Gaussian with the mean and covariance of ``g``'s parent nodes, and each
        task's weights from a Gaussian whose mean is the least-squares line of the
        nodes' task means on the parent, with the variance left around it (within and
        between nodes). Drawing the parent on the nodes themselves lumps it on a few
        values, and its central 50% intervals covered the truth in a quarter of the
        calibration lab's worlds. The spread is drawn within ``g``'s cell
        (halfway to each neighbour, in ``u = asinh(tau / tau0)``), so its draws are
        continuous, not only the grid's values: on each half of the cell the log
        density is linear, with half the slope of the log density between the two
        points (the log-linear density of :meth:`interval`, tilted by half: the full
        slope, with ``g`` picked by its trapezoid weight, narrows the spread's draws by
        2 to 4% of its sd; the half tilt cancels that error to second order in the
        spacing, as :meth:`hierdash.exact.ExactPosterior.sample` does). The weights
        keep ``g``'s components whatever the spread drawn in its cell: an
        approximation, of the order of the grid's own error. Points of the grid whose
        mass is below ``1e-10`` of the heaviest are left out.

        Parameters
        ----------
        draws
            Draws per chain (>= 1).
        chains
            Number of chains (>= 1); the chains are independent like the draws.
        rng
            Source of randomness.

        Returns
        -------
        dict
            ``parent`` (chains, draws, K), ``child`` (chains, draws, T, K) and, unless
            the spread is fixed, ``spread`` (chains, draws).

        Raises
        ------
        ValueError
            If ``draws`` or ``chains`` is not a whole number >= 1, or ``rng`` is not a
            ``numpy.random.Generator``.
        """
        draws = whole_number("draws", draws, 1, _MOST)
        chains = whole_number("chains", chains, 1, _MOST)
        if not isinstance(rng, np.random.Generator):
            raise bad_value("rng", rng, "must be a numpy.random.Generator")
        total = draws * chains
        nodes = self._nodes
        t, k = self.child_mean.shape
        # The spread's point g by its weight and then the node j by its weight given g:
        # one pick of the pair by the product of the two.
        smooth = self._continuous
        g = _pick(nodes.weight, rng.random(total))
        offset = np.einsum("nkl,nl->nk", smooth.parent_chol[g], rng.standard_normal((total, k)))
        parent = smooth.parent_mean[g] + offset
        child = (smooth.child_mean[g] + np.einsum("ntkl,nl->ntk", smooth.child_slope[g], offset)
                 + smooth.child_sd[g] * rng.standard_normal((total, t, k)))
        out = {"parent": parent.reshape(chains, draws, k),
               "child": child.reshape(chains, draws, t, k)}
        if not self.spread_fixed:
            u = _within_cells(self._spread_u, self._spread_log_density, nodes.point[g],
                              rng.random(total), rng.random(total))
            out["spread"] = (self._tau0 * np.sinh(u)).reshape(chains, draws)
        return out


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
    kept = w[keep_g] / w[keep_g].sum()
    draws = _Nodes(point=np.flatnonzero(keep_g), weight=kept,
                   node_weight=found.node_weight[keep_g], parent=found.parent[keep_g],
                   parent_var=found.parent_var[keep_g], child_mean=found.child_mean[keep_g],
                   child_var=found.child_var[keep_g])
    mixture = _Mixture(
        parent_weight=kept,
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
        _nodes=draws,
        _continuous=_continuous(draws),
        _spread_u=grid.u,
        _spread_log_density=grid.log_density,
        _tau0=grid.tau0,
    )


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


def _pick(weight: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Indices drawn by ``weight`` (inverse CDF of ``uniform``)."""
    cdf = np.cumsum(weight)
    return np.minimum(np.searchsorted(cdf, uniform * cdf[-1], side="right"), len(cdf) - 1)


def _within_cells(u: np.ndarray, lp: np.ndarray, at: np.ndarray, side: np.ndarray,
                  uniform: np.ndarray) -> np.ndarray:
    """Draws of ``u`` within the cells of the grid points ``at``: from halfway to the
    left neighbour to halfway to the right one, each half a piece of an exponential
    density (its log linear, with half the slope of ``lp`` towards that neighbour).
    ``side`` picks the half by its mass, ``uniform`` the place within it."""
    if len(u) < 2:
        return u[at]
    h = np.diff(u)
    # Half the slope: the cell's mass is its point's trapezoid weight, so the full slope
    # would pull every draw towards the top (the spread's sd 2 to 4% short on a coarse
    # grid); half of it cancels that error to second order in the spacing.
    slope = 0.5 * np.diff(lp) / h
    zero = np.zeros(1)
    # Each half, walked out from the point: its length and the slope of the log density.
    left_len = 0.5 * np.concatenate([zero, h])[at]
    right_len = 0.5 * np.concatenate([h, zero])[at]
    left_rate = -np.concatenate([zero, slope])[at]
    right_rate = np.concatenate([slope, zero])[at]
    left_mass = _log_mass(left_rate, left_len)
    right_mass = _log_mass(right_rate, right_len)
    go_left = side * (1.0 + np.exp(right_mass - left_mass)) < 1.0
    length = np.where(go_left, left_len, right_len)
    offset = length * _exponential_fraction(np.where(go_left, left_rate, right_rate) * length,
                                            uniform)
    return u[at] + np.where(go_left, -offset, offset)


def _log_mass(rate: np.ndarray, length: np.ndarray) -> np.ndarray:
    """``log`` of the integral of ``exp(rate x)`` over ``[0, length]`` (-inf if empty)."""
    a = rate * length
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.log(-np.expm1(-np.abs(a)))  # log|expm1(a)| = this, plus a when a > 0
        out = np.where(a > 0, a, 0.0) + tail - np.log(np.abs(a)) + np.log(length)
        return np.where(np.abs(a) < 1e-9, np.log(length), out)


def _exponential_fraction(a: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Where in ``[0, 1]`` a draw with density ``~ exp(a x)`` falls (inverse CDF)."""
    small = np.abs(a) < 1e-9
    safe = np.where(small, 1.0, a)
    with np.errstate(divide="ignore"):
        up = 1.0 + np.log(uniform + (1.0 - uniform) * np.exp(-np.abs(safe))) / np.abs(safe)
        down = np.log1p(uniform * np.expm1(-np.abs(safe))) / safe
    return np.clip(np.where(small, uniform, np.where(a > 0, up, down)), 0.0, 1.0)
