"""Does the outcome model's padding cost NUTS steps? The small shared model against the
one at the simulated bounds, on the same worlds.

``python -m benchmarks.glm_tiers`` fits ``--worlds`` default worlds of each yes/no and
count family (``Scenario.for_outcome(family, seed=s)``, the page's defaults: 6 tasks,
an intercept and one feature) with nutpie on both compiled outcome models,
:data:`~hierdash.inference.models.compiled.MODEL_KEYS` ``glm_small`` and ``glm``, with
the same data, starting points, settings and seeds, and reports per family and model:
the median leapfrog steps per draw, the worlds with a divergence, and the median
sampling seconds (run it alone: times are only comparable within one quiet run).

The table is printed and written to ``benchmarks/results/glm_tiers.{txt,json}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
FAMILIES = ("bernoulli", "binomial", "poisson")
TIERS = ("glm_small", "glm")


def one_fit(compiled, scenario, prep, key, seed: int) -> dict[str, float]:
    import nutpie

    from hierdash.inference.samplers.common import model_inputs

    key, data, _ = model_inputs(scenario, prep, "per_task", key)
    model = compiled.with_data(**data)
    start = time.perf_counter()
    trace = nutpie.sample(model, draws=scenario.draws, tune=scenario.tune,
                          chains=scenario.chains, cores=scenario.chains,
                          target_accept=scenario.target_accept, progress_bar=False, seed=seed)
    stats = trace.sample_stats
    return {"seconds": time.perf_counter() - start,
            "steps_per_draw": float(stats["n_steps"].mean()),
            "divergences": int(stats["diverging"].sum())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.glm_tiers",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--worlds", type=int, default=20, help="worlds per family (20)")
    p.add_argument("--out", type=Path, default=RESULTS / "glm_tiers.json")
    args = p.parse_args(argv)
    from hierdash.inference.models.compiled import MODEL_KEYS, NUTPIE_CACHE
    from hierdash.inference.prepare import prepare
    from hierdash.inference.samplers.common import model_inputs
    from hierdash.scenario import Scenario

    base = Scenario.for_outcome("bernoulli", method="nuts")
    compiled = {}
    for tier in TIERS:
        key, data, _ = model_inputs(base, prepare(base), "noncentered", MODEL_KEYS[tier])
        compiled[tier] = NUTPIE_CACHE.get(key, data)[0]
    report: dict = {"settings": {"worlds": args.worlds, "draws": base.draws,
                                 "tune": base.tune, "chains": base.chains,
                                 "target_accept": base.target_accept,
                                 "tiers": {t: vars(MODEL_KEYS[t]) for t in TIERS}}}
    lines = [f"{'family':10s} {'model':10s} {'steps/draw':>10s} {'divergent':>10s} "
             f"{'seconds':>8s}   (medians over worlds; divergent = worlds with any)"]
    for family in FAMILIES:
        runs: dict[str, list[dict[str, float]]] = {tier: [] for tier in TIERS}
        for seed in range(args.worlds):
            scenario = Scenario.for_outcome(family, method="nuts", seed=1000 + seed)
            prep = prepare(scenario)
            for tier in TIERS:  # the same world and seed on both, one after the other
                runs[tier].append(one_fit(compiled[tier], scenario, prep, MODEL_KEYS[tier],
                                          seed))
        report[family] = runs
        for tier in TIERS:
            r = runs[tier]
            lines.append(
                f"{family:10s} {tier:10s} "
                f"{np.median([x['steps_per_draw'] for x in r]):10.1f} "
                f"{sum(x['divergences'] > 0 for x in r):6d}/{len(r):<3d} "
                f"{np.median([x['seconds'] for x in r]):8.3f}")
            print(lines[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    args.out.with_suffix(".txt").write_text(
        f"python -m benchmarks.glm_tiers {' '.join(argv or sys.argv[1:])}\n"
        + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
