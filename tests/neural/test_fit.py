"""The three fits through nutpie, on one small world (the network compiles once per test
process: :data:`~hierdash.neural.fit.NEURAL_CACHE` is shared with the CLI's tests)."""

from __future__ import annotations

import numpy as np
import pytest

from hierdash.inference.results import FitStopped
from hierdash.neural import scores
from hierdash.neural.fit import NEURAL_CACHE, fit_neural
from hierdash.neural.model import NEURAL_SHAPE, build_neural_model, neural_data, task_weights
from hierdash.neural.settings import NeuralSettings
from hierdash.neural.tasks import simulate_tasks

pytestmark = pytest.mark.slow

SMALL = NeuralSettings(samples=(40, 12, 3), hidden=2, test_per_task=30, draws=200, tune=200,
                       rotation_spread=30.0, seed=11)


@pytest.fixture(scope="module")
def fitted():
    stages = []
    result = fit_neural(SMALL, progress=lambda stage, fraction, message: stages.append(
        (stage, fraction)))
    return result, stages


def test_the_three_fits_give_every_table(fitted):
    result, stages = fitted
    assert [f.model for f in result.fits] == ["separate", "pooled", "hierarchical"]
    assert set(result.accuracy["model"]) == {"separate", "pooled", "hierarchical"}
    assert len(result.accuracy) == 9 and result.accuracy["accuracy"].between(0, 1).all()
    assert (result.accuracy["log_score"] < 0).all()
    assert list(result.spreads["block"]) == ["w1", "b1", "w2", "b2"]
    assert len(result.surfaces) == 3 * 3 * scores.GRID_SIZE**2
    assert set(result.parent["model"]) == {"pooled", "hierarchical"}
    for fit in result.fits:
        assert fit.divergences is not None and fit.max_rhat is not None and fit.sample_s > 0
    summary = result.summary()
    assert {"compile_seconds", "sampling_seconds", "divergences",
            "max_rhat_probabilities"} <= set(summary)
    seen = [s for s, _ in stages]
    assert seen[0] == "simulate" and seen[-1] == "summarise" and "sample" in seen
    fractions = [f for s, f in stages if s == "sample"]
    assert fractions == sorted(fractions) and fractions[-1] > 0.6


def test_the_fits_learn_the_moons(fitted):
    result, _ = fitted
    big = result.accuracy[result.accuracy["task"] == 0]
    assert (big["accuracy"] > 0.7).all(), big  # 40 points of a 30-degree world


def test_a_stop_ends_the_fit():
    with pytest.raises(FitStopped):
        fit_neural(SMALL, should_stop=lambda: True)
    assert NEURAL_CACHE.compilations == 1  # the same compiled model, every fit


def test_nutpie_and_pymc_nuts_agree_on_predicted_probabilities(fitted):
    import pymc as pm

    result, _ = fitted
    tasks = simulate_tasks(SMALL)
    data = neural_data(tasks, NEURAL_SHAPE, hidden=SMALL.hidden, bias=True, padding="masked",
                       kind="hierarchical")
    with build_neural_model(NEURAL_SHAPE, data):
        trace = pm.sample(draws=400, tune=400, chains=2, cores=1, random_seed=3,
                          progressbar=False, compute_convergence_checks=False,
                          compile_kwargs={"mode": "NUMBA"})
    post = trace.posterior
    draws = {name: np.asarray(post[name].values).reshape((-1, *post[name].shape[2:]))
             for name in post.data_vars}
    weights = task_weights(draws, "hierarchical", n_tasks=3, hidden=SMALL.hidden, bias=True)
    theirs = scores.task_scores(weights, tasks, "hierarchical")
    ours = result.accuracy[result.accuracy["model"] == "hierarchical"].reset_index(drop=True)
    # Log scores are means over 30 test points of smooth functions of the posterior:
    # two samplers' Monte Carlo error on them is a few hundredths here.
    np.testing.assert_allclose(ours["log_score"], theirs["log_score"], atol=0.06)


def test_advi_runs_and_says_it_can_sit_at_chance():
    from hierdash.neural.results import ADVI_WARNING

    result = fit_neural(SMALL.replace(method="advi", advi_steps=500, draws=100))
    assert result.warnings == (ADVI_WARNING,) and "chance" in ADVI_WARNING
    assert all(f.divergences is None and f.max_rhat is None for f in result.fits)
    assert result.accuracy["accuracy"].between(0, 1).all()
    assert result.summary()["divergences"] is None
