"""The padded data: which cells of the (tasks x rows) array are real and which padding."""

from __future__ import annotations

import altair as alt
import pandas as pd

from hierdash.charts.style import COLORS, ROW_HEIGHT, mark_outlier
from hierdash.summaries import PAD_IGNORED, PAD_USED, REAL


def padding_chart(segments: pd.DataFrame, *, outlier: int | None = None) -> alt.Chart:
    """Heatmap of the padded array: one bar per task along the rows.

    Parameters
    ----------
    segments
        Runs of cells per task (:func:`hierdash.summaries.padding_segments`):
        ``task, task_label, start, end, rows, kind``.
    outlier
        The outlier task (``Scenario.outlier``): its label ends in "(outlier)".

    Returns
    -------
    alt.Chart
        Blue real rows, grey padding the model ignores, vermillion padding that enters
        the likelihood (naive mode); tasks top to bottom in task order.
    """
    segments = mark_outlier(segments, outlier)
    kinds = [REAL, PAD_IGNORED, PAD_USED]
    palette = [COLORS["posterior"], COLORS["padding_ignored"], COLORS["true"]]
    tasks = segments.drop_duplicates("task").sort_values("task")
    order = tasks["task_label"].tolist()
    longest = int(segments["end"].max()) if len(segments) else 0
    return (
        alt.Chart(segments)
        .mark_rect()
        .encode(
            x=alt.X("start:Q", title="row of the padded array",
                    scale=alt.Scale(domain=[0, max(longest, 1)], nice=False),
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
        .properties(height=alt.Step(14 if len(order) > 20 else ROW_HEIGHT))
    )
