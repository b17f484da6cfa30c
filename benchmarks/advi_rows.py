"""The ADVI part of ``python -m benchmarks`` (issue 20): the seed notebook's baseline,
the ratio of every row to it, and the ADVI targets.

``seed_advi`` is the seed notebook's own call, ``pm.fit(100000)`` with PyMC's default
optimiser (:mod:`benchmarks.pm_fit`), on the model and data the compiled loop fits, in
the same run; ``advi`` and ``fullrank_advi`` are hierdash's compiled loop at the
scenario's defaults (at most 100,000 iterations, stopping once the ELBO settles).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PM_FIT_METHODS", "ADVI_METHODS", "add_seed_ratios", "advi_targets"]

PM_FIT_METHODS: dict[str, dict[str, Any]] = {
    "seed_advi": {"iterations": 100_000, "seed_optimizer": True},
}
"""Benchmark methods fitted by PyMC's ``pm.fit``: :func:`benchmarks.pm_fit.pm_fit_runner`'s
options."""

ADVI_METHODS = ("advi", "fullrank_advi")

# Issue 20's targets on the default world, warm: scenario to tables.
_LIMITS = {"advi": 0.5, "fullrank_advi": 1.0}
_MIN_RATIO = 20.0


def _row(rows, world: str, method: str):
    """The warm row of (world, method), else its cold row, else None."""
    found = {r["phase"]: r for r in rows if r["world"] == world and r["method"] == method}
    return found.get("warm") or found.get("cold")


def add_seed_ratios(rows: list[dict[str, Any]]) -> None:
    """Set ``x_seed_advi`` on every row: the seed's ``pm.fit(100000)`` end to end on the
    same world (warm, else its single cold run) over the row's end to end; ``None``
    where the seed did not run on that world."""
    for row in rows:
        seed = _row(rows, row["world"], "seed_advi")
        ok = seed is not None and row["end_to_end_s"]
        row["x_seed_advi"] = seed["end_to_end_s"] / row["end_to_end_s"] if ok else None


def advi_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 20's targets, each with its value and verdict (``MET``, ``NOT MET``,
    ``NOT RUN``), and the first ADVI fit of the process (``INFO``)."""
    out = []

    def add(name, met, value, detail):
        status = "NOT RUN" if met is None else ("MET" if met else "NOT MET")
        out.append({"target": name, "status": status, "value": value, "detail": detail})

    seed = _row(rows, "default", "seed_advi")
    for method in ADVI_METHODS:
        row = _row(rows, "default", method)
        warm = row is not None and row["phase"] == "warm"
        name = f"{method} on default, warm: scenario to tables <= {_LIMITS[method]:g} s"
        if not warm:
            add(name, None, None, f"no warm {method} run")
        else:
            v = row["end_to_end_s"]
            add(name, v <= _LIMITS[method], v,
                f"{v:.3f} s (optimise and draw {row['sample_s']:.3f} s, compile "
                f"{row['compile_s']:.2f} s, {row['new_compilations']} compiles)")
        name = f"{method} >= {_MIN_RATIO:g}x faster than the seed's pm.fit(100000) on default"
        if not warm or seed is None:
            add(name, None, None, "not run")
        else:
            ratio = seed["end_to_end_s"] / row["end_to_end_s"]
            add(name, ratio >= _MIN_RATIO, ratio,
                f"{ratio:.0f}x ({seed['end_to_end_s']:.1f} s / {row['end_to_end_s']:.3f} s); "
                f"max|z| vs exact: {method} {row['max_abs_z']:.3f}, seed "
                f"{seed['max_abs_z']:.3f}")
    for row in rows:
        if row["phase"] == "cold" and row["method"] in ADVI_METHODS:
            where = ("first fit in this process" if row["first_in_process"]
                     else "first fit of this method and world")
            out.append({
                "target": f"cold start: {row['method']} on {row['world']}", "status": "INFO",
                "value": row["end_to_end_s"],
                "detail": f"compile {row['compile_s']:.2f} s, end to end "
                          f"{row['end_to_end_s']:.3f} s; {where}; disk caches "
                          f"{'warm' if row['disk_cache_warm'] else 'cold (empty)'}"})
    return out
