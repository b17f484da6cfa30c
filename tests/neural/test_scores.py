"""Scores of given draws: accuracy, log score, surfaces, R-hat on probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from hierdash.neural import scores
from hierdash.neural.settings import NeuralSettings
from hierdash.neural.tasks import simulate_tasks

TASKS = simulate_tasks(NeuralSettings(samples=(5, 3), test_per_task=50, seed=2))


def _weights(s=40, t=2, h=3, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    w = {"w1": rng.normal(0, scale, (s, t, 2, h)), "b1": rng.normal(0, scale, (s, t, h)),
         "w2": rng.normal(0, scale, (s, t, h)), "b2": rng.normal(0, scale, (s, t))}
    return w | {f"parent_{k}": v[:, 0] for k, v in w.items()}


def test_probabilities_are_the_network_written_out():
    w = _weights(s=2)
    X = np.random.default_rng(1).normal(size=(2, 5, 2))
    p = scores.probabilities(w, X)
    hidden = np.tanh(X[1] @ w["w1"][0, 1] + w["b1"][0, 1])
    want = 1 / (1 + np.exp(-(hidden @ w["w2"][0, 1] + w["b2"][0, 1])))
    np.testing.assert_allclose(p[0, 1], want)
    parent = scores.probabilities(w, X[0], prefix="parent_")
    np.testing.assert_allclose(parent, p[:, 0])


def test_a_network_at_zero_scores_chance():
    w = {k: np.zeros_like(v) for k, v in _weights().items()}
    frame = scores.task_scores(w, TASKS, "pooled")
    assert list(frame.columns) == ["task", "n", "model", "accuracy", "log_score"]
    np.testing.assert_allclose(frame["log_score"], np.log(0.5))
    assert list(frame["n"]) == [5, 3]


def test_surfaces_cover_the_grid_with_a_mean_and_sd():
    w = _weights()
    frame = scores.surfaces(w, 2, "hierarchical")
    assert len(frame) == 2 * scores.GRID_SIZE**2
    assert frame["mean"].between(0, 1).all() and (frame["sd"] >= 0).all()
    parent = scores.parent_surface(w, "hierarchical")
    assert len(parent) == scores.GRID_SIZE**2


def test_rhat_sees_chains_that_disagree_on_probabilities():
    same = _weights(s=400)
    assert scores.max_rhat(same, TASKS, chains=2) < 1.05
    apart = {k: np.concatenate([v[:200], v[:200] + 3.0]) for k, v in same.items()}
    assert scores.max_rhat(apart, TASKS, chains=2) > 1.5
    assert scores.max_rhat(same, TASKS, chains=1) is None


def test_rhat_ignores_a_relabelling_of_hidden_units():
    """Chain 2 is chain 1 with its hidden units swapped and one flipped: the weights'
    R-hat would be huge, the probabilities' is not."""
    w = _weights(s=200, scale=0.5)
    # swap units 0 and 1, then flip unit 0: its input weights, bias and output weight
    sign = np.array([-1.0, 1.0, 1.0])
    moved = {k: (v[..., [1, 0, 2]] * sign if k.endswith(("w1", "b1", "w2")) else v)
             for k, v in w.items()}
    both = {k: np.concatenate([w[k], moved[k]]) for k in w}
    assert scores.max_rhat(both, TASKS, chains=2) == pytest.approx(
        scores.max_rhat({k: np.concatenate([w[k], w[k]]) for k in w}, TASKS, chains=2))


def test_spreads_frame_skips_biases_without_them():
    draws = {f"spread_{b}": np.abs(np.random.default_rng(0).normal(size=50))
             for b in ("w1", "b1", "w2", "b2")}
    assert len(scores.spreads_frame(draws, bias=True)) == 4
    frame = scores.spreads_frame(draws, bias=False)
    assert set(frame["kind"]) == {"weights"} and (frame["low"] <= frame["high"]).all()
