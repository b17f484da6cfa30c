"""The calibration lab: fit many worlds drawn from the prior, see whether the intervals
contain the truth as often as they claim.

Top to bottom: what to show (a ready-made result, or your own run), the run's
settings (family, method, parameterization, padding, worlds, seed), then the results:
the reading in words, coverage against nominal, the PIT-ECDF, time per world.

``exact`` runs in the script (milliseconds a world) and is cached for every session.
The samplers run in the background in :data:`LAB_RUNS`, a
:class:`~hierdash.ui.fit_registry.FitRegistry` of lab jobs keyed by the whole
:class:`~hierdash.calibration.lab.LabSettings` (one run shared by everyone asking for
the same settings), watched by a fragment that redraws the worlds done so far. The
server never forks: a job fits its worlds one after another in one worker thread.
"""

from __future__ import annotations

import time
import uuid

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
from hierdash.inference.results import FitStopped
from hierdash.scenario import METHODS, PADDINGS, PARAMETERIZATIONS
from hierdash.ui.controls import scenario_sidebar
from hierdash.ui.fit_registry import FitJob, FitRegistry
from hierdash.ui.labels import method_label, parameterization_label
from hierdash.ui.pages import PageSpec
from hierdash.ui.shared import TIME_BUDGET_S
from hierdash.ui.state import init_session
from hierdash.ui.words import words

__all__ = ["LAB_RUNS", "render", "PAGE"]

LAB_RUNNER = LabRunner()
LAB_RUNS = FitRegistry(LAB_RUNNER, time_budget_s=TIME_BUDGET_S, max_results=16, ttl_s=2 * 3600)
"""Sampling lab runs of every session; a world past ``TIME_BUDGET_S`` stops its run."""

_POLL_S = 1.0  # seconds between two redraws of a running lab
_CURRENT = "current"
_OWN = "own"


def _w(key: str, **values: object) -> str:
    return words("calibration", key, **values)


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


def _watcher() -> str:
    if "lab_watcher" not in st.session_state:
        st.session_state.lab_watcher = uuid.uuid4().hex
    return st.session_state.lab_watcher


def _run_label(method: str, parameterization: str, padding: str) -> str:
    label = method_label(method)
    if method != "exact":
        label += f", {parameterization_label(parameterization)}"
    if padding != "masked":
        label += f", {padding} padding"
    return label


# -- the settings -----------------------------------------------------------------------
def _family(scenario) -> WorldFamily | None:
    options = [_CURRENT, *FAMILIES]
    choice = st.selectbox(
        _w("family"), options, key="lab_family", help=_w("family_help"),
        format_func=lambda name: _w("current_family") if name == _CURRENT
        else f"{name}: {FAMILIES[name].description}")
    if choice != _CURRENT:
        return FAMILIES[choice]
    if scenario is None:
        st.error(_w("family_unusable", problem="the sidebar's settings are not usable"))
        return None
    try:
        return WorldFamily.from_scenario(scenario)
    except ValueError as err:
        st.error(_w("family_unusable", problem=str(err)), icon=":material/block:")
        return None


def _settings(scenario) -> LabSettings | None:
    family = _family(scenario)
    method_col, par_col, pad_col = st.columns(3)
    method = method_col.selectbox("Method", METHODS, key="lab_method",
                                  index=METHODS.index("exact"), format_func=method_label,
                                  help=_w("method_help"))
    parameterization = par_col.radio("Parameterization", PARAMETERIZATIONS,
                                     key="lab_parameterization", horizontal=True,
                                     format_func=parameterization_label)
    padding = pad_col.radio("Padding", PADDINGS, key="lab_padding", horizontal=True)
    worlds_col, seed_col = st.columns(2)
    n_worlds = worlds_col.number_input("Worlds", min_value=1, max_value=MAX_WORLDS, value=100,
                                       step=10, key="lab_worlds", help=_w("worlds_help"))
    seed = seed_col.number_input("Seed", min_value=0, max_value=2**31 - 1, value=1, step=1,
                                 key="lab_seed", help=_w("seed_help"))
    if family is None:
        return None
    return LabSettings(family=family, method=method, parameterization=parameterization,
                       padding=padding, n_worlds=int(n_worlds), seed=int(seed))


# -- results ----------------------------------------------------------------------------
def show_results(runs: dict[str, tuple], *, key: str) -> None:
    """The reading, the charts and the download of one or more runs' checks.

    ``runs`` maps a run's label to its worlds' checks (at least one world each).
    """
    runs = {label: checks for label, checks in runs.items() if checks}
    if not runs:
        st.info(_w("no_worlds_yet"))
        return
    summaries = {label: summarise_checks(checks) for label, checks in runs.items()}
    st.subheader(_w("reading_title"))
    for label, summary in summaries.items():
        unconverged = (_w("no_rhat") if summary.unconverged_share is None
                       else _w("unconverged", share=summary.unconverged_share))
        st.markdown(_w("health", method=label, worlds=summary.n_worlds,
                       divergent=summary.divergent_share, unconverged=unconverged,
                       seconds=summary.median_seconds))
        lines = [_w(f"reading_{v.reading}", method=label, level=v.level, coverage=v.coverage,
                    interval=v.interval, band=1.96 * v.se) for v in verdicts(summary)]
        st.markdown("\n".join(f"- {line}" for line in lines))
    st.subheader(_w("coverage_title"))
    st.altair_chart(coverage_chart(coverage_frame(summaries)), key=f"{key}_coverage")
    st.caption(_w("coverage_look"))
    st.subheader(_w("pit_title"))
    st.altair_chart(pit_ecdf_chart(pit_ecdf_frame(runs)), key=f"{key}_pit")
    st.caption(_w("pit_look", band=f"{PIT_PROB:.0%}"))
    st.subheader(_w("seconds_title"))
    worlds = worlds_frame(runs)
    st.altair_chart(seconds_chart(worlds), key=f"{key}_seconds")
    frames = [checks_frame(checks).assign(run=label) for label, checks in runs.items()]
    csv = safe_csv(pd.concat(frames, ignore_index=True))
    st.download_button(_w("download"), data=csv, file_name="ranks.csv", mime="text/csv",
                       key=f"{key}_download", icon=":material/download:")


def _ready(key: str) -> None:
    ready = available_ready_sets()[key]
    st.markdown(_w("ready_intro", description=ready.description))
    runs = {}
    for saved in ready_runs(key):
        meta = saved.meta
        label = _run_label(meta["method"], meta["parameterization"], meta["padding"])
        runs[f"{label} ({len(saved.checks)} worlds)"] = saved.checks
    show_results(runs, key=f"ready_{key}")


# -- a sampling run in the background ----------------------------------------------------
def _job() -> FitJob | None:
    return st.session_state.get("lab_job")


def _start(settings: LabSettings) -> None:
    st.session_state.lab_job = LAB_RUNS.start(settings, _watcher())
    st.session_state.pop("lab_stopped", None)


def _stop() -> None:
    job = st.session_state.pop("lab_job", None)
    if job is not None:
        job.leave(_watcher())
        st.session_state.lab_stopped = (job.scenario, LAB_RUNNER.partial(job.scenario))


def _settle(settings: LabSettings) -> None:
    """Leave a job of other settings; file a job that has ended."""
    job = _job()
    if job is None:
        return
    if job.scenario != settings:
        job.leave(_watcher())
        del st.session_state["lab_job"]
    elif job.done():
        del st.session_state["lab_job"]
        try:
            job.future.result(timeout=0)
        except FitStopped:
            st.session_state.lab_stopped = (settings, LAB_RUNNER.partial(settings))
        except Exception as err:  # noqa: BLE001 - never a traceback on the page
            st.session_state.lab_failed = (settings, f"{type(err).__name__}: {err}")


@st.fragment(run_every=_POLL_S)
def _live(label: str) -> None:
    """The running lab's progress and its worlds so far, redrawn until it ends."""
    job = _job()
    if job is None:
        return
    if job.done():
        st.rerun()
    job.touch(_watcher())
    checks = LAB_RUNNER.partial(job.scenario)
    now = job.progress()
    st.progress(min(max(now.fraction or 0.0, 0.0), 1.0),
                text=_w("running", total=job.scenario.n_worlds, method=label,
                        done=len(checks), elapsed=now.elapsed_s))
    show_results({label: checks}, key="live")


def _sampling(settings: LabSettings, label: str) -> None:
    try:
        seconds = check_budget(settings)
    except BudgetExceeded as err:
        st.error(_w("budget_refused", reason=str(err)), icon=":material/block:")
        return
    run_col, stop_col, note_col = st.columns([2, 1, 3], vertical_alignment="center")
    # Started here, not in an on_click callback: a callback gets the settings of the run
    # that drew the button, which a click landing during a rerun (a changed world count)
    # would make stale, and the job would be left at once for the page's settings.
    if run_col.button(_w("run"), type="primary", icon=":material/play_arrow:", key="lab_run",
                      help=_w("run_help"), width="stretch", disabled=_job() is not None):
        _start(settings)
    note_col.caption(_w("estimate", seconds=seconds, budget=LAB_BUDGET_S))
    failed = st.session_state.get("lab_failed")
    if failed is not None and failed[0] == settings:
        st.error(_w("failed", error=failed[1]), icon=":material/error:")
    if _job() is not None:
        stop_col.button("Stop", key="lab_stop", icon=":material/stop_circle:", on_click=_stop,
                        help=_w("stop_help"), width="stretch")
        _live(label)
        return
    finished = LAB_RUNS.finished(settings)
    if finished is not None:
        show_results({label: finished.checks}, key="lab")
        return
    stopped = st.session_state.get("lab_stopped")
    if stopped is not None and stopped[0] == settings:
        st.warning(_w("stopped", done=len(stopped[1])), icon=":material/stop_circle:")
        show_results({label: stopped[1]}, key="lab")
        return
    st.info(_w("press_run", seconds=seconds))


def render() -> None:
    """Draw the calibration lab."""
    init_session()
    scenario = scenario_sidebar()  # the current settings a family can be made of
    st.title(_w("title"))
    st.markdown(_w("intro", top=f"{INTERVALS[-1]:.0%}"))
    ready = available_ready_sets()
    options = [_OWN, *ready]
    shown = st.segmented_control(
        "Show", options, default=_OWN, key="lab_show", help=_w("show_help"),
        format_func=lambda k: _w("own_run") if k == _OWN else ready[k].title)
    if shown in ready:
        _ready(shown)
        return
    settings = _settings(scenario)
    if settings is None:
        return
    label = _run_label(settings.method, settings.parameterization, settings.padding)
    _settle(settings)
    if settings.method == "exact":
        start = time.perf_counter()
        with st.spinner(f"Fitting {settings.n_worlds} worlds exactly"):
            run = exact_lab(settings)
        st.caption(f"{settings.n_worlds} worlds in {time.perf_counter() - start:.1f} s "
                   "(shared with every user once computed)")
        show_results({label: run.checks}, key="lab")
        return
    _sampling(settings, label)


PAGE = PageSpec(render=render, title="Calibration lab", icon=":material/target:",
                url_path="calibration")
