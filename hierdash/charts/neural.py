"""Neural tasks: each task's decision surface, the parent's, scores against sample count,
and the spreads per layer.

The tables come from :class:`~hierdash.neural.NeuralResult` (``surfaces``, ``parent``,
``accuracy``, ``spreads``) and :func:`~hierdash.neural.points_frame`. The three models
keep the package's colours: separate networks are no pooling (reddish purple), one
pooled network is complete pooling (orange), the hierarchy is partial pooling (blue).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from hierdash.charts.style import COLORS
from hierdash.settings import CI_LABEL

__all__ = ["MODEL_NAMES", "neural_points_chart", "neural_surface_chart", "neural_parent_chart", "neural_score_chart",
           "neural_spread_chart"]

MODEL_NAMES: dict[str, str] = {
    "separate": "separate networks (no pooling)",
    "pooled": "one network (complete pooling)",
    "hierarchical": "hierarchical (partial pooling)",
}
_MODEL_COLORS = {MODEL_NAMES["separate"]: COLORS["no_pooling"],
                 MODEL_NAMES["pooled"]: COLORS["complete_pooling"],
                 MODEL_NAMES["hierarchical"]: COLORS["posterior"]}
_CLASS_COLORS = {"class 0": "#0072B2", "class 1": "#E69F00"}
_VALUE_TITLES = {"mean": "P(class 1), posterior mean", "sd": "P(class 1), posterior sd"}


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Grid points as rectangles: each cell's edges half a step either side."""
    step = float(pd.Series(sorted(frame["x1"].unique())).diff().median())
    return frame.assign(x1_lo=frame["x1"] - step / 2, x1_hi=frame["x1"] + step / 2,
                        x2_lo=frame["x2"] - step / 2, x2_hi=frame["x2"] + step / 2)


def _heat(value: str) -> alt.Chart:
    scale = (alt.Scale(scheme="blueorange", domain=[0, 1]) if value == "mean"
             else alt.Scale(scheme="greys", domain=[0, 0.5]))
    return (alt.Chart().mark_rect().encode(
        x=alt.X("x1_lo:Q", title="x1", scale=alt.Scale(nice=False)), x2="x1_hi:Q",
        y=alt.Y("x2_lo:Q", title="x2", scale=alt.Scale(nice=False)), y2="x2_hi:Q",
        color=alt.Color(f"{value}:Q", title=_VALUE_TITLES[value], scale=scale),
        tooltip=[alt.Tooltip("mean:Q", title="P(class 1)", format=".2f"),
                 alt.Tooltip("sd:Q", title="posterior sd", format=".2f")]))


def _dots() -> alt.Chart:
    """Training points as filled circles, test points as small faint crosses, by class."""
    # Fill, not colour: the surface's colour scale is the probability's, and a second
    # colour scale in the same panel would need its own legend per task.
    return alt.Chart().mark_point(filled=True, stroke="black", strokeWidth=0.6).encode(
        x="x1:Q", y="x2:Q",
        fill=alt.Fill("cls:N", title="class",
                        scale=alt.Scale(domain=list(_CLASS_COLORS),
                                        range=list(_CLASS_COLORS.values()))),
        shape=alt.Shape("set:N", title="point", scale=alt.Scale(
            domain=["train", "test"], range=["circle", "cross"])),
        size=alt.Size("set:N", legend=None, scale=alt.Scale(domain=["train", "test"],
                                                           range=[45, 14])),
        opacity=alt.Opacity("set:N", legend=None, scale=alt.Scale(domain=["train", "test"],
                                                                 range=[1.0, 0.55])),
        tooltip=["set:N", "cls:N"])


def _labelled(data: pd.DataFrame, points: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    n = points.groupby("task")["set"].apply(lambda s: int((s == "train").sum()))
    data = data.assign(task_label=data["task"].map(lambda t: f"task {t} (n = {n.get(t, 0)})"))
    order = sorted(data["task_label"].unique(), key=lambda s: int(s.split()[1]))
    return data, order


def neural_points_chart(points: pd.DataFrame, *, columns: int = 4,
                        size: int = 150) -> alt.FacetChart:
    """Each task's training and test points, before any fit.

    ``points`` holds task, x1, x2, y, set (:func:`~hierdash.neural.points_frame`).
    """
    data, order = _labelled(points.assign(cls="class " + points["y"].astype(str)), points)
    return (_dots().properties(width=size, height=size)
            .facet(facet=alt.Facet("task_label:N", title=None, sort=order), columns=columns,
                   data=data))


def neural_surface_chart(surfaces: pd.DataFrame, points: pd.DataFrame, *,
                         model: str = "hierarchical", value: str = "mean",
                         columns: int = 4, size: int = 150) -> alt.FacetChart:
    """Each task's decision surface in ``model``, with its training and test points.

    Parameters
    ----------
    surfaces
        model, task, x1, x2, mean, sd (``NeuralResult.surfaces``).
    points
        task, x1, x2, y, set (``points_frame``): training points are filled circles,
        test points small crosses.
    model
        Which fit's surfaces to draw.
    value
        ``mean`` (the posterior mean probability) or ``sd`` (its uncertainty).
    """
    if value not in _VALUE_TITLES:
        raise ValueError(f"value = {value!r} is not allowed: must be mean or sd")
    cells = _cells(surfaces[surfaces["model"] == model]).drop(columns="model")
    dots = points.assign(cls="class " + points["y"].astype(str))
    data, order = _labelled(pd.concat([cells.assign(layer="surface"),
                                       dots.assign(layer="points")], ignore_index=True), points)
    dot = _dots()
    layered = alt.layer(_heat(value).transform_filter("datum.layer == 'surface'"),
                        dot.transform_filter("datum.layer == 'points'"))
    return (layered.properties(width=size, height=size)
            .facet(facet=alt.Facet("task_label:N", title=None, sort=order), columns=columns,
                   data=data))


def neural_parent_chart(parent: pd.DataFrame, *, value: str = "mean",
                        size: int = 220) -> alt.FacetChart:
    """The parent network's surface: the hierarchy's parent beside the pooled network.

    ``parent`` holds model, x1, x2, mean, sd (``NeuralResult.parent``).
    """
    data = _cells(parent).assign(model_name=lambda f: f["model"].map(
        {"hierarchical": "hierarchical: the parent", "pooled": "one pooled network"}))
    return (_heat(value).properties(width=size, height=size)
            .facet(facet=alt.Facet("model_name:N", title=None), columns=2, data=data))


def neural_score_chart(accuracy: pd.DataFrame, *, width: int = 420,
                       height: int = 180) -> alt.FacetChart:
    """Test accuracy and log score against each task's sample count, for the three
    models: the neural twin of the shrinkage chart (small tasks gain most from pooling).

    ``accuracy`` holds task, n, model, accuracy, log_score (``NeuralResult.accuracy``).
    """
    long = accuracy.melt(id_vars=["task", "n", "model"], value_vars=["accuracy", "log_score"],
                         var_name="score", value_name="value")
    long["score"] = long["score"].map({"accuracy": "test accuracy",
                                       "log_score": "log score per test point"})
    long["model_name"] = long["model"].map(MODEL_NAMES)
    color = alt.Color("model_name:N", title="model", legend=alt.Legend(labelLimit=320),
                      scale=alt.Scale(domain=list(_MODEL_COLORS),
                                      range=list(_MODEL_COLORS.values())))
    x = alt.X("n:Q", title="training points in the task", **_size_axis(long["n"]))
    base = alt.Chart().encode(
        x=x, y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)), color=color,
        tooltip=[alt.Tooltip("task:Q"), alt.Tooltip("n:Q", title="training points"),
                 alt.Tooltip("model_name:N", title="model"),
                 alt.Tooltip("value:Q", title="score", format=".3f")])
    layered = alt.layer(base.mark_line(opacity=0.6).encode(order="n:Q"),
                        base.mark_point(filled=True, size=50))
    return (layered.properties(width=width, height=height)
            .facet(row=alt.Row("score:N", title=None, sort=["test accuracy"]), data=long)
            .resolve_scale(y="independent"))


_SIZE_TICKS = (3, 6, 10, 15, 25, 40, 60, 100, 150)


def _size_axis(n: pd.Series) -> dict:
    """The task-size axis: logarithmic from the smallest task to the largest (so small
    tasks get room and no stray 0 sits at the left); symlog only when a task has no
    training points, and then 0 is a task's size."""
    low, high = int(n.min()), int(n.max())
    kind = "log" if low >= 1 else "symlog"
    ticks = sorted({low, high, *(t for t in _SIZE_TICKS if low <= t <= high)})
    scale = alt.Scale(type=kind, domain=[low, max(high, low + 1)], nice=False, zero=False,
                      padding=12)
    return {"scale": scale, "axis": alt.Axis(values=ticks, format="d")}


def neural_spread_chart(spreads: pd.DataFrame, *, width: int = 420) -> alt.LayerChart:
    """The hierarchy's spreads per layer and kind: where do the tasks differ?

    ``spreads`` holds block, layer, kind, mean, low, high (``NeuralResult.spreads``).
    """
    data = spreads.assign(label=spreads["layer"] + " " + spreads["kind"])
    y = alt.Y("label:N", title=None, sort=list(data["label"]),
              axis=alt.Axis(labelLimit=260))
    rule = alt.Chart(data).mark_rule(strokeWidth=2, color=COLORS["posterior"]).encode(
        x=alt.X("low:Q", title=f"spread (posterior mean, {CI_LABEL} interval)"), x2="high:Q",
        y=y)
    dot = alt.Chart(data).mark_point(filled=True, size=70, color=COLORS["posterior"]).encode(
        x="mean:Q", y=y,
        tooltip=[alt.Tooltip("label:N", title="block"),
                 alt.Tooltip("mean:Q", format=".3f"), alt.Tooltip("low:Q", format=".3f"),
                 alt.Tooltip("high:Q", format=".3f")])
    return alt.layer(rule, dot).properties(width=width)
