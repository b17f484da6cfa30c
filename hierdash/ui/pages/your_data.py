"""The "Your data" page: upload a grouped table (or take the radon or rat tumours
example), choose its columns and its outcome (a number, yes/no, successes of trials,
counts over an exposure), and see no, complete and partial pooling on real groups.

Top to bottom: the data (source, columns, notes), the priors (from the data's rule,
editable), the method and Fit, then the charts of the best fit there is (the sampler's
when it has finished, else the exact posterior: the closed form, or for a yes/no or
count outcome the quadrature reference): estimates against group size, shrinkage
arrows (a yes/no or count outcome's on the link or the probability/rate scale), the
parent and spread, the posterior predictive check, the leave-one-out comparison, the
model in Bambi's and brms' formulas, the table and downloads.

Privacy: an upload lives in this session only. Its table, fits and checks are kept in
``st.session_state`` (keyed by a digest of the content, never a file name); only the
built-in examples' are shared between sessions. A sampling fit runs in
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
from hierdash.own_data.datasets import EXAMPLES
from hierdash.own_data.fit_table import PPC_SEED, data_key, data_scenario, fit_groups
from hierdash.own_data.formula import formulas
from hierdash.own_data.grouped import (
    MAX_BYTES,
    DataError,
    GroupedData,
    default_priors,
    prepare_groups,
    prior_fields,
    read_table,
)
from hierdash.own_data.outcome_columns import OUTCOME_WORDS, event_totals, scale_names
from hierdash.scenario import BOUNDS, Scenario
from hierdash.ui.fit_registry import FitJob, FitRegistry
from hierdash.ui.jobs import BackgroundJob
from hierdash.ui.labels import method_label
from hierdash.ui.shared import TIME_BUDGET_S
from hierdash.ui.words import plain, say

__all__ = ["render"]

_EXAMPLE, _RATS, _UPLOAD = ("Minnesota radon (built in)", "Rat tumours (built in)",
                            "Upload a CSV")
_BUILT_IN = {_EXAMPLE: "radon", _RATS: "rats"}
_METHODS = ("exact", "nuts", "advi")
# ADVI is built for Gaussian outcomes only (the scenario refuses it for the others).
_GLM_METHODS = ("exact", "nuts", "pymc_nuts")
_NO_SIZE = "(none: exposure 1)"
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


def _table() -> tuple[pd.DataFrame, str, str | None] | None:
    """The chosen table, its content digest and the built-in example's name (None for an
    upload); None if there is no table yet."""
    source = st.radio(say("your_data", "source_label"), (_EXAMPLE, _RATS, _UPLOAD),
                      horizontal=True, key="yd_source", help=say("your_data", "source_help"))
    if source in _BUILT_IN:
        example = _BUILT_IN[source]
        raw = EXAMPLES[example][0]()
    else:
        upload = st.file_uploader(say("your_data", "upload_label"), type=["csv", "txt", "tsv"],
                                  key="yd_upload", help=say("your_data", "upload_help"),
                                  max_upload_size=MAX_BYTES // (1024 * 1024))
        if upload is None:
            st.info(say("your_data", "waiting_for_upload"), icon=":material/upload_file:")
            return None
        raw, example = upload.getvalue(), None
    digest = hashlib.sha256(raw).hexdigest()
    try:
        frame = _memo("table", (digest,), lambda: read_table(raw), shared=bool(example))
    except DataError as err:
        st.error(f"{say('your_data', 'unreadable')} {plain(err)}", icon=":material/error:")
        return None
    return frame, digest, example


def _columns(frame: pd.DataFrame, digest: str, example: str | None) -> GroupedData | None:
    """The column choices and the grouped data, or None (with a message) if unusable."""
    columns = [str(c) for c in frame.columns]
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
    text = [c for c in columns if c not in numeric]
    defaults: dict = {}
    if example:
        defaults = EXAMPLES[example][1]
        group, y, x = defaults["group"], defaults["y"], list(defaults["x"])
    else:
        group = (text or columns)[0]
        y = next((c for c in reversed(numeric) if c != group), columns[-1])
        x = []
    tag = digest[:16]  # new data, fresh choices
    outcomes = list(OUTCOME_WORDS)
    first, second = st.columns([1, 2])
    outcome = first.selectbox(say("your_data", "kind_label"), outcomes,
                              index=outcomes.index(defaults.get("outcome", "gaussian")),
                              format_func=OUTCOME_WORDS.get, key=f"yd_outcome_{tag}",
                              help=say("your_data", "kind_help"))
    sizes = {"trials": None, "exposure": None}  # binomial needs trials; exposure may be none
    kind = {"binomial": "trials", "poisson": "exposure"}.get(outcome)
    if kind is not None:
        options = columns if kind == "trials" else [_NO_SIZE, *columns]
        start = defaults.get(kind) or (next((c for c in numeric if c not in (group, y)),
                                            columns[0]) if kind == "trials" else _NO_SIZE)
        picked = second.selectbox(say("your_data", f"{kind}_label"), options,
                                  index=options.index(start), key=f"yd_{kind}_{tag}",
                                  help=say("your_data", f"{kind}_help"))
        sizes[kind] = None if picked == _NO_SIZE else picked
    trials, exposure = sizes["trials"], sizes["exposure"]
    left, middle, right = st.columns(3)
    group = left.selectbox(say("your_data", "group_label"), columns, index=columns.index(group),
                           key=f"yd_group_{tag}", help=say("your_data", "group_help"))
    y = middle.selectbox(say("your_data", "outcome_label"), columns, index=columns.index(y),
                         key=f"yd_y_{tag}")
    size = trials or exposure
    x = right.multiselect(say("your_data", "features_label"),
                          [c for c in columns if c not in (group, y, size)],
                          default=[c for c in x if c not in (group, y, size)],
                          key=f"yd_x_{tag}", help=say("your_data", "features_help"))
    a, b, c = st.columns(3)
    intercept = a.checkbox(say("your_data", "intercept_label"), value=True, key=f"yd_icpt_{tag}",
                           help=say("your_data", "intercept_help"))
    standardise = b.checkbox(say("your_data", "standardise_label"), value=False,
                             key=f"yd_std_{tag}", help=say("your_data", "standardise_help"))
    missing = c.radio(say("your_data", "missing_label"), ("drop", "refuse"), horizontal=True,
                      key=f"yd_missing_{tag}")
    choice = (group, y, tuple(x), intercept, standardise, missing, outcome, trials, exposure)
    try:
        return _memo("groups", (digest, choice), lambda: prepare_groups(
            frame, group=group, y=y, x=x, intercept=intercept, standardise=standardise,
            missing=missing, outcome=outcome, trials=trials, exposure=exposure),
            shared=bool(example))
    except DataError as err:
        st.error(f"{say('your_data', 'bad_choice')} {plain(err)}", icon=":material/error:")
        return None


def _priors(grouped: GroupedData, key: str) -> dict[str, float]:
    """The four priors: the rule's values, as edited on the page."""
    rule = default_priors(grouped)
    st.subheader(say("your_data", "priors_title"))
    st.caption(say("your_data", "priors_intro" if grouped.is_gaussian else "priors_intro_counts"))
    st.caption(plain(rule["rule"]))
    tag = key[:16]
    fields = prior_fields(grouped.outcome)
    if st.button(say("your_data", "priors_reset"), key=f"yd_prior_reset_{tag}"):
        for name in fields:
            st.session_state.pop(f"yd_{name}_{tag}", None)
    labels = {"prior_parent_mean": "parent: Normal mean", "prior_parent_scale":
              "parent: Normal sd", "prior_spread_scale": "spread: HalfNormal scale",
              "prior_noise_scale": "noise: HalfNormal scale"}
    chosen = {}
    for col, name in zip(st.columns(len(fields)), fields, strict=True):
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
    st.markdown(say("your_data", "loo_look" if grouped.is_gaussian else "loo_look_counts"))
    priors = {name: getattr(scenario, name) for name in prior_fields(grouped.outcome)}
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
    if "bad_k" in table and table["bad_k"].sum():
        st.warning(say("your_data", "loo_bad_k", rows=int(table["bad_k"].max())),
                   icon=":material/warning:")
    st.dataframe(table.assign(method=names), hide_index=True)
    st.altair_chart(own_charts.loo_chart(table), width="content")


def _results(own, grouped: GroupedData, key: str, example: bool) -> None:
    from hierdash.own_data import draws_from_posterior, posterior_predictive_check

    weights = own.weights
    left, right = st.columns(2)
    feature = left.selectbox(say("your_data", "feature_label"), list(grouped.feature_names),
                             key="yd_feature")
    names = scale_names(grouped.outcome)  # a yes/no or count outcome's two scales
    scale = "link" if grouped.is_gaussian else right.radio(
        say("your_data", "scale_label"), list(names), horizontal=True, format_func=names.get,
        key="yd_scale", help=say("your_data", "scale_help"))
    st.subheader(say("your_data", "by_size_title"))
    st.markdown(say("your_data", "by_size_look"))
    st.altair_chart(own_charts.estimates_by_size_chart(
        weights, feature=feature, scale=scale, size=grouped.size_unit), width="content")
    st.subheader(say("your_data", "shrinkage_title"))
    st.markdown(say("your_data", "shrinkage_look"))
    st.altair_chart(own_charts.group_shrinkage_chart(weights, feature=feature, scale=scale),
                    width="content")
    st.subheader(say("your_data", "parent_title"))
    st.markdown(say("your_data", "parent_look" if grouped.is_gaussian else "parent_look_counts"))
    st.altair_chart(own_charts.parent_spread_chart(weights, own.scales), width="content")
    st.subheader(say("your_data", "ppc_title"))
    st.markdown(say("your_data", "ppc_look", level=f"{_PPC_LEVEL:.0%}"))
    ppc = _memo("ppc", (key, own.scenario), lambda: posterior_predictive_check(
        grouped, *draws_from_posterior(own.result.posterior),
        rng=np.random.default_rng(PPC_SEED), level=_PPC_LEVEL), shared=example)
    statistics = ("mean", "sd") if grouped.is_gaussian else (
        "rate" if grouped.outcome == "poisson" else "proportion",)
    if not grouped.is_gaussian:
        empty = ppc[ppc["statistic"] == "zero_groups"].iloc[0]
        st.markdown(say("your_data", "ppc_zero_groups", observed=int(empty["observed"]),
                        low=int(empty["low"]), high=int(empty["high"]), level=f"{_PPC_LEVEL:.0%}"))
    for tab, statistic in zip(st.tabs([f"group {s}s" for s in statistics]), statistics,
                              strict=True):
        rows = ppc[(ppc["statistic"] == statistic) & ppc["observed"].notna()]
        outside = int(((rows["observed"] < rows["low"]) | (rows["observed"] > rows["high"])).sum())
        tab.markdown(say("your_data", "ppc_count", outside=outside, groups=len(rows),
                         statistic=statistic, level=f"{_PPC_LEVEL:.0%}",
                         expected=f"{(1 - _PPC_LEVEL) * len(rows):.0f}"))
        tab.altair_chart(own_charts.ppc_chart(ppc, statistic=statistic), width="content")
    _loo_section(grouped, own.scenario, key, example)
    st.subheader(say("your_data", "formula_title"))
    st.markdown(say("your_data", "formula_look"))
    both = formulas(grouped)
    st.code(f"# Bambi (Python)\n{both['bambi_call']}\n# brms (R)\n{both['brms_call']}",
            language="python")
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
    frame, digest, name = chosen
    grouped = _columns(frame, digest, name)
    if grouped is None:
        return
    example = name is not None  # a built-in table: its results are shared
    key = data_key(grouped)
    sizes = grouped.group_sizes
    st.markdown(say("your_data", "summary", groups=grouped.n_groups, rows=grouped.n_rows,
                    smallest=f"{sizes.min():g}", largest=f"{sizes.max():g}", unit=grouped.size_unit,
                    weights=plain(", ".join(grouped.feature_names))))
    if not grouped.is_gaussian:
        st.markdown(say("your_data", "summary_counts",
                        **event_totals(grouped.outcome, grouped.y, grouped.sizes)))
    for note in grouped.notes:
        st.info(plain(note), icon=":material/info:")
    priors = _priors(grouped, key)
    left, middle, right = st.columns(3)
    # A yes/no or count outcome's own key: ADVI, which it refuses, is not offered.
    gaussian = grouped.is_gaussian
    method = left.selectbox(say("your_data", "method_label"),
                            _METHODS if gaussian else _GLM_METHODS, format_func=method_label,
                            key="yd_method" if gaussian else "yd_method_counts",
                            help=say("your_data", "method_help" if gaussian
                                     else "method_help_counts"))
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
        st.caption(say("your_data", "shown_exact" if grouped.is_gaussian else
                       "shown_quadrature", seconds=r.total_s))
    else:
        st.caption(say("your_data", "shown_sampled", method=method_label(method),
                       seconds=r.total_s, divergences=r.diagnostics.divergences))
    for warning in shown.warnings():
        st.warning(plain(warning), icon=":material/warning:")
    _results(shown, grouped, key, example)

