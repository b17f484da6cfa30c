"""The latent model of a yes/no or count outcome: every weight sampled.

``parent ~ Normal(mean, scale)`` per feature, ``child[t] ~ Normal(parent, spread)``, and
each row's outcome from its family at the linear predictor ``eta = x . child[task]``:

- binomial (Bernoulli is one trial): ``y eta - trials * log(1 + e^eta)``;
- Poisson: ``y eta - exposure * e^eta``;

each up to a constant in the weights. No marginal form exists (the weights cannot be
integrated out in closed form), so the choice is between centered and non-centered
weights per task, written as in :mod:`~hierdash.inference.models.latent` with ``w`` in
{0, 1} per task and feature.

One compiled model serves every family and world within the bounds: the rows are one
flat table (merged where the family allows, see :func:`hierdash.outcomes.data.rows_of`)
padded to a row capacity, and the likelihood reads the world's own ``n`` rows, ``t``
tasks and ``k`` features; a flag picks the family's term. Padded tasks and features have
no data and ``w = 0``: their weights are independent standard normals, inert for the
sampler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hierdash.outcomes import QuadraturePosterior, TaskData
from hierdash.outcomes.data import Rows
from hierdash.scenario import Scenario

__all__ = ["GlmShape", "GLM_VALUE_NAMES", "RICH_FACTOR", "SPREAD_QUANTILE", "glm_data",
           "build_glm_model", "glm_start", "data_rich_tasks"]

GLM_VALUE_NAMES = {
    "parent": "parent",
    "child_raw": "child_raw",
    "spread": "spread_log__",
}
_POISSON_FAMILIES = ("poisson",)
# A task is data-rich (centered) when its data's curvature passes RICH_FACTOR / spread^2.
# On 45 prior-drawn worlds (15 per family, target_accept 0.99), divergent worlds / R-hat
# above 1.01: factor 1: 9 / 2; 4: 3 / 2; 16: 2 / 6; every task non-centered: 0 / 16.
RICH_FACTOR = 4.0
# ... judged at a low quantile of the spread's reference posterior, not at its mean: with
# few tasks the spread's posterior reaches towards 0, where a centered task is a funnel.
# On the calibration lab's 100 worlds per family (nuts, auto), divergent worlds
# bernoulli / binomial / Poisson: at the mean 4 / 11 / 9; at the 25% quantile 0 / 3 / 5;
# at the 10% quantile 0 / 0 / 6 (more worlds with R-hat above 1.01: 22 / 49 / 62).
SPREAD_QUANTILE = 0.1


@dataclass(frozen=True)
class GlmShape:
    """The compiled shape: task, feature and row capacity."""

    tasks: int
    features: int
    rows: int


def data_rich_tasks(data: TaskData, child: np.ndarray, spread: float) -> tuple[int, ...]:
    """Tasks whose rows pin every weight down better than the hierarchical prior does:
    the smallest eigenvalue of the data's curvature ``X'WX`` at ``child`` (each task's
    reference posterior mean) is at least ``1 / spread**2``."""
    rich = []
    for t, (X, y, size) in enumerate(zip(data.X, data.y, data.size, strict=True)):
        if not len(y):
            continue
        _, _, w = data.family.kernel(X @ child[t], y, size)
        smallest = np.linalg.eigvalsh((X * w[:, None]).T @ X)[0]
        if smallest >= RICH_FACTOR / max(spread, 1e-6) ** 2:
            rich.append(t)
    return tuple(rich)


def glm_data(scenario: Scenario, rows: Rows, shape: GlmShape, w: np.ndarray) -> dict[str, Any]:
    """Values of every ``pm.Data`` of the model for this world's ``rows`` (see
    :func:`hierdash.outcomes.data.rows_of`), padded to ``shape``."""
    n, (t, k) = len(rows.y), (rows.n_tasks, rows.X.shape[1])
    if t > shape.tasks or k > shape.features or n > shape.rows:
        raise ValueError(
            f"a world of {t} tasks, {k} features and {n} distinct rows does not fit the "
            f"model's capacity of {shape.tasks} tasks, {shape.features} features and "
            f"{shape.rows} rows")
    X = np.zeros((shape.rows, shape.features))
    X[:n, :k] = rows.X
    y, size, task = np.zeros(shape.rows), np.zeros(shape.rows), np.zeros(shape.rows, np.int64)
    y[:n], size[:n], task[:n] = rows.y, rows.size, rows.task
    return {
        "n_tasks": np.array(t, dtype=np.int64),
        "n_features": np.array(k, dtype=np.int64),
        "n_rows": np.array(n, dtype=np.int64),
        "X": X,
        "y": y,
        "size": size,
        "task_of_row": task,
        "is_poisson": np.array(1.0 if rows.family.name in _POISSON_FAMILIES else 0.0),
        "centered": w,
        "prior_parent_mean": np.array(scenario.prior_parent_mean),
        "prior_parent_scale": np.array(scenario.prior_parent_scale),
        "prior_spread_scale": np.array(scenario.prior_spread_scale),
        "learn_spread": np.array(1.0 if scenario.learn_spread else 0.0),
        "fixed_spread": np.array(scenario.child_spread),
    }


def build_glm_model(shape: GlmShape, data: dict[str, Any]):
    """Build the PyMC model holding ``data``: ``parent`` (feature), ``child`` (task,
    feature) and ``spread``. Padded rows never enter: the likelihood sums the first
    ``n_rows`` only (no NaN or masked ``observed``, which PyMC would impute)."""
    import pymc as pm
    import pytensor.tensor as pt

    from hierdash.inference.models.hierarchy import parent_and_spread, task_weights

    coords = {"task": np.arange(shape.tasks), "feature": np.arange(shape.features),
              "row": np.arange(shape.rows)}
    with pm.Model(coords=coords) as model:
        t = pm.Data("n_tasks", data["n_tasks"])
        k = pm.Data("n_features", data["n_features"])
        n = pm.Data("n_rows", data["n_rows"])
        X = pm.Data("X", data["X"], dims=("row", "feature"))[:n, :k]
        y = pm.Data("y", data["y"], dims="row")[:n]
        size = pm.Data("size", data["size"], dims="row")[:n]
        task = pm.Data("task_of_row", data["task_of_row"], dims="row")[:n]
        is_poisson = pm.Data("is_poisson", data["is_poisson"])
        parent, spread = parent_and_spread(data)
        child = task_weights(parent, spread, data)
        eta = pt.sum(X * child[:t, :k][task], axis=1)
        # Both terms are computed and one is kept: switch, not a product with the flag,
        # so that an overflowing unused term cannot turn the kept one into NaN.
        normaliser = pt.switch(pt.gt(is_poisson, 0.5), pt.exp(eta), pt.softplus(eta))
        pm.Potential("likelihood", pt.sum(y * eta - size * normaliser))
    return model


def glm_start(reference: QuadraturePosterior, w: np.ndarray, shape: GlmShape,
              rng: np.random.Generator, learn_spread: bool, fixed_spread: float) -> dict:
    """Unconstrained starting values (by :data:`GLM_VALUE_NAMES`): one draw of the
    reference posterior, padded coordinates at standard normal draws."""
    point = {name: value[0, 0] for name, value in reference.sample(1, 1, rng).items()}
    parent = np.asarray(point["parent"], dtype=float)
    child = np.asarray(point["child"], dtype=float)
    tau = float(point["spread"]) if learn_spread else fixed_spread
    t, k = child.shape
    parent_full = rng.standard_normal(shape.features)
    parent_full[:k] = parent
    raw = rng.standard_normal((shape.tasks, shape.features))
    wt = w[:t, :k]
    raw[:t, :k] = wt * parent + (child - parent) * max(tau, 1e-6) ** (wt - 1.0)
    # A fixed spread leaves the free one to its prior alone; never start it where that
    # prior's gradient is exactly 0 (log spread = log of its scale, 1 by default): nutpie
    # sets its first mass matrix from the gradient and refuses a zero in it.
    spread = float(point["spread"]) if learn_spread else float(rng.uniform(0.2, 0.6))
    return {
        GLM_VALUE_NAMES["parent"]: parent_full,
        GLM_VALUE_NAMES["child_raw"]: raw,
        GLM_VALUE_NAMES["spread"]: np.log(max(spread, 1e-6)),
    }
