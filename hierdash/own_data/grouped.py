"""A grouped table of your own, validated into tasks: one task per group.

:func:`read_table` turns an uploaded file into a :class:`pandas.DataFrame`;
:func:`prepare_groups` checks the chosen columns and splits the rows into groups
(:class:`GroupedData`); :func:`to_world` hands them to the engine as a
:class:`~hierdash.world.World` without a truth; :func:`default_priors` picks priors on the
data's scale. Every problem a student can cause raises a :class:`DataError` whose
message says what is wrong and what to do, in plain words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from hierdash.own_data.columns import (
    check_collinear,
    check_options,
    drop_missing,
    group_labels,
    numeric_column,
    quoted,
)
from hierdash.own_data.reading import MAX_BYTES, DataError, read_table
from hierdash.scenario import BOUNDS, Scenario
from hierdash.world import SufficientStats, World

__all__ = [
    "DataError",
    "GroupedData",
    "MAX_BYTES",
    "MAX_FEATURES",
    "MAX_GROUPS",
    "MAX_ROWS",
    "PRIOR_FIELDS",
    "default_priors",
    "grouped_stats",
    "prepare_groups",
    "read_table",
    "to_world",
]

MAX_FEATURES = 8  # weights per group, the intercept included (the engine's bound)
MAX_GROUPS = 1000  # more distinct groups than this is almost always an ID column
MAX_ROWS = 200_000
PRIOR_FIELDS = ("prior_parent_mean", "prior_parent_scale", "prior_spread_scale",
                "prior_noise_scale")


@dataclass(frozen=True, eq=False)
class GroupedData:
    """The rows of a table split into groups, ready to be fitted as tasks.

    Groups are in sorted order of their values (numerically when the group column is
    numeric, else alphabetically), so the same table gives the same tasks however its
    rows are ordered.

    Attributes
    ----------
    group_column, outcome_column : str
        The chosen columns.
    feature_columns : tuple of str
        The chosen feature columns (the intercept is not one of them).
    feature_names : tuple of str
        One name per weight: ``intercept`` first when asked, then the feature columns.
    intercept, standardised : bool
        Whether a column of ones leads ``X``; whether the features were rescaled.
    group_names : tuple of str
        The groups' values as text (to be shown as text, never as markup).
    X : tuple of ndarray, each (n_g, K)
        Each group's features as fitted (rescaled when ``standardised``).
    y : tuple of ndarray, each (n_g,)
        Each group's outcomes.
    feature_means, feature_sds : ndarray, shape (len(feature_columns),)
        The fitted feature is ``(x - mean) / sd``: mean 0 and sd 1 when not
        standardised; without an intercept the mean is 0 and ``sd`` the root mean square
        (centring would change the model: no intercept absorbs the shift).
    rows : pandas.DataFrame
        The rows actually used, original values, grouped in task order; the group
        column holds the group names.
    n_dropped : int
        Rows dropped for missing values.
    notes : tuple of str
        Plain-words remarks to show (dropped rows, groups too small to fit alone...).
    """

    group_column: str
    outcome_column: str
    feature_columns: tuple[str, ...]
    feature_names: tuple[str, ...]
    intercept: bool
    standardised: bool
    group_names: tuple[str, ...]
    X: tuple[np.ndarray, ...]
    y: tuple[np.ndarray, ...]
    feature_means: np.ndarray
    feature_sds: np.ndarray
    rows: pd.DataFrame
    n_dropped: int
    notes: tuple[str, ...]

    @property
    def counts(self) -> np.ndarray:
        """Rows per group, shape (groups,)."""
        return np.array([len(y) for y in self.y], dtype=int)

    @property
    def n_groups(self) -> int:
        return len(self.y)

    @property
    def n_features(self) -> int:
        """Weights per group, the intercept included."""
        return len(self.feature_names)

    @property
    def n_rows(self) -> int:
        return int(self.counts.sum())

    def to_original_scale(self, weights: np.ndarray) -> np.ndarray:
        """Weights of the fitted features as weights of the original columns.

        Parameters
        ----------
        weights : array, shape (..., K)
            Weights in the order of :attr:`feature_names`.

        Returns
        -------
        ndarray, shape (..., K)
            Slopes divided by the features' sds; the intercept (when there is one) less
            the slopes times the means it absorbed. Unchanged when not standardised.
        """
        w = np.array(weights, dtype=float)
        if w.shape[-1:] != (self.n_features,):
            raise ValueError(
                f"weights shape = {w.shape} is not allowed: the last axis must have "
                f"{self.n_features} weights ({', '.join(self.feature_names)})"
            )
        start = 1 if self.intercept else 0
        slopes = w[..., start:] / self.feature_sds
        out = w.copy()
        out[..., start:] = slopes
        if self.intercept:
            out[..., 0] = w[..., 0] - slopes @ self.feature_means
        return out


def prepare_groups(
    frame: pd.DataFrame,
    *,
    group: str,
    y: str,
    x: Sequence[str],
    intercept: bool = True,
    standardise: bool = False,
    max_groups: int = MAX_GROUPS,
    max_rows: int = MAX_ROWS,
    missing: Literal["drop", "refuse"] = "drop",
) -> GroupedData:
    """Check the chosen columns of ``frame`` and split its rows into groups.

    Parameters
    ----------
    frame
        The table (e.g. from :func:`read_table`).
    group, y
        The column whose values name the groups, and the outcome column.
    x
        Feature columns (may be empty when there is an intercept: varying intercepts).
    intercept
        Put a column of ones first, so each group has its own intercept.
    standardise
        Rescale each feature to mean 0 and sd 1 over all rows used (with an intercept;
        without one, to root mean square 1, uncentred). See :attr:`GroupedData.feature_sds`.
    max_groups, max_rows
        Refuse more distinct groups or more rows (after dropping) than these.
    missing
        ``drop`` rows with a missing value in a chosen column (counted in the notes),
        or ``refuse`` them.

    Returns
    -------
    GroupedData

    Raises
    ------
    DataError
        For a problem with the data or the choice of columns (unknown or non-numeric
        column, missing values refused, a single group, too many groups or rows, a
        constant outcome, a constant or collinear feature, too many features).
    ValueError
        For an option of the wrong kind (a programming error, not the data's).
    """
    x = check_options(frame, group=group, y=y, x=x, intercept=intercept,
                      standardise=standardise, max_groups=max_groups, max_rows=max_rows,
                      missing=missing, max_features=MAX_FEATURES)
    frame = frame.rename(columns=str)
    outcome = numeric_column(frame, y, "outcome")
    features = {c: numeric_column(frame, c, "feature") for c in x}
    numeric = pd.DataFrame({group: frame[group], y: outcome, **features}, index=frame.index)
    clean, n_dropped, notes = drop_missing(numeric, group, y, x, missing)
    if len(clean) > max_rows:
        raise DataError(f"The table has {len(clean):,} rows: at most {max_rows:,} are allowed.")
    codes, names = group_labels(clean[group])
    n_groups = len(names)
    if n_groups == 1:
        raise DataError(
            f"The group column {quoted(group)} has only one value ({quoted(names[0])}): "
            "there is nothing to pool. Choose a column that splits the rows into groups."
        )
    if n_groups > max_groups:
        raise DataError(
            f"The group column {quoted(group)} has {n_groups:,} distinct values (at most "
            f"{max_groups:,} allowed); did you pick an ID column? Choose a column whose "
            "values repeat, such as a school, a county or a patient."
        )
    y_all = clean[y].to_numpy(float)
    if np.ptp(y_all) == 0:
        raise DataError(f"The outcome {quoted(y)} is {y_all[0]:g} in every row: there is "
                        "nothing to explain.")
    raw = clean[x].to_numpy(float).reshape(len(clean), len(x))
    means, sds = np.zeros(len(x)), np.ones(len(x))
    for j, name in enumerate(x):
        column = raw[:, j]
        if np.ptp(column) == 0:
            if intercept:
                raise DataError(
                    f"The feature {quoted(name)} is {column[0]:g} in every row: with an "
                    "intercept it can't be told apart from the intercept. Remove it, or fit "
                    "without an intercept."
                )
            if column[0] == 0:
                raise DataError(f"The feature {quoted(name)} is 0 in every row: it says "
                                "nothing about the outcome. Remove it.")
        if standardise:
            means[j] = column.mean() if intercept else 0.0
            sds[j] = column.std() if intercept else np.sqrt(np.mean(column**2))
    fitted = (raw - means) / sds
    if intercept:
        fitted = np.column_stack([np.ones(len(clean)), fitted])
    names_k = (["(intercept)" if "intercept" in x else "intercept"] if intercept else []) + x
    check_collinear(fitted, names_k)

    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_groups)
    bounds = np.cumsum(counts)[:-1]
    X_groups = tuple(np.split(fitted[order], bounds))
    y_groups = tuple(np.split(y_all[order], bounds))
    rows = clean.iloc[order].reset_index(drop=True)
    rows[group] = [names[c] for c in codes[order]]
    notes += _notes(X_groups, x, intercept, counts, len(names_k))
    return GroupedData(
        group_column=group, outcome_column=y, feature_columns=tuple(x),
        feature_names=tuple(names_k), intercept=intercept, standardised=standardise,
        group_names=tuple(names), X=X_groups, y=y_groups, feature_means=means,
        feature_sds=sds, rows=rows, n_dropped=n_dropped, notes=tuple(notes),
    )


def _notes(X_groups, x, intercept, counts, k) -> list[str]:
    """Remarks on groups the no-pooling fit can't estimate alone."""
    notes = []
    # A group's own least squares needs at least k rows whose features are not collinear.
    alone = sum(len(Xg) < k or np.linalg.matrix_rank(Xg) < k for Xg in X_groups)
    if alone:
        notes.append(
            f"{alone:,} of {len(counts):,} groups can't be estimated alone (no pooling): "
            f"fewer rows than weights ({k}), or a feature that never changes within the "
            "group. Partial pooling still estimates them."
        )
    if intercept:
        for j, name in enumerate(x):
            inside = [np.ptp(Xg[:, 1 + j]) == 0 for Xg in X_groups if len(Xg) > 1]
            if inside and all(inside):
                notes.append(
                    f"{name!r} is constant within every group (a property of the group): "
                    "a group's own weight for it is learnt only through the parent."
                )
    return notes


def grouped_stats(grouped: GroupedData) -> SufficientStats:
    """Per-group sufficient statistics (``X'X``, ``X'y``, ``y'y``, ``n``) of the fitted rows."""
    return SufficientStats(
        XtX=np.stack([Xg.T @ Xg for Xg in grouped.X]),
        Xty=np.stack([Xg.T @ yg for Xg, yg in zip(grouped.X, grouped.y, strict=True)]),
        yty=np.array([yg @ yg for yg in grouped.y]),
        n=grouped.counts.astype(float),
    )


def to_world(grouped: GroupedData, scenario: Scenario) -> World:
    """The groups as a :class:`~hierdash.world.World` for ``scenario``, with no truth.

    The true weights are unknown, so ``parent`` and ``child`` are NaN arrays of the right
    shapes. ``scenario`` must have one task per group with the group's row count as its
    sample count, and the groups' number of weights as ``n_features``.
    """
    if scenario.n_features != grouped.n_features:
        raise ValueError(
            f"scenario.n_features = {scenario.n_features} is not allowed: the data have "
            f"{grouped.n_features} weights per group ({', '.join(grouped.feature_names)})"
        )
    if tuple(scenario.samples) != tuple(int(n) for n in grouped.counts):
        raise ValueError(
            f"scenario.samples (length {scenario.n_tasks}) is not allowed: must be the "
            f"groups' row counts, {grouped.n_groups} numbers"
        )
    k, t = grouped.n_features, grouped.n_groups
    return World(scenario, np.full(k, np.nan), np.full((t, k), np.nan), grouped.X, grouped.y)


def default_priors(grouped: GroupedData) -> dict[str, float | str]:
    """Weakly informative priors on the data's scale, by a stated rule.

    The rule follows rstanarm's default priors (the vignette *Prior Distributions for
    rstanarm Models*: ``normal(0, 2.5 sd(y) / sd(x))`` on a coefficient, an exponential
    of mean ``sd(y)`` on the noise): a weight's natural scale is ``sd(y) / sd(x)`` (``sd(y)``
    for the intercept, a constant column's ``|value|`` for ``sd(x)``). With ``s`` the
    largest natural scale over the weights (the model has one parent scale and one
    spread for all weights) and ``b`` the complete-pooling least-squares weights:

    * parent ``Normal(0, 2.5 max(s, |b|))``: centred at 0 so the prior does not use the
      estimate it is compared with, wide enough that the pooled estimate sits within
      0.4 prior sds of the centre;
    * spread ``HalfNormal(s)``: a group may differ from the parent by up to about one
      sd of ``y`` per sd of ``x``, far more than groups usually differ;
    * noise ``HalfNormal(sd(y))``: the noise can't exceed the outcome's own spread by much.

    Values are clipped to the scenario's allowed ranges (a note says so).

    Returns
    -------
    dict
        The four ``prior_*`` fields (floats) and ``rule``: one sentence stating the rule
        (plus any clipping), for the page to show.
    """
    X = np.concatenate(grouped.X)
    y = np.concatenate(grouped.y)
    sd_y = float(np.std(y, ddof=1))  # prepare_groups guarantees >= 2 rows
    sd_x = np.std(X, axis=0, ddof=1)
    constant = sd_x == 0
    sd_x[constant] = np.abs(X[0, constant])
    natural = float(np.max(sd_y / sd_x))
    pooled, *_ = np.linalg.lstsq(X, y, rcond=None)
    values = {
        "prior_parent_mean": 0.0,
        "prior_parent_scale": 2.5 * max(natural, float(np.max(np.abs(pooled)))),
        "prior_spread_scale": natural,
        "prior_noise_scale": sd_y,
    }
    rule = ("Priors from the data (rstanarm's rule): parent Normal(0, 2.5 x the larger of "
            "the largest sd(y)/sd(x) and the largest pooled least-squares weight), spread "
            "HalfNormal(largest sd(y)/sd(x)), noise HalfNormal(sd(y)).")
    clipped = []
    for name, value in values.items():
        bound = BOUNDS[name]
        kept = min(max(value, bound.low), bound.high)
        if kept != value:
            clipped.append(f"{name} {value:.3g} -> {kept:g}")
        values[name] = float(f"{kept:.3g}")
    if clipped:
        rule += (" Clipped to the allowed range (" + "; ".join(clipped) + "): consider "
                 "standardising the features or rescaling the outcome.")
    return {**values, "rule": rule}
