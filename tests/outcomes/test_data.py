"""Grouped outcome data: checks of shapes, and rows merged without changing the
likelihood."""

import numpy as np
import pytest

from hierdash.outcomes import (
    Bernoulli,
    Gaussian,
    TaskData,
    load_rat_tumors,
    pad_naively,
    quadrature_posterior,
    rat_tumors_bytes,
    simulate_outcomes,
)
from hierdash.outcomes.data import rows_of


def test_shapes_are_checked():
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="same number of tasks"):
        TaskData("bernoulli", (X, X), ([0, 1, 0],))
    with pytest.raises(ValueError, match="task 2, has 3 rows of X but 2 of y"):
        TaskData("bernoulli", (X, X), ([0, 1, 0], [1, 1]))
    with pytest.raises(ValueError, match="every task must have the same features: task 2, "
                                         "has 1, task 1 has 2"):
        TaskData("bernoulli", (X, np.ones((3, 1))), ([0, 1, 0], [1, 1, 0]))
    with pytest.raises(ValueError, match="size must be None, one number or one entry per task"):
        TaskData("binomial", (X, X), ([0, 1, 0], [1, 1, 0]), [3, 3, 3])
    data = TaskData("binomial", (X, np.zeros((0, 2))), ([0, 1, 0], []), 4)
    assert data.counts.tolist() == [3, 0] and data.n_features == 2
    assert data.size[0].tolist() == [4.0] * 3
    one = TaskData(Gaussian(), (np.arange(3.0),), (np.zeros(3),))
    assert one.X[0].shape == (3, 1)  # a 1-D feature is one column


@pytest.mark.parametrize("family, size", [("bernoulli", None), ("binomial", 6),
                                          ("poisson", "varied")])
def test_merged_rows_keep_the_likelihood(family, size):
    rng = np.random.default_rng(3)
    Xs, ys, sizes = [], [], []
    for n in (40, 0, 7):
        X = np.column_stack([np.ones(n), rng.integers(0, 2, n)])  # two kinds of row
        if family == "bernoulli":
            y = rng.integers(0, 2, n)
        elif family == "binomial":
            y = rng.integers(0, 7, n)
        else:
            y = rng.poisson(2.0, n)
        Xs.append(X)
        ys.append(y)
        sizes.append(rng.uniform(0.5, 3.0, n))
    data = TaskData(family, tuple(Xs), tuple(ys), tuple(sizes) if size == "varied" else size)
    rows = rows_of(data)
    assert len(rows.y) <= 4 and rows.counts.tolist()[1] == 0  # at most 2 kinds per task
    c = rng.normal(size=(3, 2))
    full = sum(data.family.log_likelihood(X @ c[t], y, s).sum()
               for t, (X, y, s) in enumerate(zip(data.X, data.y, data.size, strict=True)))
    merged = data.family.kernel(np.einsum("nk,nk->n", rows.X, c[rows.task]), rows.y,
                                rows.size)[0].sum() + rows.constant
    assert merged == pytest.approx(full, rel=1e-12)


def test_segment_sums_skip_empty_tasks():
    data = TaskData(Bernoulli(), (np.ones((2, 1)), np.ones((0, 1)), np.ones((3, 1))),
                    ([0, 1], [], [1, 1, 0]))
    rows = rows_of(data, merge=False)
    values = np.arange(5.0)[None]
    assert rows.segment_sum(values).tolist() == [[1.0, 0.0, 9.0]]
    assert rows.segment_max(values).tolist() == [[1.0, 0.0, 4.0]]


def test_rat_tumours_are_built_in():
    data = load_rat_tumors()
    assert data.n_tasks == 71 and data.n_features == 1 and data.family.name == "binomial"
    tumors = np.concatenate(data.y)
    rats = np.concatenate(data.size)
    assert rats.min() == 10 and rats.max() == 52 and tumors.max() == 16
    assert int((tumors == 0).sum()) == 14
    assert rat_tumors_bytes().startswith(b"experiment,tumors,rats")


@pytest.mark.parametrize("family", ["bernoulli", "binomial", "poisson"])
def test_naive_padding_moves_nothing_without_an_intercept_and_the_intercepts_with_one(family):
    world = simulate_outcomes(family, samples=(30, 12, 3), seed=5, n_features=2,
                              intercept=True, trials=5, exposure=2.0)
    data = world.data
    masked = quadrature_posterior(data)
    zeros = quadrature_posterior(pad_naively(data, intercept=False))
    fake = quadrature_posterior(pad_naively(data, intercept=True))
    padded = pad_naively(data, intercept=True)
    assert padded.counts.tolist() == [30, 30, 30]
    assert np.all(padded.y[2][3:] == 0) and np.all(padded.X[2][3:, 0] == 1)
    np.testing.assert_allclose(zeros.child_mean, masked.child_mean, atol=1e-6)
    np.testing.assert_allclose(zeros.spread_mean, masked.spread_mean, rtol=1e-6)
    # 27 fake "no event" rows: the 3-row task's intercept drops by well over its sd.
    assert fake.child_mean[2, 0] < masked.child_mean[2, 0] - 1.0 * masked.child_sd[2, 0]
