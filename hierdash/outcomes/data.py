"""Grouped outcome data: ragged per-task rows, checked, and flattened for the quadrature.

:class:`TaskData` holds the rows of each task as tuples, like
:class:`hierdash.world.World`: features ``X[t]`` (rows, features), outcomes ``y[t]`` and
sizes ``size[t]`` (trials or exposure; ones where the family has none). It checks them
when built, so a bad value is reported once, in words, before any computation.

:func:`rows_of` flattens them into one table sorted by task, merging the rows of a task
that share their features where the family allows it (yes/no rows become binomial
rows, counts add up), and keeps the constant that merging takes out of the likelihood.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hierdash.outcomes.family import Family
from hierdash.outcomes.registry import get_family

__all__ = ["TaskData", "Rows", "rows_of", "pad_naively"]


@dataclass(frozen=True, eq=False)
class TaskData:
    """The checked rows of each task of one outcome family.

    Parameters
    ----------
    family
        A :class:`~hierdash.outcomes.family.Family` or its name.
    X
        Features of each task: a sequence of arrays (rows, features); every task has
        the same number of features (a 1-D array is one feature). A task may have no
        rows.
    y
        Outcomes of each task, one per row.
    size
        Trials (binomial) or exposure (Poisson): None (the family's default), one number
        for every row, or one array (or number) per task.

    Raises
    ------
    ValueError
        If shapes disagree or a value does not fit the family.
    """

    family: Family
    X: tuple[np.ndarray, ...]
    y: tuple[np.ndarray, ...]
    size: tuple[np.ndarray, ...] | None = None

    def __post_init__(self) -> None:
        family = get_family(self.family)
        if len(self.X) != len(self.y) or len(self.X) < 1:
            raise ValueError(f"X and y must hold the same number of tasks (at least one), "
                             f"got {len(self.X)} and {len(self.y)}")
        sizes = _sizes(self.size, len(self.y))
        Xs, ys, ss = [], [], []
        k = None
        for t, (X, y, size) in enumerate(zip(self.X, self.y, sizes, strict=True)):
            where = f"task {t + 1}, "
            X = np.asarray(X, dtype=float)
            X = X[:, None] if X.ndim == 1 else X
            if X.ndim != 2 or X.shape[1] < 1:
                raise ValueError(f"X of {where}must be a table (rows, features), got shape "
                                 f"{X.shape}")
            k = X.shape[1] if k is None else k
            if X.shape[1] != k:
                raise ValueError(f"every task must have the same features: {where}has "
                                 f"{X.shape[1]}, task 1 has {k}")
            if not np.all(np.isfinite(X)):
                raise ValueError(f"X must be a number on every row: {where}has a missing or "
                                 "infinite feature")
            y_arr = np.asarray(y).ravel()
            if len(y_arr) != len(X):
                raise ValueError(f"{where}has {len(X)} rows of X but {len(y_arr)} of y")
            y_checked, s_checked = family.check(y_arr, size, where=where)
            Xs.append(X)
            ys.append(y_checked)
            ss.append(s_checked)
        object.__setattr__(self, "family", family)
        object.__setattr__(self, "X", tuple(Xs))
        object.__setattr__(self, "y", tuple(ys))
        object.__setattr__(self, "size", tuple(ss))

    @property
    def n_tasks(self) -> int:
        return len(self.y)

    @property
    def n_features(self) -> int:
        return self.X[0].shape[1]

    @property
    def counts(self) -> np.ndarray:
        """Rows per task."""
        return np.array([len(y) for y in self.y], dtype=int)


def _sizes(size, n_tasks: int) -> list:
    """One size entry per task: None and a single number apply to every task."""
    if size is None or isinstance(size, int | float | np.number) or (
            isinstance(size, np.ndarray) and size.ndim == 0):
        return [size] * n_tasks
    if isinstance(size, Sequence | np.ndarray) and len(size) == n_tasks:
        return list(size)
    shown = len(size) if isinstance(size, Sequence | np.ndarray) else type(size).__name__
    raise ValueError(f"size must be None, one number or one entry per task ({n_tasks}), got "
                     f"{shown}")


@dataclass(frozen=True, eq=False)
class Rows:
    """Every task's rows in one table, sorted by task (merged where the family allows).

    Attributes
    ----------
    X : ndarray (N, K)
    XX : ndarray (N, K, K)
        Each row's outer product ``x x'``.
    y, size : ndarray (N,)
    task : ndarray of int (N,)
    starts, counts : ndarray of int (T,)
        Where each task's rows start and how many there are.
    constant : float
        The log-likelihood of the data minus the sum of the family's kernel over these
        rows: a constant in the weights (the normalising terms and what merging took out).
    """

    family: Family
    X: np.ndarray
    XX: np.ndarray
    y: np.ndarray
    size: np.ndarray
    task: np.ndarray
    starts: np.ndarray
    counts: np.ndarray
    constant: float

    @property
    def n_tasks(self) -> int:
        return len(self.counts)

    def segment_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` (..., N) over each task's rows: (..., T); 0 for a task with none."""
        return self._segments(np.add, values)

    def segment_max(self, values: np.ndarray) -> np.ndarray:
        """The largest of ``values`` (..., N) over each task's rows; 0 for a task with none."""
        return self._segments(np.maximum, values)

    def _segments(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        out = np.zeros(values.shape[:-1] + (self.n_tasks,))
        some = self.counts > 0
        if some.any():
            out[..., some] = ufunc.reduceat(values, self.starts[some], axis=-1)
        return out


def rows_of(data: TaskData, *, merge: bool = True) -> Rows:
    """Flatten ``data`` into :class:`Rows`, merging rows with equal features if allowed."""
    family = data.family
    Xs, ys, ss = [], [], []
    for X, y, s in zip(data.X, data.y, data.size, strict=True):
        if merge and family.mergeable and len(y) > 1:
            X, inverse = np.unique(X, axis=0, return_inverse=True)
            inverse = inverse.ravel()
            y = np.bincount(inverse, weights=y, minlength=len(X))
            s = np.bincount(inverse, weights=s, minlength=len(X))
        Xs.append(X)
        ys.append(y)
        ss.append(s)
    counts = np.array([len(y) for y in ys], dtype=int)
    X = np.concatenate(Xs) if counts.sum() else np.zeros((0, data.n_features))
    y = np.concatenate(ys) if counts.sum() else np.zeros(0)
    s = np.concatenate(ss) if counts.sum() else np.zeros(0)
    full = sum(float(family.log_likelihood(0.0, yt, st).sum())
               for yt, st in zip(data.y, data.size, strict=True))
    return Rows(
        family=family,
        X=X,
        XX=X[:, :, None] * X[:, None, :],
        y=y,
        size=s,
        task=np.repeat(np.arange(len(counts)), counts),
        starts=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int),
        counts=counts,
        constant=full - float(family.kernel(0.0, y, s)[0].sum()),
    )


def pad_naively(data: TaskData, *, intercept: bool) -> TaskData:
    """``data`` with every task zero-padded to its longest, the padded rows kept as data.

    A padded row has y = 0, every feature 0 and the task's trials or exposure (a
    scalar setting repeats onto every row). With ``intercept`` its first column stays 1,
    as in a model written ``eta = b0[task] + X @ w[task]`` over a zero-padded ``X``: each
    padded row is then a fake "no event" at x = 0 that drags the task's intercept down.
    Without it the row's linear predictor is 0 whatever the weights, so its likelihood
    is a constant and the posterior does not move.
    """
    longest = int(data.counts.max(initial=0))
    given = [s[0] for s in data.size if len(s)]
    default = float(given[0]) if given else 1.0
    Xs, ys, sizes = [], [], []
    for X, y, size in zip(data.X, data.y, data.size, strict=True):
        extra = longest - len(y)
        fake = np.zeros((extra, data.n_features))
        if intercept:
            fake[:, 0] = 1.0
        Xs.append(np.vstack([X, fake]))
        ys.append(np.concatenate([y, np.zeros(extra)]))
        sizes.append(np.concatenate([size, np.full(extra, size[0] if len(size) else default)]))
    return TaskData(data.family, tuple(Xs), tuple(ys), tuple(sizes))
