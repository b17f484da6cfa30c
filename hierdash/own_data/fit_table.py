"""Fitting a table of your own: groups become tasks, fitted by the same engine.

:func:`data_scenario` builds the :class:`~hierdash.scenario.Scenario` of a
:class:`~hierdash.own_data.grouped.GroupedData` (one task per group, ``source="data"``, priors
from :func:`~hierdash.own_data.grouped.default_priors` or yours); :func:`fit_groups` fits it with
:func:`hierdash.inference.fit` on the groups' own rows and returns an :class:`OwnFit`,
whose tables name the groups by their own names, with their row counts, on the
original scale of the features when they were standardised. :func:`data_key` is a
digest of the data's content (never of a file name), to key fits of different data
apart. No Streamlit here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from hierdash.own_data.formula import formulas
from hierdash.own_data.grouped import (
    PRIOR_FIELDS,
    DataError,
    GroupedData,
    default_priors,
    prior_fields,
    to_world,
)
from hierdash.scenario import DATA_MAX_ROWS, DATA_MAX_TASKS, Scenario, ScenarioError
from hierdash.settings import CI_PROB

__all__ = [
    "OwnFit",
    "PPC_SEED",
    "data_key",
    "data_scenario",
    "fit_groups",
    "group_weights",
    "labelled_posterior",
    "scales_table",
    "settings_dict",
]

DataMethod = Literal["exact", "nuts", "pymc_nuts", "advi", "fullrank_advi"]
PPC_SEED = 20_24  # the posterior predictive check's replications are reproducible
_TASK = re.compile(r"\btask (\d+)\b")


def data_key(grouped: GroupedData) -> str:
    """A SHA-256 digest of what is fitted: column choices, group names, ``X`` and ``y``.

    Two uploads with the same content get the same key whatever their file names; any
    change to a value, a group name or a column choice changes it.
    """
    digest = hashlib.sha256()
    header = (grouped.group_column, grouped.outcome_column, grouped.feature_names,
              grouped.intercept, grouped.standardised)
    if not grouped.is_gaussian:  # a Gaussian table's digest stays what it always was
        header += (grouped.outcome, grouped.size_column)
    digest.update(repr(header).encode())
    sizes = grouped.sizes or (None,) * grouped.n_groups
    for name, Xg, yg, sg in zip(grouped.group_names, grouped.X, grouped.y, sizes, strict=True):
        digest.update(name.encode("utf-8", "surrogatepass") + b"\x00")
        digest.update(np.ascontiguousarray(Xg, dtype=float).tobytes())
        digest.update(np.ascontiguousarray(yg, dtype=float).tobytes())
        if sg is not None:
            digest.update(np.ascontiguousarray(sg, dtype=float).tobytes())
    digest.update(np.asarray(grouped.feature_means, float).tobytes())
    digest.update(np.asarray(grouped.feature_sds, float).tobytes())
    return digest.hexdigest()


def data_scenario(
    grouped: GroupedData,
    *,
    method: DataMethod = "exact",
    priors: Mapping[str, float] | None = None,
    parameterization: Literal["auto", "marginal", "centered", "noncentered"] = "auto",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    target_accept: float | None = None,
    seed: int = 42,
) -> Scenario:
    """The scenario that fits ``grouped``: one task per group, its rows as its samples.

    Parameters
    ----------
    grouped
        The data (:func:`hierdash.own_data.grouped.prepare_groups`).
    method, parameterization, draws, tune, chains, target_accept, seed
        How to fit, as in :class:`~hierdash.scenario.Scenario`; ``target_accept`` None
        is 0.95 for a Gaussian outcome and the outcome's own default (0.99) for the
        others. A yes/no or count outcome takes ``exact`` (the quadrature reference,
        instant), ``nuts`` or ``pymc_nuts``: ADVI is refused.
    priors
        Any of the ``prior_*`` fields the outcome uses
        (:func:`~hierdash.own_data.grouped.prior_fields`: no noise for a yes/no or count
        outcome); the others come from :func:`~hierdash.own_data.grouped.default_priors`.

    Returns
    -------
    Scenario
        ``source="data"``, the data's outcome; the simulation's fields keep their
        defaults (unused). A yes/no or count scenario starts from
        :meth:`~hierdash.scenario.Scenario.for_outcome` and has the data's intercept.

    Raises
    ------
    DataError
        For more groups or rows than a data scenario allows (200 groups, 100,000 rows).
    ValueError
        For an unknown prior name; :class:`~hierdash.scenario.ScenarioError` (a
        ``ValueError``) for a value out of its range (e.g. more than 200 groups).
    """
    if grouped.n_groups > DATA_MAX_TASKS:
        raise DataError(f"The table has {grouped.n_groups:,} groups: at most "
                        f"{DATA_MAX_TASKS} can be fitted. Choose a column with fewer "
                        "distinct values, or fit a subset of the groups.")
    if grouped.n_rows > DATA_MAX_ROWS:
        raise DataError(f"The table has {grouped.n_rows:,} rows: at most "
                        f"{DATA_MAX_ROWS:,} can be fitted. Fit a subset of the rows.")
    fields = prior_fields(grouped.outcome)
    chosen = {k: v for k, v in default_priors(grouped).items() if k in fields}
    for name, value in (priors or {}).items():
        if name not in fields:
            if name in PRIOR_FIELDS:
                raise ScenarioError(name, value, f"a {grouped.outcome} outcome has no noise: "
                                    "only the parent and spread priors are used")
            raise ValueError(f"priors key = {name!r} is not allowed: must be one of "
                             f"{', '.join(fields)}")
        chosen[name] = value
    common = dict(samples=tuple(int(n) for n in grouped.counts), n_features=grouped.n_features,
                  source="data", method=method, parameterization=parameterization,
                  draws=draws, tune=tune, chains=chains, seed=seed, **chosen)
    if grouped.is_gaussian:
        return Scenario(**common, target_accept=0.95 if target_accept is None else target_accept)
    extra = {} if target_accept is None else {"target_accept": target_accept}
    return Scenario.for_outcome(grouped.outcome, **common, intercept=grouped.intercept, **extra)


@dataclass(frozen=True, eq=False)
class OwnFit:
    """A fit of a table of your own, with the tables that name its groups.

    Attributes
    ----------
    grouped
        The data fitted.
    result
        The engine's :class:`~hierdash.inference.results.FitResult` (tasks are the groups in
        ``grouped.group_names`` order; weights on the fitted scale).
    weights
        :func:`group_weights`: one row per group and feature, groups by name.
    scales
        :func:`scales_table`: the noise and the spread.
    """

    grouped: GroupedData
    result: object
    weights: pd.DataFrame
    scales: pd.DataFrame

    @property
    def scenario(self) -> Scenario:
        return self.result.scenario

    def warnings(self) -> list[str]:
        """The fit's warnings with groups by name; those about groups that can't be
        estimated alone are left out (one of ``grouped.notes`` counts them)."""
        names = self.grouped.group_names

        def by_name(match: re.Match) -> str:
            index = int(match.group(1))
            return f"group {names[index]!r}" if index < len(names) else match.group(0)

        return [_TASK.sub(by_name, w) for w in self.result.warnings() if "alone" not in w]


def fit_groups(
    grouped: GroupedData,
    scenario: Scenario,
    *,
    progress: Callable[[str, float | None, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    time_budget: float | None = None,
) -> OwnFit:
    """Fit ``grouped`` with ``scenario`` (from :func:`data_scenario`).

    Parameters
    ----------
    grouped, scenario
        The data and how to fit them; the scenario's samples must be the groups' row
        counts and its ``n_features`` the data's weights per group.
    progress, should_stop, time_budget
        Passed to :func:`hierdash.inference.fit`.

    Returns
    -------
    OwnFit
    """
    from hierdash.inference import fit  # the sampler stack loads only when fitting

    result = fit(scenario, world=to_world(grouped, scenario), progress=progress,
                 should_stop=should_stop, time_budget=time_budget)
    return OwnFit(grouped, result, group_weights(grouped, result), scales_table(result))


def _draws(posterior, name: str) -> np.ndarray:
    values = np.asarray(posterior["posterior"][name].values, dtype=float)
    return values.reshape((-1,) + values.shape[2:])


def group_weights(grouped: GroupedData, result) -> pd.DataFrame:
    """The weights of a fit, one row per group and feature, groups by their own names.

    Parameters
    ----------
    grouped
        The data the fit was made on.
    result
        Its :class:`~hierdash.inference.results.FitResult`.

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` (``parent`` first, then ``group``), ``group`` (the group's
        name; empty for the parent), ``n`` (its rows; all rows for the parent),
        ``feature`` (``intercept`` or the column's name), ``mean``, ``sd``, ``ci_low``,
        ``ci_high`` (equal-tailed, :data:`~hierdash.settings.CI_PROB`), ``exact_mean``,
        ``exact_sd`` (the closed-form posterior), ``no_pooling`` (the group alone; NaN
        when it can't be estimated alone), ``complete_pooling``, ``parent_mean`` and
        ``shrinkage`` (share of the way from no pooling to the parent). On the original
        scale of the features when they were standardised (``exact_sd`` is then NaN:
        the rescaling mixes weights, and the closed form keeps only their sds).
        For a yes/no or count outcome the weights are on the link scale (logit or log;
        ``exact_*`` is the quadrature reference, ``no_pooling`` and
        ``complete_pooling`` the modes under the parent's prior), and the columns of
        :func:`hierdash.inference.summarise.with_natural_scale` follow:
        ``natural_scale`` (probability, rate, odds ratio or rate ratio),
        ``natural_mean``, ``natural_low``, ``natural_high``, plus
        ``natural_no_pooling``, ``natural_complete_pooling`` and ``natural_parent_mean``
        (the link undone on those estimates).
    """
    to_original = grouped.to_original_scale
    parent = to_original(_draws(result.posterior, "parent"))  # (S, K)
    child = to_original(_draws(result.posterior, "child"))  # (S, T, K)
    stacked = np.concatenate([parent[:, None, :], child], axis=1)  # (S, 1 + T, K)
    lo, hi = (1 - CI_PROB) / 2, (1 + CI_PROB) / 2
    mean = stacked.mean(axis=0)
    qlo, qhi = np.quantile(stacked, [lo, hi], axis=0)
    exact = result.exact
    exact_mean = to_original(np.vstack([exact.parent_mean, exact.child_mean]))
    exact_sd = np.vstack([exact.parent_sd, exact.child_sd]).astype(float)
    if grouped.standardised:
        exact_sd = np.full_like(exact_sd, np.nan)
    k, t = grouped.n_features, grouped.n_groups
    own = to_original(np.asarray(result.no_pool.estimate, dtype=float))
    no_pool = np.vstack([np.full(k, np.nan), own])
    complete_fitted = result.weights.loc[result.weights["level"] == "parent",
                                         "complete_pooling"].to_numpy(float)
    complete = to_original(complete_fitted)
    with np.errstate(invalid="ignore", divide="ignore"):
        shrinkage = (no_pool - mean) / (no_pool - mean[0])
    shrinkage[0] = np.nan
    table = pd.DataFrame({
        "level": np.repeat(["parent"] + ["group"] * t, k),
        "group": np.repeat(["", *grouped.group_names], k),
        "n": np.repeat([grouped.group_sizes.sum(), *grouped.group_sizes.tolist()], k),
        "feature": np.tile(grouped.feature_names, 1 + t),
        "mean": mean.ravel(),
        "sd": stacked.std(axis=0, ddof=1).ravel(),
        "ci_low": qlo.ravel(),
        "ci_high": qhi.ravel(),
        "exact_mean": exact_mean.ravel(),
        "exact_sd": exact_sd.ravel(),
        "no_pooling": no_pool.ravel(),
        "complete_pooling": np.tile(complete, 1 + t),
        "parent_mean": np.tile(mean[0], 1 + t),
        "shrinkage": shrinkage.ravel(),
    })
    if grouped.is_gaussian:
        return table
    return _natural_columns(table, stacked, result.scenario, result.world)


def _natural_columns(table: pd.DataFrame, stacked: np.ndarray, scenario, world) -> pd.DataFrame:
    """The probability or rate scale's columns (there is no truth: none of it)."""
    from hierdash.inference.summarise import with_natural_scale

    out = with_natural_scale(table, stacked, scenario, world).drop(columns=["natural_true"])
    probability = (out["natural_scale"] == "probability").to_numpy()

    def undo(values: pd.Series) -> np.ndarray:
        v = values.to_numpy(float)
        with np.errstate(over="ignore"):
            return np.where(probability, 1.0 / (1.0 + np.exp(-v)), np.exp(v))

    for column in ("no_pooling", "complete_pooling", "parent_mean"):
        out[f"natural_{column}"] = undo(out[column])
    return out


def scales_table(result) -> pd.DataFrame:
    """The noise and spread: ``name``, ``mean``, ``sd``, ``ci_low``, ``ci_high``,
    ``exact_mean``, ``exact_sd`` (the simulated truth is dropped: there is none)."""
    return result.scales.drop(columns=["true"], errors="ignore").reset_index(drop=True)


def settings_dict(own: OwnFit, *, rule: str, source: str) -> dict:
    """What was fitted and how, as JSON-ready values (the command line's settings.json).

    Parameters
    ----------
    own
        The fit.
    rule
        The priors' rule sentence (:func:`~hierdash.own_data.grouped.default_priors`), or a
        sentence saying the priors were set by hand.
    source
        Where the table came from (a file name or ``example:radon``), as given.
    """
    grouped, scenario = own.grouped, own.scenario
    outcome = {"outcome": "gaussian"} if grouped.is_gaussian else {
        "outcome": grouped.outcome,
        "trials": grouped.size_column if grouped.outcome == "binomial" else None,
        "exposure": grouped.size_column if grouped.outcome == "poisson" else None,
    }
    return {
        "data": {
            "source": source,
            "group": grouped.group_column,
            "y": grouped.outcome_column,
            **outcome,
            "x": list(grouped.feature_columns),
            "intercept": grouped.intercept,
            "standardise": grouped.standardised,
            "feature_means": [float(v) for v in grouped.feature_means],
            "feature_sds": [float(v) for v in grouped.feature_sds],
            "groups": grouped.n_groups,
            "rows_used": grouped.n_rows,
            "rows_dropped": grouped.n_dropped,
            "notes": list(grouped.notes),
            "content_sha256": data_key(grouped),
        },
        "model": formulas(grouped),
        "priors": {name: getattr(scenario, name) for name in prior_fields(grouped.outcome)},
        "priors_rule": rule,
        "fit": {name: getattr(scenario, name) for name in (
            "method", "parameterization", "draws", "tune", "chains", "target_accept", "seed")},
        "timing_s": {"compile": own.result.compile_s, "sample": own.result.sample_s,
                     "total": own.result.total_s},
        "diagnostics": {
            "divergences": own.result.diagnostics.divergences,
            "max_rhat": own.result.diagnostics.max_rhat,
            "min_ess_bulk": own.result.diagnostics.min_ess_bulk,
            "parameterization": own.result.diagnostics.parameterization,
        },
    }


def labelled_posterior(own: OwnFit):
    """The fit's posterior DataTree with the groups' names as ``task`` labels and the
    weights' names as ``feature`` labels (weights on the fitted scale: see
    :attr:`GroupedData.feature_sds` when standardised)."""
    import xarray as xr

    post = own.result.posterior["posterior"].to_dataset()
    post = post.assign_coords(task=list(own.grouped.group_names),
                              feature=list(own.grouped.feature_names))
    return xr.DataTree.from_dict({"posterior": post})
