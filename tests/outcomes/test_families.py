"""The outcome families: links, likelihoods against SciPy, derivatives, draws and the
checks a student meets."""

import numpy as np
import pytest
from scipy import stats

from hierdash.outcomes import (
    FAMILIES,
    OUTCOMES,
    Bernoulli,
    Binomial,
    Family,
    Gaussian,
    Poisson,
    TaskData,
    get_family,
)

ETA = np.linspace(-30.0, 30.0, 121)


def test_the_registry_names_every_family_once():
    assert OUTCOMES == ("gaussian", "bernoulli", "binomial", "poisson")
    for name, cls in FAMILIES.items():
        family = get_family(name)
        assert isinstance(family, cls) and isinstance(family, Family) and family.name == name
    assert get_family(Poisson()) == Poisson()
    assert Bernoulli() != Binomial()  # equal fields, different families
    with pytest.raises(ValueError, match="outcome = 'gamma' is not allowed: must be one of "
                                         "gaussian, bernoulli, binomial, poisson"):
        get_family("gamma")


@pytest.mark.parametrize("family, means", [
    (Gaussian(), np.linspace(-5, 5, 11)),
    (Bernoulli(), np.linspace(0.01, 0.99, 11)),
    (Binomial(), np.array([1e-9, 0.3, 0.5, 1 - 1e-9])),
    (Poisson(), np.array([1e-6, 0.2, 1.0, 40.0])),
])
def test_link_round_trips(family, means):
    assert np.allclose(family.inverse_link(family.link_function(means)), means, rtol=1e-9)
    eta = np.linspace(-6, 6, 13)
    assert np.allclose(family.link_function(family.inverse_link(eta)), eta, rtol=1e-9)
    assert family.link == {"gaussian": "identity", "bernoulli": "logit", "binomial": "logit",
                           "poisson": "log"}[family.name]


def test_log_likelihoods_match_scipy():
    y = np.array([0.0, 3.0, 7.0, 10.0])
    n = np.array([1.0, 5.0, 9.0, 10.0])
    eta = np.array([-2.0, 0.3, 1.5, 25.0])
    p = 1 / (1 + np.exp(-eta))
    assert np.allclose(Binomial().log_likelihood(eta, y, n), stats.binom.logpmf(y, n, p))
    yb = np.array([0.0, 1.0, 1.0, 0.0])
    assert np.allclose(Bernoulli().log_likelihood(eta, yb, np.ones(4)),
                       stats.bernoulli.logpmf(yb, p))
    exposure = np.array([0.5, 1.0, 2.0, 1e-3])
    assert np.allclose(Poisson().log_likelihood(eta, y, exposure),
                       stats.poisson.logpmf(y, exposure * np.exp(eta)))
    assert np.allclose(Gaussian(noise=2.0).log_likelihood(eta, y, np.ones(4)),
                       stats.norm.logpdf(y, eta, 2.0))


@pytest.mark.parametrize("family, y, size", [
    (Gaussian(noise=0.7), 1.3, 1.0),
    (Bernoulli(), 1.0, 1.0),
    (Bernoulli(), 0.0, 1.0),
    (Binomial(), 3.0, 12.0),
    (Poisson(), 4.0, 2.5),
])
def test_derivatives_match_finite_differences_and_the_value(family, y, size):
    eta = np.linspace(-8.0, 8.0, 33)
    value, grad, curvature = family.kernel(eta, y, size)
    assert np.allclose(family.value(eta, y, size), value)
    h = 1e-5
    up, down = family.kernel(eta + h, y, size)[0], family.kernel(eta - h, y, size)[0]
    assert np.allclose(grad, (up - down) / (2 * h), rtol=1e-6, atol=1e-6)
    g_up, g_down = family.kernel(eta + h, y, size)[1], family.kernel(eta - h, y, size)[1]
    assert np.allclose(curvature, -(g_up - g_down) / (2 * h), rtol=1e-5, atol=1e-6)
    assert np.all(curvature >= 0)  # log-concave: Newton's method is safe


def test_the_logit_kernel_is_stable_in_both_tails():
    value, grad, curvature = Binomial().kernel(ETA * 30, 2.0, 5.0)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    assert np.all(np.isfinite(curvature))


def test_draws_follow_the_mean():
    rng = np.random.default_rng(0)
    eta = np.full(200_000, 0.4)
    for family, size, mean in [
        (Bernoulli(), 1.0, 1 / (1 + np.exp(-0.4))),
        (Binomial(), 7.0, 7 / (1 + np.exp(-0.4))),
        (Poisson(), 3.0, 3 * np.exp(0.4)),
        (Gaussian(noise=2.0), 1.0, 0.4),
    ]:
        y = family.simulate(eta, np.full(eta.shape, size), rng)
        sd = np.sqrt(np.var(y) / len(y))
        assert abs(y.mean() - mean) < 5 * sd, family.name
        family.check(y, np.full(eta.shape, size))  # every draw passes the family's check


def test_too_large_a_rate_is_refused_in_words():
    with pytest.raises(ValueError, match="expected count reaches .* too many to draw"):
        Poisson().simulate(np.array([60.0]), np.ones(1), np.random.default_rng(0))


@pytest.mark.parametrize("family, y, size, message", [
    ("bernoulli", [0, 1, 2], None,
     r"y must be 0 or 1 for a yes/no \(bernoulli\) outcome: task 1, row 3 has 2"),
    ("bernoulli", [0, 0.5], None, r"y must be 0 or 1 .* row 2 has 0.5"),
    ("binomial", [3, 12], [10, 10],
     r"successes \(y\) cannot be more than trials: task 1, row 2 has 12 successes of 10 "
     r"trials"),
    ("binomial", [1, 2], None, r"a binomial outcome needs trials"),
    ("binomial", [-1, 2], 5, r"successes \(y\) cannot be negative: task 1, row 1 has -1"),
    ("binomial", [1, 2], [4, 2.5], r"trials must be whole numbers: task 1, row 2 has 2.5"),
    ("binomial", [1, 2], ["ten", "5"], r"trials must hold numbers"),
    ("poisson", [3, -2], None, r"counts \(y\) cannot be negative: task 1, row 2 has -2"),
    ("poisson", [3, 1.5], None, r"counts \(y\) must be whole numbers: task 1, row 2 has 1.5"),
    ("poisson", [3, 1], [1.0, 0.0],
     r"exposure must be more than 0 \(a row observed for no time cannot hold counts\): "
     r"task 1, row 2 has 0"),
    ("gaussian", [1.0, np.nan], None, r"y must be a number on every row: task 1, row 2 is "
                                      r"missing"),
])
def test_bad_outcomes_are_named_in_words(family, y, size, message):
    X = np.ones((len(y), 1))
    with pytest.raises(ValueError, match=message):
        TaskData(family, (X,), (y,), None if size is None else (size,))


def test_the_gaussian_noise_is_checked():
    with pytest.raises(ValueError, match="noise = 0.0 is not allowed: must be a number > 0"):
        Gaussian(noise=0.0)
    assert get_family("gaussian", noise=3).noise == 3.0
