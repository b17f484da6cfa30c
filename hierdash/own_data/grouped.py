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
from hierdash.own_data.outcome_columns import (
    Outcome,
    check_not_degenerate,
    check_outcome_options,
    check_outcome_values,
    count_notes,
    size_column_of,
)
from hierdash.own_data.priors import default_priors
from hierdash.own_data.reading import MAX_BYTES, DataError, read_table
from hierdash.scenario import Scenario
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
    "prior_fields",
    "prepare_groups",
    "read_table",
    "to_world",
]

MAX_FEATURES = 8  # weights per group, the intercept included (the engine's bound)
MAX_GROUPS = 1000  # more distinct groups than this is almost always an ID column
MAX_ROWS = 200_000
PRIOR_FIELDS = ("prior_parent_mean", "prior_parent_scale", "prior_spread_scale",
                "prior_noise_scale")


def prior_fields(outcome: str) -> tuple[str, ...]:
    """The priors a model of ``outcome`` uses: a yes/no or count outcome has no noise."""
    return PRIOR_FIELDS if outcome == "gaussian" else PRIOR_FIELDS[:3]


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
    outcome : {"gaussian", "bernoulli", "binomial", "poisson"}
        What each row's outcome is: a number, yes/no (0/1), successes of trials, or a
        count over an exposure.
    size_column : str or None
        The trials (binomial) or exposure (poisson) column, if any.
    sizes : tuple of ndarray, each (n_g,), or None
        Each group's trials (binomial) or exposure (poisson, all ones without an
        exposure column); None for the other outcomes.
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
    outcome: Outcome = "gaussian"
    size_column: str | None = None
    sizes: tuple[np.ndarray, ...] | None = None

    @property
    def is_gaussian(self) -> bool:
        return self.outcome == "gaussian"

    @property
    def counts(self) -> np.ndarray:
        """Rows per group, shape (groups,)."""
        return np.array([len(y) for y in self.y], dtype=int)

    @property
    def group_sizes(self) -> np.ndarray:
        """How much data each group has: its trials for a binomial outcome (a group of 30
        rats is one row), else its rows. Shape (groups,)."""
        if self.outcome == "binomial" and self.sizes is not None:
            return np.array([float(s.sum()) for s in self.sizes])
        return self.counts.astype(float)

    @property
    def size_unit(self) -> str:
        """What :attr:`group_sizes` counts, in words: ``trials`` or ``rows``."""
        return "trials" if self.outcome == "binomial" and self.sizes is not None else "rows"

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
    outcome: Outcome = "gaussian",
    trials: str | None = None,
    exposure: str | None = None,
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
    outcome
        What ``y`` is: ``gaussian`` (a number), ``bernoulli`` (yes/no, 0 or 1),
        ``binomial`` (successes of the ``trials`` column's tries) or ``poisson`` (a count
        over the ``exposure`` column, 1 in every row without one).
    trials, exposure
        The column of each row's trials (binomial only, required) or exposure (poisson
        only, optional).

    Returns
    -------
    GroupedData

    Raises
    ------
    DataError
        For a problem with the data or the choice of columns (unknown or non-numeric
        column, missing values refused, a single group, too many groups or rows, a
        constant outcome, a constant or collinear feature, too many features; for a
        yes/no or count outcome: a value that is not 0/1, negative or not whole, more
        successes than trials, trials below 1, an exposure of 0 or less, a trials or
        exposure column with the wrong outcome, no event in any row).
    ValueError
        For an option of the wrong kind (a programming error, not the data's).
    """
    x = check_options(frame, group=group, y=y, x=x, intercept=intercept,
                      standardise=standardise, max_groups=max_groups, max_rows=max_rows,
                      missing=missing, max_features=MAX_FEATURES)
    check_outcome_options(outcome, trials, exposure, [str(c) for c in frame.columns],
                          [group, y, *x])
    size_col = size_column_of(outcome, trials, exposure)
    frame = frame.rename(columns=str)
    y_values, size_values = check_outcome_values(frame, y=y, outcome=outcome, size=size_col)
    features = {c: numeric_column(frame, c, "feature") for c in x}
    numeric = pd.DataFrame({group: frame[group], y: y_values, **features}, index=frame.index)
    checked = x + ([size_col] if size_col is not None else [])
    if size_col is not None:
        numeric[size_col] = size_values
    clean, n_dropped, notes = drop_missing(numeric, group, y, checked, missing)
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
    size_all = clean[size_col].to_numpy(float) if size_col is not None else None
    if outcome != "gaussian":
        check_not_degenerate(y_all, size_all, y=y, outcome=outcome)
    elif np.ptp(y_all) == 0:
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
    size_groups = None
    if outcome == "poisson" and size_all is None:
        size_all = np.ones(len(y_all))
    if size_all is not None:
        size_groups = tuple(np.split(size_all[order], bounds))
    rows = clean.iloc[order].reset_index(drop=True)
    rows[group] = [names[c] for c in codes[order]]
    notes += _notes(X_groups, x, intercept, counts, len(names_k),
                    alone=outcome == "gaussian")
    if outcome != "gaussian":
        notes += count_notes(y_groups, size_groups, outcome=outcome)
    return GroupedData(
        group_column=group, outcome_column=y, feature_columns=tuple(x),
        feature_names=tuple(names_k), intercept=intercept, standardised=standardise,
        group_names=tuple(names), X=X_groups, y=y_groups, feature_means=means,
        feature_sds=sds, rows=rows, n_dropped=n_dropped, notes=tuple(notes),
        outcome=outcome, size_column=size_col, sizes=size_groups,
    )


def _notes(X_groups, x, intercept, counts, k, *, alone: bool = True) -> list[str]:
    """Remarks on groups the no-pooling fit can't estimate alone (least squares only:
    a yes/no or count group alone is fitted under the parent's prior, always finite)."""
    notes = []
    # A group's own least squares needs at least k rows whose features are not collinear.
    alone = alone and sum(len(Xg) < k or np.linalg.matrix_rank(Xg) < k for Xg in X_groups)
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
    if scenario.outcome != grouped.outcome:
        raise ValueError(f"scenario.outcome = {scenario.outcome!r} is not allowed: the data's "
                         f"outcome is {grouped.outcome!r}")
    k, t = grouped.n_features, grouped.n_groups
    return World(scenario, np.full(k, np.nan), np.full((t, k), np.nan), grouped.X, grouped.y,
                 grouped.sizes)
