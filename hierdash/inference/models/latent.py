"""The latent model: every child weight sampled, centered or non-centered.

This is the textbook hierarchical regression, kept for the lesson on the funnel:
``parent ~ Normal(mean, scale)``, ``child[t] ~ Normal(parent, spread)``,
``y = X child[t] + noise``. Per task and feature, with ``w`` in {0, 1},

    child_raw ~ Normal(w * parent, spread ** w)
    child     = parent + spread ** (1 - w) * (child_raw - w * parent)

is centered when ``w = 1`` and non-centered when ``w = 0``; both give
``child ~ Normal(parent, spread)``. The default sampler does not use this model: it
integrates the weights out (:mod:`hierdash.inference.models.marginal`).

The likelihood reads each task's sufficient statistics (``X'X``, ``X'y``, ``y'y``,
rows), summed over the rows of the likelihood mask, so the row count is not part of
the compiled shape. Tasks and features are padded to a capacity: a padded task or
feature has no data and ``w = 0``, so its ``child_raw`` is an independent standard
normal, inert for the sampler (no funnel), and the spread is learned or fixed by data
(``learn_spread``), so one compiled model serves every world within the bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hierdash.scenario import Scenario
from hierdash.world import SufficientStats

__all__ = ["LatentShape", "LATENT_VALUE_NAMES", "centered_weights", "data_rich_tasks",
           "latent_data", "build_latent_model", "latent_start"]

# The sampler's unconstrained variables, as PyMC names them (a log transform for the
# positive scales). Pinned here, where the model is defined; a test checks them
# against the built model.
LATENT_VALUE_NAMES = {
    "parent": "parent",
    "child_raw": "child_raw",
    "noise": "noise_log__",
    "spread": "spread_log__",
}


@dataclass(frozen=True)
class LatentShape:
    """The compiled shape: padded task and feature capacity."""

    tasks: int
    features: int


def centered_weights(centered_tasks: tuple[int, ...], n_features: int, shape: LatentShape) -> np.ndarray:
    """``w`` per (task, feature): 1 on the real features of ``centered_tasks``, 0
    elsewhere (non-centered tasks and every padded coordinate)."""
    w = np.zeros((shape.tasks, shape.features))
    w[list(centered_tasks), :n_features] = 1.0
    return w


def data_rich_tasks(stats: SufficientStats, *, noise: float, spread: float) -> tuple[int, ...]:
    """Tasks whose data pin every weight down better than the hierarchical prior does:
    the smallest eigenvalue of ``X'X / noise**2`` is at least ``1 / spread**2``.

    Centering suits those tasks (their weights follow their data, not the parent);
    the others are better non-centered. ADVI's ``auto`` uses this split: a mean-field
    approximation of a non-centered data-rich task misses the parent by several sds.
    """
    if not len(stats.n):
        return ()
    smallest = np.linalg.eigvalsh(stats.XtX)[:, 0]
    rich = smallest / noise**2 >= 1.0 / spread**2
    return tuple(int(t) for t in np.flatnonzero(rich))


def latent_data(
    scenario: Scenario, stats: SufficientStats, shape: LatentShape, w: np.ndarray
) -> dict[str, Any]:
    """Values of every ``pm.Data`` of the latent model for this world, padded to ``shape``.

    ``stats`` are the likelihood's statistics of the real tasks (see
    :func:`hierdash.world.sufficient_stats`); ``w`` is :func:`centered_weights`.
    """
    t, k = stats.Xty.shape
    if t > shape.tasks or k > shape.features:
        raise ValueError(
            f"a world of {t} tasks and {k} features does not fit the latent model's "
            f"capacity of {shape.tasks} tasks and {shape.features} features"
        )
    XtX = np.zeros((shape.tasks, shape.features, shape.features))
    Xty = np.zeros((shape.tasks, shape.features))
    XtX[:t, :k, :k] = stats.XtX
    Xty[:t, :k] = stats.Xty
    return {
        "n_tasks": np.array(t, dtype=np.int64),
        "n_features": np.array(k, dtype=np.int64),
        "XtX": XtX,
        "Xty": Xty,
        "yty": np.array(float(stats.yty.sum())),
        "n_likelihood_rows": np.array(float(stats.n.sum())),
        "centered": w,
        "prior_parent_mean": np.array(scenario.prior_parent_mean),
        "prior_parent_scale": np.array(scenario.prior_parent_scale),
        "prior_noise_scale": np.array(scenario.prior_noise_scale),
        "prior_spread_scale": np.array(scenario.prior_spread_scale),
        "learn_spread": np.array(1.0 if scenario.learn_spread else 0.0),
        "fixed_spread": np.array(scenario.child_spread),
    }


def build_latent_model(shape: LatentShape, data: dict[str, Any]):
    """Build the PyMC model holding ``data``.

    Variables: ``parent`` (feature), ``child`` (task, feature), ``noise`` and
    ``spread``. When the spread is fixed (``learn_spread = 0``) the free ``spread``
    only follows its prior and the children use ``fixed_spread``. Padded rows enter
    through the statistics only: no NaN or masked ``observed`` (PyMC would impute those).
    """
    import pymc as pm
    import pytensor.tensor as pt

    from hierdash.inference.models.hierarchy import parent_and_spread, task_weights

    coords = {
        "task": np.arange(shape.tasks),
        "feature": np.arange(shape.features),
        "feature_": np.arange(shape.features),
    }
    with pm.Model(coords=coords) as model:
        # The likelihood reads the world's own t tasks and k features of the padded
        # arrays only: padded coordinates cost their prior's few operations, nothing more.
        t = pm.Data("n_tasks", data["n_tasks"])
        k = pm.Data("n_features", data["n_features"])
        XtX = pm.Data("XtX", data["XtX"], dims=("task", "feature", "feature_"))[:t, :k, :k]
        Xty = pm.Data("Xty", data["Xty"], dims=("task", "feature"))[:t, :k]
        yty = pm.Data("yty", data["yty"])
        n_rows = pm.Data("n_likelihood_rows", data["n_likelihood_rows"])
        noise_scale = pm.Data("prior_noise_scale", data["prior_noise_scale"])
        parent, spread = parent_and_spread(data)
        noise = pm.HalfNormal("noise", sigma=noise_scale)
        child = task_weights(parent, spread, data)

        # Sum of squared residuals over the mask's rows from the statistics:
        # sum (y - X c)^2 = y'y - 2 c'X'y + c'X'X c. Padded rows add nothing (masked) or
        # a zero row with y = 0 to the row count (naive).
        real = child[:t, :k]
        fitted = pt.sum(real * Xty) - 0.5 * pt.sum(real[:, :, None] * XtX * real[:, None, :])
        sq = yty - 2.0 * fitted
        pm.Potential(
            "likelihood",
            -0.5 * sq / noise**2 - n_rows * (pt.log(noise) + 0.5 * np.log(2 * np.pi)),
        )
    return model


def latent_start(point: dict, w: np.ndarray, shape: LatentShape, rng: np.random.Generator) -> dict:
    """Unconstrained starting values (by :data:`LATENT_VALUE_NAMES`) for a posterior draw.

    ``point`` holds ``parent`` (K,), ``child`` (T, K), ``noise`` and ``spread``
    (floats; the spread used by the children). Inverts
    ``child = p + tau**(1 - w) * (raw - w * p)`` for ``raw``; padded coordinates start
    at standard normal draws, as their prior has them.
    """
    parent = np.asarray(point["parent"], dtype=float)
    child = np.asarray(point["child"], dtype=float)
    tau = float(point["spread"])
    t, k = child.shape
    parent_full = rng.standard_normal(shape.features)
    parent_full[:k] = parent
    raw = rng.standard_normal((shape.tasks, shape.features))
    wt = w[:t, :k]
    raw[:t, :k] = wt * parent + (child - parent) * tau ** (wt - 1.0)
    return {
        LATENT_VALUE_NAMES["parent"]: parent_full,
        LATENT_VALUE_NAMES["child_raw"]: raw,
        LATENT_VALUE_NAMES["noise"]: np.log(float(point["noise"])),
        LATENT_VALUE_NAMES["spread"]: np.log(tau),
    }
