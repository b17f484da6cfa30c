"""Out-of-sample comparison of no, complete and partial pooling, PSIS-LOO and predictive
checks: the exact leave-one-out densities are checked against refits and against the
dense Gaussian they shortcut; on radon, partial pooling predicts best."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.special import logsumexp
from scipy.stats import norm

from hierdash.exact import exact_posterior
from hierdash.own_data import (
    compare_pooling,
    comparison_table,
    draws_from_posterior,
    loo_pointwise,
    pointwise_log_likelihood,
    posterior_predictive_check,
    psis_loo,
)
from hierdash.own_data.datasets import RADON, load_radon
from hierdash.own_data.grouped import PRIOR_FIELDS, default_priors, grouped_stats, prepare_groups
from hierdash.own_data.loo import METHODS
from hierdash.world import SufficientStats

PRIORS = {"prior_parent_mean": 0.5, "prior_parent_scale": 3.0, "prior_spread_scale": 1.0,
          "prior_noise_scale": 1.0}


def small_groups(*, slopes: bool, sizes=(1, 2, 3, 5, 8), seed=1, outlier=0.0):
    rng = np.random.default_rng(seed)
    rows = []
    for g, n in enumerate(sizes):
        a, b = rng.normal(1.0, 0.7), rng.normal(-0.5, 0.4)
        for _ in range(n):
            x = rng.normal()
            rows.append({"g": f"G{g}", "x": x, "y": a + b * x * slopes + rng.normal(0, 0.5)})
    rows[-1]["y"] += outlier
    return prepare_groups(pd.DataFrame(rows), group="g", y="y", x=["x"] if slopes else [])


@pytest.fixture(scope="module")
def radon():
    return prepare_groups(load_radon(), **RADON)


@pytest.fixture(scope="module")
def radon_exact(radon):
    priors = {k: v for k, v in default_priors(radon).items() if k in PRIOR_FIELDS}
    return exact_posterior(grouped_stats(radon), **priors)


# ---------------------------------------------------------------------------
# Exact LOO against independent computations
# ---------------------------------------------------------------------------
def _refit_loo(grouped, i: int, method: str) -> float:
    """log p(y_i | y_-i) by refitting without row i (varying intercepts only)."""
    y = np.concatenate(grouped.y)
    group = np.repeat(np.arange(grouped.n_groups), grouped.counts)
    keep = np.arange(len(y)) != i
    t = group[i]
    if method == "no_pooling":
        # Dense sigma grid; each group's intercept ~ N(m0, s0^2) on its own, so its rows
        # are N(m0, sigma^2 I + s0^2 11'): determinant and inverse in closed form.
        m0, s0 = PRIORS["prior_parent_mean"], PRIORS["prior_parent_scale"]
        log_sigma = np.linspace(-6, 3, 6000)
        s2 = np.exp(2 * log_sigma)
        lp = log_sigma - 0.5 * s2 / PRIORS["prior_noise_scale"] ** 2
        for g in range(grouped.n_groups):
            e = y[keep & (group == g)] - m0
            n = len(e)
            if n:
                big = s2 + n * s0**2
                lp += (-0.5 * n * np.log(2 * np.pi) - 0.5 * ((n - 1) * np.log(s2) + np.log(big))
                       - 0.5 * (e @ e / s2 - s0**2 * e.sum() ** 2 / (s2 * big)))
        sigma = np.sqrt(s2)
        yt = y[keep & (group == t)]
        precision = 1 / s0**2 + len(yt) / s2
        mean = (m0 / s0**2 + yt.sum() / s2) / precision
        dens = norm.logpdf(y[i], mean, np.sqrt(1 / precision + s2))
        return float(logsumexp(lp + dens) - logsumexp(lp))
    n = np.bincount(group[keep], minlength=grouped.n_groups).astype(float)
    total = np.bincount(group[keep], weights=y[keep], minlength=grouped.n_groups)
    squares = np.bincount(group[keep], weights=y[keep] ** 2, minlength=grouped.n_groups)
    stats = SufficientStats(XtX=n[:, None, None], Xty=total[:, None], yty=squares, n=n)
    fixed = 0.0 if method == "complete_pooling" else None
    post = exact_posterior(stats, **PRIORS, fixed_spread=fixed, grid_size=64)
    mass = post.weights.ravel()
    sigma = np.repeat(post.noise_grid, post.weights.shape[1])
    tau = np.tile(post.spread_grid, post.weights.shape[0])
    cond = post.conditional(sigma, tau)
    mean, sd = cond["child_mean"][:, t, 0], cond["child_sd"][:, t, 0]
    dens = norm.logpdf(y[i], mean, np.sqrt(sd**2 + sigma**2))
    return float(logsumexp(np.log(mass) + dens))


@pytest.mark.parametrize("method", METHODS)
def test_exact_loo_matches_refits_without_each_row(method):
    grouped = small_groups(slopes=False)
    ours = loo_pointwise(grouped, priors=PRIORS)[f"loo_{method}"].to_numpy()
    # Row 0 is its group's only row: leaving it out leaves the group empty.
    for i in (0, 1, 3, 9, 18):
        assert ours[i] == pytest.approx(_refit_loo(grouped, i, method), abs=1e-5)


def _dense_loo(grouped, *, method: str) -> np.ndarray:
    """Leave-one-out from the full Gaussian of y given (sigma, tau), without shortcuts:
    N x N covariances on a wide, fine grid of (log sigma, log tau) of its own."""
    X, y = np.concatenate(grouped.X), np.concatenate(grouped.y)
    group = np.repeat(np.arange(grouped.n_groups), grouped.counts)
    m0, s0 = PRIORS["prior_parent_mean"], PRIORS["prior_parent_scale"]
    within = (X @ X.T) * (group[:, None] == group[None, :])
    log_sigma = np.linspace(-4, 1.5, 240)
    if method == "partial_pooling":
        log_tau = np.linspace(-9, 2, 240)
        u, v = (a.ravel() for a in np.meshgrid(log_sigma, log_tau, indexing="ij"))
        log_prior = v - 0.5 * np.exp(2 * v) / PRIORS["prior_spread_scale"] ** 2
        tau = np.exp(v)
    else:
        u, tau, log_prior = log_sigma, np.full(240, 0.0 if method == "complete_pooling" else s0), 0
    log_prior = log_prior + u - 0.5 * np.exp(2 * u) / PRIORS["prior_noise_scale"] ** 2
    cov = np.exp(2 * u)[:, None, None] * np.eye(len(y)) + tau[:, None, None] ** 2 * within
    if method != "no_pooling":
        cov += s0**2 * X @ X.T
    resid = y - X @ np.full(X.shape[1], m0)
    precision = np.linalg.inv(cov)
    log_lik = -0.5 * (len(y) * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1]
                      + np.einsum("i,gij,j->g", resid, precision, resid))
    h = np.diagonal(precision, axis1=1, axis2=2)
    cond_mean = y - np.einsum("gij,j->gi", precision, resid) / h
    log_cond = norm.logpdf(y, cond_mean, 1 / np.sqrt(h))  # log p(y_i | y_-i, sigma, tau)
    lp = log_lik + log_prior
    return logsumexp(lp) - logsumexp(lp[:, None] - log_cond, axis=0)


@pytest.mark.parametrize("method", METHODS)
def test_exact_loo_with_slopes_matches_the_dense_gaussian(method):
    grouped = small_groups(slopes=True)
    ours = loo_pointwise(grouped, priors=PRIORS)[f"loo_{method}"].to_numpy()
    np.testing.assert_allclose(ours, _dense_loo(grouped, method=method), atol=1e-5)


@pytest.mark.parametrize("method", ["partial_pooling", "no_pooling"])
def test_exact_loo_of_an_outlier_matches_the_dense_gaussian(method):
    # Leaving out a 10-sd outlier moves the noise's posterior off the full posterior's
    # bulk: the grid must follow it there.
    grouped = small_groups(slopes=True, outlier=5.0)
    ours = loo_pointwise(grouped, priors=PRIORS)[f"loo_{method}"].to_numpy()
    np.testing.assert_allclose(ours, _dense_loo(grouped, method=method), atol=1e-4)


# ---------------------------------------------------------------------------
# The comparison table
# ---------------------------------------------------------------------------
def test_comparison_table_sums_and_standard_errors():
    pointwise = pd.DataFrame({"loo_a": [-1.0, -2.0, -3.0, -2.0], "loo_b": [-1.0, -1.0, -1.0, -1.5],
                              "lppd_b": [-0.5, -0.5, -0.5, -1.0]})
    table = comparison_table(pointwise)
    assert table["method"].tolist() == ["b", "a"] and table["rank"].tolist() == [1, 2]
    best, other = table.iloc[0], table.iloc[1]
    assert best["elpd"] == -4.5 and best["elpd_diff"] == 0 and best["se_diff"] == 0
    assert best["p_loo"] == pytest.approx(2.0) and np.isnan(other["p_loo"])
    diff = np.array([0.0, 1.0, 2.0, 0.5])
    assert other["elpd_diff"] == pytest.approx(3.5)
    assert other["se_diff"] == pytest.approx(np.sqrt(4 * diff.var()))
    assert other["se"] == pytest.approx(np.sqrt(4 * np.var([-1.0, -2.0, -3.0, -2.0])))
    with pytest.raises(ValueError, match="no loo_<method> columns"):
        comparison_table(pd.DataFrame({"x": [1.0]}))


def test_priors_are_checked():
    grouped = small_groups(slopes=False)
    with pytest.raises(ValueError, match="priors key = 'prior_spread'"):
        loo_pointwise(grouped, priors={"prior_spread": 1.0})
    with pytest.raises(ValueError, match="prior_noise_scale = -1.0 is not allowed"):
        loo_pointwise(grouped, priors={"prior_noise_scale": -1.0})


def test_radon_partial_pooling_predicts_new_homes_best(radon):
    table = compare_pooling(radon)
    assert list(table.columns) == ["method", "elpd", "se", "elpd_diff", "se_diff", "p_loo",
                                   "rank"]
    assert table["method"].iloc[0] == "partial_pooling"
    for method in ("no_pooling", "complete_pooling"):
        row = table.set_index("method").loc[method]
        assert row["elpd_diff"] > 2 * row["se_diff"] > 0
    p_loo = table.set_index("method")["p_loo"]
    assert p_loo["complete_pooling"] < p_loo["partial_pooling"] < p_loo["no_pooling"]


# ---------------------------------------------------------------------------
# From draws: log-likelihoods, PSIS-LOO, predictive checks
# ---------------------------------------------------------------------------
def test_pointwise_log_likelihood_is_the_normal_density():
    grouped = small_groups(slopes=True)
    rng = np.random.default_rng(3)
    child, noise = rng.normal(size=(2, 3, 5, 2)), rng.uniform(0.5, 2, size=(2, 3))
    ll = pointwise_log_likelihood(grouped, child, noise)
    assert ll.shape == (2, 3, grouped.n_rows)
    X, y = np.concatenate(grouped.X), np.concatenate(grouped.y)
    group = np.repeat(np.arange(5), grouped.counts)
    expected = norm.logpdf(y, np.einsum("nk,nk->n", X, child[1, 2][group]), noise[1, 2])
    np.testing.assert_allclose(ll[1, 2], expected)
    with pytest.raises(ValueError, match="child shape"):
        pointwise_log_likelihood(grouped, child[..., :1], noise)


@pytest.mark.statistical
def test_psis_loo_from_exact_draws_agrees_with_exact_loo(radon, radon_exact):
    rng = np.random.default_rng(4)
    draws = radon_exact.sample(500, 2, rng)
    psis = psis_loo(radon, draws["child"], draws["noise"])
    exact = loo_pointwise(radon)["loo_partial_pooling"].to_numpy()
    assert psis["elpd_i"].shape == exact.shape and np.isfinite(psis["elpd"])
    # Monte Carlo error of the plain importance-sampling estimate of each row's elpd
    # (independent draws; Pareto smoothing only lowers it), on the rows PSIS trusts.
    ll = pointwise_log_likelihood(radon, draws["child"], draws["noise"]).reshape(1000, -1)
    ratios = np.exp(-(ll - ll.min(axis=0)))
    mcse_i = ratios.std(axis=0) / np.sqrt(len(ratios)) / ratios.mean(axis=0)
    good = psis["pareto_k"] < 0.5
    assert good.mean() > 0.9
    error = (psis["elpd_i"][good] - exact[good]).sum()
    assert abs(error) < 4 * np.sqrt((mcse_i[good] ** 2).sum())
    assert psis["bad_k"] == int(np.sum(psis["pareto_k"] > 0.7))


def test_posterior_predictive_check_table(radon, radon_exact):
    draws = radon_exact.sample(100, 2, np.random.default_rng(5))
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({
        "child": (("chain", "draw", "task", "feature"), draws["child"]),
        "noise": (("chain", "draw"), draws["noise"]),
    })})
    child, noise = draws_from_posterior(tree)
    table = posterior_predictive_check(radon, child, noise, rng=np.random.default_rng(6),
                                       max_draws=150)
    assert table.shape == (2 * 85, 8)
    assert list(table.columns) == ["group", "n", "statistic", "observed", "replicated", "low",
                                   "high", "tail"]
    means = table[table["statistic"] == "mean"]
    assert means["group"].tolist() == list(radon.group_names)
    np.testing.assert_allclose(means["observed"], [yg.mean() for yg in radon.y])
    sds = table[table["statistic"] == "sd"]
    assert sds["observed"].isna().sum() == sds["replicated"].isna().sum() == (radon.counts == 1).sum()
    assert ((means["low"] <= means["replicated"]) & (means["replicated"] <= means["high"])).all()
    assert means["tail"].between(0, 1).all()


def test_posterior_predictive_check_flags_a_misfit_group():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"g": np.repeat(list("abcdef"), 30), "y": rng.normal(0, 0.5, 180)})
    frame.loc[frame["g"] == "f", "y"] *= 8  # one group far noisier than the model allows
    grouped = prepare_groups(frame, group="g", y="y", x=[])
    post = exact_posterior(grouped_stats(grouped), **PRIORS)
    draws = post.sample(200, 2, rng)
    table = posterior_predictive_check(grouped, draws["child"], draws["noise"], rng=rng)
    sds = table[table["statistic"] == "sd"].set_index("group")
    assert sds.loc["f", "tail"] < 0.01
    assert (sds.drop(index="f")["tail"] > 0.9).all()  # the others look too calm
    with pytest.raises(ValueError, match="rng"):
        posterior_predictive_check(grouped, draws["child"], draws["noise"], rng=1)
