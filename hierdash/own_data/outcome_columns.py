"""Yes/no and count outcomes in a table of your own: the checks of the outcome and of
its trials or exposure column, the notes they give, and the priors on the link scale.

Used by :func:`hierdash.own_data.grouped.prepare_groups`. Every problem raises
:class:`~hierdash.own_data.reading.DataError` in one plain sentence naming the column,
the data row (counted from 1, as in :func:`~hierdash.own_data.columns.numeric_column`)
and the value.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import pandas as pd

from hierdash.own_data.columns import _unknown_column, numeric_column, quoted
from hierdash.own_data.reading import DataError

__all__ = ["OUTCOME_WORDS", "Outcome", "GLM_PRIORS", "GLM_RULE", "check_outcome_options",
           "check_not_degenerate", "check_outcome_values", "count_notes", "event_totals",
           "scale_names", "size_column_of"]

Outcome = Literal["gaussian", "bernoulli", "binomial", "poisson"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)

# What each outcome is, in the words a page and a message use.
OUTCOME_WORDS = {
    "gaussian": "a number (Gaussian)",
    "bernoulli": "yes/no (0/1)",
    "binomial": "successes of trials",
    "poisson": "counts with exposure",
}

# Weakly informative priors on the link scale (logit or log), the quadrature reference's
# own defaults: Gelman et al. (2008) and rstanarm put Normal(0, 2.5) on a logistic
# regression's coefficients of features of about unit scale; a spread of HalfNormal(1)
# lets groups differ by odds (or rate) ratios of about e^2 = 7 at most, and keeps a group
# with 0 events of 20 finite on the logit scale.
GLM_PRIORS = {"prior_parent_mean": 0.0, "prior_parent_scale": 2.5, "prior_spread_scale": 1.0}
GLM_RULE = ("Priors on the {link} scale (the rule of rstanarm and Gelman et al. 2008 for "
            "yes/no and count models): parent Normal(0, 2.5), spread HalfNormal(1); no noise "
            "(the outcome's own spread follows from its {mean}).")
STANDARDISE_HINT = (" Normal(0, 2.5) assumes features of about unit scale: tick "
                    "'standardise the features' unless they already are.")


def check_outcome_options(outcome: str, trials: str | None, exposure: str | None,
                          columns: list[str], used: list[str]) -> None:
    """The outcome's name, and a trials or exposure column only where it belongs.

    Raises
    ------
    ValueError
        For an unknown outcome or a column name that is not text (a programming error).
    DataError
        For trials without a binomial outcome, exposure without a Poisson one, a
        binomial outcome without trials, an unknown column, or a column used twice.
    """
    if not isinstance(outcome, str) or outcome not in OUTCOMES:
        raise ValueError(f"outcome = {outcome!r} is not allowed: must be one of "
                         f"{', '.join(OUTCOMES)}")
    for name, value in (("trials", trials), ("exposure", exposure)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} = {value!r} is not allowed: must be a column name or None")
    if trials is not None and outcome != "binomial":
        raise DataError(f"A trials column ({quoted(trials)}) goes only with a binomial outcome "
                        f"(successes of trials), not with {OUTCOME_WORDS[outcome]}: choose "
                        "the binomial outcome, or no trials column.")
    if exposure is not None and outcome != "poisson":
        raise DataError(f"An exposure column ({quoted(exposure)}) goes only with a count "
                        f"outcome (poisson), not with {OUTCOME_WORDS[outcome]}: choose the "
                        "count outcome, or no exposure column.")
    if outcome == "binomial" and trials is None:
        raise DataError("A binomial outcome needs a trials column: how many tries each "
                        "count of successes is out of (for yes/no rows choose the yes/no "
                        "outcome instead).")
    size = trials if trials is not None else exposure
    if size is not None:
        if size not in columns:
            raise _unknown_column(size, columns)
        if size in used:
            role = ("group" if size == used[0] else "outcome" if size == used[1]
                    else "a feature")
            raise DataError(f"{quoted(size)} is already the {role} column: the "
                            f"{'trials' if trials else 'exposure'} column must be another.")


def size_column_of(outcome: str, trials: str | None, exposure: str | None) -> str | None:
    """The column holding each row's size (trials or exposure), or None."""
    return trials if outcome == "binomial" else exposure if outcome == "poisson" else None


def _first(bad: np.ndarray, values: np.ndarray) -> tuple[int, str]:
    """The first bad row (counted from 1) and its value as text."""
    i = int(np.flatnonzero(bad)[0])
    value = float(values[i])
    return i + 1, f"{int(value)}" if value.is_integer() else f"{value:g}"


def check_outcome_values(frame: pd.DataFrame, *, y: str, outcome: str,
                         size: str | None) -> tuple[pd.Series, pd.Series | None]:
    """The outcome (and size) columns as floats, checked for the outcome family.

    Missing cells stay NaN (they are dropped or refused later); every other cell must
    fit: 0 or 1 for yes/no, whole successes from 0 to the trials (whole, at least 1),
    whole counts from 0 with an exposure above 0.

    Returns
    -------
    y, size
        Float columns; ``size`` is None when the outcome has none (a Poisson outcome
        without an exposure column has exposure 1 in every row).
    """
    role = {"bernoulli": "yes/no outcome", "binomial": "successes",
            "poisson": "count outcome"}.get(outcome, "outcome")
    values = numeric_column(frame, y, role if outcome != "gaussian" else "outcome")
    if outcome == "gaussian":
        return values, None
    what = "trials" if outcome == "binomial" else "exposure"
    sizes = numeric_column(frame, size, what) if size is not None else None
    v = values.to_numpy(float)
    seen = ~np.isnan(v)
    col = quoted(y)
    if outcome == "bernoulli":
        bad = seen & (v != 0) & (v != 1)
        if bad.any():
            row, shown = _first(bad, v)
            raise DataError(f"The yes/no outcome {col} must be 0 or 1 in every row: data row "
                            f"{row} holds {shown} (write 1 for yes and 0 for no, or choose "
                            "another outcome).")
        return values, None
    noun = "successes" if outcome == "binomial" else "counts"
    bad = seen & (v < 0)
    if bad.any():
        row, shown = _first(bad, v)
        raise DataError(f"The {noun} in {col} cannot be negative: data row {row} holds {shown}.")
    bad = seen & (v != np.round(v))
    if bad.any():
        row, shown = _first(bad, v)
        raise DataError(f"The {noun} in {col} must be whole numbers: data row {row} holds "
                        f"{shown}.")
    if sizes is None:
        return values, None
    s = sizes.to_numpy(float)
    known = ~np.isnan(s)
    scol = quoted(size)
    if outcome == "binomial":
        bad = known & ((s < 1) | (s != np.round(s)))
        if bad.any():
            row, shown = _first(bad, s)
            raise DataError(f"The trials column {scol} must hold whole numbers of at least 1: "
                            f"data row {row} holds {shown}.")
        bad = seen & known & (v > s)
        if bad.any():
            row, _ = _first(bad, v)
            raise DataError(f"There cannot be more successes than trials: data row {row} has "
                            f"{int(v[row - 1])} in {col} but {int(s[row - 1])} in {scol}.")
    else:
        bad = known & (s <= 0)
        if bad.any():
            row, shown = _first(bad, s)
            raise DataError(f"The exposure column {scol} must be more than 0 in every row (a "
                            f"row observed for no time cannot hold counts): data row {row} "
                            f"holds {shown}.")
    return values, sizes


def check_not_degenerate(y_all: np.ndarray, sizes: np.ndarray | None, *, y: str,
                         outcome: str) -> None:
    """Refuse an outcome with nothing to learn: no event in any row (or, for yes/no and
    successes, every trial a success)."""
    if np.all(y_all == 0):
        what = {"bernoulli": "no row is a yes", "binomial": "there is no success at all",
                "poisson": "there is no count at all"}[outcome]
        raise DataError(f"The outcome {quoted(y)} is 0 in every row: {what}, so there is "
                        "nothing to explain. Check the column, or choose another outcome.")
    if outcome in ("bernoulli", "binomial"):
        trials = np.ones_like(y_all) if sizes is None else sizes
        if np.all(y_all == trials):
            raise DataError(f"Every trial in {quoted(y)} is a success (a yes in every row): "
                            "there is nothing to explain. Check the column, or choose "
                            "another outcome.")


def count_notes(y_groups: tuple[np.ndarray, ...], size_groups, *, outcome: str) -> list[str]:
    """Plain-words remarks on groups with no event, or with every trial a success."""
    notes = []
    zero = sum(float(np.sum(yg)) == 0 for yg in y_groups)
    link = "logit" if outcome in ("bernoulli", "binomial") else "log"
    event = {"bernoulli": "no yes at all", "binomial": "no success at all",
             "poisson": "a total count of 0"}[outcome]
    if zero:
        notes.append(
            f"{zero:,} of {len(y_groups):,} groups have {event}: alone, their "
            f"estimate on the {link} scale would be minus infinity; the prior keeps it "
            "finite, and partial pooling borrows from the other groups.")
    if outcome in ("bernoulli", "binomial"):
        sizes = size_groups if size_groups is not None else [np.ones_like(yg) for yg in y_groups]
        full = sum(bool(np.all(yg == sg)) for yg, sg in zip(y_groups, sizes, strict=True))
        if full:
            every = "a yes in every row" if outcome == "bernoulli" else "a success in every trial"
            notes.append(
                f"{full:,} of {len(y_groups):,} groups have {every}: alone, their estimate "
                f"on the {link} scale would be plus infinity; the prior keeps it finite.")
    return notes


def event_totals(outcome: str, y_groups, size_groups) -> dict[str, str]:
    """How many events there are, of how many trials or over how much exposure, as text:
    ``events``, ``of`` (``of 1,739 trials``, ``over an exposure of 12.5``) and
    ``share`` (``15.4%``, ``0.32 per unit``)."""
    events = float(sum(np.sum(yg) for yg in y_groups))
    if size_groups is None:
        size_groups = [np.ones_like(yg) for yg in y_groups]
    total = float(sum(np.sum(sg) for sg in size_groups))
    if outcome == "poisson":
        return {"events": f"{events:,.0f}", "of": f"over an exposure of {total:,.4g}",
                "share": f"{events / total:.3g} per unit"}
    return {"events": f"{events:,.0f}", "of": f"of {total:,.0f} trials",
            "share": f"{events / total:.1%}"}


def scale_names(outcome: str) -> dict[str, str]:
    """The two scales a yes/no or count outcome's weights are shown on, by name."""
    logit = outcome in ("bernoulli", "binomial")
    return {"link": f"{'logit' if logit else 'log'} scale (as fitted)",
            "natural": f"{'probability' if logit else 'rate'} scale"}
