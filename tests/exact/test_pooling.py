"""No pooling and complete pooling: plain least squares, and their errors."""

import math

import numpy as np
import pytest

from hierdash.exact.pooling import NoPooling, complete_pooling, no_pooling, pooling_errors
from hierdash.scenario import Scenario
from hierdash.world import SufficientStats, pad, simulate, sufficient_stats


def test_no_pooling_recovers_the_weights_on_plenty_of_data():
    world = simulate(Scenario(samples=(1000, 800, 600), noise_sd=0.1))
    res = no_pooling(sufficient_stats(pad(world)))
    assert res.identified.all() and res.reason == ("", "", "")
    np.testing.assert_allclose(res.estimate, world.child, atol=0.01)
    for t in range(3):  # it is each task's own least squares
        own = np.linalg.lstsq(world.X[t], world.y[t], rcond=None)[0]
        np.testing.assert_allclose(res.estimate[t], own, rtol=1e-9, atol=1e-9)


def test_tasks_with_too_few_rows_are_not_identified():
    world = simulate(Scenario(samples=(2, 0, 50, 4, 1)))  # 4 weights
    res = no_pooling(sufficient_stats(pad(world)))
    assert isinstance(res, NoPooling)
    assert res.identified.tolist() == [False, False, True, True, False]
    assert np.isnan(res.estimate[[0, 1, 4]]).all() and np.isfinite(res.estimate[[2, 3]]).all()
    assert res.reason[0].startswith("task 0 has 2 rows for 4 weights: too few to estimate alone")
    assert "task 1 has no rows" in res.reason[1]
    assert res.reason[4].startswith("task 4 has 1 row for 4 weights: too few to estimate alone")
    assert res.reason[2] == res.reason[3] == ""
    # exactly K rows is enough: an exact fit
    np.testing.assert_allclose(world.X[3] @ res.estimate[3], world.y[3], atol=1e-8)


def test_collinear_features_are_not_identified(stats_of):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    X_bad = X.copy()
    X_bad[:, 2] = 2.0 * X_bad[:, 0]  # the third feature repeats the first
    X_near = X.copy()
    X_near[:, 2] = X_near[:, 0] + 1e-9 * rng.normal(size=30)  # collinear up to 1e-9
    y = rng.normal(size=30)
    res = no_pooling(stats_of([X, X_bad, X_near], [y, y, y]))
    assert res.identified.tolist() == [True, False, False]
    assert "collinear" in res.reason[1] and "rank 2 of 3" in res.reason[1]
    assert res.reason[1].startswith("task 1 has 30 rows")
    assert "collinear" in res.reason[2]
    assert np.isnan(res.estimate[1:]).all()


def test_padded_rows_of_naive_mode_do_not_identify_a_task():
    # naive padding counts zero rows in n: n >= K, yet only 2 real rows
    world = simulate(Scenario(samples=(50, 2)))
    res = no_pooling(sufficient_stats(pad(world, mode="naive")))
    assert res.identified.tolist() == [True, False]
    assert "rank 2 of 4" in res.reason[1]


def test_complete_pooling_is_least_squares_on_the_stacked_rows():
    world = simulate(Scenario(samples=(30, 5, 0, 12)))
    got = complete_pooling(sufficient_stats(pad(world)))
    X, y = np.vstack(world.X), np.concatenate(world.y)
    np.testing.assert_allclose(got, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-9, atol=1e-9)
    # one weight vector pooled over tasks that have different weights: not any one task's
    own = no_pooling(sufficient_stats(pad(world))).estimate[0]
    assert not np.allclose(got, own, atol=1e-3)


def test_complete_pooling_with_too_few_rows_in_all_is_nan():
    world = simulate(Scenario(samples=(1, 2, 0)))  # 3 rows, 4 weights
    assert np.isnan(complete_pooling(sufficient_stats(pad(world)))).all()


def test_pooling_errors_values():
    truth = np.zeros((2, 2))
    no_pool = NoPooling(estimate=np.array([[1.0, -1.0], [np.nan, np.nan]]),
                        identified=np.array([True, False]), reason=("", "task 1 ..."))
    errs = pooling_errors(truth, no_pool=no_pool, complete=np.array([2.0, 0.0]),
                          partial=np.array([[0.0, 3.0], [0.0, 0.0]]))
    assert errs["no_pooling"] == pytest.approx(1.0)  # over task 0 only
    assert errs["complete_pooling"] == pytest.approx(math.sqrt(2.0))
    assert errs["partial_pooling"] == pytest.approx(1.5)
    none = NoPooling(np.full((2, 2), np.nan), np.array([False, False]), ("a", "b"))
    errs = pooling_errors(truth, no_pool=none, complete=np.zeros(2), partial=truth)
    assert math.isnan(errs["no_pooling"]) and errs["partial_pooling"] == 0.0


def test_pooling_errors_against_a_simulated_world():
    world = simulate(Scenario(samples=(100, 80, 3)))
    stats = sufficient_stats(pad(world))
    no_pool, complete = no_pooling(stats), complete_pooling(stats)
    partial = world.child + 0.1
    errs = pooling_errors(world.child, no_pool=no_pool, complete=complete, partial=partial)
    ident = no_pool.identified
    expect = np.sqrt(np.mean((no_pool.estimate[ident] - world.child[ident]) ** 2))
    assert errs["no_pooling"] == pytest.approx(expect)
    assert errs["complete_pooling"] == pytest.approx(
        np.sqrt(np.mean((complete - world.child) ** 2)))
    assert errs["partial_pooling"] == pytest.approx(0.1)


def test_bad_shapes_are_value_errors():
    truth = np.zeros((2, 3))
    no_pool = NoPooling(np.zeros((2, 3)), np.array([True, True]), ("", ""))
    with pytest.raises(ValueError, match="complete"):
        pooling_errors(truth, no_pool=no_pool, complete=np.zeros(2), partial=truth)
    with pytest.raises(ValueError, match="partial"):
        pooling_errors(truth, no_pool=no_pool, complete=np.zeros(3), partial=truth[:1])
    with pytest.raises(ValueError, match="true_child"):
        pooling_errors(np.zeros(3), no_pool=no_pool, complete=np.zeros(3), partial=truth)
    stats = SufficientStats(np.zeros((2, 3, 3)), np.zeros((2, 2)), np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="Xty"):
        no_pooling(stats)
    with pytest.raises(ValueError, match="Xty"):
        complete_pooling(stats)
