"""The cheap, deterministic part of every fit: data, padding, statistics, exact answer."""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from hierdash.exact import ExactPosterior, exact_posterior
from hierdash.exact.pooling import NoPooling, complete_pooling, no_pooling
from hierdash.outcomes import QuadraturePosterior, TaskData, pad_naively, quadrature_posterior
from hierdash.outcomes.pooling import pooled_mode, separate_modes
from hierdash.scenario import Scenario
from hierdash.world import (
    PaddedData,
    SufficientStats,
    World,
    capacity_for,
    pad,
    simulate,
    sufficient_stats,
)

__all__ = ["Prepared", "prepare"]

# How each world is fitted: none of these changes the world or its exact answer.
_SAMPLER_FIELDS = ("method", "draws", "tune", "chains", "target_accept", "advi_iterations",
                   "advi_learning_rate", "parameterization")
_RECENT_SIZE = 32


@dataclass(frozen=True, eq=False)
class Prepared:
    """A world ready to fit: its padded data, statistics and reference posterior.

    ``exact`` is the reference every method is checked against: the closed form for a
    Gaussian outcome, the nested quadrature (:func:`hierdash.outcomes.quadrature_posterior`)
    for the others, which also have ``data`` (their checked rows) and no ``stats``.
    """

    world: World
    padded: PaddedData
    stats: SufficientStats | None
    exact: ExactPosterior | QuadraturePosterior
    no_pool: NoPooling
    complete: np.ndarray
    data: TaskData | None = None


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


class _Recent:
    """The last few simulated worlds, prepared: the page computes a world's exact
    posterior first and fits it with a sampler after, and both need the same pieces
    (about 20 ms). Read-only like every result; safe to share between threads."""

    def __init__(self, size: int):
        self._size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Scenario) -> Prepared | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Scenario, prepared: Prepared) -> None:
        with self._lock:
            self._items[key] = prepared
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_RECENT = _Recent(_RECENT_SIZE)


def prepare(scenario: Scenario, world: World | None = None) -> Prepared:
    """Simulate (or take ``world``), pad, and compute the closed-form pieces.

    A simulated world is remembered (the last 32): fitting it again with another method
    or sampler setting reuses its data and exact answer.
    """
    if world is not None:
        check_world(scenario, world)
        return _prepare(scenario, world)
    defaults = Scenario()
    # The key: the scenario with its sampler settings at one value every outcome accepts.
    same = {f: getattr(defaults, f) for f in _SAMPLER_FIELDS}
    key = dataclasses.replace(scenario, **{**same, "method": "exact"})
    prepared = _RECENT.get(key)
    if prepared is None:
        prepared = _prepare(scenario, simulate(scenario))
        _RECENT.put(key, prepared)
    return prepared


def _prepare(scenario: Scenario, world: World) -> Prepared:
    if not scenario.is_gaussian:
        return _prepare_outcome(scenario, world)
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


def _prepare_outcome(scenario: Scenario, world: World) -> Prepared:
    """A yes/no or count world: the quadrature reference and the two extremes.

    With ``padding="naive"`` the hierarchical fits read every task padded to the longest
    by y = 0 rows (:func:`~hierdash.outcomes.data.pad_naively`): with an intercept these
    are fake "no event" rows that pull the intercepts down; without one each adds a
    constant and nothing moves. No pooling and complete pooling always read the real
    rows: they are what the hierarchical fit is compared with.
    """
    capacity = capacity_for(scenario.n_tasks, int(max(scenario.samples)))
    padded = pad(world, mode=scenario.padding, capacity=capacity)
    real = world.task_data()
    data = (pad_naively(real, intercept=scenario.intercept)
            if scenario.padding == "naive" else real)
    prior = {"prior_mean": scenario.prior_parent_mean,
             "prior_scale": scenario.prior_parent_scale}
    reference = quadrature_posterior(
        data,
        prior_parent_mean=scenario.prior_parent_mean,
        prior_parent_scale=scenario.prior_parent_scale,
        prior_spread_scale=scenario.prior_spread_scale,
        fixed_spread=None if scenario.learn_spread else scenario.child_spread,
    )
    counts = world.counts
    reasons = tuple(
        "" if n else (f"task {t} has no rows: nothing to estimate its weights from alone, "
                      "so partial pooling gives it the parent's. Try giving it a few rows.")
        for t, n in enumerate(counts))
    estimate = separate_modes(real, **prior)
    identified = counts > 0
    estimate[~identified] = np.nan
    no_pool = NoPooling(estimate=estimate, identified=identified, reason=reasons)
    return Prepared(world, padded, None, reference, no_pool, pooled_mode(real, **prior), data)
