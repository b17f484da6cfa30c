"""Checks on the columns a student picks from a table, each failing with a clear message.

Used by :func:`hierdash.own_data.grouped.prepare_groups`; every data problem raises
:class:`~hierdash.own_data.reading.DataError` naming the column and, as quoted text, an
example of the bad value.
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pandas as pd

from hierdash.own_data.reading import DataError

# A number written with a decimal comma, e.g. 1,5 (read as text in a comma-separated file).
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")

__all__ = ["check_collinear", "check_options", "drop_missing", "group_labels",
           "numeric_column", "quoted"]


def quoted(value: object, limit: int = 40) -> str:
    """A cell's value as quoted text, cut to ``limit`` characters."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)


def _unknown_column(name: str, columns: list[str]) -> DataError:
    listing = ", ".join(repr(c) for c in columns[:20])
    if len(columns) > 20:
        listing += f" and {len(columns) - 20} more"
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return DataError(f"There is no column {quoted(name)}.{hint} The columns are: {listing}.")


def numeric_column(frame: pd.DataFrame, column: str, role: str) -> pd.Series:
    """The column as floats (missing stays NaN), or a DataError showing a bad value."""
    series = frame[column]
    if pd.api.types.is_bool_dtype(series):
        series = series.astype(float)
    if pd.api.types.is_numeric_dtype(series):
        values = series.astype(float)
    else:
        # Blank cells are missing values, not bad numbers.
        series = series.mask(series.astype(str).str.strip().eq(""))
        values = pd.to_numeric(series, errors="coerce").astype(float)
        bad = np.flatnonzero((series.notna() & values.isna()).to_numpy())
        if bad.size:
            first = int(bad[0])
            count = "1 row is" if bad.size == 1 else f"{bad.size:,} rows are"
            example = str(series.iloc[first]).strip()
            hint = (" It looks like a decimal comma: write decimals with a point, or "
                    "separate the columns with semicolons." if _DECIMAL_COMMA.match(example)
                    else " Choose a numeric column, or leave a cell empty if its value is "
                    "missing.")
            raise DataError(
                f"The {role} column {quoted(column)} is not numeric: data row {first + 1} "
                f"holds {quoted(example)} ({count} not a number).{hint}"
            )
    infinite = np.flatnonzero(np.isinf(values.to_numpy()))
    if infinite.size:
        raise DataError(
            f"The {role} column {quoted(column)} holds an infinite value in data row "
            f"{int(infinite[0]) + 1}: every value must be a finite number."
        )
    return values


def group_labels(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes 0..G-1 in sorted order of the groups, and each group's name as text."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        codes, uniques = pd.factorize(series, sort=True)
        values = np.asarray(uniques, dtype=float)
        whole = np.all(np.mod(values, 1) == 0)
        names = [str(int(v)) if whole else repr(float(v)) for v in values]
    else:
        codes, uniques = pd.factorize(series.astype(str), sort=True)
        names = [str(u) for u in uniques]
    return codes, names


def check_options(frame, *, group, y, x, intercept, standardise, max_groups, max_rows,
                  missing, max_features) -> list[str]:
    """Check the options' kinds, the columns' existence and roles, and the feature count."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    for name, value in (("group", group), ("y", y)):
        if not isinstance(value, str):
            raise ValueError(f"{name} = {value!r} is not allowed: must be a column name (text)")
    if isinstance(x, str) or not all(isinstance(c, str) for c in x):
        raise ValueError(f"x = {x!r} is not allowed: must be a list of column names")
    for name, value in (("intercept", intercept), ("standardise", standardise)):
        if not isinstance(value, bool):
            raise ValueError(f"{name} = {value!r} is not allowed: must be True or False")
    for name, value, low in (("max_groups", max_groups, 2), ("max_rows", max_rows, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} = {value!r} is not allowed: must be a whole number >= {low}")
    if missing not in ("drop", "refuse"):
        raise ValueError(f"missing = {missing!r} is not allowed: must be drop or refuse")
    x = list(x)
    columns = [str(c) for c in frame.columns]
    for name in (group, y, *x):
        if name not in columns:
            raise _unknown_column(name, columns)
    if y == group:
        raise DataError(f"The outcome and the group are the same column ({quoted(y)}): "
                        "choose a different column for each.")
    for name in x:
        if name in (group, y):
            role = "group" if name == group else "outcome"
            raise DataError(f"{quoted(name)} is already the {role} column: it can't also "
                            "be a feature.")
        if x.count(name) > 1:
            raise DataError(f"The feature {quoted(name)} is chosen twice: choose it once.")
    k = int(intercept) + len(x)
    if k == 0:
        raise DataError("Choose at least one feature, or keep the intercept.")
    if k > max_features:
        raise DataError(
            f"That makes {k} weights per group ({'an intercept and ' if intercept else ''}"
            f"{len(x)} features): at most {max_features} are allowed. Choose fewer features."
        )
    if len(frame) == 0:
        raise DataError("The table has no rows.")
    return x


def drop_missing(frame, group, y, x, missing) -> tuple[pd.DataFrame, int, list[str]]:
    """Rows without a missing value in the chosen columns, the count dropped, a note."""
    used = frame[[group, y, *x]]
    absent = used.isna()
    absent[group] |= used[group].astype(str).str.strip().eq("") & used[group].notna()
    bad_rows = absent.any(axis=1)
    n_bad = int(bad_rows.sum())
    if not n_bad:
        return frame, 0, []
    per_column = ", ".join(f"{c}: {int(absent[c].sum()):,}" for c in absent.columns
                           if absent[c].any())
    if missing == "refuse":
        raise DataError(f"{n_bad:,} rows have missing values ({per_column}). Fill them "
                        "in, or let hierdash drop those rows.")
    if n_bad == len(frame):
        raise DataError(f"Every row has a missing value in the chosen columns ({per_column}): "
                        "nothing is left to fit.")
    note = (f"Dropped {n_bad:,} of {len(frame):,} rows with missing values ({per_column}).")
    return frame.loc[~bad_rows.to_numpy()], n_bad, [note]


def check_collinear(X: np.ndarray, names: list[str]) -> None:
    """Refuse features that are an exact combination of the earlier ones (pooled rows)."""
    norms = np.linalg.norm(X, axis=0)
    scaled = X / np.where(norms > 0, norms, 1.0)
    for j in range(1, X.shape[1]):
        if np.linalg.matrix_rank(scaled[:, : j + 1], tol=1e-9 * len(X) ** 0.5) <= j:
            earlier = ", ".join(repr(n) for n in names[:j])
            raise DataError(
                f"The feature {quoted(names[j])} is a combination of {earlier}: their "
                "weights can't be told apart. Remove one of them."
            )
