"""Running a sampling fit from a page: the Fit and Stop buttons and the live progress.

The fit never runs in the page's script. *Fit* asks the shared registry
(:data:`hierdash.ui.shared.SAMPLING_FITS`) for a job and keeps it in the session. Then:

- A fit that ends within moments of the click (most do: the default world's takes about
  0.2 s) is shown by the click's own page run, without any progress.
- A fit that is queued behind other students' fits, or that will end within
  :data:`_ANSWER_IN_RUN_S` of the click by its progress so far, is still shown by that
  run, which redraws the progress in place while it waits.
- A longer fit, or one whose model must compile, hands over to a fragment
  (:func:`_progress`) that reruns on its own every half second while the fit samples,
  every two while it waits for its model (Streamlit's ``st.fragment(run_every=...)``),
  draws the job's progress and *Stop*, and, once the job has ended, reruns the whole
  page, which then finds the result.

Each Fit thus costs the server one page run unless it is long. (With thirty students
fitting at once most fits queue for a sampler for seconds; each that missed the first
moments cost the click's run, progress redraws and a whole-page run: about 0.14 s more
server CPU.) *Stop* is drawn only once the fragment polls: Streamlit does not interrupt
a page run for a click inside the same fragment, so a Stop drawn during the run's own
wait would only act when the wait ended. A changed setting does interrupt it (a
whole-page run), and abandons the fit. *Stop* is an ordinary button: its click leaves
the job (the last watcher to leave stops the sampler) and reruns the page.

Session state used here: ``fit_job`` (the job being watched), ``fit_watcher`` (this
session's name for the registry), ``fit_outcome`` (a message about a fit that ended
badly, shown once), and ``fit_running`` / ``stop_clicked`` (a fit that was stopped or
abandoned, reported once by :func:`interruption_notice`).
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import CancelledError

import streamlit as st

from hierdash.inference import FitStopped
from hierdash.scenario import Scenario
from hierdash.ui.fit_registry import FitJob
from hierdash.ui.labels import method_label
from hierdash.ui.shared import SAMPLING_FITS
from hierdash.ui.words import words

__all__ = ["fit_bar", "fit_in_progress", "settle_fit", "sampled_result", "interruption_notice",
           "fit_outcome_notice"]

# Seconds between two progress redraws: every fragment run ends in one of Streamlit's
# full garbage collections, which are slow while a model compiles (its many objects are
# young), so a fit still waiting for its model is polled less often than one sampling.
_POLL_SAMPLING_S = 0.5
_POLL_WAITING_S = 2.0
_WAITING_STAGES = ("simulate", "compile")
# A fit that ends this soon after the page run reaches the Fit bar is shown by that
# same run: the student sees the charts change once, and the server draws the page once
# per Fit instead of three times (the click's run, a progress redraw, the result's run).
# The default world's fit takes about 0.2 s; a fit that must wait for its model's
# compile is not waited for.
_ANSWER_AT_ONCE_S = 1.5
_ANSWER_POLL_S = 0.05
# After that the run goes on waiting, its progress redrawn in place every
# _REDRAW_IN_RUN_S, while the fit is queued or will end by this long after the run began.
_ANSWER_IN_RUN_S = 10.0
_REDRAW_IN_RUN_S = 0.25
STAGES = ("simulate", "compile", "sample", "summarise")


def _watcher() -> str:
    if "fit_watcher" not in st.session_state:
        st.session_state.fit_watcher = uuid.uuid4().hex
    return st.session_state.fit_watcher


def _job() -> FitJob | None:
    return st.session_state.get("fit_job")


def settle_fit(scenario: Scenario | None) -> None:
    """Before the page is drawn: file a job that has ended, or leave one for old settings.

    A job of other settings than the page's was abandoned by the change (reported by
    :func:`interruption_notice`); a job that has ended leaves the session, with a
    message if it ended without a result.
    """
    job = _job()
    if job is None:
        return
    label = method_label(job.scenario.method)
    if job.scenario != scenario:
        job.leave(_watcher())
        del st.session_state["fit_job"]
        st.session_state.fit_running = label
        return
    if job.done():
        del st.session_state["fit_job"]
        st.session_state.fit_outcome = _outcome(job, label)
        if st.session_state.fit_outcome is None:
            # The session keeps its own result: the shared registry keeps only the last
            # 16, and with a class fitting at once a slow page came back for its result
            # after 16 others had pushed it out (it then showed the Fit button again, as
            # if the click had been lost: 10 of 30 sessions in benchmarks.load).
            st.session_state.fit_result = job.future.result(timeout=0)


def sampled_result(scenario: Scenario):
    """This session's finished fit of ``scenario``, else any session's (the registry)."""
    own = st.session_state.get("fit_result")
    if own is not None and own.scenario == scenario:
        return own
    return SAMPLING_FITS.finished(scenario)


def fit_in_progress() -> bool:
    """Whether this session's fit is still shown as running (Stop and its progress).

    The page shows a finished fit's charts only when this is false, so that the charts
    and the Stop button never disagree: a fit that ends during a page run is shown by
    the progress fragment's next run.
    """
    return _job() is not None


def _outcome(job: FitJob, label: str) -> tuple[str, str] | None:
    """How an ended job went, as (kind, message): None when it has a result."""
    try:
        job.future.result(timeout=0)
    except FitStopped as err:  # its time budget ran out
        return "warning", words("explore", "fit_out_of_time", reason=str(err))
    except (Exception, CancelledError) as err:  # noqa: BLE001 - never a traceback on the page
        return "error", words("explore", "fit_failed", method=label,
                              error=f"{type(err).__name__}: {err}")
    return None


def _start(scenario: Scenario) -> None:
    st.session_state.fit_job = SAMPLING_FITS.start(scenario, _watcher())


def _stop() -> None:
    """Stop's callback: leave the job; the next run says the fit was stopped."""
    job = st.session_state.pop("fit_job", None)
    if job is not None:
        job.leave(_watcher())
        st.session_state.fit_running = method_label(job.scenario.method)
        st.session_state.stop_clicked = True


def fit_bar(scenario: Scenario) -> None:
    """The Fit button (Stop beside it while a fit runs), the note, and the live progress."""
    sampling = scenario.method != "exact"
    label = method_label(scenario.method)
    fit_col, stop_col, note_col = st.columns([2, 1, 3], vertical_alignment="center")
    fit_col.button(
        f"Fit with {label}" if sampling else "Fit", type="primary",
        icon=":material/play_arrow:", key="fit", disabled=not sampling, width="stretch",
        on_click=_start, args=(scenario,),
        help=words("explore", "fit_help" if sampling else "fit_help_exact"))
    note_col.caption(words("explore", "fit_note", budget=SAMPLING_FITS.time_budget_s))
    began = time.monotonic()
    _wait_for(_job(), until=began + _ANSWER_AT_ONCE_S)
    if _job() is not None:
        _wait_in_run(_job(), until=began + _ANSWER_IN_RUN_S)
    settle_fit(scenario)  # a fit may have ended since the page run began: file it now
    if _job() is None:
        return
    stop_col.button("Stop", key="stop_fit", icon=":material/stop_circle:", on_click=_stop,
                    width="stretch", help=words("explore", "stop_help"))
    if _job().progress().stage in _WAITING_STAGES:
        _progress_while_waiting()
    else:
        _progress_while_sampling()


def _wait_for(job: FitJob | None, *, until: float) -> None:
    """Wait until ``job`` ends or the clock reaches ``until`` (never while it compiles)."""
    while job is not None and not job.done() and job.progress().stage != "compile":
        left = until - time.monotonic()
        if left <= 0:
            return
        try:  # a wait on the fit's future: wakes the moment the fit ends, costs no CPU
            job.future.exception(timeout=min(_ANSWER_POLL_S, left))
        except (TimeoutError, CancelledError):
            pass


def _wait_in_run(job: FitJob, *, until: float) -> None:
    """Wait for ``job`` in this page run while it is worth it, its progress redrawn in
    place meanwhile (each redraw is also where a changed setting ends the run)."""
    if not _ends_by(job, until):
        return
    slot = st.empty()
    while time.monotonic() < until and _ends_by(job, until):
        job.touch(_watcher())
        with slot.container():
            _draw_progress(job)
        _wait_for(job, until=min(until, time.monotonic() + _REDRAW_IN_RUN_S))
    slot.empty()


def _ends_by(job: FitJob, until: float) -> bool:
    """Whether ``job`` is still running and should end by ``until``, by its progress:
    queued for a sampler (or simulating), summarising, or sampling at a pace that ends
    in time. A compile is never waited for here."""
    if job.done():
        return False
    now = job.progress()
    if now.stage in ("simulate", "summarise"):
        return True
    if now.stage != "sample":
        return False
    if now.fraction is None or now.fraction < 0.02:  # too early to tell its pace
        return now.stage_s < 0.5
    left = now.stage_s * (1.0 - now.fraction) / now.fraction
    return time.monotonic() + left <= until


def _progress(*, waiting: bool) -> None:
    """The running fit's stages and progress bar, redrawn on its own until it ends."""
    job = _job()
    if job is None:  # stopped, or settled by a page run: nothing left to show
        return
    now = job.progress()
    if job.done() or waiting != (now.stage in _WAITING_STAGES):
        st.rerun()  # the whole page: it files the outcome, or polls at the new pace
    job.touch(_watcher())
    _draw_progress(job)


def _draw_progress(job: FitJob) -> None:
    """The job's stages, its progress bar and the seconds so far, in a bordered box."""
    now = job.progress()
    label = method_label(job.scenario.method)
    detail = f"{now.message} ({now.stage_s:.0f} s)" if now.fraction is None else now.message
    with st.container(border=True):
        st.markdown(f"**Fitting with {label}** · {_stage_line(now.stage, now.fraction)} · "
                    f"{now.elapsed_s:.0f} s so far")
        st.progress(min(max(now.fraction or 0.0, 0.0), 1.0), text=detail)


@st.fragment(run_every=_POLL_WAITING_S)
def _progress_while_waiting() -> None:
    _progress(waiting=True)


@st.fragment(run_every=_POLL_SAMPLING_S)
def _progress_while_sampling() -> None:
    _progress(waiting=False)


def _stage_line(stage: str, fraction: float | None) -> str:
    parts = []
    current = STAGES.index(stage) if stage in STAGES else 0
    for i, name in enumerate(STAGES):
        if i < current:
            parts.append(f"~~{name}~~ ✓")
        elif i == current:
            share = f" {fraction:.0%}" if fraction is not None else ""
            parts.append(f"**{name}{share}**")
        else:
            parts.append(name)
    return " → ".join(parts)


def interruption_notice() -> None:
    """Say so when the previous run's fit was stopped or abandoned (once)."""
    label = st.session_state.pop("fit_running", None)
    clicked = st.session_state.pop("stop_clicked", False)
    if label is None:
        return
    if clicked:
        st.warning(words("explore", "fit_stopped", method=label), icon=":material/stop_circle:")
    else:
        st.info(words("explore", "fit_abandoned", method=label), icon=":material/undo:")


def fit_outcome_notice() -> None:
    """A fit that ended without a result, in words (once)."""
    outcome = st.session_state.pop("fit_outcome", None)
    if outcome is None:
        return
    kind, message = outcome
    if kind == "warning":
        st.warning(message, icon=":material/timer_off:")
    else:
        st.error(message, icon=":material/error:")
