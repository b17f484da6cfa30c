"""Every preset, ten seeds each, at default settings: can a student trust the sampler?

``python -m benchmarks.presets`` warms the two shared compiled models as the app does at
start-up, then fits every preset with NUTS on seeds 1-10 (everything else at its
default) and reports per preset: divergences, the largest R-hat, the smallest bulk and
tail ESS over every weight and scale, the compiles after warm-up (the target is 0), and
the server CPU seconds per fit (``time.process_time``: every thread of this process,
sampler threads included). Writes ``benchmarks/results/presets.json``.

Issue 9's targets: 0 divergences, R-hat <= 1.01 and bulk ESS >= 400 for every weight,
0 compiles after warm-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def run(seeds: list[int], method: str) -> list[dict]:
    from hierdash.inference import fit, warm_up
    from hierdash.inference.models.compiled import NUTPIE_CACHE
    from hierdash.scenario import Scenario
    from hierdash.scenario.presets import PRESETS, apply_preset

    warm_up()
    rows = []
    for name in PRESETS:
        for seed in seeds:
            scenario = apply_preset(Scenario(seed=seed, method=method), name)
            compiles = NUTPIE_CACHE.compilations
            cpu, wall = time.process_time(), time.perf_counter()
            result = fit(scenario)
            d = result.diagnostics
            rows.append({
                "preset": name, "seed": seed, "divergences": d.divergences,
                "max_rhat": d.max_rhat, "min_ess_bulk": d.min_ess_bulk,
                "min_ess_tail": d.min_ess_tail,
                "compiles": NUTPIE_CACHE.compilations - compiles,
                "cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall,
                "parameterization": d.parameterization,
            })
            print(f"  {name:12s} seed {seed:2d}: {rows[-1]['divergences']} div, "
                  f"R-hat {d.max_rhat:.4f}, ESS {d.min_ess_bulk:.0f}/{d.min_ess_tail:.0f}, "
                  f"{rows[-1]['cpu_s']:.2f} s CPU", flush=True)
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    out = []
    for name in dict.fromkeys(r["preset"] for r in rows):
        mine = [r for r in rows if r["preset"] == name]
        out.append({
            "preset": name,
            "fits": len(mine),
            "divergences": sum(r["divergences"] for r in mine),
            "max_rhat": max(r["max_rhat"] for r in mine),
            "min_ess_bulk": min(r["min_ess_bulk"] for r in mine),
            "min_ess_tail": min(r["min_ess_tail"] for r in mine),
            "compiles": sum(r["compiles"] for r in mine),
            "median_cpu_s": statistics.median(r["cpu_s"] for r in mine),
            "median_wall_s": statistics.median(r["wall_s"] for r in mine),
        })
    return out


def verdict(row: dict) -> str:
    ok = (row["divergences"] == 0 and row["max_rhat"] <= 1.01
          and row["min_ess_bulk"] >= 400 and row["compiles"] == 0)
    return "MET" if ok else "NOT MET"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.presets", description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=10, help="seeds per preset (default 10)")
    p.add_argument("--method", default="nuts", choices=["nuts", "pymc_nuts"])
    p.add_argument("--out", type=Path, default=RESULTS / "presets.json")
    args = p.parse_args(argv)
    if not 1 <= args.seeds <= 1000:
        p.error(f"--seeds = {args.seeds} is not allowed: must be from 1 to 1000")
    rows = run(list(range(1, args.seeds + 1)), args.method)
    table = summarise(rows)
    header = (f"{'preset':12s} {'fits':>4s} {'div':>4s} {'max R-hat':>9s} {'min ESS bulk':>12s} "
              f"{'min ESS tail':>12s} {'compiles':>8s} {'CPU s/fit':>9s} verdict")
    print(header)
    for r in table:
        print(f"{r['preset']:12s} {r['fits']:4d} {r['divergences']:4d} {r['max_rhat']:9.4f} "
              f"{r['min_ess_bulk']:12.0f} {r['min_ess_tail']:12.0f} {r['compiles']:8d} "
              f"{r['median_cpu_s']:9.3f} {verdict(r)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": table, "runs": rows}, indent=2) + "\n")
    return 0 if all(verdict(r) == "MET" for r in table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
