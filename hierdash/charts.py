"""Altair chart builders for the dashboard: pure functions from tables to charts.

Every builder takes plain tables or arrays (the fields of a
:class:`~hierdash.inference.FitResult`) and returns an ``alt.Chart`` (or a layered or
faceted chart). Nothing here imports Streamlit, so every chart can be tested through
``chart.to_dict()``.

Colours are the Okabe-Ito palette, which stays distinguishable with the common kinds of
colour blindness, chosen from its mid-tones so each mark is visible on both a light
and a dark background. Each colour has one role on every chart:

- vermillion: the truth,
- blue: the fitted (partial pooling) posterior,
- reddish purple: no pooling (each task alone),
- bluish green: the parent,
- orange: complete pooling,
- grey: the exact (closed-form) posterior, as a reference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

__all__ = [
    "COLORS",
    "task_label",
    "parent_chart",
    "child_chart",
    "shrinkage_chart",
    "task_pull",
    "pull_chart",
    "comparable_errors",
    "rmse_chart",
    "padding_segments",
    "padding_chart",
    "scales_chart",
    "elbo_chart",
]

COLORS: dict[str, str] = {
    "true": "#D55E00",  # vermillion
    "posterior": "#0072B2",  # blue
    "no_pooling": "#CC79A7",  # reddish purple
    "parent": "#009E73",  # bluish green
    "complete_pooling": "#E69F00",  # orange
    "exact": "#999999",  # grey
    "padding_ignored": "#BBBBBB",  # light grey
}

# Legend labels for each role.
TRUE = "true value"
POSTERIOR = "posterior mean, 94% interval"
EXACT = "exact posterior mean"
NO_POOL = "no pooling (task alone)"
PARTIAL = "partial pooling (posterior mean)"
PARENT = "parent (posterior mean)"

ROLE_COLORS: dict[str, str] = {
    TRUE: COLORS["true"],
    POSTERIOR: COLORS["posterior"],
    EXACT: COLORS["exact"],
    NO_POOL: COLORS["no_pooling"],
    PARTIAL: COLORS["posterior"],
    PARENT: COLORS["parent"],
}

ROW_HEIGHT = 20  # pixels per task on the per-task charts
_AXIS = alt.Axis(tickCount=4, labelOverlap=True)  # x axis of the per-feature panels
FMT = ".3f"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def task_label(task: int, n: int) -> str:
    """Axis label of a task: its index and its sample count, e.g. ``task 2 · n=5``."""
    return f"task {int(task)} · n={int(n)}"


def _feature_label(feature: int) -> str:
    return f"feature {int(feature)}"


def _role_color(roles: Sequence[str]) -> alt.Color:
    """A colour channel on the ``role`` field with a fixed role-to-colour mapping."""
    return alt.Color(
        "role:N",
        scale=alt.Scale(domain=list(roles), range=[ROLE_COLORS[r] for r in roles]),
        legend=alt.Legend(title=None, orient="top", symbolStrokeWidth=2, labelLimit=400),
    )


def _with_role(chart: alt.Chart, role: str) -> alt.Chart:
    """Tag every row of a layer with its ``role`` (the legend entry it belongs to)."""
    return chart.transform_calculate(role=json.dumps(role))


def _child_rows(weights: pd.DataFrame) -> pd.DataFrame:
    """Child rows of the tidy weights table, with display labels."""
    child = weights[weights["level"] == "child"].copy()
    child["task"] = child["task"].astype(int)
    child["n"] = child["n"].astype(int)
    child["feature"] = child["feature"].astype(int)
    child["task_label"] = [task_label(t, n) for t, n in zip(child["task"], child["n"], strict=True)]
    child["feature_label"] = child["feature"].map(_feature_label)
    return child.reset_index(drop=True)


def _feature_labels(frame: pd.DataFrame) -> list[str]:
    return [_feature_label(f) for f in sorted(frame["feature"].unique())]


def _task_order(child: pd.DataFrame, by_samples: bool) -> list[str]:
    tasks = child.drop_duplicates("task")[["task", "n", "task_label"]]
    if by_samples:
        tasks = tasks.sort_values(["n", "task"], ascending=[False, True])
    else:
        tasks = tasks.sort_values("task")
    return tasks["task_label"].tolist()


def _facet_layout(n_features: int) -> tuple[int, int]:
    """(columns, facet width) for the per-feature grids; rows are ROW_HEIGHT each."""
    columns = min(n_features, 4)
    width = {1: 560, 2: 380, 3: 250}.get(columns, 185)
    return columns, width


def _weight_tooltip(extra: Sequence[alt.Tooltip] = ()) -> list[alt.Tooltip]:
    return [
        alt.Tooltip("task:Q", title="task"),
        alt.Tooltip("feature:Q", title="feature"),
        alt.Tooltip("n:Q", title="samples in the task"),
        alt.Tooltip("true:Q", title="true weight", format=FMT),
        alt.Tooltip("mean:Q", title="posterior mean", format=FMT),
        alt.Tooltip("ci_low:Q", title="94% interval from", format=FMT),
        alt.Tooltip("ci_high:Q", title="94% interval to", format=FMT),
        *extra,
    ]


# ---------------------------------------------------------------------------
# 1. Parent weights
# ---------------------------------------------------------------------------
def parent_chart(weights: pd.DataFrame, *, reference: bool = False) -> alt.LayerChart:
    """True parent weights against the posterior mean and its 94% interval.

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
    parent["feature_label"] = parent["feature"].map(_feature_label)
    roles = [TRUE, POSTERIOR] + ([EXACT] if reference else [])
    color = _role_color(roles)
    tooltip = [
        alt.Tooltip("feature:Q", title="feature"),
        alt.Tooltip("true:Q", title="true weight", format=FMT),
        alt.Tooltip("mean:Q", title="posterior mean", format=FMT),
        alt.Tooltip("ci_low:Q", title="94% interval from", format=FMT),
        alt.Tooltip("ci_high:Q", title="94% interval to", format=FMT),
        alt.Tooltip("exact_mean:Q", title="exact posterior mean", format=FMT),
    ]
    x = alt.X("feature_label:N", title=None, sort=_feature_labels(parent),
              axis=alt.Axis(labelAngle=0))
    y_title = "parent weight"
    base = alt.Chart(parent)
    interval = _with_role(
        base.mark_rule(strokeWidth=3).encode(
            x=x,
            y=alt.Y("ci_low:Q", title=y_title, scale=alt.Scale(zero=False)),
            y2="ci_high:Q",
            color=color,
            tooltip=tooltip,
        ),
        POSTERIOR,
    )
    mean = _with_role(
        base.mark_point(filled=True, size=70, opacity=1).encode(
            x=x, y=alt.Y("mean:Q", title=y_title), color=color, tooltip=tooltip
        ),
        POSTERIOR,
    )
    true = _with_role(
        base.mark_point(shape="diamond", filled=False, size=220, strokeWidth=2.5, opacity=1)
        .encode(x=x, y=alt.Y("true:Q", title=y_title), color=color, tooltip=tooltip),
        TRUE,
    )
    layers = [interval, mean, true]
    if reference:
        layers.append(
            _with_role(
                base.mark_tick(thickness=2, size=28, opacity=0.9).encode(
                    x=x, y=alt.Y("exact_mean:Q", title=y_title), color=color, tooltip=tooltip
                ),
                EXACT,
            )
        )
    return alt.layer(*layers).properties(height=260)


# ---------------------------------------------------------------------------
# 2. Child weights
# ---------------------------------------------------------------------------
def child_chart(weights: pd.DataFrame, *, reference: bool = False) -> alt.FacetChart:
    """True against recovered child weights, one panel per feature, one row per task.

    Parameters
    ----------
    weights
        The tidy weights table of a fit.
    reference
        Also mark the exact posterior mean.

    Returns
    -------
    alt.FacetChart
        Panels by feature (own x scale each); rows are tasks labelled with their
        sample count; a blue interval and dot per weight, a vermillion diamond for the
        truth, optionally a grey tick for the exact posterior mean.
    """
    child = _child_rows(weights)
    n_features = child["feature"].nunique()
    columns, width = _facet_layout(n_features)
    roles = [TRUE, POSTERIOR] + ([EXACT] if reference else [])
    color = _role_color(roles)
    tooltip = _weight_tooltip([alt.Tooltip("exact_mean:Q", title="exact posterior mean",
                                           format=FMT)])
    y = alt.Y("task_label:N", title=None, sort=_task_order(child, by_samples=False))
    x_title = "child weight"
    interval = _with_role(
        alt.Chart().mark_rule(strokeWidth=3).encode(
            y=y,
            x=alt.X("ci_low:Q", title=x_title, scale=alt.Scale(zero=False), axis=_AXIS),
            x2="ci_high:Q",
            color=color,
            tooltip=tooltip,
        ),
        POSTERIOR,
    )
    mean = _with_role(
        alt.Chart().mark_point(filled=True, size=45, opacity=1).encode(
            y=y, x=alt.X("mean:Q", title=x_title, axis=_AXIS), color=color, tooltip=tooltip
        ),
        POSTERIOR,
    )
    true = _with_role(
        alt.Chart().mark_point(shape="diamond", filled=False, size=130, strokeWidth=2, opacity=1)
        .encode(y=y, x=alt.X("true:Q", title=x_title, axis=_AXIS), color=color, tooltip=tooltip),
        TRUE,
    )
    layers = [interval, mean, true]
    if reference:
        layers.append(
            _with_role(
                alt.Chart().mark_tick(thickness=2, size=14, opacity=0.9).encode(
                    y=y, x=alt.X("exact_mean:Q", title=x_title, axis=_AXIS), color=color, tooltip=tooltip
                ),
                EXACT,
            )
        )
    return _feature_panels(alt.layer(*layers, data=child), child, width, columns)


def _feature_panels(layer, child: pd.DataFrame, width: int, columns: int) -> alt.FacetChart:
    """One panel per feature, one row per task, each panel with its own x scale."""
    return (
        layer.properties(width=width, height=alt.Step(ROW_HEIGHT))
        .facet(
            facet=alt.Facet("feature_label:N", title=None, sort=_feature_labels(child),
                            header=alt.Header(labelFontWeight="bold")),
            columns=columns,
        )
        .resolve_scale(x="independent")
    )


# ---------------------------------------------------------------------------
# 3. Shrinkage
# ---------------------------------------------------------------------------
def shrinkage_chart(weights: pd.DataFrame) -> alt.FacetChart:
    """Arrows from each task's own estimate (no pooling) to its partial-pooling estimate.

    Tasks are sorted by sample count, largest first, so the arrows grow down the
    chart; the dashed green rule is the parent. A task without a least-squares
    estimate of its own (too few rows) shows its partial-pooling estimate only.

    Parameters
    ----------
    weights
        The tidy weights table of a fit.

    Returns
    -------
    alt.FacetChart
    """
    child = _child_rows(weights)
    finite = np.isfinite(child["no_pooling"].to_numpy(dtype=float))
    right = child["mean"].to_numpy(dtype=float) >= child["no_pooling"].to_numpy(dtype=float)
    child["head"] = np.where(~finite, "circle", np.where(right, "triangle-right",
                                                         "triangle-left"))
    child["own"] = np.where(finite, "", "no estimate of its own (too few rows)")
    n_features = child["feature"].nunique()
    columns, width = _facet_layout(n_features)
    roles = [NO_POOL, PARTIAL, PARENT, TRUE]
    color = _role_color(roles)
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
    y = alt.Y("task_label:N", title=None, sort=_task_order(child, by_samples=True))
    x_title = "child weight"
    parent = _with_role(
        alt.Chart()
        .transform_aggregate(parent_mean="mean(parent_mean)", groupby=["feature_label"])
        .mark_rule(strokeDash=[6, 3], strokeWidth=2)
        .encode(x=alt.X("parent_mean:Q", title=x_title, scale=alt.Scale(zero=False), axis=_AXIS),
                color=color,
                tooltip=[alt.Tooltip("parent_mean:Q", title="parent", format=FMT)]),
        PARENT,
    )
    shaft = (
        alt.Chart()
        .mark_rule(strokeWidth=1.5, opacity=0.7)
        .encode(y=y, x=alt.X("no_pooling:Q", title=x_title, axis=_AXIS), x2="mean:Q",
                color=alt.value(COLORS["posterior"]), tooltip=tooltip)
    )
    own = _with_role(
        alt.Chart().mark_point(filled=False, size=60, strokeWidth=2, opacity=1).encode(
            y=y, x=alt.X("no_pooling:Q", title=x_title, axis=_AXIS), color=color, tooltip=tooltip
        ),
        NO_POOL,
    )
    head = _with_role(
        alt.Chart().mark_point(filled=True, size=70, opacity=1).encode(
            y=y, x=alt.X("mean:Q", title=x_title, axis=_AXIS), color=color,
            shape=alt.Shape("head:N", scale=None), tooltip=tooltip
        ),
        PARTIAL,
    )
    true = _with_role(
        alt.Chart().mark_tick(thickness=2, size=12, opacity=1).encode(
            y=y, x=alt.X("true:Q", title=x_title, axis=_AXIS), color=color, tooltip=tooltip
        ),
        TRUE,
    )
    return _feature_panels(
        alt.layer(parent, shaft, own, head, true, data=child), child, width, columns
    )


def task_pull(weights: pd.DataFrame) -> pd.DataFrame:
    """How far each task was pulled from its own estimate toward the parent.

    The pull of task ``t`` is the least-squares slope, over its features, of
    ``no_pooling - partial`` on ``no_pooling - parent``: 0 means partial pooling kept
    the task's own estimate, 1 means it replaced it by the parent. It is steadier
    than the per-weight ratio, which blows up when a task's own estimate happens to
    lie near the parent. A task without rows has no estimate of its own and uses the
    parent: its pull is 1. A task with rows but too few for an estimate of its own
    has no pull (NaN).

    Parameters
    ----------
    weights
        The tidy weights table of a fit.

    Returns
    -------
    pandas.DataFrame
        One row per task: ``task, n, task_label, pull``.
    """
    child = _child_rows(weights)
    rows = []
    for task, group in child.groupby("task", sort=True):
        own = group["no_pooling"].to_numpy(dtype=float)
        toward = own - group["parent_mean"].to_numpy(dtype=float)
        moved = own - group["mean"].to_numpy(dtype=float)
        n = int(group["n"].iloc[0])
        ok = np.isfinite(toward) & np.isfinite(moved)
        denom = float(np.sum(toward[ok] ** 2))
        if n == 0:
            pull = 1.0
        elif ok.any() and denom > 0:
            pull = float(np.sum(toward[ok] * moved[ok]) / denom)
        else:
            pull = float("nan")
        rows.append({"task": int(task), "n": n, "task_label": task_label(task, n), "pull": pull})
    return pd.DataFrame(rows, columns=["task", "n", "task_label", "pull"])


def pull_chart(weights: pd.DataFrame) -> alt.LayerChart:
    """Each task's pull toward the parent against its sample count.

    Parameters
    ----------
    weights
        The tidy weights table of a fit.

    Returns
    -------
    alt.LayerChart
        Sample count on a symlog x axis, pull (0 = own estimate, 1 = the parent) on y,
        with reference rules at 0 and 1.
    """
    pull = task_pull(weights)
    pull = pull[np.isfinite(pull["pull"].to_numpy(dtype=float))]
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
    return alt.layer(rules, labels, points).properties(height=240)


RMSE_NAMES = {"no_pooling": "no pooling", "partial_pooling": "partial pooling",
              "complete_pooling": "complete pooling"}
ALL_TASKS = "all tasks"


def comparable_errors(weights: pd.DataFrame) -> pd.DataFrame:
    """RMSE of each estimate against the true child weights, on comparable sets of tasks.

    No pooling has no estimate for a task with too few rows, so its RMSE can only be
    taken over the tasks that have one; comparing it with the other estimates' RMSE
    over *all* tasks would mix two different sets. This scores every estimate on the
    tasks with an estimate of their own, and complete and partial pooling also on all
    tasks.

    Parameters
    ----------
    weights
        The tidy weights table of a fit.

    Returns
    -------
    pandas.DataFrame
        ``method, scope, rmse, tasks``: one row per estimate and set of tasks.
    """
    child = _child_rows(weights)
    own = np.isfinite(child["no_pooling"].to_numpy(dtype=float))
    n_tasks = child["task"].nunique()
    n_own = child.loc[own, "task"].nunique()
    own_scope = f"tasks with an estimate of their own ({n_own} of {n_tasks})"
    columns = {"no_pooling": "no_pooling", "complete_pooling": "complete_pooling",
               "partial_pooling": "mean"}
    rows = []
    for scope, keep in ((ALL_TASKS, np.ones_like(own)), (own_scope, own)):
        if not keep.any():
            continue
        part = child[keep]
        for key, column in columns.items():
            if key == "no_pooling" and scope == ALL_TASKS and not own.all():
                continue
            err = part[column].to_numpy(dtype=float) - part["true"].to_numpy(dtype=float)
            rows.append({"method": RMSE_NAMES[key], "scope": scope,
                         "rmse": float(np.sqrt(np.mean(err**2))),
                         "tasks": int(part["task"].nunique())})
        if own.all():
            break
    return pd.DataFrame(rows, columns=["method", "scope", "rmse", "tasks"])


def rmse_chart(
    errors: Mapping[str, float], weights: pd.DataFrame | None = None
) -> alt.LayerChart | alt.FacetChart:
    """Root-mean-square error of no, partial and complete pooling against the truth.

    Parameters
    ----------
    errors
        Method name to RMSE (``FitResult.errors``); names like ``no_pooling`` are
        shown as ``no pooling``. Missing or NaN values are left out.
    weights
        The fit's tidy weights table. When given and some task has no estimate of
        its own, the chart instead shows :func:`comparable_errors` in two panels: all
        tasks, and only the tasks no pooling can score.

    Returns
    -------
    alt.LayerChart or alt.FacetChart
        Horizontal bars with their values written at the end.
    """
    colors = {"no pooling": COLORS["no_pooling"], "partial pooling": COLORS["posterior"],
              "complete pooling": COLORS["complete_pooling"]}
    split = weights is not None and not np.isfinite(
        _child_rows(weights)["no_pooling"].to_numpy(dtype=float)).all()
    if split:
        frame = comparable_errors(weights)
    else:
        rows = []
        for key, value in errors.items():
            if value is not None and np.isfinite(value):
                rows.append({"method": RMSE_NAMES.get(key, str(key).replace("_", " ")),
                             "scope": ALL_TASKS, "rmse": float(value)})
        frame = pd.DataFrame(rows, columns=["method", "scope", "rmse"])
    present = list(dict.fromkeys(frame["method"]))
    order = [m for m in ("no pooling", "partial pooling", "complete pooling") if m in present]
    order += [m for m in present if m not in order]
    palette = [colors.get(m, COLORS["exact"]) for m in order]
    tooltip = [alt.Tooltip("method:N"), alt.Tooltip("scope:N", title="scored on"),
               alt.Tooltip("rmse:Q", title="RMSE", format=".4f")]
    y = alt.Y("method:N", title=None, sort=order)
    x = alt.X("rmse:Q", title="RMSE against the true child weights")
    bars = alt.Chart().mark_bar(height=20).encode(
        y=y, x=x, tooltip=tooltip,
        color=alt.Color("method:N", scale=alt.Scale(domain=order, range=palette), legend=None),
    )
    # Labels in the bar's own (mid-tone) colour: readable on light and dark backgrounds.
    text = alt.Chart().mark_text(align="left", dx=4, fontWeight="bold").encode(
        y=y, x=x, text=alt.Text("rmse:Q", format=".3f"), tooltip=tooltip,
        color=alt.Color("method:N", scale=alt.Scale(domain=order, range=palette), legend=None))
    layer = alt.layer(bars, text, data=frame)
    if not split:
        return layer.properties(height=alt.Step(34))
    scopes = list(dict.fromkeys(frame["scope"]))
    return layer.properties(width=360, height=alt.Step(30)).facet(
        row=alt.Row("scope:N", title=None, sort=scopes,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelOrient="top",
                                      labelFontWeight="bold")),
    ).resolve_scale(y="independent")


# ---------------------------------------------------------------------------
# 4. The padded data
# ---------------------------------------------------------------------------
REAL = "real row"
PAD_IGNORED = "padding, ignored"
PAD_USED = "padding, in the likelihood (x = 0, y = 0)"


def padding_segments(
    mask: np.ndarray, likelihood_mask: np.ndarray, counts: Sequence[int]
) -> pd.DataFrame:
    """Runs of real and padded cells per task, trimmed to the world's real shape.

    Parameters
    ----------
    mask
        True on real rows, shape (capacity tasks, capacity rows).
    likelihood_mask
        True on rows that enter the likelihood, same shape.
    counts
        Real rows per task; their number and maximum trim the arrays.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``task, task_label, start, end, rows, kind`` with ``end``
        exclusive and ``kind`` one of real row, padding ignored, padding in the
        likelihood. Empty when no task has a row.
    """
    counts = [int(c) for c in counts]
    n_tasks, max_rows = len(counts), max(counts, default=0)
    columns = ["task", "task_label", "start", "end", "rows", "kind"]
    if max_rows == 0:
        return pd.DataFrame(columns=columns)
    real = np.asarray(mask, dtype=bool)[:n_tasks, :max_rows]
    used = np.asarray(likelihood_mask, dtype=bool)[:n_tasks, :max_rows]
    kinds = np.where(real, 0, np.where(used, 2, 1))
    names = {0: REAL, 1: PAD_IGNORED, 2: PAD_USED}
    rows = []
    for t in range(n_tasks):
        line = kinds[t]
        edges = np.flatnonzero(np.diff(line)) + 1
        starts = np.concatenate([[0], edges])
        ends = np.concatenate([edges, [max_rows]])
        for s, e in zip(starts, ends, strict=True):
            rows.append({"task": t, "task_label": task_label(t, counts[t]), "start": int(s),
                         "end": int(e), "rows": int(e - s), "kind": names[int(line[s])]})
    return pd.DataFrame(rows, columns=columns)


def padding_chart(
    mask: np.ndarray, likelihood_mask: np.ndarray, counts: Sequence[int]
) -> alt.Chart:
    """Heatmap of the padded (tasks x rows) array: which cells are real, which padding.

    Parameters
    ----------
    mask, likelihood_mask, counts
        As for :func:`padding_segments` (``PaddedData.mask``,
        ``PaddedData.likelihood_mask``, ``PaddedData.counts``).

    Returns
    -------
    alt.Chart
        One bar per task along the rows: blue real rows, grey padding the model
        ignores, vermillion padding that enters the likelihood (naive mode).
    """
    segments = padding_segments(mask, likelihood_mask, counts)
    kinds = [REAL, PAD_IGNORED, PAD_USED]
    palette = [COLORS["posterior"], COLORS["padding_ignored"], COLORS["true"]]
    n_tasks = len(counts)
    order = [task_label(t, n) for t, n in enumerate(counts)]
    return (
        alt.Chart(segments)
        .mark_rect()
        .encode(
            x=alt.X("start:Q", title="row of the padded array",
                    scale=alt.Scale(domain=[0, max(max(counts, default=0), 1)], nice=False),
                    axis=alt.Axis(format="d", tickMinStep=1)),
            x2="end:Q",
            y=alt.Y("task_label:N", title=None, sort=order,
                    scale=alt.Scale(paddingInner=0.15)),
            color=alt.Color("kind:N", scale=alt.Scale(domain=kinds, range=palette),
                            legend=alt.Legend(title=None, orient="top", labelLimit=400)),
            tooltip=[
                alt.Tooltip("task:Q", title="task"),
                alt.Tooltip("kind:N", title="cells"),
                alt.Tooltip("start:Q", title="from row"),
                alt.Tooltip("end:Q", title="to row (exclusive)"),
                alt.Tooltip("rows:Q", title="rows"),
            ],
        )
        .properties(height=alt.Step(14 if n_tasks > 20 else ROW_HEIGHT))
    )


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
    color = _role_color(roles)
    tooltip = [
        alt.Tooltip("label:N", title="scale"),
        alt.Tooltip("true:Q", title="true value", format=FMT),
        alt.Tooltip("mean:Q", title="posterior mean", format=FMT),
        alt.Tooltip("ci_low:Q", title="94% interval from", format=FMT),
        alt.Tooltip("ci_high:Q", title="94% interval to", format=FMT),
        alt.Tooltip("exact_mean:Q", title="exact posterior mean", format=FMT),
    ]
    y = alt.Y("label:N", title=None, axis=None)
    interval = _with_role(
        alt.Chart().mark_rule(strokeWidth=4).encode(
            y=y, x=alt.X("ci_low:Q", title="value", scale=alt.Scale(zero=False)),
            x2="ci_high:Q", color=color, tooltip=tooltip),
        POSTERIOR,
    )
    mean = _with_role(
        alt.Chart().mark_point(filled=True, size=80, opacity=1).encode(
            y=y, x="mean:Q", color=color, tooltip=tooltip),
        POSTERIOR,
    )
    true = _with_role(
        alt.Chart().mark_point(shape="diamond", filled=False, size=220, strokeWidth=2.5,
                               opacity=1).encode(y=y, x="true:Q", color=color, tooltip=tooltip),
        TRUE,
    )
    layers = [interval, mean, true]
    if reference:
        layers.append(_with_role(
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


# ---------------------------------------------------------------------------
# 5. Diagnostics
# ---------------------------------------------------------------------------
def elbo_chart(elbo: np.ndarray, *, window_share: float = 0.1, max_points: int = 600) -> alt.LayerChart:
    """The ELBO per iteration of ADVI, with the windows the convergence check compares.

    Parameters
    ----------
    elbo
        ELBO per iteration (``Diagnostics.elbo``).
    window_share
        Share of the iterations in each compared window. As in
        :func:`hierdash.inference.elbo_converged`, the last window is compared with
        the one ending half-way: a converged fit is flat over its second half.
    max_points
        The curve is thinned to at most this many points (median of each block).

    Returns
    -------
    alt.LayerChart
        The thinned ELBO curve over the two shaded windows; the y axis skips the
        first steep climb.
    """
    values = np.asarray(elbo, dtype=float)
    iterations = np.arange(len(values))
    ok = np.isfinite(values)
    values, iterations = values[ok], iterations[ok]
    n = len(values)
    if n > max_points:
        blocks = np.array_split(np.arange(n), max_points)
        curve = pd.DataFrame({
            "iteration": [int(iterations[b[-1]]) for b in blocks],
            "elbo": [float(np.median(values[b])) for b in blocks],
        })
    else:
        curve = pd.DataFrame({"iteration": iterations.astype(int), "elbo": values})
    total = int(iterations[-1]) + 1 if n else 1
    w = max(int(total * window_share), 1)
    half = total // 2
    names = ["window at half-way", "last window"]
    windows = pd.DataFrame({
        "start": [max(half - w, 0), total - w],
        "end": [half, total],
        "window": names,
    })
    if n:
        settled = curve["elbo"].to_numpy()[len(curve) // 10:]
        low, high = float(np.min(settled)), float(np.max(curve["elbo"]))
        pad = 0.05 * (high - low) or 1.0
        domain = [low - pad, high + pad]
    else:
        domain = [0.0, 1.0]
    shade = alt.Chart(windows).mark_rect(opacity=0.18).encode(
        x=alt.X("start:Q", title="iteration"),
        x2="end:Q",
        color=alt.Color("window:N", scale=alt.Scale(domain=names,
                                                    range=[COLORS["exact"], COLORS["parent"]]),
                        legend=alt.Legend(title="convergence check compares", orient="top",
                                          labelLimit=400)),
    )
    line = alt.Chart(curve).mark_line(color=COLORS["posterior"], clip=True).encode(
        x=alt.X("iteration:Q", title="iteration"),
        y=alt.Y("elbo:Q", title="ELBO (higher is better)", scale=alt.Scale(domain=domain)),
        tooltip=[alt.Tooltip("iteration:Q"), alt.Tooltip("elbo:Q", title="ELBO", format=".2f")],
    )
    return alt.layer(shade, line).properties(height=240)
