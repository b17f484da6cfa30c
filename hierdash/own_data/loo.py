"""Which pooling predicts new rows best: exact leave-one-out cross-validation.

With real data there is no truth to score estimates against, so no, complete and
partial pooling are compared by how well each predicts a row it has not seen (a new
home in a county already in the data). All three share the priors of
:func:`hierdash.own_data.grouped.default_priors` (or yours) and the Gaussian noise:

* **no pooling**: each group's weights ``~ Normal(parent mean, parent scale)`` on their
  own, independent of the other groups (the parent's prior, fixed, not learnt);
* **complete pooling**: one weight vector for all groups (the spread fixed at 0);
* **partial pooling**: the hierarchical model, the spread learnt.

Given the noise ``sigma`` and the spread ``tau`` every model is Gaussian, so the
leave-one-out predictive density of each row is closed-form (the "cavity" of the full
posterior), and ``(sigma, tau)`` are integrated out on the exact posterior's grid by
``1 / p(y_i | y_-i) = E[1 / p(y_i | y_-i, sigma, tau) | y]`` -- exact up to the grid's
quadrature, with no refits and no importance-sampling noise.

A yes/no or count outcome has no closed form: :func:`compare_pooling` then estimates
the same three models' leave-one-out densities by PSIS-LOO from draws of their
quadrature posteriors (:mod:`hierdash.own_data.glm_loo` says how, and what is
approximate), and the table gains the Pareto k columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from hierdash.exact import exact_posterior
from hierdash.own_data.grouped import PRIOR_FIELDS, GroupedData, default_priors, grouped_stats
from hierdash.world import SufficientStats

__all__ = ["METHODS", "compare_pooling", "comparison_table", "loo_pointwise"]

METHODS = ("no_pooling", "complete_pooling", "partial_pooling")
_CHUNK = 1 << 21  # numbers per chunk of (grid points x rows x features) work
# Points per axis of the first leave-one-out grid (doubled while every other point
# disagrees): the box spans about 22 posterior sds, and the trapezoid rule on a smooth
# density is accurate to about exp(-2 pi^2 sd^2 / h^2) at spacing h.
_POINTS = 33
_LOG_2PI = float(np.log(2 * np.pi))


def _priors(grouped: GroupedData, priors: Mapping[str, float] | None) -> dict[str, float]:
    chosen = {k: v for k, v in default_priors(grouped).items() if k in PRIOR_FIELDS}
    for name, value in (priors or {}).items():
        if name not in PRIOR_FIELDS:
            raise ValueError(f"priors key = {name!r} is not allowed: must be one of "
                             f"{', '.join(PRIOR_FIELDS)}")
        chosen[name] = float(value)
    for name in PRIOR_FIELDS[1:]:
        if not np.isfinite(chosen[name]) or chosen[name] <= 0:
            raise ValueError(f"{name} = {chosen[name]!r} is not allowed: must be a positive "
                             "finite number")
    return chosen


@dataclass(frozen=True, eq=False)
class _Design:
    """The data in the forms the leave-one-out sums need, computed once."""

    stats: SufficientStats
    X: np.ndarray  # (N, K), rows in group order
    outer: np.ndarray  # (N, K*K): each row's x x'
    y: np.ndarray  # (N,)
    bounds: np.ndarray  # (T + 1,): group t's rows are bounds[t]:bounds[t + 1]

    @classmethod
    def of(cls, grouped: GroupedData) -> _Design:
        X = np.concatenate(grouped.X)
        return cls(grouped_stats(grouped), X, np.einsum("nk,nl->nkl", X, X).reshape(len(X), -1),
                   np.concatenate(grouped.y), np.concatenate([[0], np.cumsum(grouped.counts)]))


def _weights_given(design: _Design, sigma, tau, *, parent_fixed: bool, m0: float, s0: float):
    """Each row's posterior predictive mean ``f`` and latent variance ``s`` given
    ``(sigma, tau)`` (arrays of G grid points): both shaped (G, N).

    With ``W = (I + tau^2 S / sigma^2)^-1`` per group (``S = X'X``) the weights given the
    parent are ``N(tau^2 W X'y / sigma^2 + W p, tau^2 W)``; the parent is
    ``N(m0, s0^2)`` a priori (``parent_fixed``: exactly ``m0``). No step divides by
    ``tau``, so ``tau = 0`` is complete pooling.
    """
    stats = design.stats
    g, (t, k) = len(sigma), stats.Xty.shape
    eye = np.eye(k)
    s2, t2 = (sigma**2)[:, None, None, None], (tau**2)[:, None, None, None]
    S = stats.XtX[None] / s2  # (G, T, K, K)
    W = np.linalg.inv(eye + t2 * S)
    r = stats.Xty[None] / (sigma**2)[:, None, None]  # (G, T, K)
    if parent_fixed:
        parent_mean = np.full((g, k), m0)
        parent_cov = np.zeros((g, k, k))
    else:
        M = (S @ W).sum(axis=1)
        M = 0.5 * (M + M.transpose(0, 2, 1))
        parent_cov = np.linalg.inv(eye / s0**2 + M)
        linear = m0 / s0**2 + np.einsum("gtkl,gtl->gk", W, r)
        parent_mean = np.einsum("gkl,gl->gk", parent_cov, linear)
    mean = t2[..., 0] * np.einsum("gtkl,gtl->gtk", W, r) + np.einsum(
        "gtkl,gl->gtk", W, parent_mean)
    cov = (t2 * W + W @ parent_cov[:, None] @ W.transpose(0, 1, 3, 2)).reshape(g, t, k * k)
    f, s = np.empty((g, len(design.y))), np.empty((g, len(design.y)))
    for group in range(t):  # one product per group: no (G, N, K, K) gather
        rows = slice(design.bounds[group], design.bounds[group + 1])
        f[:, rows] = mean[:, group] @ design.X[rows].T
        s[:, rows] = cov[:, group] @ design.outer[rows].T
    return f, s


def _no_pooling_log_likelihood(stats: SufficientStats, m0: float, s0: float):
    """``log p(y | sigma)`` of no pooling (weights ``~ N(m0, s0^2)`` per group), of ``u =
    log sigma``: each group's ``y ~ N(X m0, sigma^2 I + s0^2 X X')``, by Woodbury."""
    k = stats.Xty.shape[1]
    shift = np.full(k, m0)
    Xty = stats.Xty - stats.XtX @ shift  # the residuals from the prior mean
    yty = stats.yty - 2 * stats.Xty @ shift + np.einsum("k,tkl,l->t", shift, stats.XtX, shift)
    n = stats.n.sum()

    def log_likelihood(u: np.ndarray) -> np.ndarray:
        sigma2 = np.exp(2 * u)
        W = np.linalg.inv(np.eye(k) + s0**2 * stats.XtX[None] / sigma2[:, None, None, None])
        logdet = np.linalg.slogdet(W)[1].sum(axis=1)
        fit = np.einsum("tk,gtkl,tl->g", Xty, W, Xty)
        return (-0.5 * n * _LOG_2PI - n * u + 0.5 * logdet
                - 0.5 * yty.sum() / sigma2 + 0.5 * s0**2 * fit / sigma2**2)

    return log_likelihood


def _scales_posterior(design: _Design, method: str, chosen: dict[str, float],
                      grid_size: int):
    """The log posterior density of ``(u, v) = (log sigma, log tau)`` (up to a constant,
    log-grid Jacobian included), a box holding its bulk, and ``tau`` when it is fixed."""
    noise_scale = chosen["prior_noise_scale"]
    if method == "no_pooling":
        log_likelihood = _no_pooling_log_likelihood(
            design.stats, chosen["prior_parent_mean"], chosen["prior_parent_scale"])

        def log_density(u, v):
            return log_likelihood(u) - 0.5 * np.exp(2 * u) / noise_scale**2 + u

        centre = float(np.log(np.std(design.y)))
        u = np.linspace(centre - 12.0, centre + 4.0, 400)
        lp = log_density(u, u)
        bulk = u[lp > lp.max() - 16.0]
        return log_density, [bulk[0], bulk[-1], 0.0, 0.0], chosen["prior_parent_scale"]
    fixed_tau = 0.0 if method == "complete_pooling" else None
    post = exact_posterior(design.stats, **chosen, grid_size=grid_size, fixed_spread=fixed_tau)
    v_ends = np.log(post.spread_grid[[0, -1]]) if fixed_tau is None else [0.0, 0.0]

    def log_density(u, v):
        tau = np.exp(v) if fixed_tau is None else np.full_like(u, fixed_tau)
        lp = post.conditional(np.exp(u), tau)["log_likelihood"]
        lp = lp - 0.5 * np.exp(2 * u) / noise_scale**2 + u
        if fixed_tau is None:
            lp = lp - 0.5 * np.exp(2 * v) / chosen["prior_spread_scale"] ** 2 + v
        return lp

    return log_density, [*np.log(post.noise_grid[[0, -1]]), *v_ends], fixed_tau


def _combine(tops: list[np.ndarray], sums: list[np.ndarray]) -> np.ndarray:
    """log of the total of chunks' ``exp(top) * sum``, per row."""
    tops_, sums_ = np.stack(tops), np.stack(sums)
    top = tops_.max(axis=0)
    return top + np.log((np.exp(tops_ - top) * sums_).sum(axis=0))


def _row_sums(grid_points, design, sigma, tau, lp, half, sides, *, step, **given):
    """Per row: log sum over the grid of ``exp(lp) / p(y_i | y_-i, .)`` (all points and
    every other point), of ``exp(lp) p(y_i | y, .)``, and the peak and per-side edge
    maxima of the first integrand."""
    acc: dict[str, list[np.ndarray]] = {k: [] for k in ("top", "all", "half", "ftop", "full",
                                                       "edge")}
    for lo in range(0, grid_points, step):
        sl = slice(lo, lo + step)
        f, s = _weights_given(design, sigma[sl], tau[sl], **given)
        s2 = (sigma[sl] ** 2)[:, None]
        d = np.maximum(s2 - s, 1e-12 * s2)
        resid2 = (design.y - f) ** 2
        # log p(y_i | y_-i, sigma, tau) (the cavity of the full posterior), negated,
        # plus the point's log mass; then log p(y_i | y, sigma, tau) plus its log mass.
        integrand = lp[sl, None] + 0.5 * _LOG_2PI + np.log(s2) - 0.5 * np.log(d) + 0.5 * resid2 / d
        full = lp[sl, None] - 0.5 * (_LOG_2PI + np.log(s2 + s) + resid2 / (s2 + s))
        top, ftop = integrand.max(axis=0), full.max(axis=0)
        scaled = np.exp(integrand - top)
        acc["top"].append(top)
        acc["all"].append(scaled.sum(axis=0))
        acc["half"].append(scaled[half[sl]].sum(axis=0))
        acc["ftop"].append(ftop)
        acc["full"].append(np.exp(full - ftop).sum(axis=0))
        acc["edge"].append(np.stack([integrand[side[sl]].max(axis=0) if side[sl].any()
                                     else np.full(len(design.y), -np.inf) for side in sides]))
    with np.errstate(divide="ignore"):
        return (_combine(acc["top"], acc["all"]), _combine(acc["top"], acc["half"]),
                _combine(acc["ftop"], acc["full"]), np.max(np.stack(acc["top"]), axis=0),
                np.max(np.stack(acc["edge"]), axis=0))


def _loo_on_grid(design: _Design, log_density, box, fixed_tau, *, points, **given):
    """Leave-one-out and within-sample log densities of every row, on a grid of the scales.

    The box (the full posterior's bulk, widened by half its width each way) grows until,
    for every row, the leave-one-out integrand (posterior mass over the row's predictive
    density) is below e^-20 of its peak on the box's edges -- an influential row's
    leave-one-out posterior lies off the full posterior's bulk, so no light grid point is
    dropped -- and the points per axis double until every other point gives the same
    densities to 1e-3 (the trapezoid rule converges spectrally on these smooth densities:
    halving the spacing quadruples the error's exponent, so the full grid is far better).
    """
    learn_tau = fixed_tau is None
    width = [box[1] - box[0] or 1.0, (box[3] - box[2] or 1.0) if learn_tau else 0.0]
    box = [box[0] - 0.5 * width[0], box[1] + 0.5 * width[0],
           box[2] - 0.5 * width[1], box[3] + 0.5 * width[1]]
    nu, nv = points, points if learn_tau else 1
    step = max(1, _CHUNK // len(design.y))
    for _ in range(16):
        uu, vv = np.meshgrid(np.linspace(box[0], box[1], nu),
                             np.linspace(box[2], box[3], nv), indexing="ij")
        u, v = uu.ravel(), vv.ravel()
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            lp = log_density(u, v)
        on = np.isfinite(lp)
        iu, iv = np.divmod(np.arange(u.size), nv)
        sides = np.stack([iu == 0, iu == nu - 1, iv == 0, iv == nv - 1])[:, on]
        half = ((iu % 2 == 0) & (iv % 2 == 0))[on]
        u, v, lp = u[on], v[on], lp[on]
        tau = np.exp(v) if learn_tau else np.full_like(u, fixed_tau)
        inverse, inverse_half, within, peak, edge = _row_sums(
            len(u), design, np.exp(u), tau, lp, half, sides, step=step, **given)
        loo = logsumexp(lp) - inverse
        loo_half = logsumexp(lp[half]) - inverse_half
        open_sides = np.flatnonzero(np.any(edge > peak - 20.0, axis=1)[: 4 if learn_tau else 2])
        if open_sides.size:
            for side in open_sides:
                span = box[2 * (side // 2) + 1] - box[2 * (side // 2)]
                box[side] += 0.5 * span * (1 if side % 2 else -1)
            nu = nu + nu // 2 if np.any(open_sides < 2) else nu
            nv = nv + nv // 2 if np.any(open_sides >= 2) else nv
            continue
        if np.max(np.abs(loo - loo_half)) > 1e-3 and nu * nv < 100_000:
            nu, nv = 2 * nu - 1, (2 * nv - 1) if learn_tau else 1
            continue
        break
    return loo, within - logsumexp(lp)


def loo_pointwise(
    grouped: GroupedData,
    *,
    priors: Mapping[str, float] | None = None,
    grid_size: int = 48,
) -> pd.DataFrame:
    """Exact leave-one-out log predictive density of every row under each pooling.

    Parameters
    ----------
    grouped
        The data.
    priors
        Any of the four ``prior_*`` fields; the others from :func:`default_priors`.
    grid_size
        Passed to :func:`hierdash.exact.exact_posterior` (partial and complete pooling).

    Returns
    -------
    pandas.DataFrame
        One row per data row (in :attr:`GroupedData.rows` order): ``group``, ``row``
        and ``loo_<method>`` (``log p(y_i | y_-i)``) and ``lppd_<method>`` (``log
        p(y_i | y)``, the within-sample density) for each method of :data:`METHODS`.

    Notes
    -----
    Given ``(sigma, tau)``, a row's predictive mean ``f`` and latent variance ``s``
    under the full posterior give its leave-one-out density in closed form:
    ``y_i | y_-i ~ N(f + s (f - y_i) / d, sigma^4 / d)`` with ``d = sigma^2 - s``.
    """
    chosen = _priors(grouped, priors)
    design = _Design.of(grouped)
    out = {"group": np.repeat(grouped.group_names, grouped.counts),
           "row": np.arange(grouped.n_rows)}
    for method in METHODS:
        log_density, box, fixed_tau = _scales_posterior(design, method, chosen, grid_size)
        loo, lppd = _loo_on_grid(design, log_density, box, fixed_tau,
                                 parent_fixed=method == "no_pooling",
                                 m0=chosen["prior_parent_mean"],
                                 s0=chosen["prior_parent_scale"], points=_POINTS)
        out[f"loo_{method}"] = loo
        out[f"lppd_{method}"] = lppd
    return pd.DataFrame(out)


def comparison_table(pointwise: pd.DataFrame) -> pd.DataFrame:
    """Sum pointwise leave-one-out densities into a comparison, best first.

    Parameters
    ----------
    pointwise
        Columns ``loo_<method>`` (and optionally ``lppd_<method>``), as from
        :func:`loo_pointwise`.

    Returns
    -------
    pandas.DataFrame
        ``method``, ``elpd`` (sum of ``log p(y_i | y_-i)``), ``se`` (its standard
        error, ``sqrt(N var)``), ``elpd_diff`` (best minus this, so 0 for the best and
        positive for the others), ``se_diff`` (standard error of the pointwise
        differences, Vehtari, Gelman & Gabry 2017), ``p_loo`` (effective number of
        parameters, ``lppd - elpd``; NaN without ``lppd`` columns), ``rank`` (1 = best);
        with ``pareto_k_<method>`` columns (PSIS-LOO) also ``max_pareto_k`` and
        ``bad_k`` (rows with k above 0.7, whose estimates are unreliable).
    """
    methods = [c.removeprefix("loo_") for c in pointwise.columns if c.startswith("loo_")]
    if not methods:
        raise ValueError("pointwise has no loo_<method> columns")
    n = len(pointwise)
    elpd = {m: float(pointwise[f"loo_{m}"].sum()) for m in methods}
    best = max(methods, key=elpd.get)
    rows = []
    for m in methods:
        values = pointwise[f"loo_{m}"].to_numpy()
        diff = pointwise[f"loo_{best}"].to_numpy() - values
        lppd = pointwise.get(f"lppd_{m}")
        rows.append({
            "method": m,
            "elpd": elpd[m],
            "se": float(np.sqrt(n * np.var(values))),
            "elpd_diff": float(diff.sum()),
            "se_diff": float(np.sqrt(n * np.var(diff))),
            "p_loo": float(lppd.sum() - elpd[m]) if lppd is not None else float("nan"),
        })
        k = pointwise.get(f"pareto_k_{m}")
        if k is not None:
            rows[-1].update(max_pareto_k=float(k.max()), bad_k=int((k > 0.7).sum()))
    table = pd.DataFrame(rows).sort_values("elpd", ascending=False, ignore_index=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def compare_pooling(
    grouped: GroupedData,
    *,
    priors: Mapping[str, float] | None = None,
    grid_size: int = 48,
) -> pd.DataFrame:
    """No, complete and partial pooling compared by exact leave-one-out prediction.

    Shorthand for ``comparison_table(loo_pointwise(grouped, ...))``; see both. For a
    yes/no or count outcome, ``comparison_table(glm_loo_pointwise(grouped, ...))``
    (PSIS-LOO from the quadrature posteriors' draws; ``grid_size`` is not used).
    """
    if not grouped.is_gaussian:
        from hierdash.own_data.glm_loo import glm_loo_pointwise

        return comparison_table(glm_loo_pointwise(grouped, priors=priors))
    return comparison_table(loo_pointwise(grouped, priors=priors, grid_size=grid_size))
