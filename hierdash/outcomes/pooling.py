"""The two extremes partial pooling sits between, for any outcome family.

*No pooling* fits each task alone; *complete pooling* fits one weight vector to every
task's rows. With a yes/no or count outcome a plain maximum-likelihood fit can run off
to infinity (a group with 0 tumours of 20 has the logit estimate -inf), so both give the
weights the parent's prior ``Normal(prior_mean, prior_scale)`` and report its mode: a
weakly informative prior keeps every estimate finite and barely moves the others.
"""

from __future__ import annotations

import numpy as np

from hierdash.outcomes.data import TaskData

__all__ = ["separate_modes", "pooled_mode"]

_TOL = 1e-10
_MAX_NEWTON = 200
_MAX_STEP = 4.0  # no Newton step moves any row's linear predictor more than this


def separate_modes(data: TaskData, *, prior_mean: float, prior_scale: float) -> np.ndarray:
    """Each task's weights fitted on its own rows: the mode under the prior.

    Parameters
    ----------
    data
        The rows of each task.
    prior_mean, prior_scale
        Each weight's prior ``Normal(prior_mean, prior_scale)`` (link scale).

    Returns
    -------
    ndarray (T, K)
        The modes; a task with no rows gets the prior mean.
    """
    k = data.n_features
    out = np.full((data.n_tasks, k), float(prior_mean))
    for t, (X, y, size) in enumerate(zip(data.X, data.y, data.size, strict=True)):
        if len(y):
            out[t] = _mode(data, X, y, size, prior_mean, prior_scale)
    return out


def pooled_mode(data: TaskData, *, prior_mean: float, prior_scale: float) -> np.ndarray:
    """One weight vector for every task's rows together (the mode under the prior)."""
    X = np.concatenate(data.X)
    if not len(X):
        return np.full(data.n_features, float(prior_mean))
    return _mode(data, X, np.concatenate(data.y), np.concatenate(data.size), prior_mean,
                 prior_scale)


def _mode(data: TaskData, X, y, size, m: float, s: float) -> np.ndarray:
    """Newton's method on a log-concave objective, with steps capped on the link scale
    (far from the mode a Poisson rate's curvature is tiny and a full step overshoots)."""
    family = data.family
    k = X.shape[1]
    c = np.full(k, float(m))
    precision = 1.0 / s**2
    for _ in range(_MAX_NEWTON):
        _, d1, w = family.kernel(X @ c, y, size)
        grad = X.T @ d1 - precision * (c - m)
        hess = (X * w[:, None]).T @ X + precision * np.eye(k)
        step = np.linalg.solve(hess, grad)
        biggest = float(np.abs(X @ step).max(initial=0.0))
        step *= min(1.0, _MAX_STEP / max(biggest, 1e-300))
        c = c + step
        if np.abs(step).max() < _TOL:
            break
    return c
