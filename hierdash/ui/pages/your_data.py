"""The "Your data" page: upload a grouped table (or take the radon example), choose its
columns, and see no, complete and partial pooling on real groups.

Top to bottom: the data (source, columns, notes), the priors (from the data's rule,
editable), the method and Fit, then the charts of the best fit there is (the sampler's
when it has finished, else the exact posterior): estimates against group size,
shrinkage arrows, the parent and spread, the posterior predictive check, the
leave-one-out comparison, the table and downloads.

Privacy: an upload lives in this session only. Its table, fits and checks are kept in
``st.session_state`` (keyed by a digest of the content, never a file name); only the
built-in example's are shared between sessions. A sampling fit runs in
:data:`OWN_FITS`, keyed by the scenario *and* the data's digest, so two tables with the
same group sizes never share a fit; a finished fit is handed only to a session that
asks with the same content. Group and column names are shown as text, never as
Markdown or HTML (:func:`~hierdash.ui.words.plain`), and downloads are escaped against
spreadsheet formulas.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import streamlit as st

from hierdash.charts import own_data as own_charts
from hierdash.classroom.csv_safe import safe_csv
from hierdash.own_data.datasets import RADON, radon_bytes
from hierdash.own_data.fit_table import PPC_SEED, data_key, data_scenario, fit_groups
from hierdash.own_data.grouped import (
    MAX_BYTES,
    PRIOR_FIELDS,
    DataError,
    GroupedData,
    default_priors,
    prepare_groups,
    read_table,
)
from hierdash.scenario import BOUNDS, Scenario
from hierdash.ui.fit_registry import FitJob, FitRegistry
from hierdash.ui.jobs import BackgroundJob
from hierdash.ui.labels import method_label
from hierdash.ui.shared import TIME_BUDGET_S
from hierdash.ui.words import plain, say

__all__ = ["render"]

_EXAMPLE, _UPLOAD = "Minnesota radon (built in)", "Upload a CSV"
_METHODS = ("exact", "nuts", "advi")
_MEMO_SIZE = 8  # results kept per session (tables, fits, checks)
_PPC_LEVEL = 0.9


@dataclass(frozen=True)
class _FitKey:
    """A sampling job's key: the scenario and the data's digest (the data ride along)."""

    scenario: Scenario
    digest: str
    grouped: GroupedData = field(compare=False, hash=False, repr=False)


def _fit_key(key: _FitKey, **options):
    return fit_groups(key.grouped, key.scenario, **options)


OWN_FITS = FitRegistry(_fit_key, time_budget_s=TIME_BUDGET_S, max_results=8, ttl_s=3600.0)
_FITS: BackgroundJob[_FitKey] = BackgroundJob(name="yd", registry=OWN_FITS, stop_key="yd_stop")
"""This page's sampling fit, followed in the session (see :mod:`hierdash.ui.jobs`)."""


@st.cache_resource(max_entries=16, ttl=7200, show_spinner=False)
def _shared(name: str, key: str, _compute: Callable[[], object]) -> object:
    """Results of the built-in example, shared by every session (its data are public)."""
    return _compute()


def _memo(name: str, key: tuple, compute: Callable[[], object], *, shared: bool) -> object:
    """``compute()`` once per key: in this session only, or shared for the example."""
    if shared:
        return _shared(name, repr(key), compute)
    store = st.session_state.setdefault("yd_memo", OrderedDict())
    if (name, key) in store:
        store.move_to_end((name, key))
        return store[(name, key)]
    value = compute()
    store[(name, key)] = value
    while len(store) > _MEMO_SIZE:
        store.popitem(last=False)
    return value


def _table() -> tuple[pd.DataFrame, str, bool] | None:
    """The chosen table, its content digest and whether it is the example; None if none."""
    source = st.radio(say("your_data", "source_label"), (_EXAMPLE, _UPLOAD), horizontal=True,
                      key="yd_source", help=say("your_data", "source_help"))
    if source == _EXAMPLE:
        raw, example = radon_bytes(), True
    else:
        upload = st.file_uploader(say("your_data", "upload_label"), type=["csv", "txt", "tsv"],
                                  key="yd_upload", help=say("your_data", "upload_help"),
                                  max_upload_size=MAX_BYTES // (1024 * 1024))
        if upload is None:
            st.info(say("your_data", "waiting_for_upload"), icon=":material/upload_file:")
            return None
        raw, example = upload.getvalue(), False
    digest = hashlib.sha256(raw).hexdigest()
    try:
        frame = _memo("table", (digest,), lambda: read_table(raw), shared=example)
    except DataError as err:
        st.error(f"{say('your_data', 'unreadable')} {plain(err)}", icon=":material/error:")
        return None
    return frame, digest, example


def _columns(frame: pd.DataFrame, digest: str, example: bool) -> GroupedData | None:
    """The column choices and the grouped data, or None (with a message) if unusable."""
    columns = [str(c) for c in frame.columns]
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
    text = [c for c in columns if c not in numeric]
    if example:
        group, y, x = RADON["group"], RADON["y"], list(RADON["x"])
    else:
        group = (text or columns)[0]
        y = next((c for c in reversed(numeric) if c != group), columns[-1])
        x = []
    tag = digest[:16]  # new data, fresh choices
    left, middle, right = st.columns(3)
    group = left.selectbox(say("your_data", "group_label"), columns, index=columns.index(group),
                           key=f"yd_group_{tag}", help=say("your_data", "group_help"))
    y = middle.selectbox(say("your_data", "outcome_label"), columns, index=columns.index(y),
                         key=f"yd_y_{tag}")
    x = right.multiselect(say("your_data", "features_label"),
                          [c for c in columns if c not in (group, y)],
                          default=[c for c in x if c not in (group, y)], key=f"yd_x_{tag}",
                          help=say("your_data", "features_help"))
    a, b, c = st.columns(3)
    intercept = a.checkbox(say("your_data", "intercept_label"), value=True, key=f"yd_icpt_{tag}",
                           help=say("your_data", "intercept_help"))
    standardise = b.checkbox(say("your_data", "standardise_label"), value=False,
                             key=f"yd_std_{tag}", help=say("your_data", "standardise_help"))
    missing = c.radio(say("your_data", "missing_label"), ("drop", "refuse"), horizontal=True,
                      key=f"yd_missing_{tag}")
    choice = (group, y, tuple(x), intercept, standardise, missing)
    try:
        return _memo("groups", (digest, choice), lambda: prepare_groups(
            frame, group=group, y=y, x=x, intercept=intercept, standardise=standardise,
            missing=missing), shared=example)
    except DataError as err:
        st.error(f"{say('your_data', 'bad_choice')} {plain(err)}", icon=":material/error:")
        return None


def _priors(grouped: GroupedData, key: str) -> dict[str, float]:
    """The four priors: the rule's values, as edited on the page."""
    rule = default_priors(grouped)
    st.subheader(say("your_data", "priors_title"))
    st.caption(say("your_data", "priors_intro"))
    st.caption(plain(rule["rule"]))
    tag = key[:16]
    if st.button(say("your_data", "priors_reset"), key=f"yd_prior_reset_{tag}"):
        for name in PRIOR_FIELDS:
            st.session_state.pop(f"yd_{name}_{tag}", None)
    labels = {"prior_parent_mean": "parent: Normal mean", "prior_parent_scale":
              "parent: Normal sd", "prior_spread_scale": "spread: HalfNormal scale",
              "prior_noise_scale": "noise: HalfNormal scale"}
    chosen = {}
    for col, name in zip(st.columns(4), PRIOR_FIELDS, strict=True):
        bound = BOUNDS[name]
        chosen[name] = col.number_input(labels[name], min_value=bound.low, max_value=bound.high,
                                        value=float(rule[name]), key=f"yd_{name}_{tag}",
                                        format="%.4g")
    return chosen


def _fit_bar(job_key: _FitKey) -> None:
    """Fit (and Stop while a job runs), the live progress, and how an ended job went."""
    _FITS.settle(job_key)
    sampling = job_key.scenario.method != "exact"
    fit_col, stop_col, note_col = st.columns([2, 1, 3], vertical_alignment="center")
    label = f"Fit with {method_label(job_key.scenario.method)}" if sampling else "Fit"
    if fit_col.button(label, type="primary",
                      icon=":material/play_arrow:", key="yd_fit", disabled=not sampling,
                      help=say("your_data", "fit_help"), width="stretch"):
        _FITS.start(job_key)
    note_col.caption(say("your_data", "fit_note", budget=OWN_FITS.time_budget_s))
    _FITS.follow(job_key, stop_column=stop_col, draw=_draw_progress)
    # Said once; a fit abandoned by a changed setting goes without a word, as the page
    # shows the new settings' exact posterior at once.
    end = _FITS.take_ended("stopped", "ran_out", "failed", "abandoned")
    if end is None or end.how == "abandoned":
        return
    method = method_label(end.key.scenario.method)
    if end.how == "failed":
        st.error(say("your_data", "fit_failed", method=method, error=plain(end.reason)),
                 icon=":material/error:")
    else:
        st.warning(say("your_data", "fit_stopped", method=method),
                   icon=":material/stop_circle:" if end.how == "stopped"
                   else ":material/timer_off:")


def _draw_progress(job: FitJob[_FitKey]) -> None:
    """The running fit's stage, its progress bar and the seconds so far, in a box."""
    now = job.progress()
    share = f" {now.fraction:.0%}" if now.fraction is not None else ""
    with st.container(border=True):
        st.markdown(say("your_data", "fit_running",
                        method=method_label(job.key.scenario.method),
                        stage=f"{now.stage}{share}", elapsed=now.elapsed_s))
        st.progress(min(max(now.fraction or 0.0, 0.0), 1.0), text=plain(now.message))


def _loo_section(grouped: GroupedData, scenario: Scenario, key: str, example: bool) -> None:
    from hierdash.own_data import compare_pooling

    st.subheader(say("your_data", "loo_title"))
    st.markdown(say("your_data", "loo_look"))
    priors = {name: getattr(scenario, name) for name in PRIOR_FIELDS}
    try:
        with st.spinner("Leaving out one row at a time..."):
            table = _memo("loo", (key, tuple(priors.values())),
                          lambda: compare_pooling(grouped, priors=priors), shared=example)
    except Exception as err:  # noqa: BLE001 - never a traceback on the page
        st.error(say("your_data", "loo_failed", error=plain(f"{type(err).__name__}: {err}")))
        return
    names = [own_charts.METHOD_NAMES[m] for m in table["method"]]
    st.markdown(say("your_data", "loo_verdict", best=names[0], second=names[1],
                    diff=table["elpd_diff"][1], se=table["se_diff"][1], third=names[2],
                    diff3=table["elpd_diff"][2], se3=table["se_diff"][2]))
    st.dataframe(table.assign(method=names), hide_index=True)
    st.altair_chart(own_charts.loo_chart(table), width="content")


def _results(own, grouped: GroupedData, key: str, example: bool) -> None:
    from hierdash.own_data import draws_from_posterior, posterior_predictive_check

    weights = own.weights
    feature = st.selectbox(say("your_data", "feature_label"), list(grouped.feature_names),
                           key="yd_feature")
    st.subheader(say("your_data", "by_size_title"))
    st.markdown(say("your_data", "by_size_look"))
    st.altair_chart(own_charts.estimates_by_size_chart(weights, feature=feature), width="content")
    st.subheader(say("your_data", "shrinkage_title"))
    st.markdown(say("your_data", "shrinkage_look"))
    st.altair_chart(own_charts.group_shrinkage_chart(weights, feature=feature), width="content")
    st.subheader(say("your_data", "parent_title"))
    st.markdown(say("your_data", "parent_look"))
    st.altair_chart(own_charts.parent_spread_chart(weights, own.scales), width="content")
    st.subheader(say("your_data", "ppc_title"))
    st.markdown(say("your_data", "ppc_look", level=f"{_PPC_LEVEL:.0%}"))
    ppc = _memo("ppc", (key, own.scenario), lambda: posterior_predictive_check(
        grouped, *draws_from_posterior(own.result.posterior),
        rng=np.random.default_rng(PPC_SEED), level=_PPC_LEVEL), shared=example)
    for tab, statistic in zip(st.tabs(["group means", "group sds"]), ("mean", "sd"),
                              strict=True):
        rows = ppc[(ppc["statistic"] == statistic) & ppc["observed"].notna()]
        outside = int(((rows["observed"] < rows["low"]) | (rows["observed"] > rows["high"])).sum())
        tab.markdown(say("your_data", "ppc_count", outside=outside, groups=len(rows),
                         statistic=statistic, level=f"{_PPC_LEVEL:.0%}",
                         expected=f"{(1 - _PPC_LEVEL) * len(rows):.0f}"))
        tab.altair_chart(own_charts.ppc_chart(ppc, statistic=statistic), width="content")
    _loo_section(grouped, own.scenario, key, example)
    st.subheader(say("your_data", "table_title"))
    st.dataframe(weights, hide_index=True)
    st.subheader(say("your_data", "downloads_title"))
    left, right = st.columns(2)
    left.download_button("weights.csv", safe_csv(weights), file_name="weights.csv",
                         mime="text/csv", icon=":material/download:", key="yd_dl_weights",
                         on_click="ignore")
    right.download_button("data.csv (the rows used)", safe_csv(grouped.rows),
                          file_name="data.csv", mime="text/csv", icon=":material/download:",
                          key="yd_dl_data", on_click="ignore")


def render() -> None:
    """Draw the page."""
    st.title(say("your_data", "title"))
    st.markdown(say("your_data", "intro"))
    chosen = _table()
    if chosen is None:
        return
    frame, digest, example = chosen
    grouped = _columns(frame, digest, example)
    if grouped is None:
        return
    key = data_key(grouped)
    counts = grouped.counts
    st.markdown(say("your_data", "summary", groups=grouped.n_groups, rows=grouped.n_rows,
                    smallest=counts.min(), largest=counts.max(),
                    weights=plain(", ".join(grouped.feature_names))))
    for note in grouped.notes:
        st.info(plain(note), icon=":material/info:")
    priors = _priors(grouped, key)
    left, middle, right = st.columns(3)
    method = left.selectbox(say("your_data", "method_label"), _METHODS, format_func=method_label,
                            key="yd_method", help=say("your_data", "method_help"))
    draws = middle.number_input(say("your_data", "draws_label"), min_value=100, max_value=5000,
                                value=1000, step=100, key="yd_draws")
    seed = right.number_input(say("your_data", "seed_label"), min_value=0,
                              max_value=2**32 - 1, value=42, key="yd_seed")
    try:
        scenario = data_scenario(grouped, method=method, priors=priors, draws=int(draws),
                                 seed=int(seed))
    except ValueError as err:  # DataError and ScenarioError are ValueErrors
        st.error(f"{say('your_data', 'bad_choice')} {plain(err)}", icon=":material/error:")
        return
    exact_scenario = scenario.replace(method="exact")
    try:
        with st.spinner("Computing the exact posterior..."):
            exact = _memo("exact", (key, exact_scenario),
                          lambda: fit_groups(grouped, exact_scenario), shared=example)
    except Exception as err:  # noqa: BLE001 - never a traceback on the page
        st.error(say("your_data", "fit_failed_exact", error=plain(f"{type(err).__name__}: {err}")),
                 icon=":material/error:")
        return
    job_key = _FitKey(scenario, key, grouped)
    _fit_bar(job_key)
    sampled = _FITS.result(job_key) if method != "exact" else None
    shown = sampled or exact
    r = shown.result
    if sampled is None:
        st.caption(say("your_data", "shown_exact", seconds=r.total_s))
    else:
        st.caption(say("your_data", "shown_sampled", method=method_label(method),
                       seconds=r.total_s, divergences=r.diagnostics.divergences))
    for warning in shown.warnings():
        st.warning(plain(warning), icon=":material/warning:")
    _results(shown, grouped, key, example)

