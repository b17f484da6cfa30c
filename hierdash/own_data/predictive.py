"""Checks from posterior draws of any method: log-likelihoods, PSIS-LOO and per-group
posterior predictive checks.

Every function takes plain arrays of draws -- the groups' weights ``child`` (..., T, K)
and the noise sd ``noise`` (...) -- so it works with any method's
:attr:`hierdash.inference.FitResult.posterior` (see :func:`draws_from_posterior`). A
yes/no or count outcome has no noise: pass ``noise=None``, and each row's likelihood and
replications come from its family (:meth:`hierdash.outcomes.Family.log_likelihood`,
:meth:`~hierdash.outcomes.Family.simulate`) with the row's trials or exposure; the
predictive check then compares each group's proportion (or rate) and the number of
groups with no event, which fit counts better than means and sds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from hierdash.outcomes import get_family
from hierdash.own_data.grouped import GroupedData

__all__ = ["draws_from_posterior", "pointwise_log_likelihood", "posterior_predictive_check",
           "psis_from_log_likelihood", "psis_loo"]

_CHUNK = 1 << 21  # numbers per chunk of (draws x rows) work
_LOG_2PI = float(np.log(2 * np.pi))


def draws_from_posterior(posterior) -> tuple[np.ndarray, np.ndarray | None]:
    """``child`` (chain, draw, task, feature) and ``noise`` (chain, draw) draws from a
    :attr:`hierdash.inference.FitResult.posterior` DataTree (``noise`` None for a yes/no
    or count outcome, which has none)."""
    group = posterior["posterior"]
    child = group["child"].transpose("chain", "draw", "task", "feature").values
    if "noise" not in group:
        return np.asarray(child, float), None
    noise = group["noise"].transpose("chain", "draw").values
    return np.asarray(child, float), np.asarray(noise, float)


def _check_draws(grouped: GroupedData, child, noise) -> tuple[np.ndarray, np.ndarray | None]:
    if not grouped.is_gaussian:
        if noise is not None:
            raise ValueError(f"noise is not allowed for a {grouped.outcome} outcome (it has "
                             "none): pass noise=None")
        child = np.asarray(child, float)
        t, k = grouped.n_groups, grouped.n_features
        if child.ndim < 3 or child.shape[-2:] != (t, k):
            raise ValueError(f"child shape = {child.shape} is not allowed: must be (..., {t}, "
                             f"{k})")
        if not np.all(np.isfinite(child)):
            raise ValueError("child draws must be finite")
        return child, None
    if noise is None:
        raise ValueError("noise draws are needed for a Gaussian outcome")
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


def _family_rows(grouped: GroupedData):
    """The family, and every row's outcome and size (trials, exposure or ones)."""
    family = get_family(grouped.outcome)
    y = np.concatenate(grouped.y)
    size = np.concatenate(grouped.sizes) if grouped.sizes is not None else np.ones_like(y)
    return family, y, size


def pointwise_log_likelihood(grouped: GroupedData, child, noise) -> np.ndarray:
    """``log N(y_i | x_i . c_g(i), noise)`` per draw and row (for a yes/no or count
    outcome, ``noise=None``: the family's full log-likelihood of the row at
    ``eta = x_i . c_g(i)`` with its trials or exposure, normalising constants included).

    Parameters
    ----------
    grouped
        The data the draws were fitted to.
    child : array, shape (..., T, K)
        Draws of the groups' weights (e.g. (chain, draw, T, K)).
    noise : array, shape (...), or None
        Draws of the noise sd, same leading shape (None without noise).

    Returns
    -------
    ndarray, shape (..., N)
    """
    child, noise = _check_draws(grouped, child, noise)
    if noise is None:
        family, y, size = _family_rows(grouped)
        return family.log_likelihood(_row_means(grouped, child), y, size)
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
    child, noise = _check_draws(grouped, child, noise)
    if child.ndim != 4:
        raise ValueError(f"child shape = {child.shape} is not allowed: must be (chain, "
                         "draw, task, feature)")
    return psis_from_log_likelihood(pointwise_log_likelihood(grouped, child, noise),
                                    posterior={"noise": noise} if noise is not None else None)


def psis_from_log_likelihood(loglik: np.ndarray, *, posterior: dict | None = None
                             ) -> dict[str, float | int | np.ndarray]:
    """PSIS-LOO of a pointwise log-likelihood shaped (chain, draw, row): the dict of
    :func:`psis_loo`. ``posterior`` names (chain, draw) arrays for ArviZ's posterior
    group (by default the draws' total log-likelihood)."""
    import arviz_stats  # slow to import: only when asked
    import xarray as xr

    loglik = np.asarray(loglik, float)
    if loglik.ndim != 3:
        raise ValueError(f"loglik shape = {loglik.shape} is not allowed: must be (chain, "
                         "draw, row)")
    # ArviZ reads the chain and draw dimensions off the posterior group.
    tree = xr.DataTree.from_dict({
        "posterior": xr.Dataset({name: (("chain", "draw"), value) for name, value in (
            posterior or {"lp": loglik.sum(axis=-1)}).items()}),
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

        For a yes/no or count outcome (``noise=None``) each draw replicates every row
        from its family at ``x_i . c_g`` with the row's trials or exposure, and the
        statistics are ``proportion`` (successes over trials; yes/no: the share of
        yes) or ``rate`` (counts over exposure), one row per group, then one row
        ``zero_groups`` with group ``all groups``: how many groups have no event at all
        (a model can get each group's proportion right and still too few or too many
        empty groups).
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng = {rng!r} is not allowed: must be a numpy.random.Generator")
    if isinstance(max_draws, bool) or not isinstance(max_draws, int) or max_draws < 1:
        raise ValueError(f"max_draws = {max_draws!r} is not allowed: must be a whole number >= 1")
    if not 0 < level < 1:
        raise ValueError(f"level = {level!r} is not allowed: must be between 0 and 1")
    child, noise = _check_draws(grouped, child, noise)
    if noise is None:
        return _ppc_counts(grouped, child, rng=rng, max_draws=max_draws, level=level)
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


def _ppc_counts(grouped: GroupedData, child: np.ndarray, *, rng: np.random.Generator,
                max_draws: int, level: float) -> pd.DataFrame:
    """The predictive check of a yes/no or count outcome (see
    :func:`posterior_predictive_check`)."""
    t, k = grouped.n_groups, grouped.n_features
    child = child.reshape(-1, t, k)
    if len(child) > max_draws:
        child = child[np.sort(rng.choice(len(child), size=max_draws, replace=False))]
    family, y, size = _family_rows(grouped)
    counts = grouped.counts
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    per_group_size = np.add.reduceat(size, starts)
    step = max(1, _CHUNK // max(grouped.n_rows, 1))
    shares, zeros = [], []
    for lo in range(0, len(child), step):
        eta = _row_means(grouped, child[lo:lo + step])
        rep = family.simulate(eta, np.broadcast_to(size, eta.shape), rng)
        totals = np.add.reduceat(rep, starts, axis=1)
        shares.append(totals / per_group_size)
        zeros.append((totals == 0).sum(axis=1))
    share, zero = np.concatenate(shares), np.concatenate(zeros).astype(float)
    observed_totals = np.add.reduceat(y, starts)
    observed = observed_totals / per_group_size
    statistic = "rate" if grouped.outcome == "poisson" else "proportion"
    tails = ((1 - level) / 2, (1 + level) / 2)
    low, high = np.quantile(share, tails, axis=0)
    per_group = pd.DataFrame({
        "group": grouped.group_names, "n": counts, "statistic": statistic,
        "observed": observed, "replicated": share.mean(axis=0), "low": low, "high": high,
        "tail": (share >= observed).mean(axis=0),
    })
    seen = float(np.sum(observed_totals == 0))
    zlow, zhigh = np.quantile(zero, tails)
    empty = pd.DataFrame({
        "group": ["all groups"], "n": [grouped.n_rows], "statistic": ["zero_groups"],
        "observed": [seen], "replicated": [zero.mean()], "low": [zlow], "high": [zhigh],
        "tail": [float((zero >= seen).mean())],
    })
    return pd.concat([per_group, empty], ignore_index=True)
