"""Calibration worlds in parallel on Dask: a local cluster, or an existing one.

Each world is one task, :func:`~hierdash.calibration.run.check_scenario` on one scenario
of :func:`~hierdash.calibration.families.world_scenarios`; worlds are independent, so the tasks
are too. Before the worlds are sent, every worker compiles the shared nutpie models
once (:func:`warm_worker`, one task pinned to each worker), so no world pays a
compile and each worker's first world takes as long as its last.

Only the command (:mod:`hierdash.cli.calibrate`) uses this module. The Streamlit server
never forks: the lab page runs its worlds serially in a worker thread.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from hierdash.calibration.families import world_scenarios
from hierdash.calibration.lab import LabSettings
from hierdash.calibration.run import check_scenario
from hierdash.calibration.world_check import WorldCheck

__all__ = ["DaskRun", "warm_worker", "check_one", "run_on_dask", "default_workers"]

_WARMED_METHODS = ("nuts",)  # the methods whose compiled model every world shares


@dataclass(frozen=True, eq=False)
class DaskRun:
    """The worlds checked on Dask and how long it took.

    Attributes
    ----------
    checks
        One per world, sorted by world.
    workers
        Workers that ran them.
    warm_up_s
        Seconds each worker spent compiling (by worker address).
    wall_s
        Seconds from sending the first world to receiving the last (the warm-up
        excluded).
    """

    checks: tuple[WorldCheck, ...]
    workers: int
    warm_up_s: dict[str, float]
    wall_s: float


def default_workers() -> int:
    """The machine's cores (those this process may use)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def warm_worker() -> float:
    """Compile the shared models in this worker process; returns the seconds it took
    (0 when they were already compiled)."""
    from hierdash.inference import warm_up

    return float(warm_up())


def check_one(scenario, world: int) -> WorldCheck:
    """One world's fit and check: the task every worker runs."""
    return check_scenario(scenario, world=world)


def _client(*, workers: int | None, scheduler: str | None):
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        return Client(scheduler, timeout="30s"), None
    # One thread per worker process: a fit is single-threaded numeric work, and
    # processes keep the compiled models apart and the GIL out of the way.
    # A worker busy compiling on a crowded machine may miss heartbeats for minutes;
    # dropping it would lose its compile (the default allows 5 minutes).
    dask.config.set({"distributed.scheduler.worker-ttl": "30 minutes"})
    cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                           processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


def _warm_every_worker(client) -> dict[str, float]:
    """Run :func:`warm_worker` once on each worker, as an ordinary task pinned to it.

    Not ``Client.run``: that runs the function on the worker's event loop, and a
    compile of minutes there silences its heartbeats until the scheduler drops it.
    """
    addresses = list(client.scheduler_info(n_workers=-1)["workers"])
    futures = {address: client.submit(warm_worker, workers=[address],
                                      allow_other_workers=False, pure=False)
               for address in addresses}
    return {address: float(future.result()) for address, future in futures.items()}


def run_on_dask(
    settings: LabSettings,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    on_world: Callable[[WorldCheck, int, int], None] | None = None,
    on_status: Callable[[str], None] | None = None,
) -> DaskRun:
    """Fit and check every world of ``settings`` on Dask.

    Parameters
    ----------
    settings
        The family and how each world is fitted.
    workers
        Worker processes of the local cluster (default: the machine's cores); ignored
        with ``scheduler``.
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); its workers need
        hierdash installed.
    on_world
        ``on_world(check, done, total)`` as each world arrives (in arrival order).
    on_status
        Called with a line of text at each phase (cluster up, warm-up done).

    Returns
    -------
    DaskRun
    """
    from dask.distributed import as_completed

    say = on_status or (lambda line: None)
    fit_settings = {"method": settings.method, "parameterization": settings.parameterization,
                    "padding": settings.padding}
    scenarios = [s.replace(**fit_settings) for s in
                 world_scenarios(settings.family, n_worlds=settings.n_worlds, seed=settings.seed)]
    client, cluster = _client(workers=workers, scheduler=scheduler)
    futures = []
    try:
        n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
        say(f"dask: {n_workers} workers at {client.scheduler.address}")
        warm: dict[str, float] = {}
        if settings.method in _WARMED_METHODS:
            start = time.perf_counter()
            warm = _warm_every_worker(client)
            say(f"dask: every worker compiled its models in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        # pure=False: every world is its own task even if two scenarios were equal.
        futures = client.map(check_one, scenarios, range(len(scenarios)), pure=False)
        checks = []
        for future in as_completed(futures):
            check = future.result()
            checks.append(check)
            if on_world is not None:
                on_world(check, len(checks), len(scenarios))
        wall = time.perf_counter() - start
    finally:
        for future in futures:
            future.cancel()
        client.close()
        if cluster is not None:
            cluster.close()
    return DaskRun(checks=tuple(sorted(checks, key=lambda c: c.world)), workers=n_workers,
                   warm_up_s={str(k): float(v) for k, v in warm.items()}, wall_s=wall)
