"""ADVI's ELBO per iteration, with the two windows its convergence check compares and
where the run stopped."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from hierdash.charts.style import COLORS
from hierdash.settings import ELBO_WINDOW_SHARE

# Dark grey: the stop is neither a truth (vermillion) nor a window of the check.
_STOP_COLOR = "#444444"


def elbo_chart(
    elbo: np.ndarray,
    *,
    limit: int | None = None,
    window_share: float = ELBO_WINDOW_SHARE,
    max_points: int = 600,
) -> alt.LayerChart:
    """The ELBO per iteration of ADVI, with the windows the convergence check compares
    and a rule where the run stopped.

    Parameters
    ----------
    elbo
        ELBO per iteration (``Diagnostics.elbo``).
    limit
        The most iterations the run could take (``Diagnostics.elbo_limit``). With it,
        a dashed rule marks the last iteration and its label says whether the run
        stopped before its limit (the ELBO settled, or a step could not be taken) or
        ran to it; without it, no rule.
    window_share
        Share of the iterations in each compared window. As in
        :func:`hierdash.inference.elbo_converged`, the last window is compared with
        the one ending half-way: a converged fit is flat over its second half.
    max_points
        The curve is thinned to at most this many points (median of each block), so a
        long run stays a light chart.

    Returns
    -------
    alt.LayerChart
        The thinned ELBO curve over the two shaded windows (and the stop's rule); the
        y axis skips the first steep climb.
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
    layers = [shade, line]
    if limit is not None:
        layers += _stop_marks(len(elbo), int(limit))
    return alt.layer(*layers).properties(height=240)


def _stop_marks(done: int, limit: int) -> list[alt.Chart]:
    """A dashed rule at the last iteration, labelled with where the run stopped."""
    if done >= limit:
        label = f"ran to its limit of {limit:,} iterations"
    else:
        label = f"stopped at {done:,} of at most {limit:,} iterations"
    stop = pd.DataFrame({"iteration": [done], "label": [label]})
    base = alt.Chart(stop).encode(x=alt.X("iteration:Q"),
                                  tooltip=[alt.Tooltip("label:N", title="run")])
    rule = base.mark_rule(color=_STOP_COLOR, strokeDash=[4, 3], strokeWidth=1.5)
    # Right-aligned against the rule, at the chart's top: the curve ends there.
    text = base.mark_text(align="right", baseline="top", dx=-4, dy=4, fontSize=11,
                          color=_STOP_COLOR).encode(y=alt.value(0), text="label:N")
    return [rule, text]
