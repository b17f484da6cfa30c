"""Weakly informative priors for a table of your own, by a stated rule: on the data's
scale for a numeric outcome, fixed on the link scale for yes/no and counts."""

from __future__ import annotations

import numpy as np

from hierdash.own_data.outcome_columns import GLM_PRIORS, GLM_RULE, STANDARDISE_HINT
from hierdash.scenario import BOUNDS

__all__ = ["default_priors"]


def default_priors(grouped) -> dict[str, float | str]:
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

    A yes/no or count outcome lives on the link scale (logit or log), whose units do not
    depend on the data: its priors are fixed
    (:data:`~hierdash.own_data.outcome_columns.GLM_PRIORS`: parent Normal(0, 2.5), spread
    HalfNormal(1)) and it has no noise; the rule adds a hint to standardise features
    that are not.

    Parameters
    ----------
    grouped : hierdash.own_data.grouped.GroupedData
        The data (not imported here: that module imports this one).

    Returns
    -------
    dict
        The four ``prior_*`` fields (three for a yes/no or count outcome: no noise) as
        floats, and ``rule``: one sentence stating the rule (plus any clipping or hint),
        for the page to show.
    """
    if not grouped.is_gaussian:
        logit = grouped.outcome in ("bernoulli", "binomial")
        rule = GLM_RULE.format(link="logit" if logit else "log",
                               mean="probability" if logit else "rate")
        if grouped.feature_columns and not grouped.standardised:
            rule += STANDARDISE_HINT
        return {**GLM_PRIORS, "rule": rule}
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
