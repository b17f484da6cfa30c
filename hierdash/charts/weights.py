"""Posterior against the truth: the parent weights, the child weights and the scales; and
for a yes/no or count world each task's probability or rate (:func:`natural_chart`)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from hierdash.charts.style import (
    AXIS,
    COLORS,
    EXACT,
    FMT,
    PARENT,
    POSTERIOR,
    RAW_RATE,
    RAW_SHARE,
    ROW_HEIGHT,
    TRUE,
    feature_labels,
    feature_panels,
    interval_tooltip,
    mark_outlier,
    on_scale,
    role_color,
    task_order,
    with_role,
)
from hierdash.settings import CI_LABEL
from hierdash.summaries import child_rows, feature_label

_EXACT_TOOLTIP = alt.Tooltip("exact_mean:Q", title="exact posterior mean", format=FMT)


def parent_chart(weights: pd.DataFrame, *, reference: bool = False,
                 scale: str | None = None) -> alt.LayerChart:
    """True parent weights against the posterior mean and its credible interval.

    Parameters
    ----------
    weights
        The tidy weights table of a fit (``FitResult.weights``).
    reference
        Also mark the exact posterior mean (when the fit is not the exact method).
    scale
        The weights' scale for the axis title (``"log-odds"``, ``"log rate"``;
        :func:`~hierdash.charts.style.link_scale`), or None.

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
    y_title = on_scale("parent weight", scale)
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
                outlier: int | None = None, scale: str | None = None) -> alt.FacetChart:
    """True against recovered child weights, one panel per feature, one row per task.

    Parameters
    ----------
    weights
        The tidy weights table of a fit.
    reference
        Also mark the exact posterior mean.
    outlier
        The outlier task (``Scenario.outlier``): its label ends in "(outlier)".
    scale
        The weights' scale for the axis title, or None.

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
    x_title = on_scale("child weight", scale)
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


def scales_chart(scales: pd.DataFrame, *, reference: bool = False,
                 scale: str | None = None) -> alt.FacetChart:
    """Posterior of the noise sd (and the child spread, when learned) against the truth.

    Parameters
    ----------
    scales
        ``FitResult.scales``: one row per scale with ``name, true, mean, sd, ci_low,
        ci_high, exact_mean, exact_sd``.
    reference
        Also mark the exact posterior mean.
    scale
        The weights' scale (the child spread is on it), or None.

    Returns
    -------
    alt.FacetChart
        One row per scale with its own x axis: a blue interval and dot, a vermillion
        diamond for the truth.
    """
    frame = scales.copy()
    labels = {"noise": "noise sd", "spread": on_scale("child spread", scale)}
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


def natural_chart(table: pd.DataFrame, *, scale: str = "probability") -> alt.LayerChart:
    """Each task's probability (or rate) with its interval, beside its own rows and the truth.

    Partial pooling works on the link scale; this chart shows its result where a reader
    knows the numbers: a task whose rows hold no success at all sits at 0 on its own
    (hollow circle) but above 0 once pooled (dot and interval), pulled toward the parent.

    Parameters
    ----------
    table
        One row per task (:func:`hierdash.summaries.natural.natural_intercepts`):
        ``task, n, task_label, events, size, raw, natural_true, natural_mean,
        natural_low, natural_high, parent_natural_mean``. A task without rows has no
        raw share (NaN): only its estimate is drawn.
    scale
        ``"probability"`` (yes/no and trials: the x axis runs from 0 to 1) or
        ``"rate"`` (counts: from 0).

    Returns
    -------
    alt.LayerChart
        A row per task, sorted by sample count (largest first); the dashed green rule is
        the parent's probability or rate.
    """
    probability = scale == "probability"
    data = table.copy()
    raw_role = RAW_SHARE if probability else RAW_RATE
    roles = [TRUE, POSTERIOR, raw_role, PARENT]
    color = role_color(roles)
    x_title = ("probability of a success (yes)" if probability
               else "rate (expected count per unit of exposure)")
    x_scale = alt.Scale(domain=[0, 1], nice=False) if probability else alt.Scale(zero=True)
    size_title = "trials" if probability else "exposure"
    tooltip = [
        alt.Tooltip("task_label:N", title="task"),
        alt.Tooltip("events:Q", title="successes" if probability else "counts", format=".0f"),
        alt.Tooltip("size:Q", title=f"{size_title} in all", format=".4g"),
        alt.Tooltip("raw:Q", title="its own rows alone", format=FMT),
        alt.Tooltip("natural_mean:Q", title="partial pooling (posterior mean)", format=FMT),
        alt.Tooltip("natural_low:Q", title=f"{CI_LABEL} interval from", format=FMT),
        alt.Tooltip("natural_high:Q", title=f"{CI_LABEL} interval to", format=FMT),
        alt.Tooltip("natural_true:Q", title="true value", format=FMT),
        alt.Tooltip("parent_natural_mean:Q", title="parent", format=FMT),
    ]
    y = alt.Y("task_label:N", title=None, sort=task_order(data, by_samples=True))
    x = alt.X("natural_mean:Q", title=x_title, scale=x_scale)
    parent = with_role(
        alt.Chart().transform_aggregate(parent="mean(parent_natural_mean)")
        .mark_rule(strokeDash=[6, 3], strokeWidth=2)
        .encode(x=alt.X("parent:Q", title=x_title, scale=x_scale), color=color,
                tooltip=[alt.Tooltip("parent:Q", title="parent", format=FMT)]),
        PARENT,
    )
    pull = alt.Chart().mark_rule(strokeWidth=1, opacity=0.6, strokeDash=[2, 2]).encode(
        y=y, x=alt.X("raw:Q", title=x_title, scale=x_scale), x2="natural_mean:Q",
        color=alt.value(COLORS["no_pooling"]), tooltip=tooltip)
    interval = with_role(
        alt.Chart().mark_rule(strokeWidth=3).encode(
            y=y, x=alt.X("natural_low:Q", title=x_title, scale=x_scale), x2="natural_high:Q",
            color=color, tooltip=tooltip),
        POSTERIOR,
    )
    mean = with_role(
        alt.Chart().mark_point(filled=True, size=55, opacity=1).encode(
            y=y, x=x, color=color, tooltip=tooltip),
        POSTERIOR,
    )
    raw = with_role(
        alt.Chart().mark_point(filled=False, size=70, strokeWidth=2, opacity=1).encode(
            y=y, x=alt.X("raw:Q", title=x_title, scale=x_scale), color=color, tooltip=tooltip),
        raw_role,
    )
    true = with_role(
        alt.Chart().mark_point(shape="diamond", filled=False, size=130, strokeWidth=2,
                               opacity=1)
        .encode(y=y, x=alt.X("natural_true:Q", title=x_title, scale=x_scale), color=color,
                tooltip=tooltip),
        TRUE,
    )
    # A task without a single success (or count) in its rows: said beside its circle.
    none_label = ("'0 of ' + format(datum.size, '.0f')" if probability
                  else "'no counts'")
    none = (
        alt.Chart().transform_filter("datum.events == 0 && datum.size > 0")
        .transform_calculate(label=none_label)
        .mark_text(align="left", dx=7, dy=-8, fontSize=10, color=COLORS["no_pooling"])
        .encode(y=y, x=alt.X("raw:Q", title=x_title, scale=x_scale), text="label:N")
    )
    return alt.layer(parent, pull, interval, mean, raw, true, none, data=data).properties(
        height=alt.Step(ROW_HEIGHT + 4))
