"""Rotated moons: shapes, seeds, balance and the rotation."""

from __future__ import annotations

import numpy as np

from hierdash.neural.settings import NeuralSettings
from hierdash.neural.tasks import make_moons, points_frame, rotate, simulate_tasks


def test_each_task_has_its_counts_and_its_test_set():
    s = NeuralSettings(samples=(7, 0, 3), test_per_task=20, seed=4)
    tasks = simulate_tasks(s)
    assert tasks.counts == (7, 0, 3) and tasks.n_tasks == 3
    assert all(X.shape == (n, 2) for X, n in zip(tasks.X_train, tasks.counts, strict=True))
    assert all(len(y) == 20 for y in tasks.y_test)
    frame = points_frame(tasks)
    assert (frame["set"] == "train").sum() == 10 and (frame["set"] == "test").sum() == 60


def test_the_same_seed_gives_the_same_world_and_another_another():
    a, b = simulate_tasks(NeuralSettings(seed=5)), simulate_tasks(NeuralSettings(seed=5))
    c = simulate_tasks(NeuralSettings(seed=6))
    assert np.array_equal(a.X_train[0], b.X_train[0]) and np.array_equal(a.angles, b.angles)
    assert not np.array_equal(a.X_train[0], c.X_train[0])


def test_moons_are_balanced_and_centred():
    X, y = make_moons(1001, 0.0, np.random.default_rng(0))
    assert abs(int(y.sum()) - 500) <= 1
    assert np.all(np.abs(X.mean(axis=0)) < 0.1)
    # without noise, each class lies on its half circle
    outer = X[y == 0] + np.array([0.5, 0.25])
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0)


def test_angles_follow_the_rotation_spread():
    flat = simulate_tasks(NeuralSettings(rotation_spread=0.0, samples=(5,) * 12))
    assert np.all(flat.angles == 0.0)
    wide = simulate_tasks(NeuralSettings(rotation_spread=90.0, samples=(5,) * 12))
    assert 30 < np.std(wide.angles) < 180
    X = np.array([[1.0, 0.0]])
    np.testing.assert_allclose(rotate(X, 90.0), [[0.0, 1.0]], atol=1e-12)
