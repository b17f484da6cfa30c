"""One fit on the page: every chart with its words, the warnings, downloads and the link.

Each section takes a :class:`~hierdash.inference.FitResult` and lays out charts
(:mod:`hierdash.charts`, fed by :mod:`hierdash.summaries`) beside the words of
``words/explore.md``. Nothing here computes a statistic.

A yes/no or count world shows the same charts on its link scale (their axes say
"log-odds" or "log rate"), and besides them each task's probability or rate against its
own rows' share and the truth, and the model as a Bambi / brms formula.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from hierdash import charts, summaries
from hierdash.charts.style import link_scale
from hierdash.charts.weights import natural_chart
from hierdash.inference import FitResult
from hierdash.scenario import Scenario
from hierdash.scenario.presets import PRESETS, matching_preset
from hierdash.summaries.natural import natural_intercepts
from hierdash.summaries.report import data_csv, posterior_netcdf, weights_csv
from hierdash.ui.diagnostics import diagnostics_section
from hierdash.ui.labels import MCMC_METHODS, method_label
from hierdash.ui.shared import draw_chart
from hierdash.ui.words import say

__all__ = ["world_line", "model_formula", "model_line", "result_sections", "downloads",
           "share_link", "warning_boxes"]



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
    if not result.scenario.is_gaussian:
        tables["natural"] = natural_intercepts(result.weights, result.world.y,
                                               result.world.sizes)
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
    if not scenario.is_gaussian:
        line += " " + say("explore", f"world_{scenario.outcome}", trials=scenario.trials,
                          exposure=scenario.exposure)
    if scenario.intercept:
        line += " " + say("explore", "world_intercept")
    name = matching_preset(scenario)
    if name is not None:
        preset = PRESETS[name]
        line += " " + say("explore", "world_preset", label=preset.label, look_for=preset.look_for)
    st.markdown(line)


_FAMILIES = {"gaussian": "gaussian", "bernoulli": "bernoulli", "binomial": "binomial",
             "poisson": "poisson"}


def model_formula(scenario: Scenario) -> dict[str, str]:
    """The world's model as formulas of Bambi and brms (lme4 syntax).

    Features are named as on the charts: ``x1``, ``x2``... after an intercept (feature
    0), else ``x0``, ``x1``...; the grouping factor is ``task``.

    Returns
    -------
    dict
        ``brms`` and ``bambi`` (the formulas) and ``family``.
    """
    first = 1 if scenario.intercept else 0
    terms = ["1" if scenario.intercept else "0"] + [
        f"x{i}" for i in range(first, scenario.n_features)]
    rhs = " + ".join(terms)
    group = f"({rhs} | task)"
    brms_y, bambi_y, offset = "y", "y", ""
    if scenario.outcome == "binomial":
        brms_y, bambi_y = "y | trials(trials)", "p(y, trials)"
    elif scenario.outcome == "poisson":
        offset = " + offset(log(exposure))"
    return {"brms": f"{brms_y} ~ {rhs}{offset} + {group}",
            "bambi": f"{bambi_y} ~ {rhs}{offset} + {group}",
            "family": _FAMILIES.get(scenario.outcome, scenario.outcome)}


def model_line(scenario: Scenario) -> None:
    """The model as a formula, for readers moving to Bambi or brms (yes/no and counts)."""
    if scenario.is_gaussian:
        return
    formula = model_formula(scenario)
    st.markdown(say("explore", "model_line", formula=formula["brms"], family=formula["family"]))
    with st.expander(say("explore", "model_title")):
        st.code(f'bmb.Model("{formula["bambi"]}", data, family="{formula["family"]}")',
                language="python")
        st.code(f"brm({formula['brms']}, data = data, family = {formula['family']}())",
                language="r")
        st.markdown(say("explore", "model_note"))


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
        kind = "exact" if s.is_gaussian else "quadrature"  # a yes/no or count world's reference
        if scenario.method == "exact":
            text = say("explore", f"shown_{kind}", milliseconds=result.total_s * 1000)
        else:
            text = say("explore", f"shown_{kind}_before_fit",
                       method=method_label(scenario.method))
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
    gaussian = result.scenario.is_gaussian
    # A yes/no or count world's weights are on its link scale: the axes say which.
    scale = {} if gaussian else {"scale": link_scale(result.scenario.outcome)}
    link = "" if gaussian else "_link"  # the words of a link-scale world
    _shown_caption(result, scenario)
    warning_boxes(result.warnings())

    st.subheader(say("explore", "parent_title"))
    _chart_with_words(charts.parent_chart, weights, say("explore", f"parent{link}"),
                      reference=reference, **scale)

    st.subheader(say("explore", "child_title"))
    _chart_with_words(charts.child_chart, weights, say("explore", f"child{link}"), facet=True,
                      reference=reference, outlier=outlier, **scale)

    st.subheader(say("explore", "shrinkage_title"))
    _chart_with_words(charts.shrinkage_chart, weights, say("explore", f"shrinkage{link}"),
                      facet=True, outlier=outlier, **scale)
    tables = _summary_tables(result)
    left, right = st.columns(2, gap="medium")
    with left:
        st.markdown(say("explore", "pull_title"))
        draw_chart(charts.pull_chart, tables["pull"], outlier=outlier)
        st.caption(say("explore", f"pull{link}"))
    with right:
        st.markdown(say("explore", "errors_title"))
        draw_chart(charts.rmse_chart, tables["errors"], **scale)
        st.caption(say("explore", "errors"))
    if not gaussian:
        natural_section(tables["natural"], result.scenario)

    st.subheader(say("explore", "padding_title"))
    capacity_tasks, capacity_rows = result.padded.capacity
    left, right = st.columns([3, 1], gap="medium")
    with left:
        draw_chart(charts.padding_chart, tables["segments"], outlier=outlier)
        st.markdown(say("explore", f"scales_title{link}"))
        if result.scales.empty:  # no noise (yes/no, counts) and the spread fixed
            st.caption(say("explore", "scales_none"))
        else:
            draw_chart(charts.scales_chart, result.scales, width="content",
                       reference=reference, **scale)
    with right:
        st.markdown(say("explore", f"padding{link}", capacity_tasks=capacity_tasks,
                        capacity_rows=capacity_rows))

    st.subheader(say("explore", "diagnostics_title"))
    diagnostics_section(result)


def natural_section(table: pd.DataFrame, scenario: Scenario) -> None:
    """Each task's probability (yes/no, trials) or rate (counts) against its own rows."""
    kind = "rate" if scenario.outcome == "poisson" else "probability"
    st.markdown(say("explore", f"natural_title_{kind}"))
    if table.empty:  # no intercept: no task has a probability or rate of its own
        st.caption(say("explore", "natural_no_intercept"))
        return
    look, _, slopes = say("explore", f"natural_{kind}").partition("\n\n")
    left, right = st.columns([3, 1], gap="medium")
    with left:
        draw_chart(natural_chart, table, scale=kind)
        if scenario.n_features > 1:  # the share of all rows is not the intercept's
            st.caption(slopes)
    with right:
        st.markdown(look)
    st.info(say("explore", "natural_pull", scale=link_scale(scenario.outcome)),
            icon=":material/straighten:")


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
