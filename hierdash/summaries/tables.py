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


def task_pull(weights: pd.DataFrame) -> pd.DataFrame:
    """How far each task was pulled from its own estimate toward the parent.

    The pull of task ``t`` is the least-squares slope, over its features, of
    ``no_pooling - partial`` on ``no_pooling - parent``: 0 means partial pooling kept
    the task's own estimate, 1 means it replaced it by the parent. It is steadier
    than the per-weight ratio, which blows up when a task's own estimate happens to
    lie near the parent. A task without rows has no estimate of its own and uses the
    parent: its pull is 1. A task with rows but too few for an estimate of its own
    has no pull (NaN).

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
    rows = []
    for task, group in child.groupby("task", sort=True):
        own = group["no_pooling"].to_numpy(dtype=float)
        toward = own - group["parent_mean"].to_numpy(dtype=float)
        moved = own - group["mean"].to_numpy(dtype=float)
        n = int(group["n"].iloc[0])
        ok = np.isfinite(toward) & np.isfinite(moved)
        denom = float(np.sum(toward[ok] ** 2))
        if n == 0:
            pull = 1.0
        elif ok.any() and denom > 0:
            pull = float(np.sum(toward[ok] * moved[ok]) / denom)
        else:
            pull = float("nan")
        rows.append({"task": int(task), "n": n, "task_label": task_label(task, n), "pull": pull})
    return pd.DataFrame(rows, columns=["task", "n", "task_label", "pull"])


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
