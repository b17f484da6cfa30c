"""Poisson's default target_accept: divergent prior worlds against the time of a fit.

``python -m benchmarks.poisson_target_accept`` fits the calibration lab's Poisson worlds
(:data:`hierdash.calibration.FAMILIES` ``poisson``: 2 to 8 tasks of 0 to 60 rows, an
intercept and one feature, truth from the prior) at the pages' 2 x 1000 draws, for each
target_accept of ``--values`` and each world seed of ``--seeds``, and counts worlds with
a divergence and worlds with R-hat above 1.01. Then it times the Explore page's default
Poisson world, warm, ``--repeats`` times per value, the values interleaved so that a
drifting machine slows them alike. Run it alone. Writes
``benchmarks/results/poisson_target_accept.{txt,json}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def prior_worlds(target_accept: float, seed: int, n_worlds: int) -> dict:
    from hierdash.calibration import get_family, run_calibration

    family = dataclasses.replace(get_family("poisson"), draws=1000)
    run = run_calibration(family, method="nuts", n_worlds=n_worlds, seed=seed,
                          target_accept=target_accept)
    return {"divergent_worlds": sum(c.divergences > 0 for c in run.checks),
            "rhat_above_1_01": sum((c.max_rhat or 1.0) > 1.01 for c in run.checks),
            "worlds": len(run.checks)}


def default_world_seconds(values: list[float], repeats: int) -> dict[float, list[float]]:
    from hierdash.inference import fit
    from hierdash.scenario import Scenario

    scenarios = {v: Scenario.for_outcome("poisson", method="nuts", target_accept=v)
                 for v in values}
    seconds: dict[float, list[float]] = {v: [] for v in values}
    for _ in range(repeats):
        for value, scenario in scenarios.items():
            start = time.perf_counter()
            fit(scenario)
            seconds[value].append(time.perf_counter() - start)
    return seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.poisson_target_accept",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--values", default="0.995,0.997,0.998,0.999")
    p.add_argument("--seeds", default="1,2")
    p.add_argument("--worlds", type=int, default=100, help="prior worlds per seed (100)")
    p.add_argument("--repeats", type=int, default=10, help="fits of the default world (10)")
    p.add_argument("--out", type=Path, default=RESULTS / "poisson_target_accept.json")
    args = p.parse_args(argv)
    from hierdash.inference import warm_up

    warm_up()
    values = [float(v) for v in args.values.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    worlds = {v: {s: prior_worlds(v, s, args.worlds) for s in seeds} for v in values}
    seconds = default_world_seconds(values, args.repeats)
    lines = [f"{'target_accept':>13}  {'divergent worlds':>16}  {'R-hat > 1.01':>12}  "
             f"{'default world s (median)':>24}"]
    for v in values:
        div = sum(w["divergent_worlds"] for w in worlds[v].values())
        rhat = sum(w["rhat_above_1_01"] for w in worlds[v].values())
        total = sum(w["worlds"] for w in worlds[v].values())
        lines.append(f"{v:>13}  {f'{div} of {total}':>16}  {f'{rhat} of {total}':>12}  "
                     f"{np.median(seconds[v]):>24.3f}")
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"worlds": {str(v): w for v, w in worlds.items()},
                                    "default_world_seconds": {str(v): s for v, s in
                                                              seconds.items()}},
                                   indent=2) + "\n")
    args.out.with_suffix(".txt").write_text(
        "python -m benchmarks.poisson_target_accept\n" + text + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
