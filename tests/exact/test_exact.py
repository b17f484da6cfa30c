"""The closed-form posterior against brute force, and its draws against its moments."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from hierdash.exact import exact_posterior
from hierdash.scenario import Scenario
from hierdash.world import SufficientStats, pad, simulate, sufficient_stats

PRIORS = dict(prior_parent_mean=0.5, prior_parent_scale=2.0, prior_spread_scale=1.5,
              prior_noise_scale=1.0)
K = 2
COUNTS = (4, 1, 0)  # a full task, a rank-deficient one (1 row, K weights), an empty one


def tiny_data(dead_feature: bool = False, k: int = K):
    """Ragged (X, y) of 3 tasks with k features; optionally feature 1 is 0 in every row."""
    rng = np.random.default_rng(7 + k)
    parent = np.linspace(1.0, -0.5, k)
    Xs, ys = [], []
    for n in COUNTS:
        c = parent + 0.8 * rng.standard_normal(k)
        X = rng.normal(0.5, 1.0, size=(n, k))
        if dead_feature:
            X[:, 1] = 0.0
        Xs.append(X)
        ys.append(X @ c + 0.5 * rng.standard_normal(n))
    return Xs, ys


# ---------------------------------------------------------------------------
# An independent, dense reference: the full K (T + 1) Gaussian at each (sigma, tau)
# ---------------------------------------------------------------------------
def dense_system(Xs, ys, m0, s0):
    """Prior mean, the two pieces of the prior covariance (s0^2 A + tau^2 B) and H."""
    T, K = len(Xs), Xs[0].shape[1]
    D = K * (T + 1)
    N = sum(len(y) for y in ys)
    A = s0**2 * np.kron(np.ones((T + 1, T + 1)), np.eye(K))  # p and every c share p
    B = np.kron(np.diag([0.0] + [1.0] * T), np.eye(K))  # each c_t's own spread
    H = np.zeros((N, D))
    row = 0
    for t, X in enumerate(Xs):
        H[row:row + len(X), K * (t + 1):K * (t + 2)] = X
        row += len(X)
    return np.full(D, m0), A, B, H, np.concatenate(ys)


def dense_conditional(Xs, ys, sigma, tau, m0, s0):
    """Posterior of (p, c) given sigma, tau by dense conditioning; log p(y) by scipy."""
    mu0, A, B, H, y = dense_system(Xs, ys, m0, s0)
    S = A + tau**2 * B
    C = H @ S @ H.T + sigma**2 * np.eye(len(y))
    gain = np.linalg.solve(C, H @ S).T
    mean = mu0 + gain @ (y - H @ mu0)
    cov = S - gain @ H @ S
    logp = multivariate_normal(H @ mu0, C).logpdf(y)
    return mean, cov, logp


def half_normal_logpdf(x, scale):
    return 0.5 * np.log(2 / np.pi) - np.log(scale) - 0.5 * (x / scale) ** 2


def dense_quadrature(Xs, ys, *, m0, s0, s_tau, s_sigma, fixed_tau=None, n=301):
    """Moments of the posterior by a fine trapezoid grid over a fixed wide box in
    (log sigma, log tau), with the dense Gaussian at every point (batched numpy)."""
    mu0, A, B, H, y = dense_system(Xs, ys, m0, s0)
    K = Xs[0].shape[1]
    u = np.linspace(np.log(s_sigma) - 9.0, np.log(s_sigma) + 2.6, n)
    if fixed_tau is None:
        v = np.linspace(np.log(s_tau) - 22.0, np.log(s_tau) + 2.6, n)
    else:
        v = np.array([np.log(fixed_tau)])
    uu, vv = (a.ravel() for a in np.meshgrid(u, v, indexing="ij"))
    sig, tau = np.exp(uu), np.exp(vv)
    logpost, means, variances = [], [], []
    r0 = y - H @ mu0
    for lo in range(0, sig.size, 20000):
        s, t = sig[lo:lo + 20000], tau[lo:lo + 20000]
        S = A + t[:, None, None] ** 2 * B
        HS = H @ S
        C = HS @ H.T + s[:, None, None] ** 2 * np.eye(len(y))
        L = np.linalg.cholesky(C)
        alpha = np.linalg.solve(C, r0[None, :, None])[..., 0]
        Z = np.linalg.solve(C, HS)
        logp = (-0.5 * alpha @ r0 - np.log(np.diagonal(L, axis1=1, axis2=2)).sum(1)
                - 0.5 * len(y) * np.log(2 * np.pi))
        lp = logp + half_normal_logpdf(s, s_sigma) + np.log(s)
        if fixed_tau is None:
            lp = lp + half_normal_logpdf(t, s_tau) + np.log(t)
        logpost.append(lp)
        means.append(mu0 + np.einsum("gnd,gn->gd", HS, alpha))
        variances.append(np.diagonal(S, axis1=1, axis2=2) - (HS * Z).sum(axis=1))
    logpost, means, variances = map(np.concatenate, (logpost, means, variances))
    w = np.exp(logpost - logpost.max())
    w /= w.sum()
    mean = w @ means
    sd = np.sqrt(w @ variances + w @ (means - mean) ** 2)
    step = (u[1] - u[0]) * ((v[1] - v[0]) if fixed_tau is None else 1.0)
    out = {
        "parent_mean": mean[:K], "parent_sd": sd[:K],
        "child_mean": mean[K:].reshape(-1, K), "child_sd": sd[K:].reshape(-1, K),
        "log_evidence": logsumexp(logpost) + np.log(step),
    }
    for name, x in (("noise", sig), ("spread", tau)):
        m = w @ x
        out[f"{name}_mean"], out[f"{name}_sd"] = m, np.sqrt(w @ (x - m) ** 2)
    return out


@pytest.fixture(scope="module")
def tiny(stats_of):
    Xs, ys = tiny_data()
    return Xs, ys, exact_posterior(stats_of(Xs, ys), **PRIORS)


# ---------------------------------------------------------------------------
# Given (sigma, tau): the conditional Gaussian and y's marginal likelihood
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("k, dead_feature", [(2, False), (2, True), (3, False), (1, False)])
@pytest.mark.parametrize("sigma, tau", [(0.5, 0.8), (0.05, 3.0), (2.0, 1e-3), (0.3, 0.0)])
def test_conditional_matches_dense_conditioning(sigma, tau, k, dead_feature, stats_of):
    Xs, ys = tiny_data(dead_feature, k)
    post = exact_posterior(stats_of(Xs, ys), **PRIORS)
    got = post.conditional(sigma, tau)
    mean, cov, logp = dense_conditional(Xs, ys, sigma, tau, 0.5, 2.0)
    sd = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(got["parent_mean"], mean[:k], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["parent_cov"], cov[:k, :k], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got["child_mean"], mean[k:].reshape(-1, k), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["child_sd"], sd[k:].reshape(-1, k), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got["log_likelihood"], logp, rtol=1e-10, atol=1e-9)


def test_conditional_broadcasts_over_arrays(tiny):
    _, _, post = tiny
    got = post.conditional(np.array([0.4, 0.6]), 0.8)
    one = post.conditional(0.6, 0.8)
    assert got["child_mean"].shape == (2, len(COUNTS), K)
    np.testing.assert_allclose(got["child_mean"][1], one["child_mean"], rtol=1e-12)


# ---------------------------------------------------------------------------
# (sigma, tau) integrated out
# ---------------------------------------------------------------------------
def assert_moments_close(post, ref, tol=1e-4, names=("parent", "child", "noise", "spread")):
    """Means within tol of the sd, sds within tol relative, for every quantity."""
    for name in names:
        sd_ref = np.asarray(ref[f"{name}_sd"])
        assert np.all(np.abs(np.asarray(getattr(post, f"{name}_mean")) - ref[f"{name}_mean"])
                      <= tol * sd_ref), name
        np.testing.assert_allclose(getattr(post, f"{name}_sd"), sd_ref, rtol=tol, err_msg=name)


@pytest.mark.parametrize("k, dead_feature", [(2, False), (2, True), (3, False)])
def test_integrated_posterior_matches_dense_quadrature(k, dead_feature, stats_of):
    Xs, ys = tiny_data(dead_feature, k)
    post = exact_posterior(stats_of(Xs, ys), **PRIORS)
    ref = dense_quadrature(Xs, ys, m0=0.5, s0=2.0, s_tau=1.5, s_sigma=1.0)
    assert_moments_close(post, ref)
    assert abs(post.log_evidence - ref["log_evidence"]) < 1e-3
    assert post.weights.shape == (post.noise_grid.size, post.spread_grid.size)
    assert abs(post.weights.sum() - 1) < 1e-12
    if dead_feature:  # no row informs feature 1: its parent keeps the prior
        assert abs(post.parent_mean[1] - 0.5) < 1e-9 and abs(post.parent_sd[1] - 2.0) < 1e-9


def test_fixed_spread_matches_dense_quadrature(stats_of):
    Xs, ys = tiny_data()
    post = exact_posterior(stats_of(Xs, ys), **PRIORS, fixed_spread=0.7)
    ref = dense_quadrature(Xs, ys, m0=0.5, s0=2.0, s_tau=1.5, s_sigma=1.0, fixed_tau=0.7)
    assert post.spread_mean == 0.7 and post.spread_sd == 0.0
    assert list(post.spread_grid) == [0.7] and post.weights.shape == (post.noise_grid.size, 1)
    assert_moments_close(post, ref, names=("parent", "child", "noise"))
    assert abs(post.log_evidence - ref["log_evidence"]) < 1e-3


def test_a_task_with_no_rows_gets_the_parents_predictive(tiny, stats_of):
    _, _, post = tiny
    empty = COUNTS.index(0)
    np.testing.assert_allclose(post.child_mean[empty], post.parent_mean, rtol=1e-12)
    # Var(c) = Var(p) + E[tau^2] by the law of total variance
    np.testing.assert_allclose(
        post.child_sd[empty] ** 2,
        post.parent_sd**2 + post.spread_mean**2 + post.spread_sd**2, rtol=1e-8)
    fixed = exact_posterior(stats_of(*tiny_data()), **PRIORS, fixed_spread=0.7)
    np.testing.assert_allclose(fixed.child_mean[empty], fixed.parent_mean, rtol=1e-12)
    np.testing.assert_allclose(fixed.child_sd[empty] ** 2, fixed.parent_sd**2 + 0.49, rtol=1e-10)


def test_finer_grid_changes_nothing_on_the_default_world():
    sc = Scenario()
    stats = sufficient_stats(pad(simulate(sc)))
    priors = dict(prior_parent_mean=sc.prior_parent_mean, prior_parent_scale=sc.prior_parent_scale,
                  prior_spread_scale=sc.prior_spread_scale, prior_noise_scale=sc.prior_noise_scale)
    a = exact_posterior(stats, **priors)
    b = exact_posterior(stats, **priors, grid_size=150)
    ref = {f"{n}_{m}": getattr(b, f"{n}_{m}") for n in ("parent", "child", "noise", "spread")
           for m in ("mean", "sd")}
    assert_moments_close(a, ref, tol=1e-5)


# ---------------------------------------------------------------------------
# Draws
# ---------------------------------------------------------------------------
def test_draws_match_the_exact_moments(tiny):
    _, _, post = tiny
    draws, chains = 50_000, 2  # many draws: a wrong jitter in the cells shows too
    out = post.sample(draws, chains, np.random.default_rng(11))
    T = len(COUNTS)
    assert out["parent"].shape == (chains, draws, K)
    assert out["child"].shape == (chains, draws, T, K)
    assert out["noise"].shape == out["spread"].shape == (chains, draws)
    n = draws * chains
    for name in ("parent", "child", "noise", "spread"):
        x = out[name].reshape((n,) + out[name].shape[2:])
        mean, sd = np.asarray(getattr(post, f"{name}_mean")), np.asarray(getattr(post, f"{name}_sd"))
        # 4 standard errors of the mean, and of the variance (from the draws' 4th moment)
        assert np.all(np.abs(x.mean(0) - mean) <= 4 * sd / np.sqrt(n)), name
        dev = x - x.mean(0)
        var = (dev**2).mean(0)
        se_var = np.sqrt(((dev**4).mean(0) - var**2) / n)
        assert np.all(np.abs(var - sd**2) <= 4 * se_var), name


def test_draws_fill_the_grid_cells_by_their_weights(tiny):
    _, _, post = tiny
    n = 100_000
    out = post.sample(n, 1, np.random.default_rng(5))
    for name, grid, mass in (("noise", post.noise_grid, post.weights.sum(axis=1)),
                             ("spread", post.spread_grid, post.weights.sum(axis=0))):
        u = np.log(grid)
        h = u[1] - u[0]
        edges = np.concatenate([u - h / 2, [u[-1] + h / 2]])
        counts = np.histogram(np.log(out[name][0]), bins=edges)[0]
        assert counts.sum() == n, name  # every draw inside the grid's cells
        se = np.sqrt(n * mass * (1 - mass))
        assert np.all(np.abs(counts - n * mass) <= 5 * se + 1), name


def test_draws_cover_the_exact_intervals(tiny):
    _, _, post = tiny
    out = post.sample(10000, 1, np.random.default_rng(3))
    iv = post.interval(0.9)
    n = 10000
    se = np.sqrt(0.05 * 0.95 / n)
    for name in ("parent", "child", "noise", "spread"):
        x = out[name][0]
        below = (x < iv[name][0]).mean(0)
        above = (x > iv[name][1]).mean(0)
        assert np.all(np.abs(below - 0.05) < 4 * se), name
        assert np.all(np.abs(above - 0.05) < 4 * se), name


def test_draws_are_reproducible(tiny):
    _, _, post = tiny
    a = post.sample(50, 2, np.random.default_rng(1))
    b = post.sample(50, 2, np.random.default_rng(1))
    for key in a:
        assert np.array_equal(a[key], b[key])


def test_fixed_spread_draws_use_the_fixed_value(stats_of):
    post = exact_posterior(stats_of(*tiny_data()), **PRIORS, fixed_spread=0.7)
    out = post.sample(100, 2, np.random.default_rng(0))
    assert np.all(out["spread"] == 0.7)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
def test_bad_input_is_a_clear_value_error(tiny, stats_of):
    Xs, ys, post = tiny
    stats = stats_of(Xs, ys)
    with pytest.raises(ValueError, match="prior_parent_scale"):
        exact_posterior(stats, **{**PRIORS, "prior_parent_scale": 0.0})
    with pytest.raises(ValueError, match="prior_noise_scale"):
        exact_posterior(stats, **{**PRIORS, "prior_noise_scale": float("nan")})
    with pytest.raises(ValueError, match="fixed_spread"):
        exact_posterior(stats, **PRIORS, fixed_spread=-1.0)
    with pytest.raises(ValueError, match="grid_size"):
        exact_posterior(stats, **PRIORS, grid_size=3)
    with pytest.raises(ValueError, match="grid_size"):
        exact_posterior(stats, **PRIORS, grid_size=True)
    with pytest.raises(TypeError):
        exact_posterior(stats, 0.5, 2.0, 1.5, 1.0)  # options are keyword-only
    bad = SufficientStats(stats.XtX, stats.Xty[:, :1], stats.yty, stats.n)
    with pytest.raises(ValueError, match="Xty"):
        exact_posterior(bad, **PRIORS)
    bad = SufficientStats(stats.XtX, stats.Xty, stats.yty, -stats.n)
    with pytest.raises(ValueError, match="n"):
        exact_posterior(bad, **PRIORS)
    bad = SufficientStats(-stats.XtX, stats.Xty, stats.yty, stats.n)
    with pytest.raises(ValueError, match="positive semi-definite"):
        exact_posterior(bad, **PRIORS)
    bad = SufficientStats(stats.XtX + 1.0, stats.Xty, stats.yty, stats.n)  # task 2: 0 rows
    with pytest.raises(ValueError, match="no rows|n = 0"):
        exact_posterior(bad, **PRIORS)
    with pytest.raises(ValueError, match="draws"):
        post.sample(0, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        post.sample(10, 2, 0)
    with pytest.raises(ValueError, match="level"):
        post.interval(1.5)
