"""Which parameterization diverges: centered, non-centered and auto over many seeds.

``python -m benchmarks.parameterization`` fits two worlds of issue 2 with ``nuts``
(nutpie) under each parameterization, over ``--seeds`` seeds (each seed a new world
and a new sampler seed), and counts divergent transitions. It prints a table and
writes ``benchmarks/results/parameterization.json``.

- ``imbalanced``: 4 tasks with 50, 10, 2 and 0 rows, 2 features, learned spread.
  ``auto`` must give no divergences and match ``exact``.
- ``hard``: 12 tasks of 1 or 2 rows, noise sd 30, 2 features. Every task has almost no
  data, so both forms can diverge; ``auto`` must be no worse than the better of them.

Divergences are rare, clustered events (one seed can hold most of a column's total),
so one seed proves nothing: the comparison is of totals over all seeds. The verdict
counts ``auto`` no worse when its total is within a Poisson allowance of the better
total, ``best + 2 * sqrt(best + 1)``; the raw counts are in the JSON to judge by.

Examples::

    python -m benchmarks.parameterization                 # 20 seeds, about 3 minutes
    python -m benchmarks.parameterization --seeds 5 --target-accept 0.99
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

WORLDS: dict[str, dict[str, Any]] = {
    "imbalanced": {"samples": (50, 10, 2, 0), "n_features": 2},
    "hard": {"samples": (1, 2) * 6, "noise_sd": 30.0, "n_features": 2},
}
PARAMETERIZATIONS = ("centered", "noncentered", "auto")


def measure(world: str, parameterization: str, seed: int, target_accept: float) -> dict[str, Any]:
    """Fit one world with nutpie and return its divergences and accuracy."""
    from hierdash.inference import fit
    from hierdash.scenario import Scenario

    scenario = Scenario(
        **WORLDS[world], method="nuts", parameterization=parameterization, seed=seed,
        target_accept=target_accept,
    )
    result = fit(scenario)
    spread = result.scales.set_index("name").loc["spread"]
    z = np.abs(result.weights["z_vs_exact"].to_numpy(dtype=float))
    return {
        "world": world,
        "parameterization": parameterization,
        "seed": seed,
        "divergences": result.diagnostics.divergences,
        "max_rhat": result.diagnostics.max_rhat,
        "min_ess_bulk": result.diagnostics.min_ess_bulk,
        "centered_tasks": len(result.diagnostics.centered_tasks),
        "spread_mean": float(spread["mean"]),
        "spread_exact_mean": float(spread["exact_mean"]),
        "spread_z": float((spread["mean"] - spread["exact_mean"]) / spread["exact_sd"]),
        "max_abs_z": float(np.nanmax(z)),
        "sample_s": result.sample_s,
    }


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for world in WORLDS:
        for par in PARAMETERIZATIONS:
            mine = [r for r in runs if r["world"] == world and r["parameterization"] == par]
            if not mine:
                continue
            divs = [r["divergences"] for r in mine]
            rows.append({
                "world": world,
                "parameterization": par,
                "seeds": len(mine),
                "divergences_total": int(sum(divs)),
                "seeds_with_divergences": int(sum(d > 0 for d in divs)),
                "divergences_max": int(max(divs)),
                "max_abs_spread_z": float(max(abs(r["spread_z"]) for r in mine)),
                "median_max_abs_z": float(np.median([r["max_abs_z"] for r in mine])),
                "max_rhat": float(max(r["max_rhat"] or 0.0 for r in mine)),
                "median_sample_s": float(np.median([r["sample_s"] for r in mine])),
            })
    return rows


def verdicts(rows: list[dict[str, Any]]) -> list[str]:
    by = {(r["world"], r["parameterization"]): r for r in rows}
    out = []
    imb = by.get(("imbalanced", "auto"))
    if imb:
        ok = imb["divergences_total"] == 0 and imb["max_abs_spread_z"] < 3
        out.append(
            f"[{'MET' if ok else 'NOT MET'}] imbalanced: auto has no divergences and matches "
            f"exact: {imb['divergences_total']} divergences over {imb['seeds']} seeds, "
            f"max |spread z| {imb['max_abs_spread_z']:.2f}"
        )
    if all(("hard", p) in by for p in PARAMETERIZATIONS):
        best = min(by[("hard", p)]["divergences_total"] for p in ("centered", "noncentered"))
        auto = by[("hard", "auto")]["divergences_total"]
        allowance = best + 2 * math.sqrt(best + 1)
        ok = auto <= allowance
        out.append(
            f"[{'MET' if ok else 'NOT MET'}] hard: auto no worse than the better form: "
            f"{auto} divergences against the better form's {best} (allowance {allowance:.1f})"
        )
    return out


def format_table(rows: list[dict[str, Any]]) -> str:
    head = ["world", "parameterization", "seeds", "divergences_total",
            "seeds_with_divergences", "divergences_max", "max_abs_spread_z",
            "median_max_abs_z", "max_rhat", "median_sample_s"]
    cells = [head] + [
        [f"{r[h]:.2f}" if isinstance(r[h], float) else str(r[h]) for h in head] for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) if i > 1 else c.ljust(w)
                       for i, (c, w) in enumerate(zip(line, widths, strict=True)))
             for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.parameterization",
                                description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=20, help="seeds per world (default 20)")
    p.add_argument("--target-accept", type=float, default=None,
                   help="NUTS target acceptance (default: the scenario's default)")
    p.add_argument("--worlds", default=",".join(WORLDS), help="comma-separated worlds")
    p.add_argument("--out", type=Path, default=RESULTS / "parameterization.json")
    args = p.parse_args(argv)
    from hierdash.scenario import Scenario

    target_accept = args.target_accept or Scenario().target_accept
    worlds = [w for w in args.worlds.split(",") if w]
    runs = []
    start = time.perf_counter()
    for world in worlds:
        for seed in range(args.seeds):
            for par in PARAMETERIZATIONS:
                run = measure(world, par, seed, target_accept)
                runs.append(run)
                print(f"{world:10s} {par:11s} seed {seed:2d}: {run['divergences']:4d} divergences, "
                      f"spread {run['spread_mean']:.2f} (exact {run['spread_exact_mean']:.2f})",
                      file=sys.stderr, flush=True)
    rows = summarise(runs)
    print(format_table(rows))
    print()
    for line in verdicts(rows):
        print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(
        {"target_accept": target_accept, "seeds": args.seeds, "rows": rows, "runs": runs,
         "verdicts": verdicts(rows), "seconds": time.perf_counter() - start}, indent=1))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
