"""Two compiled models serve every world within the bounds: after warm-up, no compile.

After :func:`hierdash.inference.warm_up` (what the app runs at start-up), fitting any
preset and the extremes of every bound — 1 and 50 tasks, 1 and 8 features, 0-row
tasks, learned and fixed spread, naive padding, every parameterization — must leave
``NUTPIE_CACHE.compilations`` unchanged, and each fit must be of its own world (draws
of its real tasks, means on its exact posterior). These are not timing tests.
"""

import numpy as np
import pytest

from hierdash.inference import fit, warm_up
from hierdash.inference.models.compiled import MODEL_KEYS, NUTPIE_CACHE, start_from
from hierdash.inference.prepare import prepare
from hierdash.inference.samplers.common import model_inputs
from hierdash.inference.summarise import draws_of
from hierdash.scenario import MAX_SAMPLES_PER_TASK, MAX_TASKS, Scenario
from hierdash.scenario.presets import PRESETS, apply_preset

pytestmark = pytest.mark.slow

SHORT = {"draws": 200, "tune": 200, "chains": 2}


@pytest.fixture(scope="module")
def warmed():
    """Both shared models compiled, as the app's start-up does."""
    NUTPIE_CACHE.clear()
    seconds = warm_up()
    assert seconds > 0.0
    assert all(key in NUTPIE_CACHE for key in MODEL_KEYS.values())
    return NUTPIE_CACHE.compilations


def _assert_no_compile(scenario: Scenario):
    before = NUTPIE_CACHE.compilations
    result = fit(scenario)
    assert result.compile_s == 0.0
    assert NUTPIE_CACHE.compilations == before
    assert draws_of(result.posterior, "child").shape[1:] == (scenario.n_tasks, scenario.n_features)
    z = np.abs(result.weights["z_vs_exact"].to_numpy())
    assert np.median(z) < 2.0, result.weights[["level", "task", "mean", "exact_mean", "exact_sd"]]
    return result


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_fits_without_compiling(warmed, name):
    _assert_no_compile(apply_preset(Scenario(**SHORT), name))


EXTREMES = {
    "1 task": {"samples": (30,)},
    f"{MAX_TASKS} tasks": {"samples": (4,) * MAX_TASKS, "n_features": 2},
    "1 feature": {"n_features": 1, "samples": (20, 3)},
    "8 features": {"n_features": 8, "samples": (40, 12, 0)},
    "0-row tasks": {"samples": (0, 0, 25)},
    "only 0-row tasks": {"samples": (0, 0)},
    "largest task": {"samples": (MAX_SAMPLES_PER_TASK, 2), "n_features": 2},
    "fixed spread": {"learn_spread": False, "samples": (10, 5, 1)},
    "naive padding": {"padding": "naive", "samples": (60, 5)},
    "centered": {"parameterization": "centered", "samples": (50, 20)},
    "non-centered, fixed spread, 8 features": {
        "parameterization": "noncentered", "learn_spread": False, "n_features": 8,
        "samples": (30, 2, 0),
    },
    "centered, naive, 1 feature": {
        "parameterization": "centered", "padding": "naive", "n_features": 1, "samples": (9, 3),
    },
}


@pytest.mark.parametrize("change", list(EXTREMES.values()), ids=list(EXTREMES))
def test_extremes_fit_without_compiling(warmed, change):
    _assert_no_compile(Scenario(**SHORT).replace(**change))


# Yes/no and count outcomes: one compiled model serves every family within the bounds.
OUTCOME_EXTREMES = {
    "bernoulli default": ("bernoulli", {}),
    "binomial default": ("binomial", {}),
    "poisson default": ("poisson", {}),
    "bernoulli intercept only": ("bernoulli", {"n_features": 1, "samples": (20, 0, 3)}),
    f"binomial {MAX_TASKS} tasks": ("binomial", {"samples": (3,) * MAX_TASKS}),
    "poisson 8 features": ("poisson", {"n_features": 8, "samples": (60, 10)}),
    "bernoulli largest task": ("bernoulli", {"samples": (MAX_SAMPLES_PER_TASK, 2)}),
    "binomial centered, naive": ("binomial", {"parameterization": "centered",
                                              "padding": "naive"}),
}


@pytest.mark.parametrize("outcome,change", list(OUTCOME_EXTREMES.values()),
                         ids=list(OUTCOME_EXTREMES))
def test_outcome_worlds_fit_without_compiling(warmed, outcome, change):
    _assert_no_compile(Scenario.for_outcome(outcome, **SHORT).replace(**change))


def test_value_names_are_the_models_own():
    # start_from lays starting values out by the sampler's variable names; the models
    # pin them where they are defined. Check them against PyMC's own naming.
    from hierdash.inference.models.compiled import build_pymc_model
    from hierdash.inference.models.latent import LATENT_VALUE_NAMES
    from hierdash.inference.models.marginal import MARGINAL_VALUE_NAMES

    scenario = Scenario()
    prep = prepare(scenario)
    for parameterization, pinned in (("marginal", MARGINAL_VALUE_NAMES),
                                     ("noncentered", LATENT_VALUE_NAMES)):
        key, data, _ = model_inputs(scenario, prep, parameterization)
        model = build_pymc_model(key, data)
        names = {rv.name: model.rvs_to_values[rv].name for rv in model.free_RVs}
        assert names == pinned
    from hierdash.inference.models.glm import GLM_VALUE_NAMES

    outcome = Scenario.for_outcome("poisson")
    key, data, _ = model_inputs(outcome, prepare(outcome), "noncentered")
    model = build_pymc_model(key, data)
    assert {rv.name: model.rvs_to_values[rv].name for rv in model.free_RVs} == GLM_VALUE_NAMES


def test_chains_start_at_the_current_world_not_the_compiled_one(warmed):
    # nutpie's own initial point reads the pm.Data values of compile time; start_from
    # puts each chain at the start it is given, in the current parameterization.
    scenario = Scenario(samples=(100, 1, 0), parameterization="centered", n_features=2, seed=11)
    prep = prepare(scenario)
    key, data, start = model_inputs(scenario, prep, "centered")
    compiled, seconds = NUTPIE_CACHE.get(key, data)
    assert seconds == 0.0
    started = start_from(compiled, start)
    flat = started.initial_point_func(5)
    names, slices, _ = started.shape_info
    value = {n: flat[sl] for n, sl in zip(names, slices, strict=True) if sl.stop <= started.n_dim}
    expected = start(np.random.default_rng(5))
    for name, want in expected.items():
        np.testing.assert_allclose(value[name], np.ravel(want))
    # Centered real coordinates start at the child weights themselves: raw = child.
    raw = value["child_raw"].reshape(key.tasks, key.features)
    assert np.all(np.isfinite(raw)) and raw.shape == (MAX_TASKS, 8)
    assert started is not compiled and compiled.initial_point_func is not started.initial_point_func


@pytest.mark.parametrize("method", ["advi", "fullrank_advi"])
def test_advi_fits_every_preset_and_extreme_on_its_one_compile(warmed, method):
    # warm_up compiles ADVI's loop after the NUTS models; numba compiles per type
    # signature, not per shape, so every world and both forms keep that one.
    from hierdash.inference.models.advi_kernel import advi_steps

    assert len(advi_steps.signatures) == 1
    worlds = [apply_preset(Scenario(**SHORT), name) for name in PRESETS]
    worlds += [Scenario(**SHORT).replace(**change) for change in EXTREMES.values()]
    for scenario in worlds:
        scenario = scenario.replace(method=method, advi_iterations=2000, draws=100)
        result = fit(scenario)
        assert result.compile_s == 0.0
        assert len(advi_steps.signatures) == 1, scenario
        assert draws_of(result.posterior, "child").shape[1:] == (scenario.n_tasks,
                                                                 scenario.n_features)
