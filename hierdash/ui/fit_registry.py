"""Background jobs shared by every session: finished results and running jobs, by key.

No sampler runs in a page's script. Pressing *Fit* asks a process-wide
:class:`FitRegistry` for the :class:`FitJob` of its key (the explore page's registry is
keyed by the scenario): a job already running for the same key is joined (thirty
students on one link cost one fit), else a new one starts in a worker thread. Each
session *watches* its job: the click's page run waits on it for a fit that ends soon,
else a Streamlit fragment polls it and redraws the progress every fraction of a second
(see :mod:`hierdash.ui.jobs`); a finished result is kept, immutable, for anyone who
asks with the same key.

A key is what the job is about and what the engine is called with: a frozen, hashable
value, one type per registry (the registry is generic in it, ``FitRegistry[Scenario]``).
The explore page's key is the :class:`~hierdash.scenario.Scenario`; the other pages
key theirs by their own frozen settings (a scenario and a table's digest, a lab's
settings).

A job stops when nobody wants it any more: every watcher pressed *Stop*, changed a
setting, or closed the page (a watcher that has not polled for ``heartbeat_s`` seconds
counts as gone). The engine polls :meth:`FitJob.should_stop` and ends the sampler.

Silence is judged leniently while a job waits its turn. On a busy server (a class
pressing *Fit* together) a page's polls can be late by tens of seconds, and a student
who is waiting must not lose their place in the queue to that. So a waiting job is
dropped only when every watcher left, or after ``patience_s`` of silence; once it
samples, every watcher gets ``heartbeat_s`` from that moment before silence counts. A
page closed in the queue thus costs at most ``heartbeat_s`` of sampling when its turn
comes, and a short fit simply finishes.

Nothing here imports Streamlit, and the worker threads only call the engine: results
cross to the page through the job's future and its lock-guarded progress.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass

from hierdash.inference.results import FitStopped

__all__ = ["FitProgress", "FitJob", "FitRegistry", "FitFunction"]

FitFunction = Callable[..., object]
"""``engine(key, *, progress, should_stop, time_budget) -> result``: for a registry keyed
by scenarios, :func:`hierdash.inference.fit`."""


@dataclass(frozen=True)
class FitProgress:
    """A job's latest progress report, as the page shows it.

    Attributes
    ----------
    stage
        ``simulate``, ``compile``, ``sample`` or ``summarise``.
    fraction
        Share of the stage done, when known.
    message
        What is happening, in words.
    stage_s, elapsed_s
        Seconds in this stage and since the job started.
    """

    stage: str
    fraction: float | None
    message: str
    stage_s: float
    elapsed_s: float


class FitJob[K: Hashable]:
    """One background job in a worker thread, shared by every session that asked for it.

    Parameters
    ----------
    key
        What the job is keyed by, and what its engine is called with (see the module's
        docstring): kept as :attr:`key`.
    heartbeat_s
        Once sampling, a watcher that has not polled (:meth:`touch`) for this long
        (counted from the start of sampling at the earliest) counts as gone.
    patience_s
        While the job waits its turn, a watcher silent for this long counts as gone.
    """

    def __init__(self, key: K, *, heartbeat_s: float, patience_s: float | None = None) -> None:
        self.key: K = key
        self.future: Future = Future()
        self._heartbeat_s = heartbeat_s
        self._patience_s = max(heartbeat_s, patience_s or heartbeat_s)
        self._lock = threading.Lock()
        self._watchers: dict[str, float] = {}  # watcher -> last poll (monotonic seconds)
        self._sampling_since: float | None = None  # None while waiting for its turn
        self._ahead = 0  # fits ahead of it in the queue (sampling or waiting)
        self._abandoned = False
        self._latest: tuple[str, float | None, str] = ("simulate", None, "Starting")
        self._started = self._stage_started = time.monotonic()

    # -- called by the engine, in the worker thread ---------------------------------
    def report(self, stage: str, fraction: float | None, message: str) -> None:
        """The engine's progress callback."""
        with self._lock:
            if stage != self._latest[0]:
                self._stage_started = time.monotonic()
            self._latest = (stage, fraction, message)

    def should_stop(self) -> bool:
        """The engine's stop poll: true once no watcher wants the fit any more."""
        with self._lock:
            if not self._abandoned:
                now, since = time.monotonic(), self._sampling_since
                if since is None:
                    alive = [seen for seen in self._watchers.values()
                             if now - seen <= self._patience_s]
                else:
                    alive = [seen for seen in self._watchers.values()
                             if now - max(seen, since) <= self._heartbeat_s]
                # Once abandoned, always abandoned: a later watcher starts a new job.
                self._abandoned = not alive
            return self._abandoned

    def begin_sampling(self) -> None:
        """Its turn has come (the registry calls this): silence is now judged by
        ``heartbeat_s``, counted from now at the earliest."""
        with self._lock:
            self._sampling_since = time.monotonic()
            self._ahead = 0

    def queue_ahead(self, ahead: int) -> None:
        """The registry's count of fits ahead of this one while it waits."""
        with self._lock:
            self._ahead = ahead

    def ahead(self) -> int:
        """Fits ahead of this one in the queue (0 once it samples)."""
        with self._lock:
            return self._ahead

    # -- called by the pages ---------------------------------------------------------
    def watch(self, watcher: str) -> bool:
        """Add ``watcher``; False (and nothing added) if the job is already abandoned."""
        with self._lock:
            if self._abandoned:
                return False
            self._watchers[watcher] = time.monotonic()
            return True

    def touch(self, watcher: str) -> None:
        """``watcher`` is still looking (one poll of its progress display)."""
        with self._lock:
            if watcher in self._watchers:
                self._watchers[watcher] = time.monotonic()

    def leave(self, watcher: str) -> None:
        """``watcher`` no longer wants the fit; the last one to leave stops it."""
        with self._lock:
            self._watchers.pop(watcher, None)

    def progress(self) -> FitProgress:
        """The latest progress report."""
        with self._lock:
            now = time.monotonic()
            return FitProgress(*self._latest, stage_s=now - self._stage_started,
                               elapsed_s=now - self._started)

    def done(self) -> bool:
        """Whether the fit has ended (with a result or an exception)."""
        return self.future.done()


class FitRegistry[K: Hashable]:
    """Finished results and running jobs, keyed by a frozen key of type ``K``.

    One registry serves the whole server process. Finished results are immutable and
    shared; at most ``max_results`` are kept, each for at most ``ttl_s`` seconds.

    Parameters
    ----------
    fit
        The engine's entry point, called with a job's key in the worker thread
        (:func:`hierdash.inference.fit` for a registry keyed by scenarios).
    time_budget_s
        Seconds of sampling after which a fit stops.
    max_results
        Finished results kept (least recently used go first), >= 1.
    ttl_s
        Seconds a finished result is kept, > 0.
    heartbeat_s
        Seconds without a poll after which a watcher of a sampling job counts as gone, > 0.
    patience_s
        The same for a job waiting its turn, >= ``heartbeat_s`` (see the module's
        docstring); None: ten times ``heartbeat_s``.
    max_running
        Fits sampling at once, >= 1; later ones wait their turn, first come first served.
        None: no limit. Thirty fits started together on two cores each take the whole
        time of all thirty (and the pages poll their progress all along); in turn, the
        first ends in moments and the last no later.
    """

    def __init__(self, fit: FitFunction, *, time_budget_s: float, max_results: int = 16,
                 ttl_s: float = 7200.0, heartbeat_s: float = 30.0,
                 patience_s: float | None = None, max_running: int | None = None) -> None:
        for name, value in (("time_budget_s", time_budget_s), ("ttl_s", ttl_s),
                            ("heartbeat_s", heartbeat_s)):
            if not value > 0:
                raise ValueError(f"{name} = {value!r} is not allowed: must be > 0")
        if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
            raise ValueError(f"max_results = {max_results!r} is not allowed: must be a whole "
                             "number >= 1")
        if max_running is not None and (isinstance(max_running, bool)
                                        or not isinstance(max_running, int) or max_running < 1):
            raise ValueError(f"max_running = {max_running!r} is not allowed: must be a whole "
                             "number >= 1, or None for no limit")
        self._fit = fit
        self._max_running = max_running
        self._turns = threading.Condition()
        self._waiting: deque[FitJob[K]] = deque()  # jobs waiting for their turn, in order
        self._n_running = 0
        self.time_budget_s = float(time_budget_s)
        self._max_results = max_results
        self._ttl_s = float(ttl_s)
        self._heartbeat_s = float(heartbeat_s)
        self._patience_s = 10 * self._heartbeat_s if patience_s is None else float(patience_s)
        if not self._patience_s >= self._heartbeat_s:
            raise ValueError(f"patience_s = {patience_s!r} is not allowed: must be >= "
                             f"heartbeat_s ({heartbeat_s!r})")
        self._lock = threading.Lock()
        self._finished: OrderedDict[K, tuple[float, object]] = OrderedDict()
        self._running: dict[K, FitJob[K]] = {}

    def finished(self, key: K):
        """The finished result of ``key``, or None if there is none (or it expired)."""
        with self._lock:
            entry = self._finished.get(key)
            if entry is None:
                return None
            stored, result = entry
            if time.monotonic() - stored > self._ttl_s:
                del self._finished[key]
                return None
            self._finished.move_to_end(key)
            return result

    def start(self, key: K, watcher: str) -> FitJob[K]:
        """Join the running job of ``key`` as ``watcher``, or start one.

        A job every watcher has left is winding down and is not joined: a new one
        starts in its place.
        """
        with self._lock:
            job = self._running.get(key)
            if job is not None and job.watch(watcher):
                return job
            job = FitJob(key, heartbeat_s=self._heartbeat_s, patience_s=self._patience_s)
            job.watch(watcher)
            self._running[key] = job
        # A daemon thread: a fit still running when the server exits must not hold it up.
        threading.Thread(target=self._run, args=(job,), name="hierdash-fit", daemon=True).start()
        return job

    def _run(self, job: FitJob[K]) -> None:
        """The worker: fit, then file the result (or keep the exception on the future)."""
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            self._wait_for_turn(job)
            try:
                result = self._fit(job.key, progress=job.report,
                                   should_stop=job.should_stop, time_budget=self.time_budget_s)
            finally:
                self._end_turn()
        except BaseException as err:  # noqa: BLE001 - handed to every watcher, not lost
            self._forget(job)
            job.future.set_exception(err)
            return
        with self._lock:
            self._finished[job.key] = (time.monotonic(), result)
            self._finished.move_to_end(job.key)
            while len(self._finished) > self._max_results:
                self._finished.popitem(last=False)
        self._forget(job)
        job.future.set_result(result)

    def _wait_for_turn(self, job: FitJob[K]) -> None:
        """Block until ``job`` may sample (first come, first served); FitStopped if every
        watcher left while it waited."""
        with self._turns:
            self._waiting.append(job)
            try:
                while not self._my_turn(job):
                    if job.should_stop():
                        raise FitStopped("stopped before it started: nobody is waiting for it")
                    ahead = self._waiting.index(job) + self._n_running
                    job.queue_ahead(ahead)
                    job.report("simulate", None, "Waiting for a free sampler: "
                               f"{ahead} fit(s) ahead of this one")
                    self._turns.wait(timeout=0.5)
            finally:
                self._waiting.remove(job)
                self._turns.notify_all()  # the next in line may start, or move up
            self._n_running += 1
        job.begin_sampling()

    def _my_turn(self, job: FitJob[K]) -> bool:
        if self._max_running is None:
            return True
        return (self._n_running < self._max_running
                and self._waiting.index(job) < self._max_running - self._n_running)

    def _end_turn(self) -> None:
        with self._turns:
            self._n_running -= 1
            self._turns.notify_all()

    def _forget(self, job: FitJob[K]) -> None:
        with self._lock:
            if self._running.get(job.key) is job:  # not a newer job of the same key
                del self._running[job.key]
