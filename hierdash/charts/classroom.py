"""The classroom's charts: the tasks before pooling, a prediction beside the answer, the board.

Pure builders like the rest of :mod:`hierdash.charts`: each draws the table it is given.
Nicknames reach the board's charts only as tooltip text, which Vega shows as text.
"""

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
    feature_panels,
    on_scale,
    role_color,
    task_order,
    with_role,
)

__all__ = ["own_estimates_chart", "reveal_chart", "board_worlds_chart", "scores_chart"]

GUESS = "your guess"
ANSWER = "true pull (exact posterior)"
_BOARD_METHODS = {"rmse_no_pooling": "no pooling", "rmse_complete_pooling": "complete pooling"}


def own_estimates_chart(child: pd.DataFrame, *, scale: str | None = None) -> alt.FacetChart:
    """Each task's own estimate and the parent, without the partial-pooling answer.

    Parameters
    ----------
    child
        One row per task and feature with ``task, n, task_label, feature, feature_label,
        no_pooling, parent_mean`` (the child rows of a weights table, e.g.
        :func:`hierdash.summaries.child_rows`). Pass only these columns: whatever else
        the table holds ends up in the page's chart data, where a student could read
        the answer.
    scale
        The weights' scale for the axis title (``"log-odds"``, ``"log rate"``), or None.

    Returns
    -------
    alt.FacetChart
        One panel per feature, tasks sorted by sample count (largest first).
    """
    need = ["task", "n", "task_label", "feature", "feature_label", "no_pooling", "parent_mean"]
    data = child[need].copy()
    color = role_color([NO_POOL, PARENT])
    y = alt.Y("task_label:N", title=None, sort=task_order(data, by_samples=True))
    x_title = on_scale("weight", scale)
    tooltip = [alt.Tooltip("task_label:N", title="task"),
               alt.Tooltip("no_pooling:Q", title="its own estimate", format=FMT),
               alt.Tooltip("parent_mean:Q", title="parent", format=FMT)]
    parent = with_role(
        alt.Chart()
        .transform_aggregate(parent_mean="mean(parent_mean)", groupby=["feature_label"])
        .mark_rule(strokeDash=[6, 3], strokeWidth=2)
        .encode(x=alt.X("parent_mean:Q", title=x_title, scale=alt.Scale(zero=False), axis=AXIS),
                color=color, tooltip=[alt.Tooltip("parent_mean:Q", title="parent", format=FMT)]),
        PARENT,
    )
    own = with_role(
        alt.Chart().mark_point(filled=False, size=70, strokeWidth=2, opacity=1).encode(
            y=y, x=alt.X("no_pooling:Q", title=x_title, axis=AXIS), color=color,
            tooltip=tooltip),
        NO_POOL,
    )
    return feature_panels(alt.layer(parent, own, data=data), data)


def reveal_chart(table: pd.DataFrame, *, scale: str | None = None) -> alt.LayerChart:
    """Each task's predicted pull beside the true one, on the 0-1 scale.

    Parameters
    ----------
    table
        One row per task with ``task_label, n, predicted, true_pull, scored`` (the
        table of :func:`hierdash.classroom.score_prediction`, with a ``task_label``).
        Tasks not scored (no pull to predict) are not drawn.
    scale
        The scale the pulls were measured on (``"log-odds"``, ``"log rate"``), or None.

    Returns
    -------
    alt.LayerChart
        A row per task (sorted by sample count); a line from the guess (hollow diamond)
        to the answer (filled dot), rules at 0 (its own estimate) and 1 (the parent).
    """
    data = table[table["scored"].astype(bool)].copy()
    data["answer"] = np.clip(data["true_pull"].to_numpy(dtype=float), 0.0, 1.0)
    data["miss_pp"] = 100 * (data["predicted"] - data["answer"])
    order = (data.sort_values(["n", "task"], ascending=[False, True])["task_label"].tolist()
             if "task" in data else data["task_label"].tolist())
    y = alt.Y("task_label:N", title=None, sort=order)
    x_scale = alt.Scale(domain=[-0.02, 1.02], nice=False)
    x_title = ("pull toward the parent (0 = its own estimate, 1 = the parent)" if not scale
               else f"pull toward the parent in {scale} (0 = its own estimate, 1 = the parent)")
    tooltip = [alt.Tooltip("task_label:N", title="task"),
               alt.Tooltip("predicted:Q", title="your guess", format=".2f"),
               alt.Tooltip("true_pull:Q", title="true pull", format=".2f"),
               alt.Tooltip("miss_pp:Q", title="miss (percentage points)", format="+.0f")]
    color = alt.Color("role:N", scale=alt.Scale(domain=[GUESS, ANSWER],
                                                range=[COLORS["no_pooling"], COLORS["posterior"]]),
                      legend=alt.Legend(title=None, orient="top"))
    guides = alt.Chart(pd.DataFrame({"at": [0.0, 1.0]})).mark_rule(
        strokeDash=[4, 4], color=COLORS["parent"]).encode(x=alt.X("at:Q", scale=x_scale))
    miss = alt.Chart().mark_rule(strokeWidth=2, color=COLORS["exact"]).encode(
        y=y, x=alt.X("predicted:Q", scale=x_scale, title=x_title), x2="answer:Q",
        tooltip=tooltip)
    guess = with_role(alt.Chart().mark_point(shape="diamond", filled=False, size=130,
                                             strokeWidth=2.5, opacity=1).encode(
        y=y, x=alt.X("predicted:Q", scale=x_scale, title=x_title), color=color,
        tooltip=tooltip), GUESS)
    answer = with_role(alt.Chart().mark_circle(size=110, opacity=1).encode(
        y=y, x=alt.X("answer:Q", scale=x_scale, title=x_title), color=color,
        tooltip=tooltip), ANSWER)
    points = alt.layer(miss, guess, answer, data=data)
    return alt.layer(guides, points).properties(height=alt.Step(26))


def board_worlds_chart(board: pd.DataFrame) -> alt.LayerChart:
    """Every world on the board: no and complete pooling's error against partial's.

    Parameters
    ----------
    board
        The board table (:func:`hierdash.classroom.board_frame`): ``result_id,
        nickname, seed, samples, rmse_no_pooling, rmse_complete_pooling,
        rmse_partial_pooling, winner, prediction_score``, and optionally ``outcome``
        (shown in the tooltip: a yes/no or count world's errors are on its link scale).

    Returns
    -------
    alt.LayerChart
        x: partial pooling's error; y: the other two's, one point each; the diagonal
        y = x. A point above it is a world where partial pooling beat that estimate.
    """
    cols = ["result_id", "nickname", "seed", "samples", "rmse_no_pooling",
            "rmse_complete_pooling", "rmse_partial_pooling", "winner", "prediction_score"]
    cols += [c for c in ("outcome",) if c in board]  # the page adds each world's outcome
    data = board[cols].copy()
    values = data[["rmse_no_pooling", "rmse_complete_pooling", "rmse_partial_pooling"]]
    top = float(np.nanmax(values.to_numpy(dtype=float))) if len(data) else 1.0
    top = top * 1.05 if np.isfinite(top) and top > 0 else 1.0
    scale = alt.Scale(domain=[0, top], nice=False)
    diagonal = alt.Chart(pd.DataFrame({"a": [0.0, top]})).mark_line(
        strokeDash=[4, 4], color=COLORS["exact"]).encode(x=alt.X("a:Q", scale=scale),
                                                         y=alt.Y("a:Q", scale=scale))
    methods = list(_BOARD_METHODS.values())
    points = (
        alt.Chart(data)
        .transform_fold(list(_BOARD_METHODS), as_=["column", "error"])
        .transform_calculate(method=f"datum.column == 'rmse_no_pooling' ? '{methods[0]}' : "
                                    f"'{methods[1]}'")
        .transform_filter("isValid(datum.error) && isFinite(datum.error)")
        .mark_point(filled=True, size=80, opacity=0.85)
        .encode(
            x=alt.X("rmse_partial_pooling:Q", scale=scale,
                    title="partial pooling's error (RMSE against the truth)"),
            y=alt.Y("error:Q", scale=scale, title="the other estimate's error"),
            color=alt.Color("method:N", scale=alt.Scale(
                domain=methods, range=[COLORS["no_pooling"], COLORS["complete_pooling"]]),
                legend=alt.Legend(title=None, orient="top")),
            shape=alt.Shape("method:N", scale=alt.Scale(domain=methods,
                                                        range=["circle", "square"]),
                            legend=None),
            tooltip=[alt.Tooltip("result_id:Q", title="result"),
                     alt.Tooltip("nickname:N", title="nickname"),
                     alt.Tooltip("seed:N", title="seed"),
                     alt.Tooltip("samples:N", title="samples"),
                     *([alt.Tooltip("outcome:N", title="outcome")] if "outcome" in data
                       else []),
                     alt.Tooltip("method:N", title="estimate"),
                     alt.Tooltip("error:Q", title="its error", format=".3f"),
                     alt.Tooltip("rmse_partial_pooling:Q", title="partial pooling's error",
                                 format=".3f"),
                     alt.Tooltip("winner:N", title="closest to the truth"),
                     alt.Tooltip("prediction_score:Q", title="prediction score",
                                 format=".0f")],
        )
    )
    return alt.layer(diagonal, points).properties(height=320)


def scores_chart(board: pd.DataFrame) -> alt.Chart:
    """The class's prediction scores (0-100), one bar per ten points.

    Parameters
    ----------
    board
        The board table; rows without a ``prediction_score`` are not drawn.
    """
    data = board.loc[np.isfinite(board["prediction_score"].to_numpy(dtype=float)),
                     ["prediction_score"]]
    return (
        alt.Chart(data)
        .mark_bar(color=COLORS["posterior"])
        .encode(
            x=alt.X("prediction_score:Q", bin=alt.Bin(extent=[0, 100], step=10),
                    title="prediction score"),
            y=alt.Y("count():Q", title="students"),
            tooltip=[alt.Tooltip("count():Q", title="students")],
        )
        .properties(height=220)
    )
