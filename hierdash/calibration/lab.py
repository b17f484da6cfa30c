"""The calibration lab's logic: its settings, its cost, and the tables its charts draw.

A lab run is one :class:`LabSettings` (a family of worlds and how each is fitted); its
result is a sequence of :class:`~hierdash.calibration.world_check.WorldCheck`. The page
(:mod:`hierdash.ui.pages.calibration`) and the command (:mod:`hierdash.cli.calibrate`)
share everything here; nothing imports Streamlit.

Tables, each with a ``run`` column so several runs can be drawn side by side:

- :func:`coverage_frame`: coverage per level and interval with a Monte Carlo band;
- :func:`pit_ecdf_frame`: the PIT-ECDF of one rank per world with its simultaneous band
  (:func:`arviz_stats.ecdf_utils.ecdf_pit`);
- :func:`worlds_frame`: one row per world (time, divergences, R-hat);
- :func:`verdicts`: each level's 94% coverage read as *as claimed*, *too narrow* or
  *too wide*.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from hierdash.calibration.families import WorldFamily, world_scenarios
from hierdash.calibration.run import CalibrationRun, run_calibration
from hierdash.calibration.world_check import INTERVALS, LEVELS, WorldCheck
from hierdash.scenario import (
    METHODS,
    PADDINGS,
    PARAMETERIZATIONS,
    Method,
    Padding,
    Parameterization,
)
from hierdash.settings import RHAT_LIMIT

__all__ = [
    "SECONDS_PER_WORLD", "LAB_BUDGET_S", "MAX_WORLDS", "LabSettings", "BudgetExceeded",
    "estimated_seconds", "check_budget", "run_lab", "coverage_frame", "pit_ecdf_frame",
    "worlds_frame", "Verdict", "verdicts", "LabRunner", "PIT_PROB",
]

SECONDS_PER_WORLD: dict[str, float] = {
    "exact": 0.1,
    "nuts": 3.0,  # marginal model, compiled once per process
    "pymc_nuts": 15.0,  # PyMC compiles its sampler for every world
    # ADVI's loop is compiled once per process and stops once the ELBO settles. A lab
    # run's wall time per world over 20 worlds of each family (seed 1, quiet machine):
    # mean-field 0.04 (issue9) to 0.27 s (eight), full-rank 0.04 to 0.61 s (eight);
    # the notebook's 0.07 and 0.16 s.
    "advi": 0.3,
    "fullrank_advi": 0.6,
}
"""Rough wall time of one world's fit on this project's 2-core machine, by method: the
slowest family's mean."""

LAB_BUDGET_S = 600.0
"""Estimated seconds (worlds x seconds per world) a lab run of a sampling method may cost:
five times the 120 s a single fit may sample."""

MAX_WORLDS = 1000
"""Most worlds in one run."""

PIT_PROB = 0.94
"""Probability of the PIT-ECDF's simultaneous band."""
_PIT_SIMULATIONS = 1000  # simulations behind the band: its edges move by < 1/n at this count


class BudgetExceeded(ValueError):
    """A lab run would cost more than :data:`LAB_BUDGET_S`; the message says how many
    worlds fit."""


@dataclass(frozen=True, kw_only=True)
class LabSettings:
    """One lab run: where its worlds come from and how each is fitted.

    Frozen and hashable: it keys shared results. World ``i`` depends on ``seed`` and
    ``i`` only, so runs of different methods with one seed see the same worlds.
    """

    family: WorldFamily
    method: Method = "exact"
    parameterization: Parameterization = "auto"
    padding: Padding = "masked"
    n_worlds: int = 100
    seed: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.family, WorldFamily):
            raise ValueError(f"family = {self.family!r} is not allowed: must be a WorldFamily")
        for name, choices in (("method", METHODS), ("parameterization", PARAMETERIZATIONS),
                              ("padding", PADDINGS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} = {getattr(self, name)!r} is not allowed: must be "
                                 f"one of {', '.join(choices)}")
        if (isinstance(self.n_worlds, bool) or not isinstance(self.n_worlds, int)
                or not 1 <= self.n_worlds <= MAX_WORLDS):
            raise ValueError(f"n_worlds = {self.n_worlds!r} is not allowed: must be a whole "
                             f"number from 1 to {MAX_WORLDS}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed = {self.seed!r} is not allowed: must be a whole number >= 0")
        # A combination the family's worlds refuse (ADVI for a count outcome) is found
        # here, on the first world, before any run starts (a ScenarioError naming it).
        first = world_scenarios(self.family, n_worlds=1, seed=self.seed)[0]
        first.replace(method=self.method, parameterization=self.parameterization,
                      padding=self.padding)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the family's fields and the fit's settings."""
        from dataclasses import asdict

        return {"family": asdict(self.family), "method": self.method,
                "parameterization": self.parameterization, "padding": self.padding,
                "n_worlds": self.n_worlds, "seed": self.seed}


def estimated_seconds(settings: LabSettings) -> float:
    """Rough wall time of the run: worlds times the method's seconds per world, scaled
    by draws x chains relative to the default 1000 x 2 for the samplers."""
    per_world = SECONDS_PER_WORLD[settings.method]
    if settings.method in ("nuts", "pymc_nuts"):
        family = settings.family
        per_world *= max(0.25, (family.draws + family.tune) * family.chains / 4000)
    return settings.n_worlds * per_world


def check_budget(settings: LabSettings, *, budget_s: float = LAB_BUDGET_S) -> float:
    """The run's estimated seconds; raises :class:`BudgetExceeded` past ``budget_s``
    (``exact`` is never refused: it costs milliseconds per world)."""
    cost = estimated_seconds(settings)
    if settings.method != "exact" and cost > budget_s:
        per_world = cost / settings.n_worlds
        most = max(1, int(budget_s // per_world))
        raise BudgetExceeded(
            f"n_worlds = {settings.n_worlds} is not allowed for {settings.method}: about "
            f"{cost:.0f} s of fitting, over the lab's budget of {budget_s:.0f} s; choose at "
            f"most {most} worlds (or run the command `python -m hierdash calibrate`)")
    return cost


def run_lab(
    settings: LabSettings,
    *,
    on_world: Callable[[WorldCheck, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    time_budget: float | None = None,
) -> CalibrationRun:
    """Run ``settings`` serially in this thread (:func:`run_calibration`)."""
    return run_calibration(settings.family, method=settings.method,
                           parameterization=settings.parameterization,
                           padding=settings.padding, n_worlds=settings.n_worlds,
                           seed=settings.seed, on_world=on_world, should_stop=should_stop,
                           time_budget=time_budget)


def _band_se(coverage: float, se: float, interval: float, worlds: int) -> float:
    """The cluster SE, never below the binomial SE of independent worlds at the nominal
    probability (a cluster SE from few worlds, or 0 when all are inside, is too small)."""
    floor = math.sqrt(interval * (1 - interval) / max(worlds, 1))
    return max(se, floor) if np.isfinite(se) else floor


def coverage_frame(summaries: Mapping[str, object]) -> pd.DataFrame:
    """Coverage per run, level and interval, with a 95% Monte Carlo band.

    Parameters
    ----------
    summaries
        Run name to :class:`~hierdash.calibration.summary.CalibrationSummary`.

    Returns
    -------
    pandas.DataFrame
        ``run, level, interval, nominal (percent label), coverage, se, low, high,
        worlds`` where ``[low, high]`` is coverage +- 1.96 SE, clipped to [0, 1].
    """
    rows = []
    for run, summary in summaries.items():
        for row in summary.coverage.itertuples():
            se = _band_se(row.coverage, row.se, row.interval, row.worlds)
            rows.append({"run": run, "level": row.level, "interval": float(row.interval),
                         "nominal": f"{round(row.interval * 100)}%",
                         "coverage": float(row.coverage), "se": se,
                         "low": max(0.0, row.coverage - 1.96 * se),
                         "high": min(1.0, row.coverage + 1.96 * se), "worlds": int(row.worlds)})
    return pd.DataFrame(rows, columns=["run", "level", "interval", "nominal", "coverage", "se",
                                       "low", "high", "worlds"])


def first_ranks(checks: Sequence[WorldCheck], level: str) -> np.ndarray:
    """One rank per world for ``level``: its first quantity (task 0, feature 0).

    The PIT-ECDF's band assumes independent ranks; quantities of one world share its
    data, so only one per world is used.
    """
    ranks = []
    for check in checks:
        at = np.flatnonzero(check.level == level)
        if len(at):
            ranks.append(float(check.rank[at[0]]))
    return np.array(ranks)


def pit_ecdf_frame(runs: Mapping[str, Sequence[WorldCheck]], *, seed: int = 0) -> pd.DataFrame:
    """The PIT-ECDF minus the uniform's CDF per run and level, with its band.

    Parameters
    ----------
    runs
        Run name to its worlds' checks.
    seed
        Seed of the simulations behind the simultaneous band.

    Returns
    -------
    pandas.DataFrame
        ``run, level, pit, difference, low, high, worlds``: at each PIT value the ECDF
        of the ranks minus ``pit``; the simultaneous 94% band of a calibrated method
        is ``[low, high]`` (also minus ``pit``). Levels with fewer than 2 worlds are
        left out.
    """
    from arviz_stats.ecdf_utils import ecdf_pit

    frames = []
    for run, checks in runs.items():
        for level in LEVELS:
            ranks = first_ranks(checks, level)
            if len(ranks) < 2:
                continue
            points, ecdf, lower, upper = ecdf_pit(ranks, PIT_PROB, _PIT_SIMULATIONS,
                                                  rng=np.random.default_rng(seed))
            points = np.asarray(points, dtype=float)
            frames.append(pd.DataFrame({
                "run": run, "level": level, "pit": points,
                "difference": np.asarray(ecdf, dtype=float) - points,
                "low": np.asarray(lower, dtype=float) - points,
                "high": np.asarray(upper, dtype=float) - points, "worlds": len(ranks)}))
    if not frames:
        return pd.DataFrame(columns=["run", "level", "pit", "difference", "low", "high",
                                     "worlds"])
    return pd.concat(frames, ignore_index=True)


def worlds_frame(runs: Mapping[str, Sequence[WorldCheck]]) -> pd.DataFrame:
    """One row per run and world: ``run, world, seed, seconds, divergences, max_rhat,
    min_ess_bulk, n_draws, unconverged``."""
    rows = [{"run": run, "world": c.world, "seed": c.seed, "seconds": c.seconds,
             "divergences": c.divergences, "max_rhat": c.max_rhat,
             "min_ess_bulk": c.min_ess_bulk, "n_draws": c.n_draws,
             "unconverged": c.max_rhat is not None and c.max_rhat > RHAT_LIMIT}
            for run, checks in runs.items() for c in checks]
    return pd.DataFrame(rows, columns=["run", "world", "seed", "seconds", "divergences",
                                       "max_rhat", "min_ess_bulk", "n_draws", "unconverged"])


@dataclass(frozen=True)
class Verdict:
    """How one level's intervals did: ``reading`` is ``as_claimed``, ``too_narrow`` or
    ``too_wide`` (coverage beyond 2 Monte Carlo SEs of nominal)."""

    level: str
    interval: float
    coverage: float
    se: float
    worlds: int
    reading: Literal["as_claimed", "too_narrow", "too_wide"]


def verdicts(summary, *, interval: float = INTERVALS[-1]) -> list[Verdict]:
    """Each level's coverage at ``interval`` read against nominal (2 SE either side)."""
    out = []
    for row in summary.coverage.itertuples():
        if not math.isclose(row.interval, interval):
            continue
        se = _band_se(row.coverage, row.se, row.interval, row.worlds)
        if row.coverage < interval - 2 * se:
            reading = "too_narrow"
        elif row.coverage > interval + 2 * se:
            reading = "too_wide"
        else:
            reading = "as_claimed"
        out.append(Verdict(level=row.level, interval=interval, coverage=float(row.coverage),
                           se=se, worlds=int(row.worlds), reading=reading))
    return out


class LabRunner:
    """A lab run as a shared background job's work, keeping each run's worlds so far.

    Called like :func:`hierdash.inference.fit` (``runner(settings, *, progress,
    should_stop, time_budget)``) so the UI's registry of background jobs can run it
    in a worker thread. While a run goes, :meth:`partial` hands out the worlds done so
    far (an immutable tuple); a stopped run raises
    :class:`~hierdash.inference.results.FitStopped` and leaves its worlds in :meth:`partial`.
    """

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._partial: dict[LabSettings, tuple[WorldCheck, ...]] = {}

    def partial(self, settings: LabSettings) -> tuple[WorldCheck, ...]:
        """The worlds of ``settings``' latest run finished so far."""
        with self._lock:
            return self._partial.get(settings, ())

    def __call__(self, settings: LabSettings, *, progress=None, should_stop=None,
                 time_budget: float | None = None) -> CalibrationRun:
        from hierdash.inference.results import FitStopped

        with self._lock:
            self._partial[settings] = ()

        def on_world(check: WorldCheck, done: int, total: int) -> None:
            with self._lock:
                self._partial[settings] = self._partial.get(settings, ()) + (check,)
            if progress is not None:
                progress("sample", done / total, f"{done} of {total} worlds fitted")

        if not _models_ready(settings.method):
            # The first world would compile the shared models inside its fit: say so, so
            # the page polls slowly meanwhile (a compile makes its runs slow).
            if progress is not None:
                progress("compile", None, "Compiling the model (once per server)")
            _compile_models(settings.method)
        if progress is not None:
            progress("sample", 0.0, f"0 of {settings.n_worlds} worlds fitted")
        run = run_lab(settings, on_world=on_world, should_stop=should_stop,
                      time_budget=time_budget)
        if run.stopped:
            raise FitStopped(f"stopped after {len(run.checks)} of {settings.n_worlds} worlds")
        with self._lock:
            self._partial.pop(settings, None)  # the registry keeps the finished run
        return run


def _models_ready(method: str) -> bool:
    """Are ``method``'s shared compiled models ready (no compile in the first world)?
    ``exact`` needs none and PyMC's NUTS compiles for every world: always ready."""
    if method in ("advi", "fullrank_advi"):
        from hierdash.inference.models.advi_kernel import advi_steps

        return bool(advi_steps.signatures)
    if method == "nuts":
        from hierdash.inference.models.compiled import MODEL_KEYS, NUTPIE_CACHE

        return all(key in NUTPIE_CACHE for key in MODEL_KEYS.values())
    return True


def _compile_models(method: str) -> None:
    """Compile ``method``'s shared models (the server's warm-up does the same)."""
    from hierdash.inference import prepare, warm_up
    from hierdash.inference.samplers.advi_runner import warm_up_advi
    from hierdash.scenario import Scenario

    if method == "nuts":
        warm_up()
    else:
        scenario = Scenario(method=method)
        warm_up_advi(scenario, prepare(scenario))
