"""What a fit of the networks is worth: test accuracy and log score per task, decision
surfaces on a grid, R-hat on predicted probabilities, the spreads.

A network's weights are not identifiable: swapping two hidden units, or flipping the
signs of one unit's weights in and out, gives the same function, so chains can sit in
different but equivalent modes and R-hat on a weight means nothing. The probabilities
the networks predict are identifiable: R-hat is computed on those.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hierdash.inference.diagnostics import rank_rhat
from hierdash.neural.model import LAYERS
from hierdash.neural.tasks import MoonTasks
from hierdash.settings import CI_PROB

__all__ = ["GRID_SIZE", "GRID_LIMIT", "probabilities", "task_scores", "surfaces",
           "parent_surface", "max_rhat", "spreads_frame", "grid_points"]

GRID_SIZE = 30
"""Grid points per axis of a decision surface."""
GRID_LIMIT = 2.5
"""A surface covers [-GRID_LIMIT, GRID_LIMIT] on both axes: the moons, turned any way."""
_RHAT_POINTS = 40  # test points per task whose probabilities R-hat checks
_SURFACE_DRAWS = 200  # draws a surface averages: its mean and sd, not its tails


def probabilities(weights: dict[str, np.ndarray], X: np.ndarray, *, prefix: str = "") -> np.ndarray:
    """P(class 1) per draw at each point.

    ``X`` is (t, m, 2) for each task's network (``prefix=""``: weights (s, t, ...)), or
    (m, 2) for the parent's (``prefix="parent_"``: weights (s, ...)). Returns
    (s, t, m) or (s, m).
    """
    w1, b1 = weights[prefix + "w1"], weights[prefix + "b1"]
    w2, b2 = weights[prefix + "w2"], weights[prefix + "b2"]
    if prefix:  # the parent's single network: a task axis of one
        w1, b1, w2, b2, X = w1[:, None], b1[:, None], w2[:, None], b2[:, None], X[None]
    # Two inputs: two broadcast products (einsum's generic loop was ten times slower).
    pre = (X[None, :, :, 0, None] * w1[:, :, None, 0, :]
           + X[None, :, :, 1, None] * w1[:, :, None, 1, :] + b1[:, :, None, :])
    logit = np.matmul(np.tanh(pre), w2[:, :, :, None])[..., 0] + b2[:, :, None]
    p = 0.5 * (1.0 + np.tanh(0.5 * logit))  # the logistic, without overflow warnings
    return p[:, 0] if prefix else p


def _stack(points: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per-task arrays of points, zero-padded to (t, m, 2), and their counts."""
    m = max(max(len(p) for p in points), 1)
    out = np.zeros((len(points), m, 2))
    for i, p in enumerate(points):
        out[i, : len(p)] = p
    return out, np.array([len(p) for p in points])


def task_scores(weights: dict[str, np.ndarray], tasks: MoonTasks, model: str) -> pd.DataFrame:
    """Test accuracy (posterior-mean probability against 1/2) and log score (mean over
    test points of the log posterior predictive probability of the true class) per task."""
    X, _ = _stack(tasks.X_test)
    p = probabilities(weights, X)  # (s, t, m)
    rows = []
    for t, y in enumerate(tasks.y_test):
        pt = p[:, t, : len(y)]
        mean = pt.mean(axis=0)
        hit = np.where(y == 1, mean, 1.0 - mean)
        rows.append({"task": t, "n": tasks.counts[t], "model": model,
                     "accuracy": float(np.mean((mean > 0.5) == (y == 1))),
                     "log_score": float(np.mean(np.log(np.clip(hit, 1e-300, None))))})
    return pd.DataFrame(rows)


def grid_points() -> tuple[np.ndarray, np.ndarray]:
    """The surface's grid: (GRID_SIZE**2, 2) points and the axis values."""
    axis = np.linspace(-GRID_LIMIT, GRID_LIMIT, GRID_SIZE)
    x1, x2 = np.meshgrid(axis, axis, indexing="ij")
    return np.column_stack([x1.ravel(), x2.ravel()]), axis


def _surface_frame(p: np.ndarray, grid: np.ndarray, **labels) -> pd.DataFrame:
    return pd.DataFrame({**labels, "x1": grid[:, 0], "x2": grid[:, 1],
                         "mean": p.mean(axis=0), "sd": p.std(axis=0)})


def surfaces(weights: dict[str, np.ndarray], n_tasks: int, model: str) -> pd.DataFrame:
    """Each task's decision surface: posterior mean probability of class 1 and its sd
    at every grid point (columns model, task, x1, x2, mean, sd)."""
    grid, _ = grid_points()
    p = probabilities(_thin(weights), np.broadcast_to(grid, (n_tasks, *grid.shape)))
    return pd.concat([_surface_frame(p[:, t], grid, model=model, task=t)
                      for t in range(n_tasks)], ignore_index=True)


def parent_surface(weights: dict[str, np.ndarray], model: str) -> pd.DataFrame:
    """The parent network's surface (columns model, x1, x2, mean, sd)."""
    grid, _ = grid_points()
    p = probabilities(_thin(weights), grid, prefix="parent_")
    return _surface_frame(p, grid, model=model)


def _thin(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """At most _SURFACE_DRAWS evenly spaced draws (every chain keeps its share)."""
    s = len(weights["w1"])
    keep = np.linspace(0, s - 1, min(s, _SURFACE_DRAWS)).round().astype(int)
    return {name: value[keep] for name, value in weights.items()}


def max_rhat(weights: dict[str, np.ndarray], tasks: MoonTasks, chains: int) -> float | None:
    """The largest rank-normalised split R-hat over predicted probabilities at (up to
    40 per task) test points; None with one chain."""
    if chains < 2:
        return None
    X, counts = _stack(tuple(x[:_RHAT_POINTS] for x in tasks.X_test))
    p = probabilities(weights, X)
    keep = np.concatenate([np.arange(c) + t * X.shape[1] for t, c in enumerate(counts)])
    p = p.reshape(chains, -1, p.shape[1] * p.shape[2])[:, :, keep]
    return float(np.nanmax(rank_rhat(p)))


_LAYER_WORDS = {"w1": ("input -> hidden", "weights"), "b1": ("input -> hidden", "biases"),
                "w2": ("hidden -> output", "weights"), "b2": ("hidden -> output", "biases")}


def spreads_frame(draws: dict[str, np.ndarray], *, bias: bool) -> pd.DataFrame:
    """The hierarchical fit's spread per layer and kind: posterior mean and central
    interval (columns block, layer, kind, mean, low, high)."""
    tail = (1.0 - CI_PROB) / 2.0
    rows = []
    for block in LAYERS:
        layer, kind = _LAYER_WORDS[block]
        if kind == "biases" and not bias:
            continue
        s = draws[f"spread_{block}"]
        rows.append({"block": block, "layer": layer, "kind": kind, "mean": float(s.mean()),
                     "low": float(np.quantile(s, tail)), "high": float(np.quantile(s, 1 - tail))})
    return pd.DataFrame(rows)
