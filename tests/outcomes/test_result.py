"""The reference posterior as a result: its draws against its own moments, and the
quantiles of Gaussian mixtures that its intervals (and :mod:`hierdash.exact`'s) use."""

import numpy as np
import pytest
from scipy import stats

from hierdash.outcomes import load_rat_tumors, quadrature_posterior, simulate_outcomes
from hierdash.outcomes.mixtures import mixture_quantiles

DRAWS = 20_000


def small_world():
    return simulate_outcomes("binomial", samples=(8, 3, 12, 0, 6), seed=2, n_features=2,
                             trials=4).data


@pytest.fixture(scope="module")
def posteriors():
    """Three posteriors: a small binomial world with its default rules and with Laplace's
    method (one parent node, whose variance the draws add), and rat tumours."""
    data = small_world()
    return {"binomial": quadrature_posterior(data),
            "laplace": quadrature_posterior(data, parent_nodes=1, child_nodes=1),
            "rats": quadrature_posterior(load_rat_tumors())}


def test_draws_have_the_shapes_and_keys_of_the_exact_draws(posteriors):
    post = posteriors["binomial"]
    got = post.sample(7, 3, np.random.default_rng(0))
    assert set(got) == {"parent", "child", "spread"}
    assert got["parent"].shape == (3, 7, 2) and got["child"].shape == (3, 7, 5, 2)
    assert got["spread"].shape == (3, 7) and np.all(got["spread"] > 0)
    # Continuous spreads, not only the grid's values.
    assert not np.isin(got["spread"], post.spread_grid).any()
    fixed = quadrature_posterior(small_world(), fixed_spread=0.5)
    got = fixed.sample(4, 2, np.random.default_rng(0))
    assert set(got) == {"parent", "child"}
    assert got["parent"].shape == (2, 4, 2) and got["child"].shape == (2, 4, 5, 2)
    assert all(np.all(np.isfinite(v)) for v in got.values())


@pytest.mark.parametrize("name", ["binomial", "laplace", "rats"])
def test_draws_match_the_posteriors_moments(posteriors, name):
    """Means within 4 Monte Carlo standard errors, sds within 5% (the spread's 10%)."""
    post = posteriors[name]
    got = post.sample(DRAWS // 4, 4, np.random.default_rng(11))
    n = DRAWS
    parent = got["parent"].reshape(n, -1)
    child = got["child"].reshape(n, *post.child_mean.shape)
    spread = got["spread"].ravel()
    for draws, mean, sd in ((parent, post.parent_mean, post.parent_sd),
                            (child, post.child_mean, post.child_sd)):
        assert np.all(np.abs(draws.mean(axis=0) - mean) <= 4 * sd / np.sqrt(n))
        assert np.all(np.abs(draws.std(axis=0) / sd - 1) <= 0.05)
    assert abs(spread.mean() - post.spread_mean) <= 4 * post.spread_sd / np.sqrt(n)
    assert spread.std() == pytest.approx(post.spread_sd, rel=0.10)


def test_the_same_seed_gives_the_same_draws(posteriors):
    post = posteriors["binomial"]
    one = post.sample(50, 2, np.random.default_rng(3))
    again = post.sample(50, 2, np.random.default_rng(3))
    other = post.sample(50, 2, np.random.default_rng(4))
    for key in one:
        assert np.array_equal(one[key], again[key]), key
        assert not np.array_equal(one[key], other[key]), key


@pytest.mark.parametrize("option, value, message", [
    ("draws", 0, "draws = 0 is not allowed: must be a whole number from 1"),
    ("draws", 2.0, "draws = 2.0 is not allowed"),
    ("chains", True, "chains = True is not allowed"),
    ("rng", 1, "rng = 1 is not allowed: must be a numpy.random.Generator"),
])
def test_bad_options_are_named(posteriors, option, value, message):
    options = dict(draws=5, chains=1, rng=np.random.default_rng(0)) | {option: value}
    with pytest.raises(ValueError, match=message):
        posteriors["binomial"].sample(**options)


def test_mixture_quantiles_of_one_gaussian_and_of_a_symmetric_pair():
    probs = np.array([0.05, 0.5, 0.975])
    one = mixture_quantiles(np.ones(1), np.array([[1.0, -2.0]]), np.array([[2.0, 0.5]]),
                            probs, np.array([1.0, -2.0]), np.array([2.0, 0.5]))
    assert one == pytest.approx(np.array([[1.0], [-2.0]]).T + stats.norm.ppf(probs)[:, None]
                                * np.array([2.0, 0.5]), abs=1e-10)
    w = np.array([0.5, 0.5])
    pair = mixture_quantiles(w, np.array([[-3.0], [3.0]]), np.ones((2, 1)), probs,
                             np.zeros(1), np.array([np.sqrt(10.0)]))
    assert pair[1, 0] == pytest.approx(0.0, abs=1e-10)
    cdf = w @ stats.norm.cdf(pair[[0, 2], 0][None, :] - np.array([[-3.0], [3.0]]))
    assert cdf == pytest.approx(probs[[0, 2]], abs=1e-10)


@pytest.mark.parametrize("name", ["binomial", "rats"])
def test_draws_are_continuous_and_their_central_intervals_match_the_reference(posteriors, name):
    """Parent draws lumped on the quadrature's nodes gave 50% intervals that covered the
    truth in a quarter of worlds: the draws must fill the interval the reference states.
    The share of draws inside the reference's 50% interval is within 5 binomial standard
    errors of one half."""
    post = posteriors[name]
    got = post.sample(DRAWS, 1, np.random.default_rng(3))
    parent = got["parent"].reshape(DRAWS, -1)
    assert len(np.unique(parent[:, 0])) > 0.99 * DRAWS
    low, high = post.interval(0.5)["parent"]
    inside = np.mean((parent >= low) & (parent <= high), axis=0)
    assert np.all(np.abs(inside - 0.5) <= 5 * np.sqrt(0.25 / DRAWS)), inside
