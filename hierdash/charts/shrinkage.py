"""Partial pooling at work: shrinkage arrows, each task's pull, and the three errors."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from hierdash.charts.style import (
    AXIS,
    COLORS,
    FMT,
    NO_POOL,
    PARENT,
    PARTIAL,
    TRUE,
    feature_panels,
    mark_outlier,
    on_scale,
    role_color,
    task_order,
    with_role,
)
from hierdash.summaries import RMSE_NAMES, child_rows

_HEAD = ("isValid(datum.no_pooling) ? (datum.mean >= datum.no_pooling ? 'triangle-right' : "
         "'triangle-left') : 'circle'")


def shrinkage_chart(weights: pd.DataFrame, *, outlier: int | None = None,
                    scale: str | None = None) -> alt.FacetChart:
    """Arrows from each task's own estimate (no pooling) to its partial-pooling estimate.

    Tasks are sorted by sample count, largest first, so the arrows grow down the
    chart; the dashed green rule is the parent. A task without a least-squares
    estimate of its own (too few rows) shows its partial-pooling estimate only.

    Parameters
    ----------
    weights
        The tidy weights table of a fit.
    outlier
        The outlier task (``Scenario.outlier``): its label ends in "(outlier)".
    scale
        The weights' scale for the axis title (``"log-odds"``, ``"log rate"``), or None:
        a yes/no or count world is pooled on its link scale.

    Returns
    -------
    alt.FacetChart
    """
    child = mark_outlier(child_rows(weights), outlier)
    finite = np.isfinite(child["no_pooling"].to_numpy(dtype=float))
    child["own"] = np.where(finite, "", "no estimate of its own (too few rows)")
    color = role_color([NO_POOL, PARTIAL, PARENT, TRUE])
    tooltip = [
        alt.Tooltip("task:Q", title="task"),
        alt.Tooltip("feature:Q", title="feature"),
        alt.Tooltip("n:Q", title="samples in the task"),
        alt.Tooltip("no_pooling:Q", title="no pooling (task alone)", format=FMT),
        alt.Tooltip("mean:Q", title="partial pooling", format=FMT),
        alt.Tooltip("parent_mean:Q", title="parent", format=FMT),
        alt.Tooltip("true:Q", title="true weight", format=FMT),
        alt.Tooltip("shrinkage:Q", title="share of the way to the parent", format=".2f"),
        alt.Tooltip("own:N", title="note"),
    ]
    y = alt.Y("task_label:N", title=None, sort=task_order(child, by_samples=True))
    x_title = on_scale("child weight", scale)
    parent = with_role(
        alt.Chart()
        .transform_aggregate(parent_mean="mean(parent_mean)", groupby=["feature_label"])
        .mark_rule(strokeDash=[6, 3], strokeWidth=2)
        .encode(x=alt.X("parent_mean:Q", title=x_title, scale=alt.Scale(zero=False), axis=AXIS),
                color=color,
                tooltip=[alt.Tooltip("parent_mean:Q", title="parent", format=FMT)]),
        PARENT,
    )
    shaft = (
        alt.Chart()
        .mark_rule(strokeWidth=1.5, opacity=0.7)
        .encode(y=y, x=alt.X("no_pooling:Q", title=x_title, axis=AXIS), x2="mean:Q",
                color=alt.value(COLORS["posterior"]), tooltip=tooltip)
    )
    start = with_role(
        alt.Chart().mark_point(filled=False, size=60, strokeWidth=2, opacity=1).encode(
            y=y, x=alt.X("no_pooling:Q", title=x_title, axis=AXIS), color=color, tooltip=tooltip
        ),
        NO_POOL,
    )
    head = with_role(
        # The arrow head points the way the estimate moved; a dot where there is no
        # arrow. Vega works out the direction, so the spec carries numbers, never
        # anything computed from them (hierdash.charts.specs relies on that).
        alt.Chart().transform_calculate(head=_HEAD).mark_point(filled=True, size=70, opacity=1)
        .encode(
            y=y, x=alt.X("mean:Q", title=x_title, axis=AXIS), color=color,
            shape=alt.Shape("head:N", scale=None), tooltip=tooltip
        ),
        PARTIAL,
    )
    true = with_role(
        alt.Chart().mark_tick(thickness=2, size=12, opacity=1).encode(
            y=y, x=alt.X("true:Q", title=x_title, axis=AXIS), color=color, tooltip=tooltip
        ),
        TRUE,
    )
    return feature_panels(alt.layer(parent, shaft, start, head, true, data=child), child)


def pull_chart(pull: pd.DataFrame, *, outlier: int | None = None) -> alt.LayerChart:
    """Each task's pull toward the parent against its sample count.

    Parameters
    ----------
    pull
        One row per task with ``task, n, pull``
        (:func:`hierdash.summaries.task_pull`). Tasks without a pull (NaN) are not drawn.
    outlier
        The outlier task (``Scenario.outlier``): its point is labelled "outlier".

    Returns
    -------
    alt.LayerChart
        Sample count on a symlog x axis, pull (0 = own estimate, 1 = the parent) on y,
        with reference rules at 0 and 1.
    """
    pull = pull[np.isfinite(pull["pull"].to_numpy(dtype=float))]
    marked = pull[pull["task"].astype(int) == outlier] if outlier is not None else pull.iloc[:0]
    guides = pd.DataFrame({"pull": [0.0, 1.0], "label": ["its own estimate", "the parent"]})
    points = (
        alt.Chart(pull)
        .mark_circle(size=90, opacity=0.85, color=COLORS["posterior"])
        .encode(
            x=alt.X("n:Q", title="samples in the task",
                    scale=alt.Scale(type="symlog", constant=5)),
            y=alt.Y("pull:Q", title="pull toward the parent", scale=alt.Scale(zero=True)),
            tooltip=[
                alt.Tooltip("task:Q", title="task"),
                alt.Tooltip("n:Q", title="samples"),
                alt.Tooltip("pull:Q", title="pull toward the parent", format=".2f"),
            ],
        )
    )
    rules = alt.Chart(guides).mark_rule(strokeDash=[4, 4], color=COLORS["parent"]).encode(
        y="pull:Q"
    )
    labels = alt.Chart(guides).mark_text(align="left", dx=4, dy=-7, color=COLORS["parent"]).encode(
        y="pull:Q", text="label:N", x=alt.value(0)
    )
    outlier_label = alt.Chart(marked).mark_text(
        align="left", dx=8, fontWeight="bold", color=COLORS["true"]).encode(
        x=alt.X("n:Q", scale=alt.Scale(type="symlog", constant=5)), y="pull:Q",
        text=alt.value("outlier"))
    return alt.layer(rules, labels, points, outlier_label).properties(height=240)


def rmse_chart(errors: pd.DataFrame, *, scale: str | None = None
               ) -> alt.LayerChart | alt.FacetChart:
    """Root-mean-square error of no, partial and complete pooling against the truth.

    Parameters
    ----------
    errors
        ``method, scope, rmse`` rows (:func:`hierdash.summaries.comparable_errors`, or
        :func:`hierdash.summaries.errors_table` of ``FitResult.errors``). Rows without
        a finite RMSE are not drawn.
    scale
        The weights' scale for the axis title, or None.

    Returns
    -------
    alt.LayerChart or alt.FacetChart
        Horizontal bars with their values written at the end; one panel per scope
        when the errors were scored on more than one set of tasks.
    """
    frame = errors[np.isfinite(errors["rmse"].to_numpy(dtype=float))]
    colors = {RMSE_NAMES["no_pooling"]: COLORS["no_pooling"],
              RMSE_NAMES["partial_pooling"]: COLORS["posterior"],
              RMSE_NAMES["complete_pooling"]: COLORS["complete_pooling"]}
    present = list(dict.fromkeys(frame["method"]))
    order = [m for m in colors if m in present] + [m for m in present if m not in colors]
    palette = [colors.get(m, COLORS["exact"]) for m in order]
    tooltip = [alt.Tooltip("method:N"), alt.Tooltip("scope:N", title="scored on"),
               alt.Tooltip("rmse:Q", title="RMSE", format=".4f")]
    y = alt.Y("method:N", title=None, sort=order)
    x = alt.X("rmse:Q", title=on_scale("RMSE against the true child weights", scale))
    color = alt.Color("method:N", scale=alt.Scale(domain=order, range=palette), legend=None)
    bars = alt.Chart().mark_bar(height=20).encode(y=y, x=x, tooltip=tooltip, color=color)
    # Labels in the bar's own (mid-tone) colour: readable on light and dark backgrounds.
    text = alt.Chart().mark_text(align="left", dx=4, fontWeight="bold").encode(
        y=y, x=x, text=alt.Text("rmse:Q", format=".3f"), tooltip=tooltip, color=color)
    layer = alt.layer(bars, text, data=frame)
    scopes = list(dict.fromkeys(frame["scope"]))
    if len(scopes) <= 1:
        return layer.properties(height=alt.Step(34))
    return layer.properties(width=360, height=alt.Step(30)).facet(
        row=alt.Row("scope:N", title=None, sort=scopes,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelOrient="top",
                                      labelFontWeight="bold")),
    ).resolve_scale(y="independent")
