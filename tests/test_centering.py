"""The parameterization chosen per task and direction (fast: no model is compiled)."""

import numpy as np
import pytest

from hierdash.data import SufficientStats
from hierdash.model import centering_weights
from hierdash.scenario import Scenario


def _stats(rows_per_task, k=2, seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.normal(3, 4, size=(n, k)) for n in rows_per_task]
    return SufficientStats(
        XtX=np.stack([x.T @ x for x in xs]),
        Xty=np.zeros((len(xs), k)),
        yty=np.zeros(len(xs)),
        n=np.array(rows_per_task, dtype=float),
    )


def _centering(parameterization, rows, capacity=8, noise=1.0, spread=1.0):
    return centering_weights(
        Scenario(parameterization=parameterization), _stats(rows), capacity,
        noise_estimate=noise, spread_estimate=spread,
    )


def test_auto_centers_rich_tasks_a_one_row_task_along_its_row_and_not_an_empty_one():
    rows = (50, 1, 0)
    c = _centering("auto", rows)
    assert c.centered_tasks(3) == (0,)
    assert c.partly_centered_tasks(3) == (1,)
    # The one-row task: centered along its row's direction only.
    rng = np.random.default_rng(0)  # the draws _stats made
    xs = [rng.normal(3, 4, size=(n, 2)) for n in rows]
    direction = c.rotation[1][:, c.weights[1] == 1.0].ravel()
    assert abs(abs(direction @ xs[1][0]) - np.linalg.norm(xs[1][0])) < 1e-9
    # Capacity padding and the empty task: non-centered.
    assert not c.weights[2:].any()


@pytest.mark.parametrize("parameterization", ["centered", "noncentered", "auto"])
def test_rotations_are_orthonormal_and_weights_binary(parameterization):
    c = _centering(parameterization, (50, 10, 2, 1, 0))
    eye = np.eye(2)
    for r in c.rotation:
        np.testing.assert_allclose(r.T @ r, eye, atol=1e-12)
    assert set(np.unique(c.weights)) <= {0.0, 1.0}


def test_centered_and_noncentered_use_one_form_for_every_direction():
    rows = (50, 2, 0)
    assert _centering("centered", rows).centered_tasks(3) == (0, 1, 2)
    assert _centering("noncentered", rows).weights.sum() == 0.0


def test_a_larger_spread_or_less_noise_centers_more_directions():
    rows = (5, 3, 2, 1)
    counts = [_centering("auto", rows, spread=s).weights.sum() for s in (0.01, 0.3, 3.0, 100.0)]
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] == 7  # 1 row: 1 direction
    noisy = _centering("auto", rows, noise=100.0).weights.sum()
    assert noisy <= _centering("auto", rows, noise=0.01).weights.sum()
