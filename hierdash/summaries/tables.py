"""Tables computed from a fit, for the charts, the page and the command line alike.

The chart builders (:mod:`hierdash.charts`) draw these tables and compute nothing of
their own, so the page and the command line reach every number by the same path.
Each function takes plain tables or arrays (fields of a
:class:`~hierdash.inference.FitResult`) and returns a :class:`pandas.DataFrame`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "ALL_TASKS",
    "RMSE_NAMES",
    "REAL",
    "PAD_IGNORED",
    "PAD_USED",
    "task_label",
    "feature_label",
    "child_rows",
    "pulls_toward_parent",
    "task_pull",
    "comparable_errors",
    "errors_table",
    "padding_segments",
]

ALL_TASKS = "all tasks"
"""The scope of an error scored on every task."""

RMSE_NAMES: dict[str, str] = {
    "no_pooling": "no pooling",
    "partial_pooling": "partial pooling",
    "complete_pooling": "complete pooling",
}
"""Reader's names of the three estimates, by their keys in ``FitResult.errors``."""

# Kinds of cell in the padded array.
REAL = "real row"
PAD_IGNORED = "padding, ignored"
PAD_USED = "padding, in the likelihood (x = 0, y = 0)"

_ERROR_COLUMNS = ["method", "scope", "rmse", "tasks"]


def task_label(task: int, n: int) -> str:
    """Axis label of a task: its index and its sample count, e.g. ``task 2 · n=5``."""
    return f"task {int(task)} · n={int(n)}"


def feature_label(feature: int) -> str:
    """Panel label of a feature, e.g. ``feature 0``."""
    return f"feature {int(feature)}"


def child_rows(weights: pd.DataFrame) -> pd.DataFrame:
    """The child rows of a tidy weights table, with integer ids and display labels.

    Parameters
    ----------
    weights
        The tidy weights table of a fit (``FitResult.weights``).

    Returns
    -------
    pandas.DataFrame
        The child rows, re-indexed from 0, with ``task_label`` and ``feature_label``.
    """
    child = weights[weights["level"] == "child"].copy()
    child["task"] = child["task"].astype(int)
    child["n"] = child["n"].astype(int)
    child["feature"] = child["feature"].astype(int)
    child["task_label"] = [task_label(t, n) for t, n in zip(child["task"], child["n"], strict=True)]
    child["feature_label"] = child["feature"].map(feature_label)
    return child.reset_index(drop=True)


def pulls_toward_parent(own, parent, partial, samples) -> np.ndarray:
    """Each task's pull: the share of the way from its own estimate to the parent.

    The pull of task ``t`` is the least-squares slope, over its features, of
    ``own - partial`` on ``own - parent``: 0 means partial pooling kept the task's own
    estimate, 1 means it replaced it by the parent. It is steadier than the per-weight
    ratio, which blows up when a task's own estimate happens to lie near the parent.
    This is the one formula behind :func:`task_pull` (the pull chart) and the
    prediction exercise's true pulls (:mod:`hierdash.classroom.predict`).

    Which tasks have a pull:

    - a task without rows has no estimate of its own and takes the parent's: its pull
      is 1, whatever its estimates hold;
    - a task with rows has a pull only if every feature's own, parent and partial
      estimates are finite and its own estimate is not the parent's (else there is no
      way to go); otherwise its pull is NaN. A slope over only the finite features
      would be another quantity than the one the chart and the exercise name, so a
      missing estimate (too few rows for one of its own, or a fit that returned NaN)
      leaves the task without a pull rather than with part of one.

    Parameters
    ----------
    own : array, shape (T, K)
        Each task's no-pooling estimate; NaN where it has none.
    parent : array, shape (K,) or (T, K)
        The parent's estimate (per task when given as a table's column).
    partial : array, shape (T, K)
        Each task's partial-pooling estimate.
    samples : array of int, shape (T,)
        Each task's row count.

    Returns
    -------
    numpy.ndarray
        Shape (T,): the pulls, 1.0 for a task without rows, NaN where undefined.
    """
    own = np.asarray(own, dtype=float)
    partial = np.asarray(partial, dtype=float)
    samples = np.asarray(samples)
    if own.ndim != 2 or partial.shape != own.shape or samples.shape != own.shape[:1]:
        raise ValueError(
            f"shapes own {own.shape}, partial {partial.shape}, samples {samples.shape} are "
            "not allowed: must be (T, K), (T, K) and (T,)")
    toward = own - np.broadcast_to(np.asarray(parent, dtype=float), own.shape)
    moved = own - partial
    finite = np.isfinite(toward).all(axis=1) & np.isfinite(moved).all(axis=1)
    denom = np.sum(np.where(finite[:, None], toward, 0.0) ** 2, axis=1)
    defined = finite & (denom > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pull = np.where(defined, np.sum(toward * moved, axis=1) / np.where(defined, denom, 1.0),
                        np.nan)
    return np.where(samples == 0, 1.0, pull)


def task_pull(weights: pd.DataFrame) -> pd.DataFrame:
    """How far each task was pulled from its own estimate toward the parent.

    :func:`pulls_toward_parent` of the fit's estimates: the no-pooling estimate, the
    fitted parent mean and the partial-pooling (posterior) mean. A task without rows
    has pull 1; a task with rows but no estimate of its own has none (NaN).

    Parameters
    ----------
    weights
        The tidy weights table of a fit.

    Returns
    -------
    pandas.DataFrame
        One row per task: ``task, n, task_label, pull``.
    """
    child = child_rows(weights)
    columns = ["task", "n", "task_label", "pull"]
    if child.empty:
        return pd.DataFrame(columns=columns)
    tasks = np.sort(child["task"].unique())
    features = np.sort(child["feature"].unique())

    def grid(column: str) -> np.ndarray:  # (task, feature); NaN for a missing weight
        return (child.pivot(index="task", columns="feature", values=column)
                .reindex(index=tasks, columns=features).to_numpy(dtype=float))

    n = child.groupby("task", sort=True)["n"].first().reindex(tasks).to_numpy(dtype=int)
    pull = pulls_toward_parent(grid("no_pooling"), grid("parent_mean"), grid("mean"), n)
    return pd.DataFrame({"task": tasks.astype(int), "n": n,
                         "task_label": [task_label(t, k) for t, k in zip(tasks, n, strict=True)],
                         "pull": pull.astype(float)}, columns=columns)


def comparable_errors(weights: pd.DataFrame) -> pd.DataFrame:
    """RMSE of each estimate against the true child weights, on comparable sets of tasks.

    No pooling has no estimate for a task with too few rows, so its RMSE can only be
    taken over the tasks that have one; comparing it with the other estimates' RMSE
    over *all* tasks would mix two different sets. This scores every estimate on the
    tasks with an estimate of their own, and complete and partial pooling also on all
    tasks. When every task has an estimate of its own the two sets are one, scored once
    (then the values are ``FitResult.errors``).

    Parameters
    ----------
    weights
        The tidy weights table of a fit.

    Returns
    -------
    pandas.DataFrame
        ``method, scope, rmse, tasks``: one row per estimate and set of tasks.
    """
    child = child_rows(weights)
    own = np.isfinite(child["no_pooling"].to_numpy(dtype=float))
    n_tasks = child["task"].nunique()
    n_own = child.loc[own, "task"].nunique()
    own_scope = f"tasks with an estimate of their own ({n_own} of {n_tasks})"
    columns = {"no_pooling": "no_pooling", "complete_pooling": "complete_pooling",
               "partial_pooling": "mean"}
    scopes = [(ALL_TASKS, np.ones_like(own))]
    if not own.all():
        scopes.append((own_scope, own))
    rows = []
    for scope, keep in scopes:
        if not keep.any():
            continue
        part = child[keep]
        for key, column in columns.items():
            # No pooling can't be scored on a set holding tasks it has no estimate for.
            if key == "no_pooling" and not np.isfinite(part[column].to_numpy(dtype=float)).all():
                continue
            err = part[column].to_numpy(dtype=float) - part["true"].to_numpy(dtype=float)
            rows.append({"method": RMSE_NAMES[key], "scope": scope,
                         "rmse": float(np.sqrt(np.mean(err**2))),
                         "tasks": int(part["task"].nunique())})
    return pd.DataFrame(rows, columns=_ERROR_COLUMNS)


def errors_table(errors: Mapping[str, float], *, tasks: int | None = None) -> pd.DataFrame:
    """A mapping of errors (``FitResult.errors``) as a table like :func:`comparable_errors`.

    Parameters
    ----------
    errors
        Estimate key (``no_pooling``, ...) to RMSE; keys are shown by their reader's
        name (:data:`RMSE_NAMES`, else with spaces for underscores). Values are kept as
        given, NaN included.
    tasks
        Number of tasks scored, if known.

    Returns
    -------
    pandas.DataFrame
        ``method, scope, rmse, tasks`` with the scope :data:`ALL_TASKS`.
    """
    rows = [{"method": RMSE_NAMES.get(key, str(key).replace("_", " ")), "scope": ALL_TASKS,
             "rmse": float("nan") if value is None else float(value), "tasks": tasks}
            for key, value in errors.items()]
    return pd.DataFrame(rows, columns=_ERROR_COLUMNS)


def padding_segments(
    mask: np.ndarray, likelihood_mask: np.ndarray, counts: Sequence[int]
) -> pd.DataFrame:
    """Runs of real and padded cells per task, trimmed to the world's real shape.

    Parameters
    ----------
    mask
        True on real rows, shape (capacity tasks, capacity rows).
    likelihood_mask
        True on rows that enter the likelihood, same shape.
    counts
        Real rows per task; their number and maximum trim the arrays.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``task, task_label, start, end, rows, kind`` with ``end``
        exclusive and ``kind`` one of :data:`REAL`, :data:`PAD_IGNORED`,
        :data:`PAD_USED`. Empty when no task has a row.
    """
    counts = [int(c) for c in counts]
    n_tasks, max_rows = len(counts), max(counts, default=0)
    columns = ["task", "task_label", "start", "end", "rows", "kind"]
    if max_rows == 0:
        return pd.DataFrame(columns=columns)
    real = np.asarray(mask, dtype=bool)[:n_tasks, :max_rows]
    used = np.asarray(likelihood_mask, dtype=bool)[:n_tasks, :max_rows]
    kinds = np.where(real, 0, np.where(used, 2, 1))
    names = {0: REAL, 1: PAD_IGNORED, 2: PAD_USED}
    rows = []
    for t in range(n_tasks):
        line = kinds[t]
        edges = np.flatnonzero(np.diff(line)) + 1
        starts = np.concatenate([[0], edges])
        ends = np.concatenate([edges, [max_rows]])
        for s, e in zip(starts, ends, strict=True):
            rows.append({"task": t, "task_label": task_label(t, counts[t]), "start": int(s),
                         "end": int(e), "rows": int(e - s), "kind": names[int(line[s])]})
    return pd.DataFrame(rows, columns=columns)
