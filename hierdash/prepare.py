"""The cheap, deterministic part of every fit: data, padding, statistics, exact answer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hierdash.data import (
    PaddedData,
    SufficientStats,
    World,
    capacity_for,
    pad,
    simulate,
    sufficient_stats,
)
from hierdash.exact import ExactPosterior, exact_posterior
from hierdash.pooling import NoPooling, complete_pooling, no_pooling
from hierdash.scenario import Scenario

__all__ = ["Prepared", "prepare"]


@dataclass(frozen=True, eq=False)
class Prepared:
    """A world ready to fit: its padded data, statistics and closed-form pieces."""

    world: World
    padded: PaddedData
    stats: SufficientStats
    exact: ExactPosterior
    no_pool: NoPooling
    complete: np.ndarray


def check_world(scenario: Scenario, world: World) -> None:
    """A world handed to :func:`prepare` must match the scenario's tasks and features."""
    counts = tuple(int(n) for n in world.counts)
    if counts != scenario.samples:
        raise ValueError(
            f"world has sample counts {counts}, the scenario {scenario.samples}: "
            "they must be the same (set the scenario's samples from the world)"
        )
    k = world.parent.shape[0]
    if k != scenario.n_features or any(x.shape[1:] != (k,) for x in world.X):
        raise ValueError(
            f"world has {k} features, the scenario n_features = {scenario.n_features}: "
            "they must be the same"
        )


def prepare(scenario: Scenario, world: World | None = None) -> Prepared:
    """Simulate (or take ``world``), pad, and compute the closed-form pieces."""
    if world is None:
        world = simulate(scenario)
    else:
        check_world(scenario, world)
    capacity = capacity_for(scenario.n_tasks, int(max(scenario.samples)))
    padded = pad(world, mode=scenario.padding, capacity=capacity)
    stats = sufficient_stats(padded)
    exact = exact_posterior(
        stats,
        prior_parent_mean=scenario.prior_parent_mean,
        prior_parent_scale=scenario.prior_parent_scale,
        prior_spread_scale=scenario.prior_spread_scale,
        prior_noise_scale=scenario.prior_noise_scale,
        fixed_spread=None if scenario.learn_spread else scenario.child_spread,
    )
    # No pooling always uses the real rows: it is the per-task estimate the
    # hierarchical model is compared with, whatever the padding mode.
    real = stats if scenario.padding == "masked" else sufficient_stats(pad(world))
    return Prepared(world, padded, stats, exact, no_pooling(real), complete_pooling(real))
