"""The two extremes partial pooling sits between: every task alone, and all tasks as one.

Both are plain least squares on the sufficient statistics: no priors, no uncertainty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hierdash.exact.inputs import check_stats
from hierdash.world import SufficientStats

__all__ = ["NoPooling", "no_pooling", "complete_pooling", "pooling_errors", "RANK_RTOL"]

# An eigenvalue of X'X below RANK_RTOL times the largest counts as zero: the task's
# features are (nearly) collinear, X's condition number would exceed about 1e6.
RANK_RTOL = 1e-12


@dataclass(frozen=True, eq=False)
class NoPooling:
    """Each task's own least-squares weights.

    Attributes
    ----------
    estimate : ndarray, shape (T, K)
        Least-squares weights of each task alone; NaN for tasks that can't estimate
        their weights alone.
    identified : ndarray of bool, shape (T,)
        Whether the task's own rows determine its weights.
    reason : tuple of str, length T
        ``''`` for identified tasks, else why not, in plain words (tasks are numbered
        from 0, as in the arrays).
    """

    estimate: np.ndarray
    identified: np.ndarray
    reason: tuple[str, ...]


def _rank(XtX: np.ndarray) -> np.ndarray:
    """Numerical rank of each task's X'X (T,)."""
    lam = np.linalg.eigvalsh(XtX)
    top = lam[:, -1:]
    return np.where(top[:, 0] > 0, (lam > RANK_RTOL * top).sum(axis=1), 0)


def _rows(n: float) -> str:
    n_int = int(n) if float(n).is_integer() else n
    return "1 row" if n_int == 1 else f"{n_int} rows"


def no_pooling(stats: SufficientStats) -> NoPooling:
    """Per-task least squares, each task on its own rows only.

    A task's weights are identified when it has at least as many rows as weights and
    its ``X'X`` has full rank (smallest eigenvalue above ``RANK_RTOL`` times the
    largest).

    Parameters
    ----------
    stats
        Per-task sufficient statistics.

    Returns
    -------
    NoPooling

    Raises
    ------
    ValueError
        If the statistics are inconsistent (see :func:`hierdash.exact.inputs.check_stats`).
    """
    XtX, Xty, _, n = check_stats(stats)
    t, k = Xty.shape
    rank = _rank(XtX)
    weights = "1 weight" if k == 1 else f"{k} weights"
    reasons = []
    for i in range(t):
        if n[i] == 0:
            reasons.append(
                f"task {i} has no rows: nothing to estimate its weights from alone, so "
                "partial pooling gives it the parent's. Try giving it a few rows."
            )
        elif n[i] < k:
            reasons.append(
                f"task {i} has {_rows(n[i])} for {weights}: too few to estimate alone "
                f"(no-pooling needs at least {k}). Try giving it more rows or using fewer "
                "features; partial pooling still estimates it from the parent."
            )
        elif rank[i] == 0:
            reasons.append(
                f"task {i} has {_rows(n[i])} but all its features are zero: "
                "they say nothing about its weights"
            )
        elif rank[i] < k:
            reasons.append(
                f"task {i} has {_rows(n[i])} but its features are collinear "
                f"(rank {rank[i]} of {k}): its weights can't be told apart alone"
            )
        else:
            reasons.append("")
    identified = np.array([r == "" for r in reasons], dtype=bool)
    estimate = np.full((t, k), np.nan)
    if identified.any():
        solved = np.linalg.solve(XtX[identified], Xty[identified][..., None])
        estimate[identified] = solved[..., 0]
    return NoPooling(estimate=estimate, identified=identified, reason=tuple(reasons))


def complete_pooling(stats: SufficientStats) -> np.ndarray:
    """One least-squares weight vector for all tasks' rows together.

    Parameters
    ----------
    stats
        Per-task sufficient statistics.

    Returns
    -------
    ndarray, shape (K,)
        The pooled least-squares weights; all NaN if the pooled rows can't determine
        them (fewer rows than weights in all, or collinear features).

    Raises
    ------
    ValueError
        If the statistics are inconsistent (see :func:`hierdash.exact.inputs.check_stats`).
    """
    XtX, Xty, _, n = check_stats(stats)
    k = Xty.shape[1]
    total = XtX.sum(axis=0)
    if n.sum() < k or _rank(total[None])[0] < k:
        return np.full(k, np.nan)
    return np.linalg.solve(total, Xty.sum(axis=0))


def _rmse(err: np.ndarray) -> float:
    return float(np.sqrt(np.mean(err**2))) if err.size else float("nan")


def pooling_errors(
    true_child: np.ndarray,
    *,
    no_pool: NoPooling,
    complete: np.ndarray,
    partial: np.ndarray,
) -> dict[str, float]:
    """Root-mean-square error of each estimate against the true task weights.

    Parameters
    ----------
    true_child : ndarray, shape (T, K)
        The true weights of each task.
    no_pool
        Per-task least squares; only its identified tasks are scored.
    complete : ndarray, shape (K,)
        The pooled weights, the same for every task.
    partial : ndarray, shape (T, K)
        Partial-pooling estimate (e.g. the posterior mean of the child weights).

    Returns
    -------
    dict
        ``no_pooling`` (over identified tasks only; NaN if there are none),
        ``complete_pooling`` and ``partial_pooling``: RMSE over all weights scored.
    """
    truth = np.asarray(true_child, dtype=float)
    if truth.ndim != 2:
        raise ValueError(
            f"true_child shape = {truth.shape} is not allowed: must be (tasks, features)"
        )
    t, k = truth.shape
    est = np.asarray(no_pool.estimate, dtype=float)
    ident = np.asarray(no_pool.identified, dtype=bool)
    if est.shape != (t, k) or ident.shape != (t,):
        raise ValueError(
            f"no_pool shapes = {est.shape}, {ident.shape} are not allowed: must be "
            f"{(t, k)} and {(t,)} like true_child"
        )
    complete = np.asarray(complete, dtype=float)
    if complete.shape != (k,):
        raise ValueError(f"complete shape = {complete.shape} is not allowed: must be {(k,)}")
    partial = np.asarray(partial, dtype=float)
    if partial.shape != (t, k):
        raise ValueError(f"partial shape = {partial.shape} is not allowed: must be {(t, k)}")
    return {
        "no_pooling": _rmse(est[ident] - truth[ident]),
        "complete_pooling": _rmse(complete[None, :] - truth),
        "partial_pooling": _rmse(partial - truth),
    }
