"""The prediction exercise: true pulls, the score, the sentences, the furthest task."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hierdash.classroom.predict import (
    FurthestTasks,
    PullInputs,
    distances_moved,
    furthest_tasks,
    score_prediction,
    true_pulls,
)
from hierdash.exact import exact_posterior
from hierdash.exact.pooling import no_pooling
from hierdash.scenario import Scenario
from hierdash.summaries import task_pull
from hierdash.world import pad, simulate, sufficient_stats

NAN = float("nan")


def toy() -> PullInputs:
    """One feature, parent at 0. Task 0: 5 rows, own 2 -> 1 (pull 0.5, distance 1).
    Task 1: 50 rows, own 4 -> 3 (pull 0.25, distance 1). Task 2: no rows (pull 1).
    Task 3: 2 rows but no estimate of its own (not scored)."""
    return PullInputs(own=[[2.0], [4.0], [NAN], [NAN]], parent=[0.0],
                      partial=[[1.0], [3.0], [0.0], [0.5]], samples=[5, 50, 0, 2])


def lesson() -> PullInputs:
    """The largest share is not the largest distance. Task 0: 3 rows, own 1 near the
    parent, moves 0.8 of the way (0.8). Task 1: 20 rows, own 10, moves 0.3 (3.0)."""
    return PullInputs(own=[[1.0], [10.0]], parent=[0.0], partial=[[0.2], [7.0]],
                      samples=[3, 20])


def world_inputs(scenario: Scenario) -> tuple[PullInputs, pd.DataFrame]:
    """A real world's exact posterior, as PullInputs and as a tidy weights table."""
    stats = sufficient_stats(pad(simulate(scenario)))
    exact = exact_posterior(
        stats, prior_parent_mean=scenario.prior_parent_mean,
        prior_parent_scale=scenario.prior_parent_scale,
        prior_spread_scale=scenario.prior_spread_scale,
        prior_noise_scale=scenario.prior_noise_scale)
    own = no_pooling(stats).estimate
    t, k = own.shape
    weights = pd.DataFrame({
        "level": np.repeat(["parent"] + ["child"] * t, k),
        "task": np.repeat(np.arange(-1, t), k),
        "feature": np.tile(np.arange(k), t + 1),
        "n": np.repeat([scenario.total_rows, *scenario.samples], k),
        "no_pooling": np.vstack([np.full(k, NAN), own]).ravel(),
        "exact_mean": np.vstack([exact.parent_mean, exact.child_mean]).ravel(),
    })
    # what summaries.task_pull reads: the partial estimate and the parent's
    weights["mean"] = weights["exact_mean"]
    weights["parent_mean"] = np.tile(exact.parent_mean, t + 1)
    inputs = PullInputs(own=own, parent=exact.parent_mean, partial=exact.child_mean,
                        samples=scenario.samples)
    return inputs, weights


# ---------------------------------------------------------------------------
# True pulls
# ---------------------------------------------------------------------------
def test_pulls_and_distances_on_a_hand_made_world():
    inputs = toy()
    np.testing.assert_allclose(true_pulls(inputs), [0.5, 0.25, 1.0, NAN])
    np.testing.assert_allclose(distances_moved(inputs), [1.0, 1.0, NAN, NAN])


def test_the_pull_means_what_the_shrinkage_chart_means():
    scenario = Scenario(samples=(400, 30, 6, 5, 0, 2), child_spread=0.5, seed=11)
    inputs, weights = world_inputs(scenario)
    ours = true_pulls(inputs)
    theirs = task_pull(weights)["pull"].to_numpy(dtype=float)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)  # NaN where theirs is
    assert ours[4] == 1.0 and np.isnan(ours[5])
    # fewer rows, more of the way to the parent (same x distribution, wide gaps in n)
    assert ours[0] < ours[1] < ours[2] < ours[4]
    from_table = PullInputs.from_weights(weights)
    np.testing.assert_allclose(true_pulls(from_table), ours)


def test_a_world_where_no_task_stands_alone_has_nothing_to_score():
    inputs, _ = world_inputs(Scenario(samples=(2, 3, 1), n_features=4))
    assert np.isnan(true_pulls(inputs)).all()
    result = score_prediction(inputs, [NAN, NAN, NAN])
    assert result.score is None and "too few" in result.wrong
    assert result.furthest == FurthestTasks(in_distance=None, in_share=None)


# ---------------------------------------------------------------------------
# The score and the sentences
# ---------------------------------------------------------------------------
def test_a_perfect_prediction_scores_100_and_says_so():
    result = score_prediction(toy(), [0.5, 0.25, 1.0, NAN])
    assert result.score == 100.0
    assert result.right.startswith("Every pull you predicted was within 10%")
    assert result.wrong.startswith("Nothing to fix")
    assert result.table["scored"].tolist() == [True, True, True, False]


def test_the_score_is_100_minus_the_mean_miss_in_points():
    result = score_prediction(toy(), [0.3, 0.25, 0.7, 0.9])  # misses 0.2, 0, 0.3
    assert result.score == pytest.approx(100 * (1 - 0.5 / 3), abs=0.05)
    np.testing.assert_allclose(result.table["miss"], [-0.2, 0.0, -0.3, NAN], atol=1e-12)
    assert score_prediction(toy(), [1.0, 1.0, 0.0, 0.0]).score == pytest.approx(
        100 * (1 - (0.5 + 0.75 + 1.0) / 3), abs=0.05)


def test_a_task_without_rows_is_scored_and_explained():
    result = score_prediction(toy(), [0.5, 0.25, 0.2, 0.0])
    assert "task 2 (no rows)" in result.wrong and "80%" not in result.wrong
    assert "you said 20% of the way, but it moved 100%" in result.wrong
    assert "takes the parent's estimate" in result.wrong


def test_sentences_name_the_right_order_and_a_systematic_bias():
    # ranks right (task 2 > task 0 > task 1) but every pull too high
    result = score_prediction(toy(), [0.9, 0.6, 1.0, 0.0])
    assert result.right == ("You put the tasks in the right order, from task 2 (no rows) "
                            "pulled most to task 1 (50 rows) pulled least.")
    assert result.wrong.startswith("You expected more pull than there was (by 25% on average)")
    low = score_prediction(toy(), [0.1, 0.0, 0.6, 0.0])
    assert low.wrong.startswith("You expected less pull than there was")


def test_without_the_right_order_the_closest_guess_is_named():
    result = score_prediction(toy(), [0.1, 0.9, 1.0, 0.0])  # ranks 0 and 1 the wrong way
    assert result.right == ("Your closest guess was task 2 (no rows): you said 100% of "
                            "the way and it moved 100%.")
    assert result.wrong == ("Your largest miss was task 1 (50 rows): you said 90% of the "
                            "way, but it moved 25%.")


# ---------------------------------------------------------------------------
# Which task moves furthest
# ---------------------------------------------------------------------------
def test_the_largest_share_is_not_always_the_largest_distance():
    inputs = lesson()
    assert furthest_tasks(inputs) == FurthestTasks(in_distance=1, in_share=0)
    result = score_prediction(inputs, [0.8, 0.3], furthest_in_distance=0, furthest_in_share=0)
    assert (result.distance_correct, result.share_correct) == (False, True)
    assert result.question.startswith(
        "Furthest in share: right; furthest in distance: it was task 1, not task 0.")
    assert "can move further with a smaller share" in result.question
    assert score_prediction(inputs, [0.8, 0.3]).question == ""
    both = score_prediction(inputs, [0.8, 0.3], furthest_in_distance=1, furthest_in_share=0)
    assert (both.distance_correct, both.share_correct) == (True, True)


def test_tasks_without_their_own_estimate_are_left_out_of_the_question():
    assert furthest_tasks(toy()) == FurthestTasks(in_distance=0, in_share=0)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("predicted, message", [
    ([0.5, 0.25, 1.0], r"predicted_pull length = 3 .* one per task \(4\)"),
    ([0.5, 1.5, 1.0, 0.0], r"predicted_pull\[1\] = 1.5 .* from 0"),
    ([-0.1, 0.5, 1.0, 0.0], r"predicted_pull\[0\]"),
    ([0.5, 0.5, NAN, 0.0], r"predicted_pull\[2\] = nan"),
    ([[0.5]], r"predicted_pull shape"),
    (["a", 1, 1, 1], r"predicted_pull is not allowed: must be numbers"),
])
def test_bad_predictions_are_refused_with_the_task_named(predicted, message):
    with pytest.raises(ValueError, match=message):
        score_prediction(toy(), predicted)


@pytest.mark.parametrize("answer", [4, -1, 1.0, True, "0"])
def test_bad_answers_are_refused(answer):
    with pytest.raises(ValueError, match=r"furthest_in_share = .* must be a task from 0 to 3"):
        score_prediction(toy(), [0.5, 0.5, 0.5, 0.5], furthest_in_share=answer)


@pytest.mark.parametrize("change, message", [
    ({"own": [[2.0], [4.0]]}, "shapes own"),
    ({"parent": [0.0, 1.0]}, "shapes own"),
    ({"partial": [[1.0], [NAN], [0.0], [0.5]]}, "NaN or inf"),
    ({"own": [[2.0], [np.inf], [NAN], [NAN]]}, "inf"),
    ({"samples": [5, -1, 0, 2]}, "whole numbers >= 0"),
    ({"samples": [5, 1.5, 0, 2]}, "whole numbers >= 0"),
    ({"partial": np.zeros((0, 1)), "own": np.zeros((0, 1)), "samples": []}, "needs a task"),
])
def test_bad_inputs_are_refused(change, message):
    fields = dict(own=[[2.0], [4.0], [NAN], [NAN]], parent=[0.0],
                  partial=[[1.0], [3.0], [0.0], [0.5]], samples=[5, 50, 0, 2])
    fields.update(change)
    with pytest.raises(ValueError, match=message):
        PullInputs(**fields)


def test_a_task_estimate_is_all_numbers_or_all_nan():
    with pytest.raises(ValueError, match=r"own rows \[0\]"):
        PullInputs(own=[[1.0, NAN]], parent=[0.0, 0.0], partial=[[0.5, 0.5]], samples=[3])
    with pytest.raises(ValueError, match="columns"):
        PullInputs.from_weights(pd.DataFrame({"level": ["child"]}))
    with pytest.raises(ValueError, match="PullInputs"):
        score_prediction({"own": 1}, [0.5])


def test_inputs_are_copied_and_frozen():
    own = np.array([[2.0], [4.0]])
    inputs = PullInputs(own=own, parent=[0.0], partial=[[1.0], [3.0]], samples=[5, 50])
    own[0, 0] = 99.0  # the caller's array stays theirs
    assert inputs.own[0, 0] == 2.0 and own.flags.writeable
    with pytest.raises(ValueError):
        inputs.own[0, 0] = 1.0
