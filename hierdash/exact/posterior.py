"""The entry point: :func:`exact_posterior` from sufficient statistics.

It checks the inputs, reduces the model (:mod:`hierdash.exact.algebra`), finds the grid
over ``(log sigma, log tau)`` (:mod:`hierdash.exact.grid`), and turns the weighted grid
into an :class:`~hierdash.exact.result.ExactPosterior`: the scales' moments from the
grid, the weights' from the Gaussian mixture over its points that carry mass.
"""

from __future__ import annotations

import math

import numpy as np

from hierdash.exact.algebra import CHUNK, ReducedModel
from hierdash.exact.grid import adapt_grid
from hierdash.exact.inputs import check_stats, positive_number
from hierdash.exact.result import ExactPosterior, Mixture
from hierdash.values import bad_value, finite_number
from hierdash.world import SufficientStats

__all__ = ["exact_posterior"]

_PRUNE = 1e-12  # points lighter than this (relative to the heaviest) leave the mixture
_STORE = 1 << 21  # at most this many (component, task, K) values kept for intervals


def exact_posterior(
    stats: SufficientStats,
    *,
    prior_parent_mean: float,
    prior_parent_scale: float,
    prior_spread_scale: float,
    prior_noise_scale: float,
    fixed_spread: float | None = None,
    grid_size: int = 48,
) -> ExactPosterior:
    """The exact posterior of the hierarchical model, ``(sigma, tau)`` on a grid.

    Parameters
    ----------
    stats
        Sufficient statistics of each task's rows; a task may have ``n = 0`` rows (its
        weights then follow the parent's predictive).
    prior_parent_mean, prior_parent_scale
        Parent weights ``~ Normal(mean, scale)`` per feature.
    prior_spread_scale
        Spread ``tau ~ HalfNormal(scale)`` (ignored when ``fixed_spread`` is given).
    prior_noise_scale
        Noise ``sigma ~ HalfNormal(scale)``.
    fixed_spread
        If given (>= 0), ``tau`` is fixed at this value instead of learned.
    grid_size
        Points per dimension of the final grid over ``(log sigma, log tau)``, 8 to 400:
        the least used; an axis gets twice as many (up to 8 times) while halving it
        still changes the mean or sd of sigma or tau by more than 0.2%.

    Returns
    -------
    ExactPosterior

    Raises
    ------
    ValueError
        If the statistics are inconsistent or an option is out of range.

    Notes
    -----
    Given ``(sigma, tau)``, each task's weights are integrated out in the eigenbasis of
    its ``X'X`` (``d_i = 1 / (1 + tau^2 lam_i / sigma^2)``), which leaves a Gaussian in
    the parent; the parent is integrated out in closed form. The work per grid point is
    ``O(T K^2)`` plus one ``K x K`` factorisation, batched over the whole grid. The grid is
    uniform in ``(log sigma, log tau)``; the density there includes the HalfNormal priors
    and the Jacobian ``sigma tau``. It adapts in coarse passes (push out any edge still
    within 16 nats of the top of the density, or of the density times ``sigma^2 tau^2``,
    and zoom in on the region above that cut), then in fine passes of ``grid_size``
    points (or more, until the quadrature no longer depends on the spacing). The
    trapezoid rule on these smooth densities converges exponentially: on test cases the
    moments agree with a far deeper, finer grid to about 1e-7 relative.
    """
    XtX, Xty, yty, n = check_stats(stats)
    m0 = finite_number("prior_parent_mean", prior_parent_mean)
    s0 = positive_number("prior_parent_scale", prior_parent_scale)
    s_tau = positive_number("prior_spread_scale", prior_spread_scale)
    s_sigma = positive_number("prior_noise_scale", prior_noise_scale)
    if fixed_spread is not None:
        fixed_spread = finite_number("fixed_spread", fixed_spread)
        if fixed_spread < 0:
            raise bad_value("fixed_spread", fixed_spread, "must be >= 0 (or None to learn it)")
    if (isinstance(grid_size, bool) or not isinstance(grid_size, (int, np.integer))
            or not 8 <= grid_size <= 400):
        raise bad_value("grid_size", grid_size, "must be a whole number from 8 to 400")
    grid_size = int(grid_size)

    model = ReducedModel.build(XtX, Xty, yty, n, m0, s0, s_sigma, s_tau, fixed_spread)
    ug, vg, lp = adapt_grid(model, grid_size)
    fixed = fixed_spread is not None

    top = lp.max()
    w = np.exp(lp - top)
    total = w.sum()
    weights = w / total
    hu = ug[1] - ug[0]
    hv = 1.0 if fixed else vg[1] - vg[0]
    # log p(y) = log of the integral over (u, v) of the density (normalising constants
    # of the priors are included in log_density).
    log_evidence = float(top + math.log(total * hu * hv))

    noise_grid = np.exp(ug)
    spread_grid = np.array([fixed_spread]) if fixed else np.exp(vg)
    wn = weights.sum(axis=1)
    noise_mean = float(wn @ noise_grid)
    noise_sd = float(math.sqrt(max(wn @ (noise_grid - noise_mean) ** 2, 0.0)))
    if fixed:
        spread_mean, spread_sd = float(fixed_spread), 0.0
    else:
        ws = weights.sum(axis=0)
        spread_mean = float(ws @ spread_grid)
        spread_sd = float(math.sqrt(max(ws @ (spread_grid - spread_mean) ** 2, 0.0)))

    # Conditional moments at the points that carry mass; mixture moments from them.
    ii, jj = np.nonzero(weights > _PRUNE * weights.max())
    wk = weights[ii, jj]
    wk = wk / wk.sum()
    sig = noise_grid[ii]
    tau = spread_grid[jj] if not fixed else np.full(ii.size, fixed_spread)
    # Components kept for intervals: every point, or every s-th along each axis when
    # that many would take too much memory (the coarser rule is still accurate there:
    # the grid was refined until halving it changed the moments by < 0.2%: see .grid).
    per_point = model.n_tasks * model.n_features
    stride = 1
    while stride < 64:
        on = (ii % stride == 0) & (jj % stride == 0)
        if on.sum() * per_point <= _STORE:
            break
        stride *= 2
    parent_mean, parent_var, child_mean, child_var, mixture = _mixture_moments(
        model, sig, tau, wk, on
    )
    return ExactPosterior(
        parent_mean=parent_mean,
        parent_sd=np.sqrt(parent_var),
        child_mean=child_mean,
        child_sd=np.sqrt(child_var),
        noise_mean=noise_mean,
        noise_sd=noise_sd,
        spread_mean=spread_mean,
        spread_sd=spread_sd,
        noise_grid=noise_grid,
        spread_grid=spread_grid,
        weights=weights,
        log_evidence=log_evidence,
        _model=model,
        _mixture=mixture,
    )


def _mixture_moments(model: ReducedModel, sig: np.ndarray, tau: np.ndarray, w: np.ndarray,
                     store: np.ndarray):
    """Means and variances of the grid mixture (weights ``w``, summing to 1), in chunks.

    Second moments are accumulated around the heaviest component's means, so that the
    mixture variance loses no precision to cancellation. Components where ``store`` is
    true are kept (for intervals), their weights renormalised.
    """
    t, k = model.n_tasks, model.n_features
    top = int(np.argmax(w))
    ref = model.parent_given(sig[top:top + 1], tau[top:top + 1], full=True)
    p_ref = ref["mu"][0] + model.shift
    c_ref = model.child_moments(ref, tau[top:top + 1])[0][0]
    p1, p2, pv = np.zeros(k), np.zeros(k), np.zeros(k)
    c1, c2, cv = np.zeros((t, k)), np.zeros((t, k)), np.zeros((t, k))
    kept: list[tuple[np.ndarray, ...]] = []
    step = max(256, CHUNK // (t * k * k))
    for lo in range(0, w.size, step):
        sl = slice(lo, lo + step)
        cond = model.parent_given(sig[sl], tau[sl], full=True)
        pm = cond["mu"] + model.shift
        pvar = (cond["root"] ** 2).sum(axis=2)  # diag(root root')
        cm, cvar = model.child_moments(cond, tau[sl])
        wc = w[sl]
        dp, dc = pm - p_ref, cm - c_ref
        p1 += wc @ dp
        p2 += wc @ dp**2
        pv += wc @ pvar
        c1 += np.tensordot(wc, dc, axes=1)
        c2 += np.tensordot(wc, dc**2, axes=1)
        cv += np.tensordot(wc, cvar, axes=1)
        on = store[sl]
        kept.append((wc[on], pm[on], np.sqrt(pvar[on]), cm[on], np.sqrt(cvar[on])))
    parent_var = np.maximum(pv + p2 - p1**2, 0.0)
    child_var = np.maximum(cv + c2 - c1**2, 0.0)
    parts = [np.concatenate(x) for x in zip(*kept, strict=True)]
    parts[0] = parts[0] / parts[0].sum()
    return p_ref + p1, parent_var, c_ref + c1, child_var, Mixture(*parts)
