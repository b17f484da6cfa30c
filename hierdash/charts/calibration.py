"""The calibration lab's charts: coverage against nominal, the PIT-ECDF, time per world.

Each draws a table from :mod:`hierdash.calibration.lab` (``coverage_frame``,
``pit_ecdf_frame``, ``worlds_frame``) and computes nothing. Every table has a ``run``
column: several runs (methods, paddings) are drawn side by side in their own colours.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from hierdash.calibration.world_check import INTERVALS, LEVELS

__all__ = ["coverage_chart", "pit_ecdf_chart", "seconds_chart", "RUN_COLORS"]

# Okabe-Ito, in the order runs are listed (the truth's vermillion stays for nominal).
RUN_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#999999")
NOMINAL_COLOR = "#D55E00"
_PANEL = 190  # width of one level's panel, pixels


def _run_color(runs: Sequence[str]) -> alt.Color:
    return alt.Color("run:N", scale=alt.Scale(domain=list(runs),
                                              range=list(RUN_COLORS[: len(runs)])),
                     legend=alt.Legend(title=None, orient="top", labelLimit=400))


def _runs(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["run"]))


def _levels(frame: pd.DataFrame) -> list[str]:
    return [level for level in LEVELS if level in set(frame["level"])]


def coverage_chart(coverage: pd.DataFrame) -> alt.FacetChart:
    """Observed coverage per level against the nominal probability.

    Parameters
    ----------
    coverage
        :func:`hierdash.calibration.lab.coverage_frame`: ``run, level, interval,
        nominal, coverage, low, high, worlds``.

    Returns
    -------
    alt.FacetChart
        One panel per level: nominal probability across, observed coverage up, the
        diagonal where a calibrated method's points sit, each point with its 95% Monte
        Carlo band; below the diagonal means intervals too narrow.
    """
    runs = _runs(coverage)
    x = alt.X("interval:Q", title="claimed (nominal) probability",
              scale=alt.Scale(domain=[0.4, 1.0]), axis=alt.Axis(format="%", values=list(INTERVALS)))
    y = alt.Y("coverage:Q", title="truth inside the interval (share of worlds)",
              scale=alt.Scale(domain=[0.0, 1.0]), axis=alt.Axis(format="%"))
    diagonal = alt.Chart().mark_rule(color=NOMINAL_COLOR, strokeDash=[4, 3]).encode(
        x=alt.datum(0.4), y=alt.datum(0.4), x2=alt.datum(1.0), y2=alt.datum(1.0))
    tooltip = [alt.Tooltip("run:N"), alt.Tooltip("level:N"), alt.Tooltip("nominal:N"),
               alt.Tooltip("coverage:Q", format=".1%"),
               alt.Tooltip("low:Q", title="band from", format=".1%"),
               alt.Tooltip("high:Q", title="band to", format=".1%"),
               alt.Tooltip("worlds:Q")]
    bands = alt.Chart().mark_rule(strokeWidth=2, opacity=0.7).encode(
        x=x, y=alt.Y("low:Q"), y2="high:Q", color=_run_color(runs))
    points = alt.Chart().mark_point(filled=True, size=70).encode(
        x=x, y=y, color=_run_color(runs), shape=alt.Shape("run:N", sort=runs, legend=None),
        tooltip=tooltip)
    return (alt.layer(diagonal, bands, points, data=coverage)
            .properties(width=_PANEL, height=_PANEL)
            .facet(column=alt.Column("level:N", sort=_levels(coverage), title=None,
                                     header=alt.Header(labelFontWeight="bold"))))


def pit_ecdf_chart(pit: pd.DataFrame) -> alt.FacetChart:
    """The PIT-ECDF difference per level with its simultaneous band.

    Parameters
    ----------
    pit
        :func:`hierdash.calibration.lab.pit_ecdf_frame`: ``run, level, pit,
        difference, low, high``.

    Returns
    -------
    alt.FacetChart
        One panel per level: the ECDF of the truth's rank minus a uniform's, as steps;
        the shaded band holds a calibrated method's curve over its whole length with
        the band's probability (``PIT_PROB``). A curve leaving the band below in the middle and above at
        the ends (a U) means intervals too narrow; a hump means too wide.
    """
    runs = _runs(pit)
    x = alt.X("pit:Q", title="rank of the truth among the draws",
              scale=alt.Scale(domain=[0, 1]))
    band = alt.Chart().mark_area(opacity=0.25, interpolate="step-after").encode(
        x=x, y=alt.Y("low:Q", title="ECDF minus uniform"), y2="high:Q",
        color=_run_color(runs), detail="run:N")
    zero = alt.Chart().mark_rule(color="#888888").encode(y=alt.datum(0))
    curve = alt.Chart().mark_line(interpolate="step-after", strokeWidth=2).encode(
        x=x, y="difference:Q", color=_run_color(runs),
        tooltip=[alt.Tooltip("run:N"), alt.Tooltip("pit:Q", format=".2f"),
                 alt.Tooltip("difference:Q", format="+.3f"),
                 alt.Tooltip("worlds:Q")])
    return (alt.layer(band, zero, curve, data=pit)
            .properties(width=_PANEL, height=_PANEL * 0.8)
            .facet(column=alt.Column("level:N", sort=_levels(pit), title=None,
                                     header=alt.Header(labelFontWeight="bold"))))


def seconds_chart(worlds: pd.DataFrame) -> alt.Chart:
    """Seconds per world, world by world, divergent worlds marked.

    Parameters
    ----------
    worlds
        :func:`hierdash.calibration.lab.worlds_frame`: ``run, world, seconds,
        divergences``.
    """
    runs = _runs(worlds)
    frame = worlds.assign(divergent=worlds["divergences"] > 0)
    return alt.Chart(frame).mark_point(filled=True, size=30).encode(
        x=alt.X("world:Q", title="world"),
        y=alt.Y("seconds:Q", title="seconds", scale=alt.Scale(type="symlog")),
        color=_run_color(runs),
        shape=alt.Shape("divergent:N", title="divergences",
                        scale=alt.Scale(domain=[False, True], range=["circle", "cross"])),
        tooltip=["run:N", "world:Q", alt.Tooltip("seconds:Q", format=".2f"),
                 "divergences:Q"],
    ).properties(height=160, width="container")
