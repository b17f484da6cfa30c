"""The explore page's sampling fit: the Fit bar, the live progress and what the fit left.

The fit never runs in the page's script: *Fit* starts (or joins) a job in the shared
registry (:data:`hierdash.ui.shared.SAMPLING_FITS`, keyed by the whole scenario), and
:data:`FITS`, the page's :class:`~hierdash.ui.jobs.BackgroundJob`, follows it: a fit
that ends within moments of the click (most do: the default world's takes about 0.2 s)
is shown by the click's own page run; a queued one, or one that ends soon by its pace,
by that run after its progress; a longer one by a fragment that polls it and then
reruns the page (see :mod:`hierdash.ui.jobs`). This module draws the explore page's
part: the buttons, the progress box with its stages, and the notices in words.
"""

from __future__ import annotations

import streamlit as st

from hierdash.scenario import Scenario
from hierdash.ui.fit_registry import FitJob
from hierdash.ui.jobs import BackgroundJob
from hierdash.ui.labels import method_label
from hierdash.ui.shared import SAMPLING_FITS
from hierdash.ui.words import say

__all__ = ["FITS", "fit_bar", "fit_in_progress", "settle_fit", "sampled_result",
           "interruption_notice", "fit_outcome_notice"]

FITS: BackgroundJob[Scenario] = BackgroundJob(name="fit", registry=SAMPLING_FITS,
                                              stop_key="stop_fit")
"""The explore page's fit, keyed by the scenario."""
STAGES = ("simulate", "compile", "sample", "summarise")


def settle_fit(scenario: Scenario | None) -> None:
    """Before the page is drawn: file a fit that has ended, or leave one for old settings
    (reported by :func:`interruption_notice`; None: the settings are not usable)."""
    FITS.settle(scenario)


def sampled_result(scenario: Scenario):
    """This session's finished fit of ``scenario``, else any session's (the registry)."""
    return FITS.result(scenario)


def fit_in_progress() -> bool:
    """Whether this session's fit is still shown as running (Stop and its progress).

    The page shows a finished fit's charts only when this is false, so that the charts
    and the Stop button never disagree: a fit that ends during a page run is shown by
    the progress fragment's next run.
    """
    return FITS.job() is not None


def fit_bar(scenario: Scenario) -> None:
    """The Fit button (Stop beside it while a fit runs), the note, and the live progress."""
    sampling = scenario.method != "exact"
    label = method_label(scenario.method)
    fit_col, stop_col, note_col = st.columns([2, 1, 3], vertical_alignment="center")
    if fit_col.button(f"Fit with {label}" if sampling else "Fit", type="primary",
                      icon=":material/play_arrow:", key="fit", disabled=not sampling,
                      width="stretch",
                      help=say("explore", "fit_help") if sampling else say("explore", "fit_help_exact")):
        FITS.start(scenario)
    note_col.caption(say("explore", "fit_note", budget=SAMPLING_FITS.time_budget_s))
    FITS.follow(scenario, stop_column=stop_col, draw=_draw_progress,
                stop_help=say("explore", "stop_help"))


def _draw_progress(job: FitJob[Scenario]) -> None:
    """The job's stages, its progress bar and the seconds so far, in a bordered box."""
    now = job.progress()
    label = method_label(job.key.method)
    detail = f"{now.message} ({now.stage_s:.0f} s)" if now.fraction is None else now.message
    with st.container(border=True):
        st.markdown(f"**Fitting with {label}** · {_stage_line(now.stage, now.fraction)} · "
                    f"{now.elapsed_s:.0f} s so far")
        st.progress(min(max(now.fraction or 0.0, 0.0), 1.0), text=detail)


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
    end = FITS.take_ended("stopped", "abandoned")
    if end is None:
        return
    label = method_label(end.key.method)
    if end.how == "stopped":
        st.warning(say("explore", "fit_stopped", method=label), icon=":material/stop_circle:")
    else:
        st.info(say("explore", "fit_abandoned", method=label), icon=":material/undo:")


def fit_outcome_notice() -> None:
    """A fit that ended without a result, in words (once)."""
    end = FITS.take_ended("ran_out", "failed")
    if end is None:
        return
    if end.how == "ran_out":
        st.warning(say("explore", "fit_out_of_time", reason=end.reason),
                   icon=":material/timer_off:")
    else:
        st.error(say("explore", "fit_failed", method=method_label(end.key.method),
                       error=end.reason), icon=":material/error:")
