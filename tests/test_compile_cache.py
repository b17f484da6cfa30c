"""The compiled-model cache: which changes re-use a compiled nutpie model, which compile.

A compiled model is keyed by its structure only (feature count, padded capacity of
tasks, learned or fixed spread). Everything else — seed, data, the truth's
parameters, any sample counts (the likelihood reads the padded rows through their
masked sufficient statistics), the number of tasks within the
padded capacity, parameterization, padding mode, priors — is data swapped into the
cached model, so must cost no compilation (``compile_s == 0.0`` and
``NUTPIE_CACHE.compilations`` unchanged).

These are not timing tests. The module compiles at most three models: the base, and
one each for another feature count and a fixed spread.
"""

import numpy as np
import pytest

from hierdash.data import capacity_for
from hierdash.inference import draws_of, fit, prepare
from hierdash.model import NUTPIE_CACHE, model_key
from hierdash.scenario import Scenario

pytestmark = pytest.mark.slow

# 3 tasks of up to 100 rows: capacity (4 tasks, 128 rows).
BASE = Scenario(
    samples=(100, 80, 60), n_features=2, seed=7, method="nuts", draws=150, tune=150, chains=2
)


def _key(scenario):
    return model_key(scenario, prepare(scenario).padded)


@pytest.fixture(scope="module")
def warm_base():
    """The base world's model compiled (once for the module)."""
    # Start from an empty cache so that the compilations below are this module's own,
    # whatever other test modules compiled before.
    NUTPIE_CACHE.clear()
    result = fit(BASE)
    assert result.compile_s > 0.0
    assert _key(BASE) in NUTPIE_CACHE
    return result


def _assert_hit(scenario):
    """Fit ``scenario``: no compilation, and the new world's data were used."""
    before = NUTPIE_CACHE.compilations
    result = fit(scenario)
    assert result.compile_s == 0.0
    assert NUTPIE_CACHE.compilations == before
    # The draws are of this world (not stale data of the cached model): real tasks
    # only, and the posterior means agree with this world's exact posterior.
    assert draws_of(result.posterior, "child").shape[1:] == (scenario.n_tasks, scenario.n_features)
    z = np.abs(result.weights["z_vs_exact"].to_numpy())
    assert np.median(z) < 2.0, result.weights[["level", "task", "mean", "exact_mean", "exact_sd"]]
    return result


def _assert_compiles(scenario):
    """Fit ``scenario``: exactly one compilation; a second fit of it is a hit."""
    assert _key(scenario) not in NUTPIE_CACHE
    before = NUTPIE_CACHE.compilations
    result = fit(scenario)
    assert result.compile_s > 0.0
    assert NUTPIE_CACHE.compilations == before + 1
    again = _assert_hit(scenario.replace(seed=scenario.seed + 1))
    assert again.compile_s == 0.0
    return result


HITS = {
    "seed": {"seed": 8},
    "new data (x distribution and seed)": {"seed": 123, "x_mean": -1.0, "x_sd": 2.0},
    "parent_mean": {"parent_mean": -5.0},
    "parent_scale": {"parent_scale": 10.0},
    "child_spread": {"child_spread": 3.0},
    "noise_sd": {"noise_sd": 4.0},
    "x_mean": {"x_mean": 10.0},
    "x_sd": {"x_sd": 0.5},
    "samples of one task within the bucket (60 -> 30)": {"samples": (100, 80, 30)},
    "largest task within the bucket (100 -> 128)": {"samples": (128, 80, 60)},
    "a task with no rows": {"samples": (100, 0, 60)},
    "tasks within the capacity (3 -> 4)": {"samples": (100, 80, 60, 40)},
    "tasks within the capacity (3 -> 4 -> 3 with other counts)": {"samples": (5, 100, 17)},
    "centered": {"parameterization": "centered"},
    "noncentered": {"parameterization": "noncentered"},
    "naive padding": {"padding": "naive"},
    "prior_parent_mean": {"prior_parent_mean": 5.0},
    "prior_parent_scale": {"prior_parent_scale": 20.0},
    "prior_spread_scale": {"prior_spread_scale": 1.0},
    "prior_noise_scale": {"prior_noise_scale": 2.0},
    "sampler settings": {"draws": 100, "tune": 100, "chains": 1, "target_accept": 0.9},
}


@pytest.mark.parametrize("change", list(HITS.values()), ids=list(HITS))
def test_cache_is_hit(warm_base, change):
    scenario = BASE.replace(**change)
    assert _key(scenario) == _key(BASE)
    _assert_hit(scenario)


def test_cache_is_hit_on_many_changes_at_once(warm_base):
    scenario = BASE.replace(
        seed=99, parent_mean=3.0, child_spread=0.5, noise_sd=2.0, samples=(20, 120, 5, 64),
        parameterization="centered", padding="naive", prior_noise_scale=1.0,
    )
    _assert_hit(scenario)


def test_a_new_feature_count_compiles(warm_base):
    _assert_compiles(BASE.replace(n_features=3))


def test_a_new_row_bucket_does_not_compile(warm_base):
    # 100 -> 200 rows crosses the 128-row bucket of the padded array, but the
    # compiled model only sees per-task statistics: no compilation.
    scenario = BASE.replace(samples=(200, 80, 60))
    assert capacity_for(3, 200) == (4, 256)
    _assert_hit(scenario)


def test_fixed_spread_compiles(warm_base):
    _assert_compiles(BASE.replace(learn_spread=False))


def test_a_new_task_bucket_needs_a_new_model():
    # 4 -> 5 tasks crosses the 4-task bucket: another key, so another compiled model
    # (checked on the key alone, to keep this module at four compilations).
    assert capacity_for(4, 100) == (4, 128)
    assert capacity_for(5, 100) == (8, 128)
    five = BASE.replace(samples=(100, 80, 60, 40, 20))
    assert _key(five) != _key(BASE)
    assert _key(five).capacity_tasks == 8


def test_chains_start_at_the_current_world_not_the_compiled_one(warm_base):
    # nutpie's own initial point reads the pm.Data values of compile time: a model
    # compiled with one world's centering started every later world there (one chain
    # of a centered data-poor fit stuck, 1001 divergences). start_from puts each chain
    # at the draw it is given, in the parameterization of the current data.
    from hierdash.inference import _centering, _model_data
    from hierdash.model import start_from

    scenario = BASE.replace(samples=(100, 1, 0), parameterization="auto", seed=11)
    prep = prepare(scenario)
    centering = _centering(scenario, prep)
    # Mixed on purpose: a centered task, a task centered along its one row's direction.
    assert centering.centered_tasks(3) == (0,) and centering.partly_centered_tasks(3) == (1,)
    compiled, _ = NUTPIE_CACHE.get(_key(scenario), _model_data(scenario, prep, centering))
    rng = np.random.default_rng(0)
    point = {
        "parent": rng.normal(size=2),
        "child": rng.normal(size=(3, 2)),
        "noise": 1.5,
        "spread": 0.7,
    }
    started = start_from(compiled, lambda _rng: point, centering)
    flat = started.initial_point_func(5)
    names, slices, _ = started.shape_info
    value = {n: flat[sl] for n, sl in zip(names, slices, strict=True) if sl.stop <= started.n_dim}
    parent = value["parent"]
    raw = value["child_raw"].reshape(-1, 2)
    w, rot = centering.weights, centering.rotation
    parent_rot = np.einsum("tkj,k->tj", rot, parent)
    child = np.einsum("tkj,tj->tk", rot, parent_rot + point["spread"] ** (1 - w) * (raw - w * parent_rot))
    np.testing.assert_allclose(parent, point["parent"])
    np.testing.assert_allclose(child[:3], point["child"])
    np.testing.assert_allclose(np.exp(value["noise_log__"]), 1.5)
    np.testing.assert_allclose(np.exp(value["spread_log__"]), 0.7)
    assert started is not compiled and compiled.initial_point_func is not started.initial_point_func
