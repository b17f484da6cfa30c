"""Simulated worlds of every family: the truth drawn as the Gaussian world draws it."""

import numpy as np
import pytest

from hierdash.outcomes import Gaussian, simulate_outcomes
from hierdash.scenario import Scenario
from hierdash.world import simulate


def test_a_gaussian_world_without_intercept_is_the_dashboards_world():
    s = Scenario(samples=(7, 0, 3), n_features=2, parent_mean=1.0, parent_scale=2.0,
                 child_spread=0.5, noise_sd=0.3, x_mean=0.5, x_sd=1.5, seed=9)
    world = simulate(s)
    mine = simulate_outcomes(Gaussian(noise=0.3), samples=s.samples, seed=9, n_features=2,
                             intercept=False, parent_mean=1.0, parent_scale=2.0,
                             child_spread=0.5, x_mean=0.5, x_sd=1.5)
    assert np.array_equal(mine.parent, world.parent) and np.array_equal(mine.child, world.child)
    for a, b in zip(mine.data.X, world.X, strict=True):
        assert np.array_equal(a, b)
    for a, b in zip(mine.data.y, world.y, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("family", ["bernoulli", "binomial", "poisson"])
def test_worlds_are_reproducible_and_tasks_independent(family):
    one = simulate_outcomes(family, samples=(5, 8), seed=4, n_features=2, trials=3)
    again = simulate_outcomes(family, samples=(5, 8), seed=4, n_features=2, trials=3)
    more = simulate_outcomes(family, samples=(5, 20, 2), seed=4, n_features=2, trials=3)
    assert np.array_equal(one.data.y[1], again.data.y[1])
    assert np.array_equal(one.parent, more.parent)
    assert np.array_equal(one.data.y[0], more.data.y[0])  # task 0 untouched by task 1's rows
    assert np.all(one.data.X[0][:, 0] == 1.0)  # the intercept column
    if family == "binomial":
        assert np.all(one.data.size[0] == 3) and one.data.y[0].max() <= 3
    rng_world = simulate_outcomes(family, samples=(5,), seed=np.random.default_rng(1))
    assert rng_world.data.n_features == 1 and rng_world.intercept


def test_an_intercept_only_world_has_one_rate_per_task():
    world = simulate_outcomes("poisson", samples=(4, 4), seed=0, n_features=1,
                              exposure=2.0, parent_mean=1.0)
    assert all(np.all(X == 1.0) for X in world.data.X)
    assert np.all(world.data.size[0] == 2.0)


@pytest.mark.parametrize("option, value, message", [
    ("samples", (3, -1), "samples = .* must be one whole number >= 0 per task"),
    ("samples", (), "samples = .* at least one task"),
    ("n_features", 9, "n_features = 9 is not allowed: must be a whole number from 1 to 8"),
    ("trials", 0, "trials = 0 is not allowed: must be a whole number from 1"),
    ("exposure", 0.0, "exposure = 0.0 is not allowed: must be > 0"),
    ("child_spread", -1.0, "child_spread = -1.0 is not allowed: must be >= 0"),
    ("intercept", 1, "intercept = 1 is not allowed: must be true or false"),
    ("seed", -3, "seed = -3 is not allowed"),
])
def test_options_are_checked_by_name(option, value, message):
    options = {"samples": (3, 2), "seed": 1, option: value}
    with pytest.raises(ValueError, match=message):
        simulate_outcomes("bernoulli", **options)
