"""One background job on a page: start it, show its progress and *Stop*, file its end.

The explore, your-data and calibration pages each run their sampling in the background
through one :class:`BackgroundJob`: a page keys its job by a frozen value ``K`` (a
scenario, a scenario and a table's digest, a lab's settings), starts it in a shared
:class:`~hierdash.ui.fit_registry.FitRegistry` and follows it in the session. The page
draws its own button, words and progress (``draw``); the lifecycle is here, once:

- :meth:`BackgroundJob.start` joins the running job of the key, or starts one.
- :meth:`BackgroundJob.follow`, drawn after the page's start button, waits in the
  page's run for a job that ends soon (the click's own run draws the result, with no
  progress and no second run), then draws *Stop* and a fragment that polls the job
  and redraws its progress until it ends, and then reruns the whole page.
- :meth:`BackgroundJob.settle`, at every page run, files a job that has ended (its
  result, kept by the session: :meth:`~BackgroundJob.result`) and leaves a job whose
  key is not the page's any more: a changed setting *abandons* the job.
- A job that ended without a result (stopped, abandoned, out of time, failed) leaves a
  :class:`JobEnd` for the page to put into words, once (:meth:`~BackgroundJob.take_ended`)
  or for as long as the settings stay (:meth:`~BackgroundJob.ended`).

The waiting, in detail. A job that ends within :data:`_ANSWER_AT_ONCE_S` of the page run
reaching :meth:`~BackgroundJob.follow` is shown by that run, without any progress (the
default world's fit takes about 0.2 s). A job queued behind other students' fits, or one
that will end within :data:`_ANSWER_IN_RUN_S` by its pace so far, is still shown by that
run, which redraws the progress in place while it waits. A longer job, or one whose
model must compile, hands over to the polling fragment. Each Fit thus costs the server
one page run unless it is long. (With thirty students fitting at once most fits queue
for a sampler for seconds; each that missed the first moments cost the click's run,
progress redraws and a whole-page run: about 0.14 s more server CPU.)

*Stop* is drawn only once the fragment polls: Streamlit does not interrupt a page run
for a click inside the same fragment, so a Stop drawn during the run's own wait would
only act when the wait ended. A changed setting does interrupt it (a whole-page run
preempts a fragment run) and abandons the job. *Stop* is an ordinary button: its click
leaves the job (the last watcher to leave stops the engine) and reruns the page.

Session state, for a job named ``name``: ``{name}_job`` (the job being followed),
``{name}_result`` (the session's own finished result, with its key), ``{name}_ended``
(a :class:`JobEnd`), and ``job_watcher`` (this session's name in every registry).
Worker threads never call ``st.*``: only the page's run and its fragments do.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Hashable
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Literal

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from hierdash.inference.results import FitStopped
from hierdash.ui.fit_registry import FitJob, FitRegistry

__all__ = ["BackgroundJob", "JobEnd"]

# One poll rule for every page. A polling fragment's run ends, like every Streamlit run,
# in a full garbage collection, which is slow while a model compiles (its many objects are
# young): a job still waiting (queued for a sampler, or for its model) is polled every two
# seconds, one that samples every half second, so its progress moves smoothly. A job far
# back in a class's queue is polled every five seconds: thirty pages polling every two
# seconds while they wait are fifteen page runs a second for the server, and as many
# redraws for browsers that may share a machine.
_POLL_SAMPLING_S = 0.5
_POLL_WAITING_S = 2.0
_POLL_FAR_BACK_S = 5.0
_FAR_BACK = 4  # fits ahead in the queue from which a job counts as far back
_WAITING_STAGES = ("simulate", "compile")
Pace = Literal["sampling", "waiting", "far_back"]


def _pace(job: FitJob) -> Pace:
    """How often a page polls ``job`` now."""
    if job.progress().stage not in _WAITING_STAGES:
        return "sampling"
    return "far_back" if job.ahead() >= _FAR_BACK else "waiting"
# A job that ends this soon after the page run reaches follow() is shown by that same
# run: the reader sees the page change once, and the server draws it once per click
# instead of three times (the click's run, a progress redraw, the result's run). A job
# that must wait for its model's compile is not waited for.
_ANSWER_AT_ONCE_S = 1.5
_ANSWER_POLL_S = 0.05
# After that the run goes on waiting, its progress redrawn in place every
# _REDRAW_IN_RUN_S, while the job is queued or will end by this long after the run began.
_ANSWER_IN_RUN_S = 10.0
_REDRAW_IN_RUN_S = 0.25

EndHow = Literal["stopped", "abandoned", "ran_out", "failed"]


@dataclass(frozen=True)
class JobEnd[K: Hashable]:
    """How this session's last job ended without a result.

    Attributes
    ----------
    key
        The job's key.
    how
        ``stopped`` (this session pressed *Stop*), ``abandoned`` (the page's key changed
        while it ran), ``ran_out`` (the engine stopped it: its time budget ran out, or
        nobody was watching any more) or ``failed`` (any other error).
    reason
        The engine's words for ``ran_out``; the error as ``Type: message`` for
        ``failed``; empty otherwise.
    partial
        What the page keeps of the job when it ends (:attr:`BackgroundJob.partial`),
        such as a lab's worlds so far; None without one.
    """

    key: K
    how: EndHow
    reason: str = ""
    partial: object = None


def _watcher() -> str:
    """This session's name in every registry (one job per page, so one name suffices)."""
    return st.session_state.setdefault("job_watcher", uuid.uuid4().hex)


@dataclass(frozen=True, kw_only=True)
class BackgroundJob[K: Hashable]:
    """A page's background job, from its start to its result or its end.

    One module-level instance per page; everything per session lives in
    ``st.session_state`` under the instance's ``name``.

    Parameters
    ----------
    name
        Prefix of the session-state keys (``{name}_job``, ``{name}_result``,
        ``{name}_ended``): unique per page.
    registry
        Where the jobs run, shared by every session.
    stop_key
        The *Stop* button's widget key.
    wait_in_run
        Whether the page's run waits for a job that ends soon (see the module's
        docstring). False for a job whose live view is more than its progress (the
        lab draws its worlds so far: it can be drawn only once per run).
    partial
        ``partial(key)``: what to keep of a job that ends without a result, read when
        it ends (:attr:`JobEnd.partial`). None: nothing.
    """

    name: str
    registry: FitRegistry[K]
    stop_key: str
    wait_in_run: bool = True
    partial: Callable[[K], object] | None = None

    # -- the session's job -------------------------------------------------------------
    def job(self) -> FitJob[K] | None:
        """The job this session follows, None if none: while it is set, the page shows
        the job's progress rather than a result."""
        return st.session_state.get(f"{self.name}_job")

    def start(self, key: K) -> None:
        """Join the running job of ``key``, or start one; forget how the last one ended.

        Called from the page's run when its start button returns True, not from an
        ``on_click`` callback: a callback gets the key of the run that drew the button,
        which a click landing during a rerun with changed settings would make stale.
        """
        old = self.job()
        if old is not None and old.key != key:
            old.leave(_watcher())
        st.session_state.pop(f"{self.name}_ended", None)
        st.session_state[f"{self.name}_job"] = self.registry.start(key, _watcher())

    def settle(self, key: K | None) -> None:
        """File a job that has ended, or leave one whose key is not ``key`` (abandoned).

        Called before the page draws what depends on the job, at every run. ``key`` is
        None when the page's settings are not usable: a running job is abandoned.
        """
        job = self.job()
        if job is None:
            return
        if job.key != key:
            job.leave(_watcher())
            self._end(job, "abandoned")
        elif job.done():
            try:
                result = job.future.result(timeout=0)
            except FitStopped as err:  # its time budget ran out, or nobody watched
                self._end(job, "ran_out", str(err))
            except (Exception, CancelledError) as err:  # noqa: BLE001 - words, never a traceback
                self._end(job, "failed", f"{type(err).__name__}: {err}")
            else:
                del st.session_state[f"{self.name}_job"]
                # The session keeps its own result: a registry keeps only its last few,
                # and with a class fitting at once a slow page came back for its result
                # after 16 others had pushed it out (it then showed the Fit button again,
                # as if the click had been lost: 10 of 30 sessions in benchmarks.load).
                st.session_state[f"{self.name}_result"] = (job.key, result)

    def result(self, key: K):
        """This session's finished result of ``key``, else any session's (the registry);
        None if there is none."""
        own = st.session_state.get(f"{self.name}_result")
        if own is not None and own[0] == key:
            return own[1]
        return self.registry.finished(key)

    def ended(self, key: K) -> JobEnd[K] | None:
        """How the last job of ``key`` ended without a result (kept until a new start)."""
        end = st.session_state.get(f"{self.name}_ended")
        return end if end is not None and end.key == key else None

    def take_ended(self, *how: EndHow) -> JobEnd[K] | None:
        """How the last job ended, if in one of ``how``, taken out: said once."""
        end = st.session_state.get(f"{self.name}_ended")
        if end is None or end.how not in how:
            return None
        del st.session_state[f"{self.name}_ended"]
        return end

    def _end(self, job: FitJob[K], how: EndHow, reason: str = "") -> None:
        st.session_state.pop(f"{self.name}_job", None)
        partial = self.partial(job.key) if self.partial is not None else None
        st.session_state[f"{self.name}_ended"] = JobEnd(job.key, how, reason, partial)

    def _stop(self) -> None:
        """Stop's callback: leave the job; the run it starts says it was stopped."""
        job = self.job()
        if job is not None:
            job.leave(_watcher())
            self._end(job, "stopped")

    # -- on the page -------------------------------------------------------------------
    def follow(self, key: K, *, stop_column: DeltaGenerator, draw: Callable[[FitJob[K]], None],
               stop_help: str | None = None) -> None:
        """After the page's start button: wait for a job that ends soon, else draw
        *Stop* in ``stop_column`` and the live progress below.

        Parameters
        ----------
        key
            The page's key now (a job of another key is abandoned).
        stop_column
            Where *Stop* goes (a column beside the start button).
        draw
            ``draw(job)`` draws the job's progress; called in this run while it waits,
            and at every poll of the fragment.
        stop_help
            *Stop*'s tooltip.
        """
        self.settle(key)
        if self.wait_in_run and self.job() is not None:
            began = time.monotonic()
            _wait_for(self.job(), until=began + _ANSWER_AT_ONCE_S)
            self._wait_in_run(draw, until=began + _ANSWER_IN_RUN_S)
            self.settle(key)  # it may have ended while this run waited: file it now
        job = self.job()
        if job is None:
            return
        stop_column.button("Stop", key=self.stop_key, icon=":material/stop_circle:",
                           on_click=self._stop, width="stretch", help=stop_help)
        {"sampling": _poll_quickly, "waiting": _poll_slowly,
         "far_back": _poll_rarely}[_pace(job)](self, draw)

    def _wait_in_run(self, draw: Callable[[FitJob[K]], None], *, until: float) -> None:
        """Wait for the job in this page run while it is worth it, its progress redrawn
        in place meanwhile (each redraw is also where a changed setting ends the run)."""
        job = self.job()
        if job is None or not _ends_by(job, until):
            return
        slot = st.empty()
        while time.monotonic() < until and _ends_by(job, until):
            job.touch(_watcher())
            with slot.container():
                draw(job)
            _wait_for(job, until=min(until, time.monotonic() + _REDRAW_IN_RUN_S))
        slot.empty()

    def _poll(self, draw: Callable[[FitJob[K]], None], *, pace: Pace) -> None:
        """One poll of the fragment: the job's progress, or the whole page once it ends."""
        job = self.job()
        if job is None:  # stopped, or settled by a page run: nothing left to show
            return
        if job.done() or pace != _pace(job):
            st.rerun()  # the whole page: it files the end, or polls at the new pace
        job.touch(_watcher())
        draw(job)


@st.fragment(run_every=_POLL_FAR_BACK_S)
def _poll_rarely(jobs: BackgroundJob, draw: Callable[[FitJob], None]) -> None:
    jobs._poll(draw, pace="far_back")


@st.fragment(run_every=_POLL_WAITING_S)
def _poll_slowly(jobs: BackgroundJob, draw: Callable[[FitJob], None]) -> None:
    jobs._poll(draw, pace="waiting")


@st.fragment(run_every=_POLL_SAMPLING_S)
def _poll_quickly(jobs: BackgroundJob, draw: Callable[[FitJob], None]) -> None:
    jobs._poll(draw, pace="sampling")


def _wait_for(job: FitJob | None, *, until: float) -> None:
    """Wait until ``job`` ends or the clock reaches ``until`` (never while it compiles)."""
    while job is not None and not job.done() and job.progress().stage != "compile":
        left = until - time.monotonic()
        if left <= 0:
            return
        try:  # a wait on the job's future: wakes the moment it ends, costs no CPU
            job.future.exception(timeout=min(_ANSWER_POLL_S, left))
        except (TimeoutError, CancelledError):
            pass


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
