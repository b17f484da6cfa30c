"""ADVI's accuracy: the compiled loop against the 30,000-step ``pm.fit`` it replaced.

``python -m benchmarks.advi_accuracy`` draws worlds from a calibration family's prior
(:func:`hierdash.calibration.families.world_scenarios`, so world ``i`` is the same for
every variant) and fits each with:

- ``advi``, ``fullrank_advi``: hierdash's compiled loop at the scenario's defaults (at
  most 100,000 iterations, stopping once the ELBO settles);
- ``pmfit_advi``, ``pmfit_fullrank_advi``: PyMC's ``pm.fit`` as hierdash ran it before
  (commit 67514e0): Adam at the scenario's learning rate, a fixed 30,000 steps
  (:mod:`benchmarks.pm_fit`). About 8-15 s a fit, so ``--baseline-worlds`` may be
  fewer than ``--worlds``: they are the same first worlds;
- ``exact``: independent draws from the closed-form posterior (the reference, and
  what calibrated coverage looks like with this many worlds).

Per variant it reports, against the exact posterior and the truth:

- the mean error of the posterior means of the weights (parent and child), in exact
  posterior sds, and of the noise and spread;
- coverage by level (parent, child, spread, noise) of the 50/80/94% intervals, with its
  Monte Carlo standard error (:func:`hierdash.calibration.summary.summarise_checks`);
- the share of worlds whose ELBO convergence check fails; the seconds per fit (scenario
  to tables, median and max) and the iterations run.

The compiled loop's rows are given twice: over every world and over the baseline's
worlds (a paired comparison). Prints the tables and writes
``benchmarks/results/advi_accuracy.json`` (rewritten after every variant, so a long run
keeps what it has done). Examples::

    python -m benchmarks.advi_accuracy                          # 200 worlds each (hours)
    python -m benchmarks.advi_accuracy --baseline-worlds 40     # pm.fit on the first 40
    python -m benchmarks.advi_accuracy --worlds 5 --baseline-worlds 2 --out /tmp/a.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
OLD_ITERATIONS = 30_000  # the scenario's default before the compiled loop
NEW = ("advi", "fullrank_advi")
BASELINE = {"pmfit_advi": "advi", "pmfit_fullrank_advi": "fullrank_advi"}
VARIANTS = ("exact", *NEW, *BASELINE)


def fit_world(scenario, variant: str):
    """Fit one world with ``variant``; (FitResult, wall seconds)."""
    from benchmarks.pm_fit import pm_fit_runner, runner_replaced
    from hierdash.inference import fit

    if variant in BASELINE:
        scenario = scenario.replace(method=BASELINE[variant], advi_iterations=OLD_ITERATIONS)
        with runner_replaced(scenario.method, pm_fit_runner()):
            start = time.perf_counter()
            result = fit(scenario)
    else:
        scenario = scenario.replace(method=variant)
        start = time.perf_counter()
        result = fit(scenario)
    return result, time.perf_counter() - start


def world_metrics(result, seconds: float) -> dict[str, Any]:
    """Errors of one fit's posterior means against the exact posterior's."""
    from hierdash.inference.summarise import draws_of

    exact = result.exact
    parent, child = draws_of(result.posterior, "parent"), draws_of(result.posterior, "child")
    means = np.concatenate([parent.mean(0), child.mean(0).ravel()])
    exact_means = np.concatenate([exact.parent_mean, exact.child_mean.ravel()])
    exact_sds = np.concatenate([exact.parent_sd, exact.child_sd.ravel()])
    out = {"weights_error_sd": float(np.mean(np.abs(means - exact_means) / exact_sds)),
           "noise_error_sd": float(abs(draws_of(result.posterior, "noise").mean()
                                       - exact.noise_mean) / exact.noise_sd),
           "spread_error_sd": None}
    if result.scenario.learn_spread:
        out["spread_error_sd"] = float(abs(draws_of(result.posterior, "spread").mean()
                                           - exact.spread_mean) / exact.spread_sd)
    d = result.diagnostics
    out.update(seconds=seconds, converged=d.converged,
               iterations=None if d.elbo is None else len(d.elbo))
    return out


def summarise_variant(rows: list[dict[str, Any]], checks) -> dict[str, Any]:
    """One variant over some worlds: mean errors, unconverged share, time, coverage."""
    from hierdash.calibration.summary import summarise_checks

    def mean(name):
        values = [r[name] for r in rows if r[name] is not None]
        return float(np.mean(values)) if values else None

    judged = [r for r in rows if r["converged"] is not None]
    iterations = [r["iterations"] for r in rows if r["iterations"] is not None]
    coverage = summarise_checks(checks).coverage
    return {
        "worlds": len(rows),
        "weights_error_sd": mean("weights_error_sd"),
        "noise_error_sd": mean("noise_error_sd"),
        "spread_error_sd": mean("spread_error_sd"),
        "unconverged": (sum(not r["converged"] for r in judged) / len(judged)) if judged else None,
        "seconds_median": statistics.median(r["seconds"] for r in rows),
        "seconds_max": max(r["seconds"] for r in rows),
        "iterations_median": statistics.median(iterations) if iterations else None,
        "coverage": [{"level": c.level, "interval": float(c.interval),
                      "coverage": float(c.coverage), "se": float(c.se)}
                     for c in coverage.itertuples()],
    }


def run(args) -> dict[str, Any]:
    from hierdash.calibration.families import get_family, world_scenarios
    from hierdash.calibration.world_check import check_world

    family = get_family(args.family)
    scenarios = world_scenarios(family, n_worlds=args.worlds, seed=args.seed)
    report: dict[str, Any] = {
        "command": " ".join(["python", "-m", "benchmarks.advi_accuracy", *sys.argv[1:]]),
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(), "cpu_count": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "family": args.family, "seed": args.seed, "worlds": args.worlds,
        "baseline_worlds": args.baseline_worlds, "old_iterations": OLD_ITERATIONS,
        "summary": {}, "per_world": {},
    }
    for variant in args.variants:
        count = args.baseline_worlds if variant in BASELINE else args.worlds
        rows, checks = [], []
        for i, scenario in enumerate(scenarios[:count]):
            result, seconds = fit_world(scenario, variant)
            rows.append({"world": i, **world_metrics(result, seconds)})
            checks.append(check_world(result.scenario, result, world=i))
            print(f"{variant} world {i + 1}/{count}: {seconds:.2f} s, weights error "
                  f"{rows[-1]['weights_error_sd']:.3f} sd, converged {rows[-1]['converged']}",
                  file=sys.stderr, flush=True)
        report["per_world"][variant] = rows
        report["summary"][f"{variant} (all {count})"] = summarise_variant(rows, checks)
        if variant in NEW and args.baseline_worlds < count:
            first = args.baseline_worlds
            report["summary"][f"{variant} (first {first})"] = summarise_variant(
                rows[:first], checks[:first])
        report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        _write(args.out, report)
    return report


def format_report(report: dict[str, Any]) -> str:
    """The summary and the coverage as text tables."""

    def num(value, pattern):
        return "-" if value is None else format(value, pattern)

    lines = [f"{'variant':34s} {'worlds':>6s} {'w err':>6s} {'noise':>6s} {'spread':>6s} "
             f"{'unconv':>6s} {'s med':>6s} {'s max':>6s} {'iters':>7s}"]
    for name, s in report["summary"].items():
        lines.append(f"{name:34s} {s['worlds']:6d} {num(s['weights_error_sd'], '6.3f')} "
                     f"{num(s['noise_error_sd'], '6.3f')} {num(s['spread_error_sd'], '6.3f')} "
                     f"{num(s['unconverged'], '6.0%')} {s['seconds_median']:6.2f} "
                     f"{s['seconds_max']:6.2f} {num(s['iterations_median'], '7.0f')}")
    lines += ["", "errors: mean |posterior mean - exact mean| / exact sd; coverage +- its Monte "
                  "Carlo standard error", ""]
    lines.append(f"{'variant':34s} {'level':7s} {'50%':>13s} {'80%':>13s} {'94%':>13s}")
    for name, s in report["summary"].items():
        by_level: dict[str, list[str]] = {}
        for c in s["coverage"]:
            by_level.setdefault(c["level"], []).append(f"{c['coverage']:.3f}+-{c['se']:.3f}")
        for level, cells in by_level.items():
            lines.append(f"{name:34s} {level:7s} " + " ".join(f"{c:>13s}" for c in cells))
    return "\n".join(lines)


def _write(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.advi_accuracy",
                                description=__doc__.splitlines()[0])
    p.add_argument("--family", default="notebook", help="a calibration family (default notebook)")
    p.add_argument("--worlds", type=int, default=200, help="worlds (default 200)")
    p.add_argument("--baseline-worlds", type=int,
                   help="the first worlds fitted with pm.fit too (default: --worlds)")
    p.add_argument("--seed", type=int, default=1, help="seed of the worlds (default 1)")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help=f"comma-separated, of {', '.join(VARIANTS)} (default all)")
    p.add_argument("--out", type=Path, default=RESULTS / "advi_accuracy.json")
    args = p.parse_args(argv)
    if args.baseline_worlds is None:
        args.baseline_worlds = args.worlds
    if not 1 <= args.baseline_worlds <= args.worlds:
        p.error("--baseline-worlds must be from 1 to --worlds")
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown or not args.variants:
        p.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    report = run(args)
    print(format_report(report))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
