"""Which pooling predicts new rows best: exact leave-one-out, PSIS-LOO and predictive checks.

With real data there is no truth to score estimates against, so no, complete and
partial pooling are compared by how well each predicts a row it has not seen (a new
home in a county already in the data). All three share the priors of
:func:`hierdash.grouped.default_priors` (or yours) and the Gaussian noise:

* **no pooling**: each group's weights ``~ Normal(parent mean, parent scale)`` on their
  own, independent of the other groups (the parent's prior, fixed, not learnt);
* **complete pooling**: one weight vector for all groups (the spread fixed at 0);
* **partial pooling**: the hierarchical model, the spread learnt.

Given the noise ``sigma`` and the spread ``tau`` every model is Gaussian, so the
leave-one-out predictive density of each row is closed-form (the "cavity" of the full
posterior), and ``(sigma, tau)`` are integrated out on the exact posterior's grid by
``1 / p(y_i | y_-i) = E[1 / p(y_i | y_-i, sigma, tau) | y]`` -- exact up to the grid's
quadrature, with no refits and no importance-sampling noise.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from hierdash.exact import exact_posterior
from hierdash.grouped import PRIOR_FIELDS, GroupedData, default_priors, grouped_stats

__all__ = [
    "METHODS",
    "compare_pooling",
    "comparison_table",
    "draws_from_posterior",
    "loo_pointwise",
    "pointwise_log_likelihood",
    "posterior_predictive_check",
    "psis_loo",
]

METHODS = ("no_pooling", "complete_pooling", "partial_pooling")
_PRUNE = 1e-12  # grid points lighter than this (relative to the heaviest) are left out
_CHUNK = 1 << 21  # numbers per chunk of (grid points x rows x features) work
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


def _weights_given(grouped, sigma, tau, *, parent_fixed: bool, m0: float, s0: float):
    """Each row's posterior predictive mean ``f`` and latent variance ``s`` given
    ``(sigma, tau)`` (arrays of G grid points): both shaped (G, N).

    With ``W = (I + tau^2 S / sigma^2)^-1`` per group (``S = X'X``) the weights given the
    parent are ``N(tau^2 W X'y / sigma^2 + W p, tau^2 W)``; the parent is
    ``N(m0, s0^2)`` a priori (``parent_fixed``: exactly ``m0``). No step divides by
    ``tau``, so ``tau = 0`` is complete pooling.
    """
    stats = grouped_stats(grouped)
    k = grouped.n_features
    eye = np.eye(k)
    s2, t2 = (sigma**2)[:, None, None, None], (tau**2)[:, None, None, None]
    S = stats.XtX[None] / s2  # (G, T, K, K)
    W = np.linalg.inv(eye + t2 * S)
    r = stats.Xty[None] / (sigma**2)[:, None, None]  # (G, T, K)
    if parent_fixed:
        parent_mean = np.full((len(sigma), k), m0)
        parent_cov = np.zeros((len(sigma), k, k))
    else:
        M = (S @ W).sum(axis=1)
        M = 0.5 * (M + M.transpose(0, 2, 1))
        parent_cov = np.linalg.inv(eye / s0**2 + M)
        linear = m0 / s0**2 + np.einsum("gtkl,gtl->gk", W, r)
        parent_mean = np.einsum("gkl,gl->gk", parent_cov, linear)
    mean = t2[..., 0] * np.einsum("gtkl,gtl->gtk", W, r) + np.einsum(
        "gtkl,gl->gtk", W, parent_mean)
    cov = t2 * W + W @ parent_cov[:, None] @ W.transpose(0, 1, 3, 2)
    f = np.concatenate([np.einsum("nk,gk->gn", Xg, mean[:, t])
                        for t, Xg in enumerate(grouped.X)], axis=1)
    s = np.concatenate([np.einsum("nk,gkl,nl->gn", Xg, cov[:, t], Xg)
                        for t, Xg in enumerate(grouped.X)], axis=1)
    return f, s


def _no_pooling_grid(grouped, m0: float, s0: float, noise_scale: float):
    """Posterior of ``sigma`` alone (no pooling) on a log grid: (sigma, weights)."""
    stats = grouped_stats(grouped)
    shift = np.full(grouped.n_features, m0)
    # Residuals from the prior mean: the groups' weights have prior N(0, s0^2) about it.
    Xty = stats.Xty - stats.XtX @ shift
    yty = stats.yty - 2 * stats.Xty @ shift + np.einsum("k,tkl,l->t", shift, stats.XtX, shift)
    n = stats.n.sum()

    def log_density(u: np.ndarray) -> np.ndarray:
        sigma = np.exp(u)
        W = np.linalg.inv(np.eye(grouped.n_features)
                          + s0**2 * stats.XtX[None] / (sigma**2)[:, None, None, None])
        logdet = np.linalg.slogdet(W)[1].sum(axis=1)
        fit = np.einsum("tk,gtkl,tl->g", Xty, W, Xty)
        loglik = (-0.5 * n * _LOG_2PI - n * u + 0.5 * logdet
                  - 0.5 * yty.sum() / sigma**2 + 0.5 * s0**2 * fit / sigma**4)
        return loglik - 0.5 * (sigma / noise_scale) ** 2 + u  # HalfNormal prior, Jacobian

    sd_y = float(np.std(np.concatenate(grouped.y)))
    lo, hi = np.log(sd_y) - 12.0, np.log(sd_y) + 4.0
    for _ in range(20):  # widen until the density has fallen by 40 nats at both ends
        u = np.linspace(lo, hi, 400)
        lp = log_density(u)
        keep = np.flatnonzero(lp > lp.max() - 40.0)
        if keep[0] > 0 and keep[-1] < len(u) - 1:
            break
        lo, hi = lo - 4.0 * (keep[0] == 0), hi + 4.0 * (keep[-1] == len(u) - 1)
    u = np.linspace(u[max(keep[0] - 1, 0)], u[min(keep[-1] + 1, len(u) - 1)], 400)
    lp = log_density(u)
    weights = np.exp(lp - lp.max())
    return np.exp(u), weights / weights.sum()


def _grid(grouped, method: str, chosen: dict[str, float], grid_size: int):
    """Grid points (sigma, tau) with their posterior masses, for one method."""
    if method == "no_pooling":
        sigma, mass = _no_pooling_grid(grouped, chosen["prior_parent_mean"],
                                       chosen["prior_parent_scale"],
                                       chosen["prior_noise_scale"])
        tau = np.full_like(sigma, chosen["prior_parent_scale"])
    else:
        post = exact_posterior(grouped_stats(grouped), **chosen, grid_size=grid_size,
                               fixed_spread=0.0 if method == "complete_pooling" else None)
        mass = post.weights.ravel()
        sigma = np.repeat(post.noise_grid, post.weights.shape[1])
        tau = np.tile(post.spread_grid, post.weights.shape[0])
    keep = mass > _PRUNE * mass.max()
    return sigma[keep], tau[keep], mass[keep] / mass[keep].sum()


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
    y = np.concatenate(grouped.y)
    out = {"group": np.repeat(grouped.group_names, grouped.counts), "row": np.arange(len(y))}
    for method in METHODS:
        sigma, tau, mass = _grid(grouped, method, chosen, grid_size)
        step = max(1, _CHUNK // (len(y) * grouped.n_features**2 + 1))
        inverse, within = [], []
        for lo in range(0, len(sigma), step):
            sl = slice(lo, lo + step)
            f, s = _weights_given(grouped, sigma[sl], tau[sl],
                                  parent_fixed=method == "no_pooling",
                                  m0=chosen["prior_parent_mean"],
                                  s0=chosen["prior_parent_scale"])
            s2 = (sigma[sl] ** 2)[:, None]
            d = np.maximum(s2 - s, 1e-12 * s2)
            resid2 = (y - f) ** 2
            # log p(y_i | y_-i, sigma, tau) and log p(y_i | y, sigma, tau)
            loo = -0.5 * _LOG_2PI - np.log(s2) + 0.5 * np.log(d) - 0.5 * resid2 / d
            full = -0.5 * (_LOG_2PI + np.log(s2 + s) + resid2 / (s2 + s))
            log_mass = np.log(mass[sl])[:, None]
            inverse.append(logsumexp(log_mass - loo, axis=0))
            within.append(logsumexp(log_mass + full, axis=0))
        out[f"loo_{method}"] = -logsumexp(np.stack(inverse), axis=0)
        out[f"lppd_{method}"] = logsumexp(np.stack(within), axis=0)
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
        parameters, ``lppd - elpd``; NaN without ``lppd`` columns), ``rank`` (1 = best).
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

    Shorthand for ``comparison_table(loo_pointwise(grouped, ...))``; see both.
    """
    return comparison_table(loo_pointwise(grouped, priors=priors, grid_size=grid_size))


# ---------------------------------------------------------------------------
# From posterior draws (any method): log-likelihoods, PSIS-LOO, predictive checks
# ---------------------------------------------------------------------------
def draws_from_posterior(posterior) -> tuple[np.ndarray, np.ndarray]:
    """``child`` (chain, draw, task, feature) and ``noise`` (chain, draw) draws from a
    :attr:`hierdash.inference.FitResult.posterior` DataTree."""
    group = posterior["posterior"]
    child = group["child"].transpose("chain", "draw", "task", "feature").values
    noise = group["noise"].transpose("chain", "draw").values
    return np.asarray(child, float), np.asarray(noise, float)


def _check_draws(grouped: GroupedData, child, noise) -> tuple[np.ndarray, np.ndarray]:
    child, noise = np.asarray(child, float), np.asarray(noise, float)
    t, k = grouped.n_groups, grouped.n_features
    if child.ndim < 3 or child.shape[-2:] != (t, k) or child.shape[:-2] != noise.shape:
        raise ValueError(
            f"child shape = {child.shape} and noise shape = {noise.shape} are not allowed: "
            f"must be (..., {t}, {k}) and (...) with the same leading draw dimensions"
        )
    if not (np.all(np.isfinite(child)) and np.all(noise > 0) and np.all(np.isfinite(noise))):
        raise ValueError("child and noise draws must be finite, noise positive")
    return child, noise


def _row_means(grouped: GroupedData, child: np.ndarray) -> np.ndarray:
    """``x_i . c_g(i)`` for every draw (leading dims) and row: shape (..., N)."""
    return np.concatenate([np.einsum("...k,nk->...n", child[..., t, :], Xg)
                           for t, Xg in enumerate(grouped.X)], axis=-1)


def pointwise_log_likelihood(grouped: GroupedData, child, noise) -> np.ndarray:
    """``log N(y_i | x_i . c_g(i), noise)`` per draw and row.

    Parameters
    ----------
    grouped
        The data the draws were fitted to.
    child : array, shape (..., T, K)
        Draws of the groups' weights (e.g. (chain, draw, T, K)).
    noise : array, shape (...)
        Draws of the noise sd, same leading shape.

    Returns
    -------
    ndarray, shape (..., N)
    """
    child, noise = _check_draws(grouped, child, noise)
    resid = np.concatenate(grouped.y) - _row_means(grouped, child)
    sd = noise[..., None]
    return -0.5 * _LOG_2PI - np.log(sd) - 0.5 * (resid / sd) ** 2


def psis_loo(grouped: GroupedData, child, noise) -> dict[str, float | int | np.ndarray]:
    """PSIS-LOO (``arviz_stats.loo``) from draws shaped (chain, draw, T, K) and (chain, draw).

    Returns
    -------
    dict
        ``elpd``, ``se``, ``p_loo``, ``max_pareto_k``, ``bad_k`` (rows with Pareto k
        above 0.7, whose estimates are unreliable: ArviZ's warning about them is replaced
        by this count), and per row (in :attr:`GroupedData.rows` order) ``elpd_i`` and
        ``pareto_k``.
    """
    import arviz_stats  # slow to import: only when asked
    import xarray as xr

    child, noise = _check_draws(grouped, child, noise)
    if child.ndim != 4:
        raise ValueError(f"child shape = {child.shape} is not allowed: must be (chain, "
                         "draw, task, feature)")
    loglik = pointwise_log_likelihood(grouped, child, noise)
    tree = xr.DataTree.from_dict({
        "posterior": xr.Dataset({"noise": (("chain", "draw"), noise)}),
        "log_likelihood": xr.Dataset({"y": (("chain", "draw", "row"), loglik)}),
    })
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Pareto.*", category=UserWarning)
        result = arviz_stats.loo(tree, pointwise=True, var_name="y")
    k = np.asarray(result.pareto_k, dtype=float)
    return {"elpd": float(result.elpd), "se": float(result.se), "p_loo": float(result.p),
            "max_pareto_k": float(np.max(k)), "bad_k": int(np.sum(k > 0.7)),
            "elpd_i": np.asarray(result.elpd_i, dtype=float), "pareto_k": k}


def posterior_predictive_check(
    grouped: GroupedData,
    child,
    noise,
    *,
    rng: np.random.Generator,
    max_draws: int = 1000,
    level: float = 0.9,
) -> pd.DataFrame:
    """Per-group observed mean and sd of ``y`` against replicated data sets.

    Each draw ``(c, sigma)`` replicates every row as ``x_i . c_g + sigma e``; the
    replicated groups' means and sds are summarised over draws.

    Parameters
    ----------
    grouped
        The data.
    child, noise
        Draws of the weights (..., T, K) and noise sd (...), from any method.
    rng
        Source of the replication noise and of the choice of draws.
    max_draws
        At most this many draws are used (picked at random without replacement).
    level
        Probability inside the replicated interval.

    Returns
    -------
    pandas.DataFrame
        Two rows per group (``statistic`` = ``mean`` and ``sd``): ``group``, ``n``,
        ``statistic``, ``observed``, ``replicated`` (mean over draws), ``low``,
        ``high`` (equal-tailed interval), ``tail`` (share of replications at or above
        the observed value: near 0 or 1 flags a misfit). The sd (``ddof=1``) is NaN for
        groups with one row.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng = {rng!r} is not allowed: must be a numpy.random.Generator")
    if isinstance(max_draws, bool) or not isinstance(max_draws, int) or max_draws < 1:
        raise ValueError(f"max_draws = {max_draws!r} is not allowed: must be a whole number >= 1")
    if not 0 < level < 1:
        raise ValueError(f"level = {level!r} is not allowed: must be between 0 and 1")
    child, noise = _check_draws(grouped, child, noise)
    t, k = grouped.n_groups, grouped.n_features
    child, noise = child.reshape(-1, t, k), noise.reshape(-1)
    if len(noise) > max_draws:
        pick = np.sort(rng.choice(len(noise), size=max_draws, replace=False))
        child, noise = child[pick], noise[pick]
    counts = grouped.counts
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    group_of_row = np.repeat(np.arange(t), counts)
    means, sds = [], []
    step = max(1, _CHUNK // max(grouped.n_rows, 1))
    for lo in range(0, len(noise), step):
        mu = _row_means(grouped, child[lo:lo + step])
        rep = mu + noise[lo:lo + step, None] * rng.standard_normal(mu.shape)
        mean = np.add.reduceat(rep, starts, axis=1) / counts
        squares = np.add.reduceat((rep - mean[:, group_of_row]) ** 2, starts, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            sds.append(np.where(counts > 1, np.sqrt(squares / (counts - 1)), np.nan))
        means.append(mean)
    replicated = {"mean": np.concatenate(means), "sd": np.concatenate(sds)}
    observed = {"mean": np.array([yg.mean() for yg in grouped.y]),
                "sd": np.array([yg.std(ddof=1) if len(yg) > 1 else np.nan for yg in grouped.y])}
    tails = ((1 - level) / 2, (1 + level) / 2)
    frames = []
    for stat in ("mean", "sd"):
        rep, obs = replicated[stat], observed[stat]
        with np.errstate(invalid="ignore"):
            low, high = np.quantile(rep, tails, axis=0)
            tail = np.where(np.isnan(obs), np.nan, (rep >= obs).mean(axis=0))
        frames.append(pd.DataFrame({
            "group": grouped.group_names, "n": counts, "statistic": stat,
            "observed": obs, "replicated": rep.mean(axis=0), "low": low, "high": high,
            "tail": tail,
        }))
    return pd.concat(frames, ignore_index=True)
