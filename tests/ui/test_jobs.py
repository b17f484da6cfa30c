"""One background job on a page (:class:`hierdash.ui.jobs.BackgroundJob`).

A small page follows a job of a stand-in engine (no sampler) through ``AppTest``: the
click's own run shows a job that ends soon, a longer one gets *Stop* and a polling
fragment, and a job ends with a result (kept by the session), stopped, abandoned by a
changed key, out of time or failed. Besides, when the click's run waits, and that the
three pages poll only through the component.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from hierdash.inference import FitStopped
from hierdash.ui.fit_registry import FitProgress, FitRegistry
from hierdash.ui.jobs import _ends_by

UI = Path(__file__).resolve().parents[2] / "hierdash" / "ui"


class GatedEngine:
    """A job per key that reports ``stage`` and ends when its gate opens: with the
    result, or raising the key's exception; it stops when nobody watches."""

    def __init__(self, stage: str = "sample"):
        self.stage = stage
        self.gates: dict[str, threading.Event] = {}
        self.raises: dict[str, BaseException] = {}

    def gate(self, key: str) -> threading.Event:
        return self.gates.setdefault(key, threading.Event())

    def __call__(self, key, *, progress, should_stop, time_budget):
        progress(self.stage, 0.5 if self.stage == "sample" else None, f"working on {key}")
        while not self.gate(key).wait(0.01):
            if should_stop():
                raise FitStopped("The fit was stopped.")
        if key in self.raises:
            raise self.raises[key]
        return f"result of {key}"


def _page() -> None:
    """A page with one job: its key, Start, Stop, the progress, the end and the result."""
    import streamlit as st

    from hierdash.ui.jobs import BackgroundJob

    jobs = BackgroundJob(name="t", registry=st.session_state["registry"], stop_key="t_stop",
                         wait_in_run=st.session_state.get("wait", False),
                         partial=lambda key: f"so far of {key}")
    key = st.session_state["key"]
    jobs.settle(key)
    start_col, stop_col = st.columns(2)
    if start_col.button("Start", key="t_start"):
        jobs.start(key)
    jobs.follow(key, stop_column=stop_col,
                draw=lambda job: st.markdown(f"running {job.key}: {job.progress().message}"))
    end = jobs.ended(key)
    if end is not None:
        st.warning(f"{end.how} · {end.reason} · {end.partial}")
    result = jobs.result(key)
    if result is not None:
        st.success(result)


def _open(engine: GatedEngine, key: str = "a", *, wait: bool = False,
          registry: FitRegistry | None = None) -> AppTest:
    at = AppTest.from_function(_page, default_timeout=30)
    at.session_state["registry"] = registry or FitRegistry(engine, time_budget_s=10)
    at.session_state["key"] = key
    at.session_state["wait"] = wait
    return at.run()


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _until_ended(at: AppTest, timeout: float = 10.0) -> AppTest:
    """Rerun the page, as the polling fragment does, until it follows no job."""
    deadline = time.monotonic() + timeout
    while "t_job" in at.session_state:
        assert time.monotonic() < deadline, "the job did not end in time"
        time.sleep(0.05)
        at.run()
    return _ok(at)


@pytest.mark.app
def test_a_job_that_ends_at_once_is_shown_by_the_clicks_own_run():
    engine = GatedEngine()
    engine.gate("a").set()
    at = _ok(_open(engine, wait=True))
    _ok(at.button(key="t_start").click().run())
    assert "t_job" not in at.session_state
    assert _texts(at.success) == "result of a"
    assert not [b for b in at.button if b.key == "t_stop"]  # no Stop, no progress
    assert "running" not in _texts(at.markdown)


@pytest.mark.app
def test_a_compiling_job_is_not_waited_for_but_polled_with_stop():
    engine = GatedEngine(stage="compile")
    at = _ok(_open(engine, wait=True))
    began = time.monotonic()
    _ok(at.button(key="t_start").click().run())
    assert time.monotonic() - began < 5  # not the in-run wait's ten seconds
    assert "t_job" in at.session_state
    assert at.button(key="t_stop").label == "Stop"
    assert "running a: working on a" in _texts(at.markdown)
    engine.gate("a").set()
    assert _texts(_until_ended(at).success) == "result of a"


@pytest.mark.app
def test_a_job_far_back_in_the_queue_is_followed_until_its_result():
    # Far back in a class's queue a page polls every few seconds: it still shows its
    # place and Stop, and gets its result when its turn has come and gone.
    engine = GatedEngine()
    registry = FitRegistry(engine, time_budget_s=10, max_running=1)
    for key in "abcde":
        registry.start(key, f"another student {key}")
    at = _ok(_open(engine, key="z", registry=registry))
    _ok(at.button(key="t_start").click().run())
    assert at.button(key="t_stop").label == "Stop"
    assert "5 fit(s) ahead" in _texts(at.markdown)
    for key in "abcdez":
        engine.gate(key).set()
    assert _texts(_until_ended(at).success) == "result of z"


@pytest.mark.app
def test_stop_leaves_the_job_and_the_engine_stops():
    engine = GatedEngine()
    at = _ok(_open(engine))
    _ok(at.button(key="t_start").click().run())
    job = at.session_state["t_job"]
    assert job.key == "a"
    _ok(at.button(key="t_stop").click().run())
    assert "t_job" not in at.session_state
    assert "stopped ·  · so far of a" in _texts(at.warning)
    assert isinstance(job.future.exception(timeout=5), FitStopped)  # nobody else watched
    # A new start forgets how the last job ended.
    _ok(at.button(key="t_start").click().run())
    assert not at.warning
    engine.gate("a").set()
    _until_ended(at)


@pytest.mark.app
def test_a_changed_key_abandons_the_job():
    engine = GatedEngine()
    at = _ok(_open(engine))
    _ok(at.button(key="t_start").click().run())
    job = at.session_state["t_job"]
    at.session_state["key"] = "b"
    _ok(at.run())
    assert "t_job" not in at.session_state
    assert at.session_state["t_ended"].how == "abandoned"
    assert not at.warning  # the end belongs to key a, not to the page's b
    assert isinstance(job.future.exception(timeout=5), FitStopped)
    at.session_state["key"] = "a"
    assert "abandoned" in _texts(_ok(at.run()).warning)


@pytest.mark.app
def test_two_sessions_share_one_job_and_each_keeps_its_result():
    engine = GatedEngine()
    registry = FitRegistry(engine, time_budget_s=10, max_results=1)
    first, second = _open(engine, registry=registry), _open(engine, registry=registry)
    _ok(first.button(key="t_start").click().run())
    _ok(second.button(key="t_start").click().run())
    assert first.session_state["t_job"] is second.session_state["t_job"]
    engine.gate("a").set()
    assert _texts(_until_ended(first).success) == "result of a"
    # Another key's result pushes a's out of the registry: the session still has its own.
    engine.gate("b").set()
    assert registry.start("b", "someone").future.result(timeout=5) == "result of b"
    assert registry.finished("a") is None
    assert _texts(_ok(first.run()).success) == "result of a"
    assert _texts(_until_ended(second).success) == "result of a"


@pytest.mark.app
@pytest.mark.parametrize(("error", "how", "reason"), [
    (FitStopped("Out of time after 10 s."), "ran_out", "Out of time after 10 s."),
    (ValueError("boom"), "failed", "ValueError: boom"),
])
def test_a_job_that_ends_without_a_result_says_how(error, how, reason):
    engine = GatedEngine()
    engine.raises["a"] = error
    at = _ok(_open(engine))
    _ok(at.button(key="t_start").click().run())
    engine.gate("a").set()
    at = _until_ended(at)
    assert f"{how} · {reason} · so far of a" in _texts(at.warning)
    assert not at.success
    assert _texts(_ok(at.run()).warning)  # said for as long as the key stays


class _JobAt:
    """A job that says it is at ``stage``, ``fraction`` done, ``stage_s`` into it."""

    def __init__(self, stage, fraction=None, stage_s=0.0, *, done=False):
        self._done = done
        self._now = FitProgress(stage, fraction, "", stage_s=stage_s, elapsed_s=stage_s)

    def done(self):
        return self._done

    def progress(self):
        return self._now


@pytest.mark.parametrize(("job", "in_s", "waited"), [
    (_JobAt("simulate"), 5.0, True),             # queued behind other fits
    (_JobAt("summarise", 1.0, 0.1), 5.0, True),
    (_JobAt("compile", None, 0.1), 5.0, False),  # the fragment polls a compile
    (_JobAt("sample", 0.5, 1.0), 5.0, True),     # one more second at its pace
    (_JobAt("sample", 0.5, 1.0), 0.5, False),
    (_JobAt("sample", 0.1, 2.0), 5.0, False),    # 18 s more
    (_JobAt("sample", 0.0, 0.2), 5.0, True),     # just started: too early to tell
    (_JobAt("sample", 0.0, 1.0), 5.0, False),    # a second in, nothing done
    (_JobAt("sample", 0.5, 1.0, done=True), 5.0, False),
])
def test_the_clicks_run_waits_only_for_a_fit_that_ends_soon(job, in_s, waited):
    assert _ends_by(job, time.monotonic() + in_s) is waited


@pytest.mark.parametrize("page", ["fitting.py", "pages/your_data.py", "pages/calibration.py"])
def test_the_pages_follow_their_jobs_only_through_the_component(page):
    # One lifecycle and one poll rule: no page polls, watches or leaves a job itself.
    source = (UI / page).read_text(encoding="utf-8")
    assert "BackgroundJob(" in source
    for own in ("run_every", "st.fragment", "watcher", ".leave(", ".touch(", ".scenario.scenario"):
        assert own not in source, own
