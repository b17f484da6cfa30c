"""Simulation and padding."""

import numpy as np
import pytest

from hierdash.scenario import Scenario
from hierdash.world import capacity_for, pad, simulate, sufficient_stats


def test_same_scenario_same_data_bit_for_bit():
    a, b = simulate(Scenario(seed=5)), simulate(Scenario(seed=5))
    assert np.array_equal(a.parent, b.parent) and np.array_equal(a.child, b.child)
    for xa, xb, ya, yb in zip(a.X, b.X, a.y, b.y, strict=True):
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb)


def test_other_seed_other_data():
    assert not np.array_equal(simulate(Scenario(seed=1)).parent, simulate(Scenario(seed=2)).parent)


def test_changing_one_count_keeps_the_other_tasks_data():
    a = simulate(Scenario(samples=(50, 20, 10)))
    b = simulate(Scenario(samples=(50, 5, 10)))
    assert np.array_equal(a.child, b.child)
    assert np.array_equal(a.X[0], b.X[0]) and np.array_equal(a.y[2], b.y[2])
    assert np.array_equal(a.X[1][:5], b.X[1])


def test_shapes_and_noise():
    s = Scenario(samples=(1000, 0), noise_sd=2.0, n_features=3)
    w = simulate(s)
    assert w.parent.shape == (3,) and w.child.shape == (2, 3)
    assert w.X[1].shape == (0, 3) and w.y[1].shape == (0,)
    resid = w.y[0] - w.X[0] @ w.child[0]
    # the notebook had no noise; ours has sd 2 (se of an sd estimate from 1000 rows ~ 0.045)
    assert abs(resid.std() - 2.0) < 0.2


def test_masked_padding_and_the_way_back():
    w = simulate(Scenario(samples=(7, 0, 3)))
    p = pad(w)
    assert p.X.shape == (3, 7, 4) and p.y.shape == (3, 7)
    assert p.mask.sum(axis=1).tolist() == [7, 0, 3]
    assert np.array_equal(p.likelihood_mask, p.mask)
    assert np.all(p.X[~p.mask] == 0) and np.all(p.y[~p.mask] == 0)
    Xs, ys = p.unpad()
    for a, b in zip(Xs, w.X, strict=True):
        assert np.array_equal(a, b)
    for a, b in zip(ys, w.y, strict=True):
        assert np.array_equal(a, b)


def test_naive_padding_puts_the_zero_rows_into_the_likelihood():
    w = simulate(Scenario(samples=(100, 80)))
    p = pad(w, mode="naive", capacity=(4, 128))
    # the notebook's array: 2 tasks x 100 rows, padding included; capacity stays out
    assert p.likelihood_mask.sum() == 200
    assert not p.likelihood_mask[:, 100:].any() and not p.likelihood_mask[2:].any()
    stats = sufficient_stats(p)
    assert stats.n.tolist() == [100, 100]
    masked = sufficient_stats(pad(w, mode="masked"))
    # zero rows add nothing to X'X, X'y or y'y, only to the row count
    assert np.allclose(stats.XtX, masked.XtX) and np.allclose(stats.yty, masked.yty)


def test_capacity_buckets():
    assert capacity_for(2, 100) == (2, 128)
    assert capacity_for(3, 5) == (4, 16)
    assert capacity_for(50, 1000) == (64, 1024)
    w = simulate(Scenario(samples=(10, 20)))
    with pytest.raises(ValueError, match="too small"):
        pad(w, capacity=(1, 20))
    with pytest.raises(ValueError, match="padding mode"):
        pad(w, mode="zeros")


def test_sufficient_stats_match_direct_sums():
    w = simulate(Scenario(samples=(30, 12)))
    st = sufficient_stats(pad(w, capacity=(4, 64)))
    assert st.XtX.shape == (2, 4, 4)
    assert np.allclose(st.XtX[1], w.X[1].T @ w.X[1])
    assert np.allclose(st.Xty[0], w.X[0].T @ w.y[0])
    assert np.allclose(st.yty[1], w.y[1] @ w.y[1])


def test_an_outlier_task_sits_its_shift_off_the_parent_and_leaves_the_rest_alone():
    base = Scenario(samples=(50, 5, 3), n_features=2, seed=4, child_spread=0.5)
    plain, outlier = simulate(base), simulate(base.replace(outlier_task=2, outlier_shift=4.0))
    np.testing.assert_allclose(outlier.child[2], outlier.parent + 4.0 * 0.5)
    np.testing.assert_array_equal(outlier.child[:2], plain.child[:2])
    np.testing.assert_array_equal(outlier.y[0], plain.y[0])
    np.testing.assert_array_equal(outlier.X[2], plain.X[2])
    noisy = simulate(base.replace(outlier_task=2, outlier_shift=4.0, outlier_noise=5.0))
    resid, plain_resid = noisy.y[2] - noisy.X[2] @ noisy.child[2], outlier.y[2] - outlier.X[2] @ outlier.child[2]
    np.testing.assert_allclose(resid, 5.0 * plain_resid)
