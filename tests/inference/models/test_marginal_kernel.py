"""The marginal model's hand-written likelihood gradient against PyTensor's own.

:mod:`hierdash.inference.models.marginal_kernel` computes ``log p(y | sigma, tau)`` and its gradient in
one numba loop. Here the same likelihood written as a plain PyTensor graph (the model's
form before the kernel) is differentiated by PyTensor, and both models' log density and
gradient must agree on random worlds (1 to 8 features, empty tasks, naive padding,
learned and fixed spread) at random points, through the numba backend (what nutpie
compiles) and through the Op's Python implementation.
"""

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

from hierdash.inference.models.marginal import (
    MARGINAL_VALUE_NAMES,
    build_marginal_model,
    marginal_data,
)
from hierdash.inference.models.marginal_kernel import marginal_terms
from hierdash.inference.prepare import prepare
from hierdash.scenario import Scenario

CAPACITY = {"tasks": 12, "features": 8}


def reference_model(data):
    """The marginal model as a PyTensor graph, differentiated by PyTensor."""
    with pm.Model() as model:
        j = pm.Data("n_directions", data["n_directions"])
        k = pm.Data("n_features", data["n_features"])
        lam = pm.Data("lam", data["lam"])[:j]
        terms = pm.Data("terms", data["terms"])[:j, : k * k + k + 1]
        rss = pm.Data("rss", data["rss"])
        n_rows = pm.Data("n_likelihood_rows", data["n_likelihood_rows"])
        prior_mean = pm.Data("prior_mean_rot", data["prior_mean_rot"])[:k]
        prior_sd = pm.Data("prior_parent_scale", data["prior_parent_scale"])
        noise_scale = pm.Data("prior_noise_scale", data["prior_noise_scale"])
        spread_scale = pm.Data("prior_spread_scale", data["prior_spread_scale"])
        learn = pm.Data("learn_spread", data["learn_spread"])
        fixed = pm.Data("fixed_spread", data["fixed_spread"])
        noise = pm.HalfNormal("noise", sigma=noise_scale)
        spread = pm.HalfNormal("spread", sigma=spread_scale)
        tau = learn * spread + (1.0 - learn) * fixed
        s2 = noise**2
        d = 1.0 / (1.0 + (tau**2 / s2) * lam)
        sums = pt.dot(d, terms)
        precision = sums[: k * k].reshape((k, k)) / s2 + pt.eye(k) / prior_sd**2
        linear = sums[k * k : k * k + k] / s2 + prior_mean / prior_sd**2
        chol = pt.linalg.cholesky(precision)
        whitened = pt.linalg.solve_triangular(chol, linear, lower=True)
        pm.Potential("likelihood", -0.5 * n_rows * pt.log(s2) - 0.5 * (rss + sums[k * k + k]) / s2
                     + 0.5 * pt.sum(pt.log(d)) - pt.sum(pt.log(pt.diagonal(chol)))
                     + 0.5 * pt.sum(whitened**2))
    return model


def random_worlds(n: int, seed: int) -> list[Scenario]:
    rng = np.random.default_rng(seed)
    worlds = []
    for i in range(n):
        n_tasks = int(rng.integers(1, CAPACITY["tasks"] + 1))
        worlds.append(Scenario(
            seed=i,
            n_features=int(rng.integers(1, CAPACITY["features"] + 1)),
            samples=tuple(int(c) for c in rng.choice([0, 1, 2, 3, 8, 30, 90], size=n_tasks)),
            child_spread=float(rng.choice([0.05, 0.5, 2.0])),
            noise_sd=float(rng.choice([0.3, 1.0, 3.0])),
            learn_spread=bool(rng.random() < 0.8),
            padding="naive" if rng.random() < 0.2 else "masked",
        ))
    return worlds


def data_of(scenario: Scenario) -> dict:
    return marginal_data(prepare(scenario).exact, learn_spread=scenario.learn_spread,
                         fixed_spread=scenario.child_spread, **CAPACITY)


def compiled_pair(model, mode):
    return model.compile_logp(mode=mode), model.compile_dlogp(mode=mode)


@pytest.mark.parametrize("mode", ["NUMBA", "FAST_COMPILE"])
def test_kernel_matches_pytensor_gradient_on_random_worlds(mode):
    worlds = random_worlds(25, seed=7)
    first = data_of(worlds[0])
    models = {"kernel": build_marginal_model(first), "reference": reference_model(first)}
    functions = {name: compiled_pair(m, mode) for name, m in models.items()}
    rng = np.random.default_rng(3)
    names = [MARGINAL_VALUE_NAMES["noise"], MARGINAL_VALUE_NAMES["spread"]]
    for scenario in worlds:
        data = data_of(scenario)
        for model in models.values():
            with model:
                pm.set_data(data)
        for _ in range(4):
            point = dict(zip(names, rng.normal(0.0, 1.5, size=2), strict=True))
            kernel_logp, kernel_grad = (f(point) for f in functions["kernel"])
            ref_logp, ref_grad = (f(point) for f in functions["reference"])
            assert np.isfinite(kernel_logp), (scenario, point)
            np.testing.assert_allclose(kernel_logp, ref_logp, rtol=1e-9, atol=1e-9,
                                       err_msg=f"{scenario} at {point}")
            np.testing.assert_allclose(kernel_grad, ref_grad, rtol=1e-7, atol=1e-7,
                                       err_msg=f"{scenario} at {point}")


def test_kernel_reads_only_the_worlds_corner():
    data = data_of(Scenario(samples=(20, 5, 0), n_features=3))
    scales = np.array([1.3, 0.4])
    args = (np.array([float(data[n]) for n in ("rss", "n_likelihood_rows", "prior_parent_scale",
                                                 "n_directions", "n_features")]),
            data["lam"], data["terms"], data["prior_mean_rot"])
    value, grad = marginal_terms(scales, *args)
    scribbled = [a.copy() for a in args]
    j, k = int(data["n_directions"]), int(data["n_features"])
    scribbled[1][j:] = 7.0
    scribbled[2][j:] = 7.0
    scribbled[2][:, k * k + k + 1:] = 7.0
    scribbled[3][k:] = 7.0
    again_value, again_grad = marginal_terms(scales, *scribbled)
    assert np.isfinite(value).all() and np.isfinite(grad).all()
    np.testing.assert_array_equal(again_value, value)
    np.testing.assert_array_equal(again_grad, grad)


def test_kernel_gives_nan_for_sizes_beyond_its_arrays():
    data = data_of(Scenario())
    sizes = np.array([float(data["rss"]), float(data["n_likelihood_rows"]), 10.0,
                      data["lam"].size + 1.0, 2.0])
    value, grad = marginal_terms(np.array([1.0, 1.0]), sizes, data["lam"], data["terms"],
                                 data["prior_mean_rot"])
    assert np.isnan(value).all() and np.isnan(grad).all()


def test_a_noise_that_underflows_to_zero_is_not_finite_rather_than_an_error():
    # PyMC's NUTS, early in its tuning on a world of 50 tasks of 200 rows, tried
    # log(noise) = -209: noise**2 is 0.0, and the kernel raised ZeroDivisionError, which
    # ended the fit. A non-finite log density is a rejected step the sampler handles.
    data = data_of(Scenario(samples=(200,) * 5))
    args = (np.array([float(data[n]) for n in ("rss", "n_likelihood_rows", "prior_parent_scale",
                                                 "n_directions", "n_features")]),
            data["lam"], data["terms"], data["prior_mean_rot"])
    value, grad = marginal_terms(np.array([0.0, 0.3]), *args)
    assert not np.isfinite(value) or not np.all(np.isfinite(grad))
