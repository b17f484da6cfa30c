"""End-to-end warm ``fit`` of each outcome family's default world with NUTS, the time a
student waits after pressing *Fit* (issue 21's target: at most 0.5 s).

``python -m benchmarks.outcome_speed`` warms the models up, then fits
``Scenario.for_outcome(family)`` (the Explore page's world for that outcome) ``--repeats``
times and ``--worlds`` other seeds of it, and reports per family the median and 90th
percentile wall seconds of :func:`hierdash.inference.fit` (simulate, prepare with the
quadrature reference, sample, summarise) and of its sampling alone. Run it alone.
Writes ``benchmarks/results/outcome_speed.{txt,json}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
FAMILIES = ("gaussian", "bernoulli", "binomial", "poisson")


def timed_fits(scenarios) -> dict[str, list[float]]:
    from hierdash.inference import fit

    wall, sample = [], []
    for scenario in scenarios:
        start = time.perf_counter()
        result = fit(scenario)
        wall.append(time.perf_counter() - start)
        sample.append(result.sample_s)
    return {"wall": wall, "sample": sample}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.outcome_speed",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=10, help="fits of the default world (10)")
    p.add_argument("--worlds", type=int, default=20, help="other seeds of it (20)")
    p.add_argument("--out", type=Path, default=RESULTS / "outcome_speed.json")
    args = p.parse_args(argv)
    from hierdash.inference import warm_up
    from hierdash.scenario import Scenario

    warm_s = warm_up()
    rows, lines = {}, [f"{'family':<10}{'world':<10}{'wall median':>12}{'p90':>7}"
                       f"{'sample median':>15}{'p90':>7}"]
    for family in FAMILIES:
        default = Scenario.for_outcome(family, method="nuts")
        seeds = [default.replace(seed=default.seed + 1 + i) for i in range(args.worlds)]
        for name, scenarios in (("default", [default] * args.repeats), ("seeds", seeds)):
            times = timed_fits(scenarios)
            rows[f"{family}/{name}"] = times
            lines.append(f"{family:<10}{name:<10}{np.median(times['wall']):>12.3f}"
                         f"{np.quantile(times['wall'], 0.9):>7.3f}"
                         f"{np.median(times['sample']):>15.3f}"
                         f"{np.quantile(times['sample'], 0.9):>7.3f}")
            print(lines[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"warm_up": warm_s, "table": lines, "fits": rows},
                                   indent=2, default=str) + "\n")
    args.out.with_suffix(".txt").write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
