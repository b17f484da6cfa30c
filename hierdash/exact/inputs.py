"""Input checks shared by the closed-form estimators (exact posterior, no and complete pooling).

Each check raises a :class:`ValueError` that names the value, shows it and says what is
allowed.
"""

from __future__ import annotations

import math

import numpy as np

from hierdash.values import bad_value
from hierdash.world import SufficientStats

__all__ = ["check_stats", "positive_number"]


def check_stats(stats: SufficientStats) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check sufficient statistics and return them as float arrays.

    Parameters
    ----------
    stats
        Per-task ``XtX`` (T, K, K), ``Xty`` (T, K), ``yty`` (T,) and ``n`` (T,).

    Returns
    -------
    XtX, Xty, yty, n
        Float copies; ``XtX`` is made exactly symmetric.

    Raises
    ------
    ValueError
        If a shape does not match, a value is not finite, a count is negative, or a
        task with no rows has non-zero statistics.
    """
    try:
        XtX = np.array(stats.XtX, dtype=float)
        Xty = np.array(stats.Xty, dtype=float)
        yty = np.array(stats.yty, dtype=float)
        n = np.array(stats.n, dtype=float)
    except AttributeError as err:
        raise ValueError(
            f"stats must be SufficientStats (XtX, Xty, yty, n), got {type(stats).__name__}"
        ) from err
    except (TypeError, ValueError) as err:
        raise ValueError(f"stats must hold numeric arrays: {err}") from err
    if XtX.ndim != 3 or XtX.shape[1] != XtX.shape[2] or XtX.shape[0] < 1 or XtX.shape[1] < 1:
        raise bad_value("stats.XtX shape", XtX.shape, "must be (tasks, features, features), tasks >= 1")
    t, k = XtX.shape[:2]
    if Xty.shape != (t, k):
        raise bad_value("stats.Xty shape", Xty.shape, f"must be (tasks, features) = {(t, k)}")
    if yty.shape != (t,):
        raise bad_value("stats.yty shape", yty.shape, f"must be (tasks,) = {(t,)}")
    if n.shape != (t,):
        raise bad_value("stats.n shape", n.shape, f"must be (tasks,) = {(t,)}")
    for name, arr in (("XtX", XtX), ("Xty", Xty), ("yty", yty), ("n", n)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"stats.{name} has values that are not finite (NaN or inf)")
    if np.any(n < 0):
        raise bad_value("stats.n", n.tolist(), "row counts must be >= 0")
    scale = np.abs(XtX).max(axis=(1, 2), initial=0.0)
    asym = np.abs(XtX - XtX.transpose(0, 2, 1)).max(axis=(1, 2), initial=0.0)
    if np.any(asym > 1e-8 * scale):
        raise ValueError("stats.XtX must be symmetric in each task")
    XtX = 0.5 * (XtX + XtX.transpose(0, 2, 1))
    low = np.linalg.eigvalsh(XtX)[:, 0]
    if np.any(low < -1e-8 * np.maximum(scale, 1e-300)):
        bad = int(np.flatnonzero(low < -1e-8 * np.maximum(scale, 1e-300))[0])
        raise ValueError(f"stats.XtX of task {bad} is not positive semi-definite")
    if np.any(yty < -1e-12 * (1.0 + np.abs(yty))):
        raise bad_value("stats.yty", yty.tolist(), "sums of squares must be >= 0")
    empty = n == 0
    if np.any(empty & ((scale > 0) | np.any(Xty != 0, axis=1) | (yty != 0))):
        bad = int(np.flatnonzero(empty & ((scale > 0) | np.any(Xty != 0, axis=1)
                                          | (yty != 0)))[0])
        raise ValueError(f"task {bad} has n = 0 rows but non-zero statistics")
    return XtX, Xty, yty, n


def positive_number(name: str, value: object) -> float:
    """``value`` as a float, if it is a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise bad_value(name, value, "must be a positive finite number")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise bad_value(name, value, "must be a positive finite number")
    return value
