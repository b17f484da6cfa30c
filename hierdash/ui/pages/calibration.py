"""The calibration lab: fit many worlds drawn from the prior, see whether the intervals
contain the truth as often as they claim.

Top to bottom: what to show (a ready-made result, or your own run), the run's
settings (family, method, parameterization, padding, worlds, seed), then the results:
the reading in words, coverage against nominal, the PIT-ECDF, time per world.

``exact`` runs in the script (milliseconds a world) and is cached for every session.
The samplers run in the background in :data:`LAB_RUNS`, a
:class:`~hierdash.ui.fit_registry.FitRegistry` of lab jobs keyed by the whole
:class:`~hierdash.calibration.lab.LabSettings` (one run shared by everyone asking for
the same settings) and followed by the page's :class:`~hierdash.ui.jobs.BackgroundJob`,
whose fragment redraws the worlds done so far. The server never forks: a job fits its
worlds one after another in one worker thread.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from hierdash.calibration.families import FAMILIES, WorldFamily
from hierdash.calibration.files import available_ready_sets, load_ready
from hierdash.calibration.lab import (
    LAB_BUDGET_S,
    MAX_WORLDS,
    PIT_PROB,
    BudgetExceeded,
    LabRunner,
    LabSettings,
    check_budget,
    coverage_frame,
    pit_ecdf_frame,
    run_lab,
    verdicts,
    worlds_frame,
)
from hierdash.calibration.summary import summarise_checks
from hierdash.calibration.world_check import INTERVALS, checks_frame
from hierdash.charts.calibration import coverage_chart, pit_ecdf_chart, seconds_chart
from hierdash.classroom.csv_safe import safe_csv
from hierdash.scenario import METHODS, PADDINGS, PARAMETERIZATIONS
from hierdash.ui.controls import scenario_sidebar
from hierdash.ui.fit_registry import FitJob, FitRegistry
from hierdash.ui.jobs import BackgroundJob
from hierdash.ui.labels import method_label, parameterization_label
from hierdash.ui.shared import TIME_BUDGET_S
from hierdash.ui.state import init_session
from hierdash.ui.words import say

__all__ = ["render"]

LAB_RUNNER = LabRunner()
LAB_RUNS = FitRegistry(LAB_RUNNER, time_budget_s=TIME_BUDGET_S, max_results=16, ttl_s=2 * 3600)
"""Sampling lab runs of every session; a world past ``TIME_BUDGET_S`` stops its run."""
# The lab's live view is its worlds so far, charts with widget keys that can be drawn
# only once per page run: the page's run does not wait for the job in place.
_LAB: BackgroundJob[LabSettings] = BackgroundJob(
    name="lab", registry=LAB_RUNS, stop_key="lab_stop", wait_in_run=False,
    partial=LAB_RUNNER.partial)
"""This session's sampling run; a run that ends without a result keeps its worlds so far."""
_CURRENT = "current"
_OWN = "own"


@st.cache_resource(max_entries=32, ttl=2 * 3600, show_spinner=False,
                   hash_funcs={LabSettings: repr})
def exact_lab(settings: LabSettings):
    """The exact run of ``settings`` (shared by every session; never mutated)."""
    return run_lab(settings)


@st.cache_resource(show_spinner=False)
def ready_runs(key: str):
    """The ready set's saved runs, read once per process."""
    ready = available_ready_sets()[key]
    return tuple(load_ready(name) for name in ready.runs)


def _run_label(method: str, parameterization: str, padding: str,
               outcome: str = "gaussian") -> str:
    label = method_label(method, outcome)
    if method != "exact":
        label += f", {parameterization_label(parameterization)}"
    if padding != "masked":
        label += f", {padding} padding"
    return label


# -- the settings -----------------------------------------------------------------------
def _family(scenario) -> WorldFamily | None:
    options = [_CURRENT, *FAMILIES]
    choice = st.selectbox(
        say("calibration", "family"), options, key="lab_family",
        help=say("calibration", "family_help"),
        format_func=lambda name: say("calibration", "current_family") if name == _CURRENT
        else f"{name}: {FAMILIES[name].description}")
    if choice != _CURRENT:
        return FAMILIES[choice]
    if scenario is None:
        st.error(say("calibration", "family_unusable",
                     problem="the sidebar's settings are not usable"))
        return None
    try:
        return WorldFamily.from_scenario(scenario)
    except ValueError as err:
        st.error(say("calibration", "family_unusable", problem=str(err)), icon=":material/block:")
        return None


def _method_box(outcome: str) -> tuple[str, int]:
    """The method box's key and first choice. One key for Gaussian worlds, one for the
    others, whose exact method is named differently (a kept key keeps the browser's old
    option names); a choice made in the other box is carried across."""
    key, other = (("lab_method", "lab_method_glm") if outcome == "gaussian"
                  else ("lab_method_glm", "lab_method"))
    carried = st.session_state.get(other, "exact")
    return key, METHODS.index(carried if carried in METHODS else "exact")


def _settings(scenario) -> LabSettings | None:
    family = _family(scenario)
    method_col, par_col, pad_col = st.columns(3)
    outcome = family.outcome if family is not None else "gaussian"
    key, first = _method_box(outcome)
    method = method_col.selectbox("Method", METHODS, key=key, index=first,
                                  format_func=lambda m: method_label(m, outcome),
                                  help=say("calibration", "method_help"))
    parameterization = par_col.radio("Parameterization", PARAMETERIZATIONS,
                                     key="lab_parameterization", horizontal=True,
                                     format_func=parameterization_label)
    padding = pad_col.radio("Padding", PADDINGS, key="lab_padding", horizontal=True)
    worlds_col, seed_col = st.columns(2)
    n_worlds = worlds_col.number_input("Worlds", min_value=1, max_value=MAX_WORLDS, value=100,
                                       step=10, key="lab_worlds",
                                       help=say("calibration", "worlds_help"))
    seed = seed_col.number_input("Seed", min_value=0, max_value=2**31 - 1, value=1, step=1,
                                 key="lab_seed", help=say("calibration", "seed_help"))
    if family is None:
        return None
    try:
        return LabSettings(family=family, method=method, parameterization=parameterization,
                           padding=padding, n_worlds=int(n_worlds), seed=int(seed))
    except ValueError as err:  # a method the family's outcome refuses, said in words
        st.error(say("calibration", "family_unusable", problem=str(err)),
                 icon=":material/block:")
        return None


# -- results ----------------------------------------------------------------------------
def show_results(runs: dict[str, tuple], *, key: str) -> None:
    """The reading, the charts and the download of one or more runs' checks.

    ``runs`` maps a run's label to its worlds' checks (at least one world each).
    """
    runs = {label: checks for label, checks in runs.items() if checks}
    if not runs:
        st.info(say("calibration", "no_worlds_yet"))
        return
    summaries = {label: summarise_checks(checks) for label, checks in runs.items()}
    st.subheader(say("calibration", "reading_title"))
    for label, summary in summaries.items():
        unconverged = (say("calibration", "no_rhat") if summary.unconverged_share is None
                       else say("calibration", "unconverged", share=summary.unconverged_share))
        st.markdown(say("calibration", "health", method=label, worlds=summary.n_worlds,
                        divergent=summary.divergent_share, unconverged=unconverged,
                        seconds=summary.median_seconds))
        lines = [say("calibration", f"reading_{v.reading}", method=label, level=v.level,
                     coverage=v.coverage, interval=v.interval, band=1.96 * v.se)
                 for v in verdicts(summary)]
        st.markdown("\n".join(f"- {line}" for line in lines))
    st.subheader(say("calibration", "coverage_title"))
    st.altair_chart(coverage_chart(coverage_frame(summaries)), key=f"{key}_coverage")
    st.caption(say("calibration", "coverage_look"))
    st.subheader(say("calibration", "pit_title"))
    st.altair_chart(pit_ecdf_chart(pit_ecdf_frame(runs)), key=f"{key}_pit")
    st.caption(say("calibration", "pit_look", band=f"{PIT_PROB:.0%}"))
    st.subheader(say("calibration", "seconds_title"))
    worlds = worlds_frame(runs)
    st.altair_chart(seconds_chart(worlds), key=f"{key}_seconds")
    frames = [checks_frame(checks).assign(run=label) for label, checks in runs.items()]
    csv = safe_csv(pd.concat(frames, ignore_index=True))
    st.download_button(say("calibration", "download"), data=csv, file_name="ranks.csv",
                       mime="text/csv", key=f"{key}_download", icon=":material/download:")


def _ready(key: str) -> None:
    ready = available_ready_sets()[key]
    st.markdown(say("calibration", "ready_intro", description=ready.description))
    runs = {}
    for saved in ready_runs(key):
        meta = saved.meta
        label = _run_label(meta["method"], meta["parameterization"], meta["padding"])
        runs[f"{label} ({len(saved.checks)} worlds)"] = saved.checks
    show_results(runs, key=f"ready_{key}")


# -- a sampling run in the background ----------------------------------------------------
def _draw_live(job: FitJob[LabSettings], label: str) -> None:
    """The running lab's progress and its worlds so far (redrawn at every poll)."""
    checks = LAB_RUNNER.partial(job.key)
    now = job.progress()
    st.progress(min(max(now.fraction or 0.0, 0.0), 1.0),
                text=say("calibration", "running", total=job.key.n_worlds, method=label,
                         done=len(checks), elapsed=now.elapsed_s))
    show_results({label: checks}, key="live")


def _sampling(settings: LabSettings, label: str) -> None:
    try:
        seconds = check_budget(settings)
    except BudgetExceeded as err:
        st.error(say("calibration", "budget_refused", reason=str(err)), icon=":material/block:")
        return
    run_col, stop_col, note_col = st.columns([2, 1, 3], vertical_alignment="center")
    if run_col.button(say("calibration", "run"), type="primary", icon=":material/play_arrow:",
                      key="lab_run", help=say("calibration", "run_help"), width="stretch",
                      disabled=_LAB.job() is not None):
        _LAB.start(settings)
    note_col.caption(say("calibration", "estimate", seconds=seconds, budget=LAB_BUDGET_S))
    _LAB.follow(settings, stop_column=stop_col, draw=lambda job: _draw_live(job, label),
                stop_help=say("calibration", "stop_help"))
    if _LAB.job() is not None:
        return
    ended = _LAB.ended(settings)  # said for as long as the settings stay
    if ended is not None and ended.how == "failed":
        st.error(say("calibration", "failed", error=ended.reason), icon=":material/error:")
    finished = _LAB.result(settings)
    if finished is not None:
        show_results({label: finished.checks}, key="lab")
        return
    if ended is not None and ended.how in ("stopped", "ran_out"):
        st.warning(say("calibration", "stopped", done=len(ended.partial)),
                   icon=":material/stop_circle:")
        show_results({label: ended.partial}, key="lab")
        return
    st.info(say("calibration", "press_run", seconds=seconds))


def render() -> None:
    """Draw the calibration lab."""
    init_session()
    scenario = scenario_sidebar()  # the current settings a family can be made of
    st.title(say("calibration", "title"))
    st.markdown(say("calibration", "intro", top=f"{INTERVALS[-1]:.0%}"))
    ready = available_ready_sets()
    options = [_OWN, *ready]
    shown = st.segmented_control(
        "Show", options, default=_OWN, key="lab_show", help=say("calibration", "show_help"),
        format_func=lambda k: say("calibration", "own_run") if k == _OWN else ready[k].title)
    if shown in ready:
        _ready(shown)
        return
    settings = _settings(scenario)
    if settings is None:
        return
    label = _run_label(settings.method, settings.parameterization, settings.padding,
                       settings.family.outcome)
    _LAB.settle(settings)
    if settings.method == "exact":
        start = time.perf_counter()
        with st.spinner(f"Fitting {settings.n_worlds} worlds exactly"):
            run = exact_lab(settings)
        st.caption(f"{settings.n_worlds} worlds in {time.perf_counter() - start:.1f} s "
                   "(shared with every user once computed)")
        show_results({label: run.checks}, key="lab")
        return
    _sampling(settings, label)

