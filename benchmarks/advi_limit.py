"""ADVI's iteration limit: how many fits a 30,000 or a 100,000 cap leaves unconverged.

``python -m benchmarks.advi_limit`` draws worlds from every calibration family's prior
and runs ADVI's compiled loop on each, both forms, as a fit does (the scenario's
learning rate, its seed's stream of draws, the stop rule), with a cap of 100,000
iterations, noting the time after every chunk. A 30,000 cap is the same run's prefix:
the stop rule sees the same ELBO, and at 30,000 the fit ends with the convergence
check's verdict on the first 30,000 values. Per family and form it reports the share
of unconverged fits (the check the page shows), the optimisation's seconds (median,
max), how many stopped early, and the iterations run. This is the measurement behind
the scenario's default ``advi_iterations`` (100,000).

Writes ``benchmarks/results/advi_limit.json``. Examples::

    python -m benchmarks.advi_limit                 # 50 worlds a family, about 2 min
    python -m benchmarks.advi_limit --worlds 5 --out /tmp/limit.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
CAPS = (30_000, 100_000)


def one_fit(scenario, method: str) -> dict:
    """Run the compiled loop to the larger cap; the outcome at each cap."""
    from hierdash.inference.diagnostics import elbo_converged
    from hierdash.inference.models.advi_kernel import advi_model
    from hierdash.inference.prepare import prepare
    from hierdash.inference.samplers.advi_runner import optimise
    from hierdash.inference.samplers.common import (
        model_inputs,
        own_size_key,
        resolve_parameterization,
    )

    scenario = scenario.replace(method=method)
    prep = prepare(scenario)
    parameterization = resolve_parameterization(scenario)
    key, data, _ = model_inputs(scenario, prep, parameterization,
                                own_size_key(scenario, parameterization))
    model = advi_model(key.kind, data)
    at: dict[int, float] = {}
    start = time.perf_counter()
    steps_seed, _ = np.random.SeedSequence(scenario.seed).spawn(2)  # as run_advi does
    fit = optimise(model, full=method == "fullrank_advi", iterations=max(CAPS),
                   learning_rate=scenario.advi_learning_rate,
                   rng=np.random.default_rng(steps_seed),
                   between_chunks=lambda done: at.__setitem__(done, time.perf_counter() - start))
    total = time.perf_counter() - start
    done = len(fit.elbo)
    out = {"dimensions": int(model.start.size)}
    for cap in CAPS:
        ended = fit.stopped_early or fit.failed_at is not None
        if done < cap or (done == cap and ended) or cap == max(CAPS):
            iterations, seconds, elbo = done, total, fit.elbo
        else:
            iterations, seconds, elbo = cap, at[cap], fit.elbo[:cap]
        out[str(cap)] = {
            "iterations": iterations, "seconds": seconds,
            "stopped_early": iterations < cap,
            "converged": fit.failed_at is None and bool(elbo_converged(elbo)[0])}
    return out


def summarise(rows: list[dict]) -> dict:
    out = {}
    for cap in map(str, CAPS):
        runs = [r[cap] for r in rows]
        out[cap] = {
            "fits": len(runs),
            "unconverged": sum(not r["converged"] for r in runs),
            "stopped_early": sum(r["stopped_early"] for r in runs),
            "seconds_median": statistics.median(r["seconds"] for r in runs),
            "seconds_max": max(r["seconds"] for r in runs),
            "iterations_median": statistics.median(r["iterations"] for r in runs)}
    return out


def main(argv: list[str] | None = None) -> int:
    from hierdash.calibration.families import FAMILIES, world_scenarios
    from hierdash.inference.prepare import prepare
    from hierdash.inference.samplers.advi_runner import warm_up_advi
    from hierdash.scenario import Scenario

    p = argparse.ArgumentParser(prog="python -m benchmarks.advi_limit",
                                description=__doc__.splitlines()[0])
    p.add_argument("--worlds", type=int, default=50, help="worlds a family (default 50)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=RESULTS / "advi_limit.json")
    args = p.parse_args(argv)
    warm_up_advi(Scenario(), prepare(Scenario()))  # no compile inside a measured fit
    report = {"command": " ".join(["python", "-m", "benchmarks.advi_limit", *sys.argv[1:]]),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "worlds": args.worlds,
              "seed": args.seed, "load_average_before": [round(x, 2) for x in os.getloadavg()],
              "summary": {}, "fits": []}
    for name, family in FAMILIES.items():
        if family.outcome != "gaussian":  # ADVI is for Gaussian outcomes
            continue
        for i, scenario in enumerate(world_scenarios(family, n_worlds=args.worlds,
                                                     seed=args.seed)):
            for method in ("advi", "fullrank_advi"):
                report["fits"].append({"family": name, "world": i, "method": method,
                                       **one_fit(scenario, method)})
        print(f"{name}: {args.worlds} worlds done", file=sys.stderr, flush=True)
    groups = {(f["family"], f["method"]) for f in report["fits"]}
    groups |= {("all", m) for _, m in groups}
    print(f"{'family':9s} {'method':14s} {'cap':>7s} {'unconverged':>11s} {'stopped':>7s} "
          f"{'s med':>6s} {'s max':>6s} {'iters':>7s}")
    for family, method in sorted(groups):
        rows = [f for f in report["fits"] if f["method"] == method
                and family in ("all", f["family"])]
        summary = summarise(rows)
        report["summary"][f"{family}/{method}"] = summary
        for cap, s in summary.items():
            print(f"{family:9s} {method:14s} {cap:>7s} {s['unconverged']:4d} of {s['fits']:3d} "
                  f"{s['stopped_early']:7d} {s['seconds_median']:6.3f} {s['seconds_max']:6.3f} "
                  f"{s['iterations_median']:7.0f}")
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
