"""A calibration run on disk: ``ranks.csv``, ``worlds.csv`` and ``summary.json``.

``python -m hierdash calibrate --out DIR`` writes them; the lab reads them back (its
ready-made results in ``hierdash/calibration/ready/<name>/`` are such directories).

- ``ranks.csv``: one row per world and quantity, :func:`checks_frame`'s columns
  (world, level, task, feature, truth, rank, inside_50, inside_80, inside_94);
- ``worlds.csv``: one row per world (seed, seconds, divergences, max_rhat,
  min_ess_bulk, n_draws), enough to rebuild every :class:`WorldCheck`;
- ``summary.json``: the settings, the wall time and the summary (coverage per level
  and interval, rank uniformity, divergent worlds, time per world).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hierdash.calibration.summary import CalibrationSummary, summarise_checks
from hierdash.calibration.world_check import INTERVALS, WorldCheck, checks_frame, interval_column

__all__ = ["SavedRun", "write_run", "read_run", "ready_names", "load_ready", "ReadySet",
           "READY_SETS", "available_ready_sets"]

RANKS, WORLDS, SUMMARY = "ranks.csv", "worlds.csv", "summary.json"
_WORLD_COLUMNS = ["world", "seed", "seconds", "divergences", "max_rhat", "min_ess_bulk",
                  "n_draws"]


@dataclass(frozen=True, eq=False)
class SavedRun:
    """A run read from disk: its checks, their summary and the run's metadata."""

    name: str
    checks: tuple[WorldCheck, ...]
    summary: CalibrationSummary
    meta: dict[str, Any]


def _worlds_table(checks) -> pd.DataFrame:
    return pd.DataFrame([{"world": c.world, "seed": c.seed, "seconds": c.seconds,
                          "divergences": c.divergences, "max_rhat": c.max_rhat,
                          "min_ess_bulk": c.min_ess_bulk, "n_draws": c.n_draws}
                         for c in checks], columns=_WORLD_COLUMNS)


def write_run(checks, out: Path, *, meta: dict[str, Any]) -> list[Path]:
    """Write ``checks`` (sorted by world) and ``meta`` to directory ``out``.

    Returns the paths written. ``summary.json`` holds ``meta`` plus ``summary``
    (:meth:`CalibrationSummary.to_dict`).
    """
    checks = sorted(checks, key=lambda c: c.world)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / RANKS, out / WORLDS, out / SUMMARY]
    checks_frame(checks).to_csv(paths[0], index=False, float_format="%.6g")
    _worlds_table(checks).to_csv(paths[1], index=False, float_format="%.6g")
    document = {**meta, "summary": summarise_checks(checks).to_dict() if checks else None}
    paths[2].write_text(json.dumps(document, indent=2, default=_plain) + "\n", encoding="utf-8")
    return paths


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _optional(value) -> float | None:
    return None if pd.isna(value) else float(value)


def read_run(directory, *, name: str | None = None) -> SavedRun:
    """Read a directory written by :func:`write_run` (a path or an importlib resource)."""
    directory = Path(str(directory)) if not hasattr(directory, "joinpath") else directory
    ranks = pd.read_csv(directory.joinpath(RANKS).open("r", encoding="utf-8"))
    worlds = pd.read_csv(directory.joinpath(WORLDS).open("r", encoding="utf-8"))
    meta = json.loads(directory.joinpath(SUMMARY).read_text(encoding="utf-8"))
    meta.pop("summary", None)
    inside_columns = [interval_column(p) for p in INTERVALS]
    by_world = dict(tuple(ranks.groupby("world", sort=True)))
    checks = []
    for row in worlds.sort_values("world").itertuples():
        part = by_world.get(row.world)
        if part is None:
            continue
        checks.append(WorldCheck(
            world=int(row.world), level=part["level"].to_numpy(dtype=object),
            task=part["task"].to_numpy(dtype=int), feature=part["feature"].to_numpy(dtype=int),
            truth=part["truth"].to_numpy(dtype=float), rank=part["rank"].to_numpy(dtype=float),
            inside=part[inside_columns].to_numpy(dtype=bool), n_draws=int(row.n_draws),
            divergences=int(row.divergences), max_rhat=_optional(row.max_rhat),
            min_ess_bulk=_optional(row.min_ess_bulk), seconds=float(row.seconds),
            seed=None if pd.isna(row.seed) else int(row.seed)))
    if not checks:
        raise ValueError(f"directory = {str(directory)!r} is not allowed: it holds no worlds")
    return SavedRun(name=name or Path(str(directory)).name, checks=tuple(checks),
                    summary=summarise_checks(checks), meta=meta)


def _ready_root():
    return files("hierdash.calibration").joinpath("ready")


def ready_names() -> list[str]:
    """The ready-made runs shipped with the package (directory names, sorted)."""
    root = _ready_root()
    if not root.is_dir():
        return []
    return sorted(entry.name for entry in root.iterdir()
                  if entry.is_dir() and entry.joinpath(SUMMARY).is_file())


def load_ready(name: str) -> SavedRun:
    """One ready-made run by name (see :func:`ready_names`)."""
    names = ready_names()
    if name not in names:
        raise ValueError(f"name = {name!r} is not allowed: must be one of {', '.join(names)}")
    return read_run(_ready_root().joinpath(name), name=name)


@dataclass(frozen=True)
class ReadySet:
    """Ready-made runs shown together: ``runs`` are directory names under ``ready/``."""

    title: str
    description: str
    runs: tuple[str, ...]


READY_SETS: dict[str, ReadySet] = {
    "notebook_methods": ReadySet(
        title="Notebook's family: exact vs ADVI vs NUTS",
        description="The notebook's worlds (2 tasks of 100 and 80 rows, 4 features), the "
                    "truth redrawn from the priors: the exact posterior and mean-field and "
                    "full-rank ADVI over 200 worlds, NUTS over fewer (the same first "
                    "worlds: a paired comparison; each label gives its count).",
        runs=("notebook-exact", "notebook-advi", "notebook-fullrank-advi", "notebook-nuts")),
    "padding": ReadySet(
        title="Padding: masked vs naive",
        description="Issue 9's worlds (2-6 tasks of 0-60 rows) fitted exactly, 200 worlds: "
                    "masked padding keeps the zero rows out of the likelihood, naive "
                    "padding lets them in as perfectly fitted data.",
        runs=("padding-masked", "padding-naive")),
}
"""The lab's ready-made comparisons; runs whose files are missing are left out."""


def available_ready_sets() -> dict[str, ReadySet]:
    """The ready sets with the runs that are shipped (a set with none is not offered)."""
    names = set(ready_names())
    available = {}
    for key, ready in READY_SETS.items():
        runs = tuple(name for name in ready.runs if name in names)
        if runs:
            available[key] = ReadySet(title=ready.title, description=ready.description,
                                      runs=runs)
    return available
