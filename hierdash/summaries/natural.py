"""A yes/no or count world on its natural scale: each task's probability or rate.

The weights of such a world live on the link scale (log-odds, log rate), where partial
pooling pulls. :func:`natural_intercepts` puts each task's intercept back on the scale
a reader knows, beside what the task's own rows say alone (its share of successes, or
its count per exposure), so a task with 0 successes of 5 shows at 0 on its own and
above 0 once pooled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hierdash.summaries.tables import task_label

__all__ = ["NATURAL_COLUMNS", "natural_intercepts"]

NATURAL_COLUMNS = ["task", "n", "task_label", "events", "size", "raw", "natural_true",
                   "natural_mean", "natural_low", "natural_high", "parent_natural_mean",
                   "parent_natural_low", "parent_natural_high"]


def natural_intercepts(weights: pd.DataFrame, y, sizes=None) -> pd.DataFrame:
    """Each task's intercept as a probability or a rate, beside its own rows' share.

    Parameters
    ----------
    weights
        The tidy weights table of a yes/no or count fit (``FitResult.weights``), with
        the ``natural_*`` columns
        (:func:`hierdash.inference.summarise.with_natural_scale`).
    y
        Each task's outcomes (``World.y``): successes (or yes = 1) or counts.
    sizes
        Each task's trials or exposure per row (``World.sizes``); None when every row
        is one trial (yes/no).

    Returns
    -------
    pandas.DataFrame
        One row per task (none if the world has no intercept): ``task, n, task_label``;
        ``events`` (successes or counts) and ``size`` (trials or exposure) summed over
        the task's rows; ``raw`` = events / size (NaN without rows); the intercept's
        ``natural_true``, ``natural_mean`` and interval ``natural_low``/``natural_high``;
        and the parent's ``parent_natural_mean``, ``parent_natural_low``,
        ``parent_natural_high`` on every row.
    """
    if "natural_scale" not in weights:
        return pd.DataFrame(columns=NATURAL_COLUMNS)
    first = weights[(weights["feature"] == 0)
                    & weights["natural_scale"].isin(["probability", "rate"])]
    parent = first[first["level"] == "parent"]
    child = first[first["level"] == "child"].sort_values("task")
    if parent.empty or child.empty:
        return pd.DataFrame(columns=NATURAL_COLUMNS)
    events = np.array([float(np.sum(v)) for v in y])
    size = (np.array([float(len(v)) for v in y]) if sizes is None
            else np.array([float(np.sum(s)) for s in sizes]))
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(size > 0, events / np.where(size > 0, size, 1.0), np.nan)
    tasks = child["task"].to_numpy(dtype=int)
    counts = child["n"].to_numpy(dtype=int)
    top = parent.iloc[0]
    return pd.DataFrame({
        "task": tasks,
        "n": counts,
        "task_label": [task_label(t, n) for t, n in zip(tasks, counts, strict=True)],
        "events": events[tasks],
        "size": size[tasks],
        "raw": raw[tasks],
        "natural_true": child["natural_true"].to_numpy(dtype=float),
        "natural_mean": child["natural_mean"].to_numpy(dtype=float),
        "natural_low": child["natural_low"].to_numpy(dtype=float),
        "natural_high": child["natural_high"].to_numpy(dtype=float),
        "parent_natural_mean": float(top["natural_mean"]),
        "parent_natural_low": float(top["natural_low"]),
        "parent_natural_high": float(top["natural_high"]),
    })[NATURAL_COLUMNS]
