"""Charts of a table of your own: no truth to compare with, so estimates are set against
each other, against the groups' sizes, and against the data themselves.

- :func:`estimates_by_size_chart`: every group's estimate against its number of rows,
  no pooling, complete pooling and partial pooling (the classic radon plot);
- :func:`group_shrinkage_chart`: arrows from each group's own estimate to its
  partial-pooling estimate, groups by name;
- :func:`parent_spread_chart`: the parent's weights, the spread and the noise;
- :func:`ppc_chart`: the posterior predictive check, observed against replicated, per group;
- :func:`loo_chart`: the three poolings' leave-one-out predictive accuracy, each as a
  difference from the best with its standard error.

A yes/no or count outcome's weights live on the link scale (logit or log); the
estimate charts take ``scale="natural"`` to draw them as probabilities, rates, odds
ratios or rate ratios instead (:func:`natural_view`).

Each builder draws the table it is given (:func:`hierdash.own_data.fit_table.group_weights`,
:func:`hierdash.own_data.posterior_predictive_check`,
:func:`hierdash.own_data.compare_pooling`) and computes nothing else. Group names are
data values, drawn as text by Vega (never as markup).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from hierdash.charts.style import COLORS, FMT
from hierdash.settings import CI_LABEL

__all__ = [
    "METHOD_NAMES",
    "natural_view",
    "estimates_by_size_chart",
    "group_shrinkage_chart",
    "loo_chart",
    "parent_spread_chart",
    "ppc_chart",
]

METHOD_NAMES = {
    "no_pooling": "no pooling (alone)",
    "complete_pooling": "complete pooling",
    "partial_pooling": "partial pooling",
}
_METHOD_COLORS = {
    METHOD_NAMES["no_pooling"]: COLORS["no_pooling"],
    METHOD_NAMES["complete_pooling"]: COLORS["complete_pooling"],
    METHOD_NAMES["partial_pooling"]: COLORS["posterior"],
}
_ROW_HEIGHT = 16  # pixels per group on the per-group charts
_WIDTH = 760


def _method_color(domain: list[str]) -> alt.Color:
    return alt.Color("method:N", scale=alt.Scale(domain=domain,
                                                 range=[_METHOD_COLORS[m] for m in domain]),
                     legend=alt.Legend(title=None, orient="top", labelLimit=400))


def _groups_of(weights: pd.DataFrame, feature: str) -> pd.DataFrame:
    """The group rows of one feature; a ValueError naming the features if it is unknown."""
    features = list(dict.fromkeys(weights["feature"]))
    if feature not in features:
        raise ValueError(f"feature = {feature!r} is not allowed: must be one of "
                         f"{', '.join(map(repr, features))}")
    rows = weights[(weights["level"] == "group") & (weights["feature"] == feature)]
    return rows.reset_index(drop=True)


def _group_order(rows: pd.DataFrame) -> list[str]:
    """Group names, largest group first (ties by name)."""
    return rows.sort_values(["n", "group"], ascending=[False, True])["group"].tolist()


# The columns an estimate chart reads, and their counterparts with the link undone.
_NATURAL = {"mean": "natural_mean", "ci_low": "natural_low", "ci_high": "natural_high",
            "no_pooling": "natural_no_pooling", "complete_pooling": "natural_complete_pooling",
            "parent_mean": "natural_parent_mean"}


def natural_view(weights: pd.DataFrame) -> pd.DataFrame:
    """``weights`` with its estimates on the probability or rate scale: each of
    ``mean``, ``ci_low``, ``ci_high``, ``no_pooling``, ``complete_pooling`` and
    ``parent_mean`` replaced by its ``natural_*`` column (a yes/no or count outcome's
    :func:`hierdash.own_data.fit_table.group_weights`); ``shrinkage`` stays the share
    of the way on the link scale."""
    missing = [c for c in _NATURAL.values() if c not in weights]
    if missing:
        raise ValueError("weights has no natural_* columns (a Gaussian outcome's weights "
                         "have no other scale)")
    out = weights.copy()
    for column, natural in _NATURAL.items():
        out[column] = weights[natural]
    return out


def _scaled(weights: pd.DataFrame, feature: str, scale: str) -> tuple[pd.DataFrame, str]:
    """The weights to draw and the axis title, on the link or the natural scale."""
    if scale == "link":
        return weights, f"{feature} weight"
    if scale != "natural":
        raise ValueError(f"scale = {scale!r} is not allowed: must be link or natural")
    view = natural_view(weights)
    names = view.loc[view["feature"] == feature, "natural_scale"]
    if not len(names):
        return view, feature
    name = str(names.iloc[0])
    return view, f"{feature} as {'an' if name[0] in 'aeiou' else 'a'} {name}"


def estimates_by_size_chart(weights: pd.DataFrame, *, feature: str, scale: str = "link",
                            size: str = "rows") -> alt.LayerChart:
    """Each group's estimate of ``feature`` against its size ``n`` (log axis), three ways.

    No pooling scatters widely for small groups; complete pooling is one line for all;
    partial pooling (with its interval) follows the group's own estimate when the group
    is large and the parent when it is small.

    Parameters
    ----------
    weights
        :func:`hierdash.own_data.fit_table.group_weights`.
    feature
        The weight to draw (``intercept`` or a feature column).
    scale
        ``link`` (the weights as fitted) or ``natural`` (a yes/no or count outcome's
        probability, rate, odds ratio or rate ratio: :func:`natural_view`).
    size
        What ``n`` counts, for the axis: ``rows``, or ``trials`` for a binomial outcome.
    """
    weights, y_title = _scaled(weights, feature, scale)
    rows = _groups_of(weights, feature)
    long = pd.concat([
        pd.DataFrame({"group": rows["group"], "n": rows["n"], "estimate": rows["no_pooling"],
                      "method": METHOD_NAMES["no_pooling"], "ci_low": np.nan,
                      "ci_high": np.nan}),
        pd.DataFrame({"group": rows["group"], "n": rows["n"], "estimate": rows["mean"],
                      "method": METHOD_NAMES["partial_pooling"], "ci_low": rows["ci_low"],
                      "ci_high": rows["ci_high"]}),
    ], ignore_index=True).dropna(subset=["estimate"])
    # Groups of one size sit on one vertical line: spread them a little (sideways only).
    offset = np.where(long["method"] == METHOD_NAMES["no_pooling"], 0.97, 1.03)
    long["n_shown"] = long["n"].clip(lower=1) * offset
    domain = [METHOD_NAMES[m] for m in ("no_pooling", "partial_pooling", "complete_pooling")]
    color = _method_color(domain)
    x = alt.X("n_shown:Q", title=f"{size} in the group (log scale)",
              scale=alt.Scale(type="log", nice=False))
    tooltip = [alt.Tooltip("group:N", title="group"), alt.Tooltip("n:Q", title=size),
               alt.Tooltip("method:N"), alt.Tooltip("estimate:Q", format=FMT),
               alt.Tooltip("ci_low:Q", title=f"{CI_LABEL} interval from", format=FMT),
               alt.Tooltip("ci_high:Q", title=f"{CI_LABEL} interval to", format=FMT)]
    base = alt.Chart(long)
    intervals = base.transform_filter(alt.datum.ci_low != None).mark_rule(  # noqa: E711 - Vega
        opacity=0.35).encode(x=x, y=alt.Y("ci_low:Q", title=y_title), y2="ci_high:Q",
                             color=color, tooltip=tooltip)
    points = base.mark_circle(size=36, opacity=0.8).encode(
        x=x, y=alt.Y("estimate:Q", title=y_title, scale=alt.Scale(zero=False)), color=color,
        tooltip=tooltip)
    pooled = pd.DataFrame({"value": [rows["complete_pooling"].iloc[0]],
                           "method": [METHOD_NAMES["complete_pooling"]]})
    pooled_rule = alt.Chart(pooled).mark_rule(strokeWidth=2).encode(
        y="value:Q", color=color,
        tooltip=[alt.Tooltip("method:N"), alt.Tooltip("value:Q", format=FMT)])
    parent = pd.DataFrame({"value": [rows["parent_mean"].iloc[0]], "what": ["parent"]})
    parent_rule = alt.Chart(parent).mark_rule(strokeDash=[6, 3], strokeWidth=1.5,
                                              color=COLORS["parent"]).encode(
        y="value:Q", tooltip=[alt.Tooltip("what:N", title=" "),
                              alt.Tooltip("value:Q", title="parent mean", format=FMT)])
    return alt.layer(intervals, points, pooled_rule, parent_rule).properties(
        width=_WIDTH, height=360, title=f"{y_title}: each group's estimate against its size")


def group_shrinkage_chart(weights: pd.DataFrame, *, feature: str,
                          scale: str = "link") -> alt.LayerChart:
    """Arrows from each group's own estimate of ``feature`` to its partial-pooling one.

    Groups run top to bottom from the largest, so the arrows grow down the chart; the
    dashed green rule is the parent. A group without an estimate of its own (too few
    rows, or a feature constant within it) shows a dot at its partial-pooling estimate.
    """
    weights, x_title = _scaled(weights, feature, scale)
    rows = _groups_of(weights, feature).copy()
    own = rows["no_pooling"].to_numpy(float)
    finite = np.isfinite(own)
    rows["start"] = np.where(finite, own, rows["mean"])
    moved_right = rows["mean"].to_numpy(float) >= rows["start"].to_numpy(float)
    rows["head"] = np.where(~finite, "circle", np.where(moved_right, "triangle-right",
                                                        "triangle-left"))
    rows["note"] = np.where(finite, "", "no estimate of its own")
    y = alt.Y("group:N", title=None, sort=_group_order(rows),
              axis=alt.Axis(labelLimit=160, labelFontSize=10, labelOverlap=False))
    tooltip = [alt.Tooltip("group:N", title="group"), alt.Tooltip("n:Q", title="rows"),
               alt.Tooltip("no_pooling:Q", title=METHOD_NAMES["no_pooling"], format=FMT),
               alt.Tooltip("mean:Q", title=METHOD_NAMES["partial_pooling"], format=FMT),
               alt.Tooltip("shrinkage:Q", title="share of the way to the parent",
                           format=".2f"),
               alt.Tooltip("note:N", title="note")]
    base = alt.Chart(rows)
    shaft = base.mark_rule(strokeWidth=1.5, opacity=0.7, color=COLORS["posterior"]).encode(
        y=y, x=alt.X("start:Q", title=x_title, scale=alt.Scale(zero=False)), x2="mean:Q",
        tooltip=tooltip)
    start = base.transform_filter(alt.datum.note == "").mark_point(
        filled=False, size=40, color=COLORS["no_pooling"]).encode(y=y, x="start:Q",
                                                                  tooltip=tooltip)
    head = base.mark_point(filled=True, size=50, color=COLORS["posterior"], opacity=1).encode(
        y=y, x="mean:Q", shape=alt.Shape("head:N", scale=None), tooltip=tooltip)
    parent = alt.Chart(pd.DataFrame({"value": [rows["parent_mean"].iloc[0]]})).mark_rule(
        strokeDash=[6, 3], strokeWidth=2, color=COLORS["parent"]).encode(
        x="value:Q", tooltip=[alt.Tooltip("value:Q", title="parent mean", format=FMT)])
    return alt.layer(parent, shaft, start, head).properties(
        width=_WIDTH, height=alt.Step(_ROW_HEIGHT),
        title=f"{x_title}: from the group alone (open circle) to partial pooling (arrow head)")


def parent_spread_chart(weights: pd.DataFrame, scales: pd.DataFrame) -> alt.FacetChart:
    """The parent's weights, the spread of the groups around it, and the noise, each a
    posterior mean with its interval (one panel each, each with its own scale)."""
    parent = weights[weights["level"] == "parent"]
    rows = pd.DataFrame({"quantity": [f"parent: {f}" for f in parent["feature"]],
                         "mean": parent["mean"].to_numpy(), "ci_low": parent["ci_low"].to_numpy(),
                         "ci_high": parent["ci_high"].to_numpy()})
    scale_rows = pd.DataFrame({
        "quantity": [{"spread": "spread of the groups", "noise": "noise (row to row)"}.get(
            n, n) for n in scales["name"]],
        "mean": scales["mean"].to_numpy(), "ci_low": scales["ci_low"].to_numpy(),
        "ci_high": scales["ci_high"].to_numpy()})
    table = pd.concat([rows, scale_rows], ignore_index=True)
    tooltip = [alt.Tooltip("quantity:N"), alt.Tooltip("mean:Q", title="posterior mean",
                                                       format=FMT),
               alt.Tooltip("ci_low:Q", title=f"{CI_LABEL} interval from", format=FMT),
               alt.Tooltip("ci_high:Q", title=f"{CI_LABEL} interval to", format=FMT)]
    x = alt.X("ci_low:Q", title=f"posterior mean and {CI_LABEL} interval",
              scale=alt.Scale(zero=False))
    interval = alt.Chart().mark_rule(strokeWidth=3, color=COLORS["posterior"]).encode(
        x=x, x2="ci_high:Q", tooltip=tooltip)
    point = alt.Chart().mark_point(filled=True, size=80, color=COLORS["posterior"]).encode(
        x="mean:Q", tooltip=tooltip)
    return alt.layer(interval, point, data=table).properties(width=_WIDTH, height=28).facet(
        row=alt.Row("quantity:N", title=None, sort=table["quantity"].tolist(),
                    header=alt.Header(labelAngle=0, labelAlign="left", labelLimit=220)),
    ).resolve_scale(x="independent")


def ppc_chart(ppc: pd.DataFrame, *, statistic: str = "mean") -> alt.LayerChart:
    """Per group: the observed ``statistic`` of ``y`` (dot) against the replicated
    data sets' interval (bar); an observed value outside the bar is drawn as a cross.

    Parameters
    ----------
    ppc
        :func:`hierdash.own_data.posterior_predictive_check`.
    statistic
        ``mean`` or ``sd``; for a yes/no or count outcome ``proportion`` or ``rate``.
    """
    if statistic not in ("mean", "sd", "proportion", "rate"):
        raise ValueError(f"statistic = {statistic!r} is not allowed: must be mean, sd, "
                         "proportion or rate")
    rows = ppc[ppc["statistic"] == statistic].dropna(subset=["observed"]).copy()
    rows["verdict"] = np.where((rows["observed"] < rows["low"]) | (rows["observed"] > rows["high"]),
                               "outside the replicated interval", "inside")
    y = alt.Y("group:N", title=None, sort=_group_order(rows),
              axis=alt.Axis(labelLimit=160, labelFontSize=10, labelOverlap=False))
    tooltip = [alt.Tooltip("group:N", title="group"), alt.Tooltip("n:Q", title="rows"),
               alt.Tooltip("observed:Q", format=FMT),
               alt.Tooltip("replicated:Q", title="replicated (mean)", format=FMT),
               alt.Tooltip("low:Q", title="replicated from", format=FMT),
               alt.Tooltip("high:Q", title="replicated to", format=FMT),
               alt.Tooltip("tail:Q", title="share of replications above", format=".2f")]
    base = alt.Chart(rows)
    x_title = {"proportion": "proportion of successes in the group",
               "rate": "count per unit of exposure in the group"}.get(
        statistic, f"{statistic} of the outcome in the group")
    bar = base.mark_rule(strokeWidth=4, opacity=0.45, color=COLORS["posterior"]).encode(
        y=y, x=alt.X("low:Q", title=x_title, scale=alt.Scale(zero=False)), x2="high:Q",
        tooltip=tooltip)
    observed = base.mark_point(filled=True, size=40, opacity=1).encode(
        y=y, x="observed:Q", tooltip=tooltip,
        shape=alt.Shape("verdict:N", scale=alt.Scale(domain=["inside",
                                                             "outside the replicated interval"],
                                                     range=["circle", "cross"]),
                        legend=alt.Legend(title="observed", orient="top")),
        color=alt.value(COLORS["true"]))
    return alt.layer(bar, observed).properties(
        width=_WIDTH, height=alt.Step(_ROW_HEIGHT),
        title=f"Posterior predictive check: the observed {statistic} per group (dot) "
              "against replicated data (bar)")


def loo_chart(comparison: pd.DataFrame) -> alt.LayerChart:
    """How much worse each pooling predicts left-out rows than the best one.

    One bar per method: the difference in expected log predictive density from the best
    (0 for the best, negative for the others) with +-2 standard errors of the
    difference; a bar whose interval reaches 0 is not clearly worse.

    Parameters
    ----------
    comparison
        :func:`hierdash.own_data.compare_pooling` (``method``, ``elpd``, ``se``,
        ``elpd_diff``, ``se_diff``, ``rank``).
    """
    table = comparison.copy()
    # The colour scale's domain is the methods' names as shown.
    table["method"] = [METHOD_NAMES.get(m, m) for m in table["method"]]
    table["label"] = table["method"]
    table["difference"] = -table["elpd_diff"]
    table["low"] = table["difference"] - 2 * table["se_diff"]
    table["high"] = table["difference"] + 2 * table["se_diff"]
    domain = [METHOD_NAMES[m] for m in ("no_pooling", "complete_pooling", "partial_pooling")]
    color = _method_color(domain)
    y = alt.Y("label:N", title=None, sort=table["label"].tolist(),
              axis=alt.Axis(labelLimit=260))
    tooltip = [alt.Tooltip("label:N", title="method"),
               alt.Tooltip("elpd:Q", title="elpd (leave-one-out)", format=".1f"),
               alt.Tooltip("se:Q", title="its standard error", format=".1f"),
               alt.Tooltip("difference:Q", title="difference from the best", format=".1f"),
               alt.Tooltip("se_diff:Q", title="standard error of the difference",
                           format=".1f")]
    base = alt.Chart(table)
    x = alt.X("low:Q", title="elpd difference from the best (higher is better), "
                             "+-2 standard errors")
    interval = base.mark_rule(strokeWidth=3).encode(y=y, x=x, x2="high:Q", color=color,
                                                    tooltip=tooltip)
    point = base.mark_point(filled=True, size=120, opacity=1).encode(
        y=y, x="difference:Q", color=color, tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 4],
                                                              color=COLORS["exact"]).encode(
        x="zero:Q")
    return alt.layer(zero, interval, point).properties(
        width=_WIDTH, height=alt.Step(40),
        title="Predicting a left-out row: each pooling against the best")
