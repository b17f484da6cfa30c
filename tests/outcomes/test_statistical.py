"""The reference posterior against an independent Monte Carlo answer: importance
sampling of the model's own density, the tolerance from its Monte Carlo error.

Importance sampling needs nothing from the quadrature: draws from a multivariate t in
the non-centered coordinates ``(p, log tau, z)``, adapted in three rounds to the
weighted draws (mean and covariance), then weighted by the model's density over the
proposal's. Its Monte Carlo standard errors come from the normalised weights.
"""

import numpy as np
import pytest
from scipy import optimize, stats

from hierdash.outcomes import TaskData, quadrature_posterior, simulate_outcomes

PRIORS = dict(prior_parent_mean=0.0, prior_parent_scale=1.0, prior_spread_scale=1.0)
DRAWS = 200_000


def log_density(theta: np.ndarray, data: TaskData) -> np.ndarray:
    """The posterior's log density (up to a constant) at ``theta`` (n, K + 1 + T K)."""
    k, t = data.n_features, data.n_tasks
    p, v = theta[:, :k], theta[:, k]
    z = theta[:, k + 1:].reshape(-1, t, k)
    tau = np.exp(v)
    c = p[:, None, :] + tau[:, None, None] * z
    out = (-0.5 * ((p - PRIORS["prior_parent_mean"]) / PRIORS["prior_parent_scale"]) ** 2
           ).sum(axis=1) - 0.5 * (tau / PRIORS["prior_spread_scale"]) ** 2 + v \
        - 0.5 * (z**2).sum(axis=(1, 2))
    for i in range(t):
        if len(data.y[i]):
            eta = c[:, i, :] @ data.X[i].T
            out = out + data.family.log_likelihood(eta, data.y[i], data.size[i]).sum(axis=1)
    return out


def importance_sampling(data: TaskData, rng: np.random.Generator):
    """Posterior means and sds of (parent, every child weight, spread), with their Monte
    Carlo standard errors and the effective sample size."""
    k, t = data.n_features, data.n_tasks
    d = k + 1 + t * k
    start = np.zeros(d)
    start[k] = np.log(PRIORS["prior_spread_scale"]) - 1.0
    mode = optimize.minimize(lambda x: -log_density(x[None], data)[0], start, method="BFGS").x
    eps = 1e-4
    steps = np.eye(d) * eps
    f = lambda x: log_density(np.atleast_2d(x), data)[0]  # noqa: E731
    hessian = np.array([[(f(mode + a + b) - f(mode + a - b) - f(mode - a + b) + f(mode - a - b))
                         / (4 * eps**2) for b in steps] for a in steps])
    loc, shape = mode, -np.linalg.inv(hessian) * 1.5
    for draws in (50_000, 50_000, 50_000, DRAWS):
        proposal = stats.multivariate_t(loc=loc, shape=shape, df=4, seed=rng)
        theta = proposal.rvs(draws)
        log_w = log_density(theta, data) - proposal.logpdf(theta)
        w = np.exp(log_w - log_w.max())
        w /= w.sum()
        loc = w @ theta
        shape = ((theta - loc).T * w) @ (theta - loc) * 1.3
    p, tau = theta[:, :k], np.exp(theta[:, k])
    c = p[:, None, :] + tau[:, None, None] * theta[:, k + 1:].reshape(-1, t, k)
    q = np.column_stack([p, c.reshape(len(theta), -1), tau])
    mean = w @ q
    var = w @ (q - mean) ** 2
    sd = np.sqrt(var)
    se_mean = np.sqrt((w**2) @ (q - mean) ** 2)
    se_sd = np.sqrt((w**2) @ ((q - mean) ** 2 - var) ** 2) / (2 * sd)
    return mean, sd, se_mean, se_sd, 1.0 / (w**2).sum()


@pytest.mark.statistical
@pytest.mark.parametrize("family, samples, k", [
    ("bernoulli", (10, 3, 0), 1),  # small groups: where Laplace is off
    ("binomial", (6, 2, 1), 1),
    ("poisson", (12, 5), 2),  # intercept and slope
])
def test_the_reference_matches_importance_sampling(family, samples, k):
    data = simulate_outcomes(family, samples=samples, seed=11, n_features=k, trials=5,
                             child_spread=0.8).data
    mean, sd, se_mean, se_sd, ess = importance_sampling(data, np.random.default_rng(5))
    assert ess > 2000  # the Monte Carlo answer is itself trustworthy
    ref = quadrature_posterior(data, **PRIORS)
    got_mean = np.concatenate([ref.parent_mean, ref.child_mean.ravel(), [ref.spread_mean]])
    got_sd = np.concatenate([ref.parent_sd, ref.child_sd.ravel(), [ref.spread_sd]])
    # 4 Monte Carlo standard errors, plus the quadrature's own allowance (0.02 sd).
    assert np.all(np.abs(got_mean - mean) <= 4 * se_mean + 0.02 * sd)
    assert np.all(np.abs(got_sd - sd) <= 4 * se_sd + 0.02 * sd)
