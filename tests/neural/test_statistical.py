"""Over seeds: on related tasks the hierarchy borrows strength for the small ones.

The claim of the page (issue 22): a task with a handful of points borrows a decision
boundary from its siblings, so on tasks that differ little (a 25-degree rotation spread)
the hierarchical network's log score on the small tasks (at most 10 training points)
beats that of a separate network per task. ``benchmarks/results/neural.json`` measured it
in 30 of 30 worlds (10 seeds at each of 25, 45 and 90 degrees, the page's default world
and sampler); here a smaller world and shorter chains keep it to about 20 s (the network
compiles once per test process, about 10 s, shared with tests/neural/test_fit.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from hierdash.neural.fit import fit_neural
from hierdash.neural.settings import NeuralSettings

pytestmark = pytest.mark.statistical

RELATED = NeuralSettings(samples=(60, 25, 10, 6, 3), rotation_spread=25.0, test_per_task=100,
                         draws=150, tune=150)
SEEDS = range(1, 9)
SMALL = 10  # training points: a small task (the benchmark's "small")
AT_LEAST = 6  # seeds of 8 where the hierarchy must win


def _small_log_scores(seed: int) -> tuple[float, float]:
    """The mean test log score over the small tasks: (hierarchical, separate)."""
    accuracy = fit_neural(RELATED.replace(seed=seed)).accuracy
    small = accuracy[accuracy["n"] <= SMALL].groupby("model")["log_score"].mean()
    return float(small["hierarchical"]), float(small["separate"])


def test_the_hierarchy_beats_separate_networks_on_small_related_tasks():
    """At least 6 of 8 seeds, and on average.

    Why 6 of 8: the benchmark's 30 wins in 30 worlds put the chance of a win per world
    above about 0.9 (the rule of three, 95%), and with 0.9 six or more wins of eight come
    96% of the time; shorter chains than the benchmark's add Monte Carlo noise, which
    the margin of two seeds absorbs. The test can fail: if the hierarchy only matched
    separate networks (a coin flip per seed), six or more wins would come 14% of the
    time, and the mean gain (0.1 nats measured here; 0.22 in the benchmark) would be
    near 0.
    """
    scores = np.array([_small_log_scores(seed) for seed in SEEDS])
    gain = scores[:, 0] - scores[:, 1]
    wins = int((gain > 0).sum())
    assert wins >= AT_LEAST, f"the hierarchy won {wins} of {len(gain)} seeds: {gain.round(3)}"
    assert gain.mean() > 0.03, gain.round(3)
