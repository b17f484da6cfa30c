"""ADVI's hand-written log density against the PyMC model it replaces.

:mod:`hierdash.inference.models.advi_kernel` writes out the log density (in the
unconstrained space, with the log transforms' Jacobians) and its gradient of the model
PyMC's ADVI fitted: the latent model (per-task, centered, non-centered) or the marginal
one, at the world's own size. Both must agree with PyTensor's compiled ``logp`` and
``dlogp`` of that very model at random points, on worlds with empty tasks, naive
padding, a fixed spread, 1 and 8 features; the starting point must be PyMC's initial
point, and the draws' ``child`` PyMC's deterministic.
"""

import numpy as np
import pytest

from hierdash.inference.models.advi_kernel import advi_model, log_density
from hierdash.inference.models.compiled import build_pymc_model
from hierdash.inference.prepare import prepare
from hierdash.inference.samplers.common import model_inputs, own_size_key, resolve_parameterization
from hierdash.scenario import Scenario

WORLDS = {
    "per-task, empty task": Scenario(method="advi", samples=(30, 5, 0)),
    "default": Scenario(method="fullrank_advi"),
    "naive padding, 2 features": Scenario(method="advi", samples=(3, 0, 7, 1), n_features=2,
                                          padding="naive", seed=3),
    "fixed spread": Scenario(method="advi", samples=(20, 2), learn_spread=False,
                             child_spread=0.7, seed=5),
    "centered, 8 features": Scenario(method="advi", samples=(20, 2, 0), n_features=8,
                                     parameterization="centered", seed=9),
    "non-centered, 1 feature, prior mean 2": Scenario(
        method="fullrank_advi", samples=(20, 2, 0), n_features=1, parameterization="noncentered",
        prior_parent_mean=2.0, seed=11),
    "marginal": Scenario(method="advi", samples=(30, 5, 0), parameterization="marginal", seed=2),
    "marginal, fixed spread, naive": Scenario(
        method="advi", samples=(30, 5, 0, 4), parameterization="marginal", learn_spread=False,
        padding="naive", seed=2),
}


def _models(scenario: Scenario):
    parameterization = resolve_parameterization(scenario)
    prep = prepare(scenario)
    key, data, _ = model_inputs(scenario, prep, parameterization,
                                own_size_key(scenario, parameterization))
    return build_pymc_model(key, data), advi_model(key.kind, data)


def _point(pymc_model, theta: np.ndarray) -> dict:
    """Our flat vector as PyMC's point: the same variables in the same order."""
    point, offset = {}, 0
    for var in pymc_model.value_vars:
        shape = pymc_model.initial_point()[var.name].shape
        size = int(np.prod(shape))
        point[var.name] = theta[offset: offset + size].reshape(shape)
        offset += size
    assert offset == theta.size
    return point


@pytest.fixture(scope="module", params=list(WORLDS), ids=list(WORLDS))
def pair(request):
    pymc_model, model = _models(WORLDS[request.param])
    return pymc_model, model, pymc_model.compile_logp(), pymc_model.compile_dlogp()


def test_starts_at_pymcs_initial_point(pair):
    pymc_model, model, _, _ = pair
    start = _point(pymc_model, model.start)
    for name, value in pymc_model.initial_point().items():
        np.testing.assert_allclose(start[name], value, rtol=1e-12, atol=1e-12)


def test_log_density_and_gradient_match_pytensor(pair):
    pymc_model, model, logp, dlogp = pair
    rng = np.random.default_rng(0)
    for _ in range(5):
        theta = model.start + rng.normal(0.0, 0.5, model.start.size)
        grad = np.empty_like(theta)
        value = log_density(model.kind, theta, grad, model.data)
        point = _point(pymc_model, theta)
        want_grad = dlogp(point)
        np.testing.assert_allclose(value, logp(point), rtol=1e-10)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-8, atol=1e-10 * np.abs(want_grad).max())


def test_draws_child_is_pymcs_deterministic(pair):
    pymc_model, model, _, _ = pair
    if "child" not in pymc_model.named_vars:
        pytest.skip("the marginal model has no weights: its draws hold the scales only")
    import pytensor

    # child as a function of the unconstrained values, as ADVI's draws are taken
    child = pymc_model.replace_rvs_by_values([pymc_model["child"]])[0]
    compiled = pytensor.function(pymc_model.value_vars, child, on_unused_input="ignore")

    def child_of(point):
        return compiled(*(point[v.name] for v in pymc_model.value_vars))

    rng = np.random.default_rng(1)
    z = model.start + rng.normal(0.0, 0.5, (3, model.start.size))
    got = model.variables(z)
    for row, child in zip(z, got["child"], strict=True):
        np.testing.assert_allclose(child, child_of(_point(pymc_model, row)), rtol=1e-12)


def test_padded_data_are_refused():
    scenario = Scenario(method="advi", samples=(10, 3))
    prep = prepare(scenario)
    key, data, _ = model_inputs(scenario, prep, "per_task")  # the shared, padded capacity
    with pytest.raises(ValueError, match="own size"):
        advi_model(key.kind, data)
