"""The exact posterior as a result: moments, conditionals, draws and intervals.

:class:`ExactPosterior` holds the posterior as a Gaussian mixture over the grid of
``(sigma, tau)`` (built by :func:`hierdash.exact.exact_posterior`). Its moments are the
mixture's exact moments; its draws and intervals come from the same mixture, with the
quadrature helpers below and :func:`hierdash.outcomes.mixtures.mixture_quantiles`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hierdash.exact.algebra import CHUNK, ReducedModel
from hierdash.outcomes.mixtures import mixture_quantiles
from hierdash.values import bad_value, finite_number, whole_number

__all__ = ["ExactPosterior", "Mixture"]

_MOST_DRAWS = 10**9  # the most draws (or chains) one call may ask for
_MAX_TILT = 60.0  # largest change of the log density across one cell the sampler tilts by


@dataclass(frozen=True, eq=False)
class Mixture:
    """The posterior as a mixture over the grid points that carry mass."""

    weight: np.ndarray  # (G,)
    parent_mean: np.ndarray  # (G, K)
    parent_sd: np.ndarray  # (G, K)
    child_mean: np.ndarray  # (G, T, K)
    child_sd: np.ndarray  # (G, T, K)


@dataclass(frozen=True, eq=False)
class ExactPosterior:
    """The exact posterior of the hierarchical model (up to the grid over noise, spread).

    Attributes
    ----------
    parent_mean, parent_sd : ndarray, shape (K,)
        Posterior mean and standard deviation of the parent weights.
    child_mean, child_sd : ndarray, shape (T, K)
        Posterior mean and standard deviation of each task's weights.
    noise_mean, noise_sd : float
        Posterior mean and standard deviation of the noise ``sigma``.
    spread_mean, spread_sd : float
        Posterior mean and standard deviation of the spread ``tau`` (the fixed value
        and 0.0 when the spread is fixed).
    noise_grid : ndarray, shape (Gn,)
        Grid of ``sigma`` (uniform in log space).
    spread_grid : ndarray, shape (Gs,)
        Grid of ``tau`` (uniform in log space), or ``[fixed]`` when the spread is fixed.
    weights : ndarray, shape (Gn, Gs)
        Normalised posterior mass of each grid cell.
    log_evidence : float
        log p(y) (the marginal likelihood of the data), from the same quadrature.

    All moments are the exact moments of the Gaussian mixture over the grid, not
    estimates from draws. Conditionals at any ``(sigma, tau)`` are available from
    :meth:`conditional`.
    """

    parent_mean: np.ndarray
    parent_sd: np.ndarray
    child_mean: np.ndarray
    child_sd: np.ndarray
    noise_mean: float
    noise_sd: float
    spread_mean: float
    spread_sd: float
    noise_grid: np.ndarray
    spread_grid: np.ndarray
    weights: np.ndarray
    log_evidence: float
    _model: ReducedModel = field(repr=False)
    _mixture: Mixture = field(repr=False)

    @property
    def spread_fixed(self) -> bool:
        """Whether the spread was fixed rather than learned."""
        return self._model.fixed_spread is not None

    # -- conditionals ------------------------------------------------------------------
    def conditional(self, noise, spread) -> dict[str, np.ndarray]:
        """The Gaussian posterior of the weights given ``sigma = noise``, ``tau = spread``.

        Parameters
        ----------
        noise, spread
            Values of ``sigma > 0`` and ``tau >= 0``; scalars or arrays that broadcast.

        Returns
        -------
        dict
            ``parent_mean`` (..., K), ``parent_cov`` (..., K, K), ``child_mean``
            (..., T, K), ``child_sd`` (..., T, K) (the parent integrated out) and
            ``log_likelihood`` (...): log p(y | sigma, tau), the weights integrated out.
        """
        sigma, tau = np.broadcast_arrays(np.asarray(noise, float), np.asarray(spread, float))
        if not (np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
            raise bad_value("noise", noise, "must be positive and finite")
        if not (np.all(np.isfinite(tau)) and np.all(tau >= 0)):
            raise bad_value("spread", spread, "must be >= 0 and finite")
        shape = sigma.shape
        s, t = sigma.ravel(), tau.ravel()
        m = self._model
        cond = m.parent_given(s, t, full=True)
        cov = np.matmul(cond["root"], cond["root"].transpose(0, 2, 1))
        cmean, cvar = m.child_moments(cond, t)
        k, nt = m.n_features, m.n_tasks
        return {
            "parent_mean": (cond["mu"] + m.shift).reshape(shape + (k,)),
            "parent_cov": cov.reshape(shape + (k, k)),
            "child_mean": cmean.reshape(shape + (nt, k)),
            "child_sd": np.sqrt(cvar).reshape(shape + (nt, k)),
            "log_likelihood": cond["loglik"].reshape(shape),
        }

    # -- draws -------------------------------------------------------------------------
    def sample(self, draws: int, chains: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Independent exact draws from the posterior.

        Each draw picks a grid cell by its weight, jitters ``sigma`` and ``tau`` within
        the cell in log space, then draws ``p | sigma, tau, y`` and each
        ``c_t | p, sigma, tau, y`` from their Gaussian conditionals (at the jittered
        values). The jitter is uniform tilted by half the local slope of the log density
        (from central differences on the grid): plain uniform jitter would inflate the
        variance of ``log sigma`` and ``log tau`` by ``h^2 / 12`` (``h`` the cell width);
        the half-slope tilt cancels that error to second order in ``h``.

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
            ``parent`` (chains, draws, K), ``child`` (chains, draws, T, K), ``noise``
            (chains, draws) and ``spread`` (chains, draws).
        """
        draws = whole_number("draws", draws, 1, _MOST_DRAWS)
        chains = whole_number("chains", chains, 1, _MOST_DRAWS)
        if not isinstance(rng, np.random.Generator):
            raise bad_value("rng", rng, "must be a numpy.random.Generator")
        total = int(draws) * int(chains)
        m = self._model
        u = np.log(self.noise_grid)
        hu = u[1] - u[0] if u.size > 1 else 0.0
        v = np.log(self.spread_grid) if not self.spread_fixed else np.zeros(1)
        hv = v[1] - v[0] if v.size > 1 else 0.0
        # Within a cell the jitter has density ~ exp(g x / 2), g the log density's slope:
        # with the cells' midpoint masses this cancels the O(h^2) bias of uniform jitter
        # (which inflates the variance of log sigma, log tau by h^2 / 12) in every moment.
        gu, gv = _cell_slopes(self.weights, hu, hv)
        gu, gv = 0.5 * gu, 0.5 * gv
        cdf = np.cumsum(self.weights.ravel())
        cell = np.searchsorted(cdf, rng.random(total) * cdf[-1], side="right")
        i, j = np.divmod(np.minimum(cell, cdf.size - 1), self.weights.shape[1])
        sigma = np.exp(u[i] + _within_cell(rng.random(total), gu[i, j], hu))
        if self.spread_fixed:
            tau = np.full(total, m.fixed_spread)
        else:
            tau = np.exp(v[j] + _within_cell(rng.random(total), gv[i, j], hv))
        k, nt = m.n_features, m.n_tasks
        p, c = np.empty((total, k)), np.empty((total, nt, k))
        step = max(256, CHUNK // (nt * k))
        for lo in range(0, total, step):
            sl = slice(lo, lo + step)
            p[sl], c[sl] = m.draw(sigma[sl], tau[sl], rng)
        return {
            "parent": p.reshape(chains, draws, k),
            "child": c.reshape(chains, draws, nt, k),
            "noise": sigma.reshape(chains, draws),
            "spread": tau.reshape(chains, draws),
        }

    # -- intervals -----------------------------------------------------------------------
    def interval(self, level: float = 0.9) -> dict[str, np.ndarray]:
        """Equal-tailed credible intervals from the exact mixture (not from draws).

        Parameters
        ----------
        level
            Probability inside the interval, in (0, 1).

        Returns
        -------
        dict
            ``parent`` (2, K), ``child`` (2, T, K), ``noise`` (2,), ``spread`` (2,):
            lower bounds in row 0, upper bounds in row 1.
        """
        level = finite_number("level", level)
        if not 0 < level < 1:
            raise bad_value("level", level, "must be between 0 and 1 (exclusive)")
        probs = np.array([(1 - level) / 2, (1 + level) / 2])
        mix = self._mixture
        k, nt = self._model.n_features, self._model.n_tasks
        means = np.concatenate([mix.parent_mean, mix.child_mean.reshape(-1, nt * k)], axis=1)
        sds = np.concatenate([mix.parent_sd, mix.child_sd.reshape(-1, nt * k)], axis=1)
        centre = np.concatenate([self.parent_mean, self.child_mean.ravel()])
        spread = np.concatenate([self.parent_sd, self.child_sd.ravel()])
        qs = mixture_quantiles(mix.weight, means, sds, probs, centre, spread)
        out = {
            "parent": qs[:, :k],
            "child": qs[:, k:].reshape(2, nt, k),
            "noise": _grid_quantiles(self.noise_grid, self.weights.sum(axis=1), probs),
        }
        if self.spread_fixed:
            out["spread"] = np.full(2, self.spread_grid[0])
        else:
            out["spread"] = _grid_quantiles(self.spread_grid, self.weights.sum(axis=0), probs)
        return out


def _cell_slopes(weights: np.ndarray, hu: float, hv: float) -> tuple[np.ndarray, np.ndarray]:
    """Slopes of the log density along each axis at each grid point (central differences,
    one-sided at the edges; 0 where the density vanishes)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lw = np.log(weights)
        slopes = []
        for axis, h in ((0, hu), (1, hv)):
            if weights.shape[axis] < 2 or h == 0:
                slopes.append(np.zeros_like(weights))
                continue
            g = np.gradient(lw, h, axis=axis)
            g = np.where(np.isfinite(g), g, 0.0)
            slopes.append(np.clip(g, -_MAX_TILT / h, _MAX_TILT / h))
    return slopes[0], slopes[1]


def _within_cell(uniform: np.ndarray, g: np.ndarray, h: float) -> np.ndarray:
    """Offsets in [-h/2, h/2] with density proportional to exp(g x) (inverse CDF)."""
    if h == 0:
        return np.zeros_like(uniform)
    a = g * h
    small = np.abs(a) < 1e-6
    safe = np.where(small, 1.0, a)
    frac = np.where(small, uniform, np.log1p(uniform * np.expm1(safe)) / safe)
    return (frac - 0.5) * h


def _grid_quantiles(grid: np.ndarray, mass: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantiles of a grid's mass spread uniformly (in log space) over each cell."""
    u = np.log(grid)
    if u.size == 1:
        return np.full(len(probs), grid[0])
    h = u[1] - u[0]
    edges = np.concatenate([u - h / 2, [u[-1] + h / 2]])
    cdf = np.concatenate([[0.0], np.cumsum(mass)])
    return np.exp(np.interp(probs * cdf[-1], cdf, edges))

