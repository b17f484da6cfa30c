"""The shared registry of background jobs, with a stand-in engine (no sampler).

One :class:`~hierdash.ui.fit_registry.FitRegistry` serves every session: a job per key,
joined by everyone asking for the same key, stopped when its last watcher leaves or
goes silent, its result kept for a while.
"""

from __future__ import annotations

import threading
import time

import pytest

from hierdash.inference import FitStopped
from hierdash.scenario import Scenario
from hierdash.ui.fit_registry import FitRegistry


class FakeEngine:
    """A fit that reports progress and ends when released or told to stop."""

    def __init__(self):
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, scenario, *, progress, should_stop, time_budget):
        self.calls += 1
        progress("sample", 0.5, "half way")
        while not self.release.wait(0.01):
            if should_stop():
                raise FitStopped("The fit was stopped.")
        return ("result of", scenario)


def test_registry_shares_one_job_per_scenario_and_keeps_its_result():
    engine = FakeEngine()
    registry = FitRegistry(engine, time_budget_s=10)
    first = registry.start(Scenario(seed=1), "reader 1")
    second = registry.start(Scenario(seed=1), "reader 2")
    assert first is second
    other = registry.start(Scenario(seed=2), "reader 1")
    assert other is not first
    assert registry.finished(Scenario(seed=1)) is None
    deadline = time.monotonic() + 5
    while first.progress().fraction is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (first.progress().stage, first.progress().fraction) == ("sample", 0.5)
    engine.release.set()
    assert first.future.result(timeout=5) == ("result of", Scenario(seed=1))
    assert registry.finished(Scenario(seed=1)) == ("result of", Scenario(seed=1))
    assert engine.calls == 2


class GatedEngine:
    """A fit per scenario seed that ends when its own gate opens; records who ran."""

    def __init__(self):
        self.gates: dict[int, threading.Event] = {}
        self.started: list[int] = []

    def __call__(self, scenario, *, progress, should_stop, time_budget):
        self.started.append(scenario.seed)
        gate = self.gates.setdefault(scenario.seed, threading.Event())
        while not gate.wait(0.01):
            if should_stop():
                raise FitStopped("The fit was stopped.")
        return scenario.seed


def _until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_registry_samples_in_turn_first_come_first_served():
    engine = GatedEngine()
    registry = FitRegistry(engine, time_budget_s=10, max_running=1)
    first = registry.start(Scenario(seed=1), "reader 1")
    _until(lambda: engine.started == [1])
    second = registry.start(Scenario(seed=2), "reader 2")
    time.sleep(0.05)
    third = registry.start(Scenario(seed=3), "reader 3")
    _until(lambda: "2 fit(s) ahead" in third.progress().message)
    assert "1 fit(s) ahead" in second.progress().message
    assert (first.ahead(), second.ahead(), third.ahead()) == (0, 1, 2)  # pages poll by it
    # A waiting job every watcher left never samples, and does not hold up the rest.
    second.leave("reader 2")
    assert isinstance(second.future.exception(timeout=5), FitStopped)
    engine.gates.setdefault(1, threading.Event()).set()
    assert first.future.result(timeout=5) == 1
    _until(lambda: engine.started == [1, 3])
    engine.gates.setdefault(3, threading.Event()).set()
    assert third.future.result(timeout=5) == 3
    with pytest.raises(ValueError, match="max_running = 0"):
        FitRegistry(engine, time_budget_s=10, max_running=0)


def test_registry_stops_a_job_when_its_last_watcher_leaves():
    engine = FakeEngine()
    registry = FitRegistry(engine, time_budget_s=10)
    job = registry.start(Scenario(seed=3), "reader 1")
    registry.start(Scenario(seed=3), "reader 2")
    job.leave("reader 1")
    time.sleep(0.1)
    assert not job.done()  # reader 2 still watches
    job.leave("reader 2")
    assert isinstance(job.future.exception(timeout=5), FitStopped)
    assert registry.finished(Scenario(seed=3)) is None
    # Asking again starts a new job rather than joining the stopped one.
    again = registry.start(Scenario(seed=3), "reader 1")
    assert again is not job
    engine.release.set()
    assert again.future.result(timeout=5)


def test_registry_counts_a_silent_watcher_as_gone():
    engine = FakeEngine()
    registry = FitRegistry(engine, time_budget_s=10, heartbeat_s=0.2)
    job = registry.start(Scenario(seed=4), "reader 1")
    for _ in range(10):  # polling keeps it alive
        time.sleep(0.05)
        job.touch("reader 1")
    assert not job.done()
    assert isinstance(job.future.exception(timeout=5), FitStopped)  # silence ends it


def test_registry_keeps_a_late_polling_watcher_in_the_queue():
    # On a busy server a waiting page's polls come late: its place must not be lost to
    # that (a class of 30 once lost half its fits this way). Silence past the heartbeat
    # but within the patience keeps the job; its sampling then gets a heartbeat of grace.
    engine = GatedEngine()
    registry = FitRegistry(engine, time_budget_s=10, heartbeat_s=0.2, patience_s=5.0,
                           max_running=1)
    first = registry.start(Scenario(seed=1), "reader 1")
    _until(lambda: engine.started == [1])
    queued = registry.start(Scenario(seed=2), "reader 2")  # never polls again
    for _ in range(10):  # 0.5 s: past the heartbeat
        time.sleep(0.05)
        first.touch("reader 1")
    assert not queued.done()
    engine.gates.setdefault(1, threading.Event()).set()
    _until(lambda: engine.started == [1, 2])
    assert not queued.should_stop()  # the heartbeat counts from the start of sampling
    assert isinstance(queued.future.exception(timeout=5), FitStopped)  # then it ends


def test_registry_drops_a_queued_job_silent_past_its_patience():
    engine = GatedEngine()
    registry = FitRegistry(engine, time_budget_s=10, heartbeat_s=0.1, patience_s=0.3,
                           max_running=1)
    first = registry.start(Scenario(seed=1), "reader 1")
    _until(lambda: engine.started == [1])
    queued = registry.start(Scenario(seed=2), "reader 2")
    while not queued.done():  # the first page keeps polling, the queued one is silent
        first.touch("reader 1")
        time.sleep(0.02)
    error = queued.future.exception(timeout=5)
    assert isinstance(error, FitStopped) and "nobody is waiting" in str(error)
    assert engine.started == [1]  # it never sampled
    engine.gates.setdefault(1, threading.Event()).set()
    assert first.future.result(timeout=5) == 1


def test_registry_keeps_at_most_its_number_of_results():
    engine = FakeEngine()
    engine.release.set()
    registry = FitRegistry(engine, time_budget_s=10, max_results=2)
    for seed in range(3):
        registry.start(Scenario(seed=seed), "reader").future.result(timeout=5)
    assert registry.finished(Scenario(seed=0)) is None
    assert registry.finished(Scenario(seed=2)) is not None


@pytest.mark.parametrize(("option", "value"), [("time_budget_s", 0), ("max_results", 0),
                                               ("heartbeat_s", -1.0), ("max_results", 2.5),
                                               ("patience_s", 0.5)])
def test_registry_options_are_checked(option, value):
    options = {"time_budget_s": 10.0, "max_results": 4, "heartbeat_s": 1.0, option: value}
    with pytest.raises(ValueError, match=option):
        FitRegistry(FakeEngine(), **options)


def test_registry_is_keyed_by_any_frozen_key_and_hands_it_to_the_engine():
    # The your-data and calibration pages key their jobs by their own frozen settings.
    engine = FakeEngine()
    engine.release.set()
    registry = FitRegistry(engine, time_budget_s=10)
    key = ("a table's digest", Scenario(seed=5))
    job = registry.start(key, "reader")
    assert job.key == key
    assert job.future.result(timeout=5) == ("result of", key)
    assert registry.finished(("a table's digest", Scenario(seed=5))) == ("result of", key)
    assert registry.finished(("another digest", Scenario(seed=5))) is None
