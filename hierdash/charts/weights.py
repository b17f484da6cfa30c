"""Posterior against the truth: the parent weights, the child weights and the scales."""

from __future__ import annotations

import altair as alt
import pandas as pd

from hierdash.charts.style import (
    AXIS,
    EXACT,
    FMT,
    POSTERIOR,
    TRUE,
    feature_labels,
    feature_panels,
    interval_tooltip,
    mark_outlier,
    role_color,
    task_order,
    with_role,
)
from hierdash.summaries import child_rows, feature_label

_EXACT_TOOLTIP = alt.Tooltip("exact_mean:Q", title="exact posterior mean", format=FMT)


def parent_chart(weights: pd.DataFrame, *, reference: bool = False) -> alt.LayerChart:
    """True parent weights against the posterior mean and its credible interval.

    Parameters
    ----------
    weights
        The tidy weights table of a fit (``FitResult.weights``).
    reference
        Also mark the exact posterior mean (when the fit is not the exact method).

    Returns
    -------
    alt.LayerChart
        Features on x; a blue interval and dot per feature, a vermillion diamond for
        the truth and, with ``reference``, a grey tick for the exact posterior mean.
    """
    parent = weights[weights["level"] == "parent"].copy()
    parent["feature"] = parent["feature"].astype(int)
    parent["feature_label"] = parent["feature"].map(feature_label)
    roles = [TRUE, POSTERIOR] + ([EXACT] if reference else [])
    color = role_color(roles)
    tooltip = [
        alt.Tooltip("feature:Q", title="feature"),
        alt.Tooltip("true:Q", title="true weight", format=FMT),
        *interval_tooltip(),
        _EXACT_TOOLTIP,
    ]
    x = alt.X("feature_label:N", title=None, sort=feature_labels(parent),
              axis=alt.Axis(labelAngle=0))
    y_title = "parent weight"
    base = alt.Chart(parent)
    interval = with_role(
        base.mark_rule(strokeWidth=3).encode(
            x=x,
            y=alt.Y("ci_low:Q", title=y_title, scale=alt.Scale(zero=False)),
            y2="ci_high:Q",
            color=color,
            tooltip=tooltip,
        ),
        POSTERIOR,
    )
    mean = with_role(
        base.mark_point(filled=True, size=70, opacity=1).encode(
            x=x, y=alt.Y("mean:Q", title=y_title), color=color, tooltip=tooltip
        ),
        POSTERIOR,
    )
    true = with_role(
        base.mark_point(shape="diamond", filled=False, size=220, strokeWidth=2.5, opacity=1)
        .encode(x=x, y=alt.Y("true:Q", title=y_title), color=color, tooltip=tooltip),
        TRUE,
    )
    layers = [interval, mean, true]
    if reference:
        layers.append(
            with_role(
                base.mark_tick(thickness=2, size=28, opacity=0.9).encode(
                    x=x, y=alt.Y("exact_mean:Q", title=y_title), color=color, tooltip=tooltip
                ),
                EXACT,
            )
        )
    return alt.layer(*layers).properties(height=260)


def child_chart(weights: pd.DataFrame, *, reference: bool = False,
                outlier: int | None = None) -> alt.FacetChart:
    """True against recovered child weights, one panel per feature, one row per task.

    Parameters
    ----------
    weights
        The tidy weights table of a fit.
    reference
        Also mark the exact posterior mean.
    outlier
        The outlier task (``Scenario.outlier``): its label ends in "(outlier)".

    Returns
    -------
    alt.FacetChart
        Panels by feature (own x scale each); rows are tasks labelled with their
        sample count; a blue interval and dot per weight, a vermillion diamond for the
        truth, optionally a grey tick for the exact posterior mean.
    """
    child = mark_outlier(child_rows(weights), outlier)
    roles = [TRUE, POSTERIOR] + ([EXACT] if reference else [])
    color = role_color(roles)
    tooltip = [
        alt.Tooltip("task:Q", title="task"),
        alt.Tooltip("feature:Q", title="feature"),
        alt.Tooltip("n:Q", title="samples in the task"),
        alt.Tooltip("true:Q", title="true weight", format=FMT),
        *interval_tooltip(),
        _EXACT_TOOLTIP,
    ]
    y = alt.Y("task_label:N", title=None, sort=task_order(child, by_samples=False))
    x_title = "child weight"
    interval = with_role(
        alt.Chart().mark_rule(strokeWidth=3).encode(
            y=y,
            x=alt.X("ci_low:Q", title=x_title, scale=alt.Scale(zero=False), axis=AXIS),
            x2="ci_high:Q",
            color=color,
            tooltip=tooltip,
        ),
        POSTERIOR,
    )
    mean = with_role(
        alt.Chart().mark_point(filled=True, size=45, opacity=1).encode(
            y=y, x=alt.X("mean:Q", title=x_title, axis=AXIS), color=color, tooltip=tooltip
        ),
        POSTERIOR,
    )
    true = with_role(
        alt.Chart().mark_point(shape="diamond", filled=False, size=130, strokeWidth=2, opacity=1)
        .encode(y=y, x=alt.X("true:Q", title=x_title, axis=AXIS), color=color, tooltip=tooltip),
        TRUE,
    )
    layers = [interval, mean, true]
    if reference:
        layers.append(
            with_role(
                alt.Chart().mark_tick(thickness=2, size=14, opacity=0.9).encode(
                    y=y, x=alt.X("exact_mean:Q", title=x_title, axis=AXIS), color=color,
                    tooltip=tooltip
                ),
                EXACT,
            )
        )
    return feature_panels(alt.layer(*layers, data=child), child)


def scales_chart(scales: pd.DataFrame, *, reference: bool = False) -> alt.FacetChart:
    """Posterior of the noise sd (and the child spread, when learned) against the truth.

    Parameters
    ----------
    scales
        ``FitResult.scales``: one row per scale with ``name, true, mean, sd, ci_low,
        ci_high, exact_mean, exact_sd``.
    reference
        Also mark the exact posterior mean.

    Returns
    -------
    alt.FacetChart
        One row per scale with its own x axis: a blue interval and dot, a vermillion
        diamond for the truth.
    """
    frame = scales.copy()
    labels = {"noise": "noise sd", "spread": "child spread"}
    frame["label"] = frame["name"].map(lambda n: labels.get(n, str(n)))
    roles = [TRUE, POSTERIOR] + ([EXACT] if reference else [])
    color = role_color(roles)
    tooltip = [
        alt.Tooltip("label:N", title="scale"),
        alt.Tooltip("true:Q", title="true value", format=FMT),
        *interval_tooltip(),
        _EXACT_TOOLTIP,
    ]
    y = alt.Y("label:N", title=None, axis=None)
    interval = with_role(
        alt.Chart().mark_rule(strokeWidth=4).encode(
            y=y, x=alt.X("ci_low:Q", title="value", scale=alt.Scale(zero=False)),
            x2="ci_high:Q", color=color, tooltip=tooltip),
        POSTERIOR,
    )
    mean = with_role(
        alt.Chart().mark_point(filled=True, size=80, opacity=1).encode(
            y=y, x="mean:Q", color=color, tooltip=tooltip),
        POSTERIOR,
    )
    true = with_role(
        alt.Chart().mark_point(shape="diamond", filled=False, size=220, strokeWidth=2.5,
                               opacity=1).encode(y=y, x="true:Q", color=color, tooltip=tooltip),
        TRUE,
    )
    layers = [interval, mean, true]
    if reference:
        layers.append(with_role(
            alt.Chart().mark_tick(thickness=2, size=22, opacity=0.9).encode(
                y=y, x="exact_mean:Q", color=color, tooltip=tooltip),
            EXACT,
        ))
    return (
        alt.layer(*layers, data=frame)
        .properties(width=420, height=40)
        .facet(row=alt.Row("label:N", title=None, sort=list(frame["label"]),
                           header=alt.Header(labelAngle=0, labelAlign="left",
                                             labelFontWeight="bold")))
        .resolve_scale(x="independent")
    )
