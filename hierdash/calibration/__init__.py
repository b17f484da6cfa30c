"""Simulation-based calibration: do a method's intervals mean what they say?

Draw many worlds from the model's prior (:mod:`~hierdash.calibration.families`), fit
each, check where its truth falls among the posterior draws
(:mod:`~hierdash.calibration.world_check`) and summarise coverage and rank uniformity
over the worlds (:mod:`~hierdash.calibration.summary`). :func:`run_calibration`
(:mod:`~hierdash.calibration.run`) does it all, serially; :func:`check_scenario` is the
per-world step, which :mod:`~hierdash.calibration.distributed` maps over Dask. The
lab's settings, budget and tables are in :mod:`~hierdash.calibration.lab`, runs on disk
in :mod:`~hierdash.calibration.files`.

Import rule: NumPy, SciPy, pandas, ArviZ and (in ``distributed.py`` only) Dask; of the
package only the layers before it (settings, scenario, world, exact, inference,
summaries); never own data, the classroom, charts, the command line, the UI or
Streamlit.

Example
-------
>>> run = run_calibration(get_family("issue9"), method="exact", n_worlds=300, seed=1)
>>> run.summary.coverage_of("child", 0.94)  # doctest: +SKIP
(0.94..., 0.005...)
"""

from hierdash.calibration.families import (
    FAMILIES,
    WorldFamily,
    draw_world,
    get_family,
    world_scenarios,
)
from hierdash.calibration.run import CalibrationRun, check_scenario, run_calibration
from hierdash.calibration.summary import CalibrationSummary, summarise_checks
from hierdash.calibration.world_check import (
    INTERVALS,
    LEVELS,
    WorldCheck,
    check_draws,
    check_world,
    checks_frame,
)

__all__ = [
    "INTERVALS", "LEVELS", "FAMILIES", "WorldFamily", "WorldCheck", "CalibrationSummary",
    "CalibrationRun", "get_family", "draw_world", "world_scenarios", "check_draws",
    "check_world", "checks_frame", "summarise_checks", "check_scenario", "run_calibration",
]
