"""One fit on the page: every chart with its words, the warnings, downloads and the link.

Each section takes a :class:`~hierdash.inference.FitResult` and lays out charts
(:mod:`hierdash.charts`, fed by :mod:`hierdash.summaries`) beside the words of
``words/explore.md``. Nothing here computes a statistic.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from hierdash import charts, summaries
from hierdash.inference import FitResult
from hierdash.scenario import Scenario
from hierdash.scenario.presets import PRESETS, matching_preset
from hierdash.summaries.report import data_csv, posterior_netcdf, weights_csv
from hierdash.ui.diagnostics import diagnostics_section
from hierdash.ui.labels import MCMC_METHODS, method_label
from hierdash.ui.shared import draw_chart
from hierdash.ui.words import say

__all__ = ["world_line", "result_sections", "downloads", "share_link", "warning_boxes"]



# The summary tables of recent results, by the result itself: a result is one shared,
# never-changed object (the exact posterior's cache, the fit registry), drawn again at
# every rerun and by every reader of its world, and its tables cost about 15 ms.
# Held by weak reference: the cache never keeps a result (and its draws) alive.
_TABLES: OrderedDict[int, tuple[weakref.ref, dict[str, pd.DataFrame]]] = OrderedDict()
_TABLES_LOCK = threading.Lock()
_TABLES_KEPT = 64


def _summary_tables(result: FitResult) -> dict[str, pd.DataFrame]:
    """The pull, error and padding tables of ``result``, made once per result."""
    with _TABLES_LOCK:
        kept = _TABLES.get(id(result))
        if kept is not None and kept[0]() is result:  # not a new object at a reused id
            _TABLES.move_to_end(id(result))
            return kept[1]
    padded = result.padded
    tables = {
        "pull": summaries.task_pull(result.weights),
        "errors": summaries.comparable_errors(result.weights),
        "segments": summaries.padding_segments(padded.mask, padded.likelihood_mask,
                                               padded.counts),
    }
    with _TABLES_LOCK:
        _TABLES[id(result)] = (weakref.ref(result), tables)
        while len(_TABLES) > _TABLES_KEPT:
            _TABLES.popitem(last=False)
    return tables


def world_line(scenario: Scenario) -> None:
    """One line on the world being shown: its preset, if any, and what to look for."""
    counts, tasks = scenario.samples, scenario.n_tasks
    if len(set(counts)) == 1:
        data = f"{tasks} task{'s' if tasks > 1 else ''} with {counts[0]} samples" + (
            " each" if tasks > 1 else "")
    else:
        shown = ", ".join(map(str, counts[:12])) + (", …" if tasks > 12 else "")
        data = f"{tasks} tasks with {shown} samples"
    features = f"{scenario.n_features} feature{'s' if scenario.n_features > 1 else ''}"
    line = say("explore", "world", data=data, features=features, seed=scenario.seed)
    name = matching_preset(scenario)
    if name is not None:
        preset = PRESETS[name]
        line += " " + say("explore", "world_preset", label=preset.label, look_for=preset.look_for)
    st.markdown(line)


def warning_boxes(messages: list[str], *, most: int = 4) -> None:
    """Each warning in its own box; a long list (one per task, say) in one box."""
    if len(messages) <= most:
        for message in messages:
            st.warning(message, icon=":material/warning:")
        return
    listed = "\n".join(f"- {m}" for m in messages)
    st.warning(say("explore", "many_warnings", count=len(messages), listed=listed),
               icon=":material/warning:")


def _shown_caption(result: FitResult, scenario: Scenario) -> None:
    """Say which method the charts show, and how to get the other."""
    s = result.scenario
    if s.method == "exact":
        if scenario.method == "exact":
            text = say("explore", "shown_exact", milliseconds=result.total_s * 1000)
        else:
            text = say("explore", "shown_exact_before_fit", method=method_label(scenario.method))
        st.info(text, icon=":material/functions:")
        return
    if s.method in MCMC_METHODS:
        size = say("explore", "size_mcmc", chains=s.chains, draws=s.draws, tune=s.tune)
    else:
        # The iterations done: ADVI stops before its limit once the ELBO settles.
        done = result.diagnostics.elbo
        size = say("explore", "size_vi", iterations=s.advi_iterations if done is None else len(done),
                   draws=s.draws * s.chains)
    st.success(say("explore", "shown_sampled", method=method_label(s.method), size=size,
                   compile_s=result.compile_s, sample_s=result.sample_s),
               icon=":material/target:")


def _chart_with_words(builder, frame, text: str, *, facet: bool = False, **options) -> None:
    """A chart with its words: beside it, or above it for the wide per-feature grids."""
    if facet:
        look, _, tried = text.partition("\n\n")
        left, right = st.columns(2, gap="medium")
        left.markdown(look)
        right.markdown(tried)
        draw_chart(builder, frame, width="content", **options)
        return
    left, right = st.columns([3, 1], gap="medium")
    with left:
        draw_chart(builder, frame, **options)
    with right:
        st.markdown(text)


def result_sections(result: FitResult, scenario: Scenario) -> None:
    """Every chart of one fit, each with what to look at and what to try next."""
    reference = result.scenario.method != "exact"  # grey ticks of the exact posterior
    outlier = result.scenario.outlier  # its label says "(outlier)" on every per-task chart
    weights = result.weights
    _shown_caption(result, scenario)
    warning_boxes(result.warnings())

    st.subheader(say("explore", "parent_title"))
    _chart_with_words(charts.parent_chart, weights, say("explore", "parent"), reference=reference)

    st.subheader(say("explore", "child_title"))
    _chart_with_words(charts.child_chart, weights, say("explore", "child"), facet=True,
                      reference=reference, outlier=outlier)

    st.subheader(say("explore", "shrinkage_title"))
    _chart_with_words(charts.shrinkage_chart, weights, say("explore", "shrinkage"), facet=True,
                      outlier=outlier)
    tables = _summary_tables(result)
    left, right = st.columns(2, gap="medium")
    with left:
        st.markdown(say("explore", "pull_title"))
        draw_chart(charts.pull_chart, tables["pull"], outlier=outlier)
        st.caption(say("explore", "pull"))
    with right:
        st.markdown(say("explore", "errors_title"))
        draw_chart(charts.rmse_chart, tables["errors"])
        st.caption(say("explore", "errors"))

    st.subheader(say("explore", "padding_title"))
    capacity_tasks, capacity_rows = result.padded.capacity
    left, right = st.columns([3, 1], gap="medium")
    with left:
        draw_chart(charts.padding_chart, tables["segments"], outlier=outlier)
        st.markdown(say("explore", "scales_title"))
        draw_chart(charts.scales_chart, result.scales, width="content", reference=reference)
    with right:
        st.markdown(say("explore", "padding", capacity_tasks=capacity_tasks,
                        capacity_rows=capacity_rows))

    st.subheader(say("explore", "diagnostics_title"))
    diagnostics_section(result)


def downloads(result: FitResult) -> None:
    """The tidy weights, the simulated data and the posterior, as files."""
    s = result.scenario
    stem = f"hierdash_{s.method}_seed{s.seed}"
    # Each file is made only when asked for: most readers never do, and a page rerun
    # (every slider move) should not pay for three files.
    files = [
        ("Weights (CSV)", lambda: weights_csv(result), "weights.csv", "text/csv",
         "download_weights"),
        ("Simulated data (CSV)", lambda: data_csv(result), "data.csv", "text/csv",
         "download_data"),
        ("Posterior (netCDF)", lambda: posterior_netcdf(result), "posterior.nc",
         "application/x-netcdf", "download_posterior"),
    ]
    for col, (label, data, suffix, mime, key) in zip(st.columns(3), files, strict=True):
        col.download_button(label, data, file_name=f"{stem}_{suffix}", mime=mime,
                            icon=":material/download:", key=key, width="stretch",
                            on_click="ignore")


def share_link(scenario: Scenario) -> None:
    """The link that reproduces this world, seed and fit settings included."""
    base = st.context.url or ""
    st.code(f"{base}?{urlencode(scenario.to_query())}", language=None, wrap_lines=True)
    st.caption(say("explore", "share"))
