"""The look every chart shares: colours by role, legend names, sizes, shared encodings.

Colours are the Okabe-Ito palette, which stays distinguishable with the common kinds of
colour blindness, chosen from its mid-tones so each mark is visible on both a light
and a dark background. Each colour has one role on every chart:

- vermillion: the truth,
- blue: the fitted (partial pooling) posterior,
- reddish purple: no pooling (each task alone),
- bluish green: the parent,
- orange: complete pooling,
- grey: the exact (closed-form) posterior, as a reference.

A yes/no or count world's weights live on its link scale: :func:`link_scale` names it
("log-odds", "log rate") and :func:`on_scale` puts that name in an axis title.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import altair as alt
import pandas as pd

from hierdash.settings import CI_LABEL
from hierdash.summaries import feature_label

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
POSTERIOR = f"posterior mean, {CI_LABEL} interval"
EXACT = "exact posterior mean"
NO_POOL = "no pooling (task alone)"
PARTIAL = "partial pooling (posterior mean)"
PARENT = "parent (posterior mean)"
RAW_SHARE = "the task's own rows (share of successes)"
RAW_RATE = "the task's own rows (count per exposure)"

ROLE_COLORS: dict[str, str] = {
    TRUE: COLORS["true"],
    POSTERIOR: COLORS["posterior"],
    EXACT: COLORS["exact"],
    NO_POOL: COLORS["no_pooling"],
    PARTIAL: COLORS["posterior"],
    PARENT: COLORS["parent"],
    RAW_SHARE: COLORS["no_pooling"],
    RAW_RATE: COLORS["no_pooling"],
}

# The scale each outcome's weights live on (None: the weights are y's own units).
LINK_SCALES: dict[str, str | None] = {
    "gaussian": None,
    "bernoulli": "log-odds",
    "binomial": "log-odds",
    "poisson": "log rate",
}

ROW_HEIGHT = 20  # pixels per task on the per-task charts
AXIS = alt.Axis(tickCount=4, labelOverlap=True)  # x axis of the per-feature panels
FMT = ".3f"


def link_scale(outcome: str) -> str | None:
    """The name of the scale ``outcome``'s weights live on: ``log-odds``, ``log rate``,
    or None for a Gaussian outcome (and any outcome not known here)."""
    return LINK_SCALES.get(outcome)


def on_scale(title: str, scale: str | None) -> str:
    """An axis title with its scale, e.g. ``child weight (log-odds)``; as it is for None."""
    return title if not scale else f"{title} ({scale})"


def role_color(roles: Sequence[str]) -> alt.Color:
    """A colour channel on the ``role`` field with a fixed role-to-colour mapping."""
    return alt.Color(
        "role:N",
        scale=alt.Scale(domain=list(roles), range=[ROLE_COLORS[r] for r in roles]),
        legend=alt.Legend(title=None, orient="top", symbolStrokeWidth=2, labelLimit=400),
    )


def with_role(chart: alt.Chart, role: str) -> alt.Chart:
    """Tag every row of a layer with its ``role`` (the legend entry it belongs to)."""
    return chart.transform_calculate(role=json.dumps(role))


def feature_labels(frame: pd.DataFrame) -> list[str]:
    """The feature labels of ``frame``, in feature order."""
    return [feature_label(f) for f in sorted(frame["feature"].unique())]


def task_order(child: pd.DataFrame, *, by_samples: bool) -> list[str]:
    """Task labels top to bottom: by task, or by sample count (largest first)."""
    tasks = child.drop_duplicates("task")[["task", "n", "task_label"]]
    if by_samples:
        tasks = tasks.sort_values(["n", "task"], ascending=[False, True])
    else:
        tasks = tasks.sort_values("task")
    return tasks["task_label"].tolist()


def facet_layout(n_features: int) -> tuple[int, int]:
    """(columns, facet width) for the per-feature grids; rows are ROW_HEIGHT each."""
    columns = min(n_features, 4)
    width = {1: 560, 2: 380, 3: 250}.get(columns, 185)
    return columns, width


def feature_panels(layer: alt.LayerChart, child: pd.DataFrame) -> alt.FacetChart:
    """One panel per feature, one row per task, each panel with its own x scale."""
    columns, width = facet_layout(child["feature"].nunique())
    return (
        layer.properties(width=width, height=alt.Step(ROW_HEIGHT))
        .facet(
            facet=alt.Facet("feature_label:N", title=None, sort=feature_labels(child),
                            header=alt.Header(labelFontWeight="bold")),
            columns=columns,
        )
        .resolve_scale(x="independent")
    )


def interval_tooltip() -> list[alt.Tooltip]:
    """Tooltip lines of a posterior mean and its interval."""
    return [
        alt.Tooltip("mean:Q", title="posterior mean", format=FMT),
        alt.Tooltip("ci_low:Q", title=f"{CI_LABEL} interval from", format=FMT),
        alt.Tooltip("ci_high:Q", title=f"{CI_LABEL} interval to", format=FMT),
    ]


OUTLIER_MARK = " (outlier)"


def mark_outlier(frame: pd.DataFrame, outlier: int | None) -> pd.DataFrame:
    """``frame`` with the outlier task's ``task_label`` ending in " (outlier)".

    Parameters
    ----------
    frame
        Rows with ``task`` and ``task_label``.
    outlier
        The outlier task (``Scenario.outlier``), or None: ``frame`` is returned as it is.
    """
    if outlier is None or "task_label" not in frame or "task" not in frame:
        return frame
    out = frame.copy()
    hit = out["task"].astype(int) == int(outlier)
    out.loc[hit, "task_label"] = out.loc[hit, "task_label"].astype(str) + OUTLIER_MARK
    return out
