"""The one pull formula (:func:`hierdash.summaries.pulls_toward_parent`) and its NaN
rules, as the pull chart's table and the prediction exercise both read them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hierdash.classroom.predict import PullInputs, true_pulls
from hierdash.summaries import pulls_toward_parent, task_pull

NAN = float("nan")


def test_the_pull_is_the_slope_of_the_move_on_the_way_to_the_parent():
    # Task 0 moves a quarter of the way on both features; task 1 half-way on one and
    # not at all on the other: the least-squares slope weighs each by its distance.
    own = [[2.0, 4.0], [2.0, 4.0]]
    partial = [[1.5, 3.0], [1.0, 4.0]]
    pull = pulls_toward_parent(own, [0.0, 0.0], partial, [5, 5])
    assert pull[0] == pytest.approx(0.25)
    assert pull[1] == pytest.approx((2 * 1 + 4 * 0) / (2**2 + 4**2))


@pytest.mark.parametrize(("own", "parent", "partial", "samples", "expected", "why"), [
    ([[NAN]], [0.0], [[0.3]], [0], 1.0, "no rows: takes the parent's estimate"),
    ([[NAN]], [NAN], [[NAN]], [0], 1.0, "no rows, whatever its estimates hold"),
    ([[NAN, NAN]], [0.0, 0.0], [[0.1, 0.2]], [1], NAN, "rows, but no estimate of its own"),
    ([[1.0, 1.0]], [1.0, 1.0], [[1.0, 1.0]], [9], NAN, "own estimate on the parent: no way to go"),
    ([[2.0, 4.0]], [0.0, 0.0], [[1.0, NAN]], [9], NAN, "a partial estimate missing"),
    ([[2.0, NAN]], [0.0, 0.0], [[1.0, 1.0]], [9], NAN, "an own estimate missing"),
    ([[2.0, 4.0]], [0.0, np.inf], [[1.0, 1.0]], [9], NAN, "a parent not finite"),
])
def test_which_tasks_have_a_pull(own, parent, partial, samples, expected, why):
    pull = pulls_toward_parent(own, parent, partial, samples)
    assert pull.shape == (1,)
    np.testing.assert_equal(pull[0], expected, err_msg=why)


def test_the_parent_may_be_given_per_task():
    own, partial = [[2.0], [4.0]], [[1.0], [3.0]]
    np.testing.assert_array_equal(pulls_toward_parent(own, [[0.0], [0.0]], partial, [3, 3]),
                                  pulls_toward_parent(own, [0.0], partial, [3, 3]))


def test_shapes_that_do_not_match_are_refused():
    with pytest.raises(ValueError, match="shapes own"):
        pulls_toward_parent([[1.0, 2.0]], [0.0, 0.0], [[1.0]], [3])
    with pytest.raises(ValueError, match="shapes own"):
        pulls_toward_parent([[1.0]], [0.0], [[1.0]], [3, 4])


def weights_table(own, parent, mean, samples) -> pd.DataFrame:
    """The child rows of a fit's tidy weights table, as :func:`task_pull` reads them."""
    own, mean = np.asarray(own, dtype=float), np.asarray(mean, dtype=float)
    t, k = own.shape
    return pd.DataFrame({
        "level": "child", "task": np.repeat(np.arange(t), k), "feature": np.tile(np.arange(k), t),
        "n": np.repeat(samples, k), "no_pooling": own.ravel(), "mean": mean.ravel(),
        "parent_mean": np.tile(parent, t)})


def test_the_chart_and_the_exercise_share_one_nan_rule():
    # Task 0 has a pull; task 1 has rows but no estimate of its own; task 2 has no rows;
    # task 3's fit returned NaN for one of its weights: no pull, not a slope over the
    # other feature (the old chart rule gave it 0.5 here).
    own = [[2.0, 4.0], [NAN, NAN], [NAN, NAN], [2.0, 4.0]]
    partial = [[1.5, 3.0], [0.5, 0.5], [0.0, 0.0], [NAN, 2.0]]
    parent, samples = [0.0, 0.0], [50, 2, 0, 30]
    table = task_pull(weights_table(own, parent, partial, samples))
    assert list(table["task"]) == [0, 1, 2, 3] and list(table["n"]) == samples
    np.testing.assert_array_equal(table["pull"], [0.25, NAN, 1.0, NAN])
    # The exercise refuses a NaN partial estimate outright; on the others it agrees.
    inputs = PullInputs(own=own[:3], parent=parent, partial=partial[:3], samples=samples[:3])
    np.testing.assert_array_equal(true_pulls(inputs), table["pull"][:3])


def test_a_table_without_tasks_has_no_pulls():
    empty = weights_table(np.empty((0, 1)), [0.0], np.empty((0, 1)), [])
    assert list(task_pull(empty).columns) == ["task", "n", "task_label", "pull"]
    assert task_pull(empty).empty
