"""One calibration run, serially: fit every world of a family and summarise.

:func:`check_scenario` is the per-world step, a plain top-level function so a parallel
engine (:mod:`hierdash.calibration.distributed`) can map it over
:func:`~hierdash.calibration.families.world_scenarios`; :func:`run_calibration` runs
the worlds one after another in this thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hierdash.calibration.families import WorldFamily, world_scenarios
from hierdash.calibration.summary import CalibrationSummary, summarise_checks
from hierdash.calibration.world_check import WorldCheck, check_world
from hierdash.scenario import Method, Padding, Parameterization, Scenario

__all__ = ["CalibrationRun", "OnWorld", "check_scenario", "run_calibration"]

OnWorld = Callable[[WorldCheck, int, int], None]
"""``on_world(check, done, total)``, called after each world."""


@dataclass(frozen=True, eq=False)
class CalibrationRun:
    """The worlds of one run, checked, and their summary.

    ``stopped`` is true when ``should_stop`` (or a world's time budget) ended the run
    early; ``checks`` and ``summary`` then cover the worlds finished before it
    (``summary`` is ``None`` if there were none).
    """

    family: WorldFamily
    settings: dict[str, Any]
    checks: tuple[WorldCheck, ...]
    summary: CalibrationSummary | None
    stopped: bool
    n_worlds: int
    seed: int


def check_scenario(
    scenario: Scenario,
    *,
    world: int = 0,
    should_stop: Callable[[], bool] | None = None,
    time_budget: float | None = None,
) -> WorldCheck:
    """Fit one world and check it (:func:`~hierdash.calibration.world_check.check_world`).

    Raises :class:`hierdash.inference.FitStopped` when stopped.
    """
    from hierdash.inference import fit  # the engine is heavy; import it when fitting

    result = fit(scenario, should_stop=should_stop, time_budget=time_budget)
    return check_world(scenario, result, world=world)


def run_calibration(
    family: WorldFamily,
    *,
    method: Method,
    parameterization: Parameterization = "auto",
    n_worlds: int,
    seed: int,
    target_accept: float | None = None,
    padding: Padding = "masked",
    bins: int | None = None,
    on_world: OnWorld | None = None,
    should_stop: Callable[[], bool] | None = None,
    time_budget: float | None = None,
) -> CalibrationRun:
    """Fit ``n_worlds`` worlds of ``family`` with one method and summarise calibration.

    Parameters
    ----------
    family
        Where the worlds come from.
    method, parameterization, target_accept, padding
        How every world is fitted (``target_accept`` ``None``: the scenario's default).
    n_worlds, seed
        World ``i`` depends on ``seed`` and ``i`` only, so every method run with the
        same seed sees the same worlds (a paired comparison).
    bins
        Rank-histogram bins (see :func:`~hierdash.calibration.summary.summarise_checks`).
    on_world
        Called as ``on_world(check, done, total)`` after each world.
    should_stop
        Polled before each world and during each fit; when it returns true the run
        ends with the worlds done so far and ``stopped=True``.
    time_budget
        Seconds of sampling allowed per world; a world past it stops the run.

    Returns
    -------
    CalibrationRun
    """
    from hierdash.inference import FitStopped

    settings: dict[str, Any] = {"method": method, "parameterization": parameterization,
                                "padding": padding}
    if target_accept is not None:
        settings["target_accept"] = target_accept
    scenarios = [s.replace(**settings)
                 for s in world_scenarios(family, n_worlds=n_worlds, seed=seed)]
    checks: list[WorldCheck] = []
    stopped = False
    for index, scenario in enumerate(scenarios):
        if should_stop is not None and should_stop():
            stopped = True
            break
        try:
            check = check_scenario(scenario, world=index, should_stop=should_stop,
                                   time_budget=time_budget)
        except FitStopped:
            stopped = True
            break
        checks.append(check)
        if on_world is not None:
            on_world(check, len(checks), n_worlds)
    summary = summarise_checks(checks, bins=bins) if checks else None
    return CalibrationRun(family=family, settings=settings, checks=tuple(checks),
                          summary=summary, stopped=stopped, n_worlds=n_worlds, seed=seed)
