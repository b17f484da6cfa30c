"""Neural tasks: time, divergences, R-hat on probabilities and test scores by task size
for the three networks (separate, pooled, hierarchical), over seeds and rotation spreads.

``python -m benchmarks.neural`` fits the page's default world (8 tasks of 100, 60, 40,
25, 15, 10, 6 and 3 training points, 4 hidden units with biases, masked padding, nutpie
with the page's sampler settings: 2 chains x (500 + 400), target_accept 0.93) for ``--seeds`` seeds (default 10) at each rotation spread of
``--spreads`` (default 25, 45, 90 degrees). The network compiles once (its seconds are
reported apart); every later fit is warm. Reported per spread and model: the median and
largest wall seconds of the three fits together, divergences, the largest R-hat over
predicted probabilities, and test accuracy and log score by task size (small: at most
10 training points; medium: 11 to 40; large: more), with the share of seeds where the
hierarchy's small-task log score beats the separate networks'.

Run it alone: times are only comparable within one quiet run. The table is printed and
written with every fit's numbers to ``benchmarks/results/neural.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (("small", 0, 10), ("medium", 11, 40), ("large", 41, 10**9))
MODELS = ("separate", "pooled", "hierarchical")


def _size(n: int) -> str:
    return next(name for name, low, high in SIZES if low <= n <= high)


def one_world(settings) -> dict:
    """One world's three fits: seconds, health and scores by task size."""
    from hierdash.neural import fit_neural

    start = time.perf_counter()
    result = fit_neural(settings)
    wall = time.perf_counter() - start
    acc = result.accuracy.assign(size=[_size(n) for n in result.accuracy["n"]])
    by_size = acc.groupby(["model", "size"])[["accuracy", "log_score"]].mean()
    return {
        "seed": settings.seed, "rotation_spread": settings.rotation_spread,
        "wall_seconds": wall, "compile_seconds": result.compile_s,
        "sampling_seconds": result.sample_s,
        "fits": {f.model: {"seconds": f.sample_s, "divergences": f.divergences,
                           "max_rhat": f.max_rhat, "steps_per_draw": f.steps_per_draw}
                 for f in result.fits},
        "scores": {f"{m}/{s}": {"accuracy": float(row["accuracy"]),
                                "log_score": float(row["log_score"])}
                   for (m, s), row in by_size.iterrows()},
        "mean_accuracy": {m: float(v) for m, v in
                          acc.groupby("model")["accuracy"].mean().items()},
    }


def summarise(worlds: list[dict]) -> dict:
    """Per rotation spread: times, health, and scores by model and task size."""
    out = {}
    for spread in sorted({w["rotation_spread"] for w in worlds}):
        ws = [w for w in worlds if w["rotation_spread"] == spread]
        warm = [w["wall_seconds"] for w in ws if w["compile_seconds"] == 0.0]
        row = {
            "worlds": len(ws),
            "median_wall_seconds_warm": float(np.median(warm)) if warm else None,
            "max_wall_seconds_warm": float(np.max(warm)) if warm else None,
            "divergences": {m: int(sum(w["fits"][m]["divergences"] for w in ws)) for m in MODELS},
            "worlds_with_divergences": {m: int(sum(w["fits"][m]["divergences"] > 0 for w in ws))
                                        for m in MODELS},
            "max_rhat": {m: float(max(w["fits"][m]["max_rhat"] for w in ws)) for m in MODELS},
            "mean_accuracy": {m: float(np.mean([w["mean_accuracy"][m] for w in ws]))
                              for m in MODELS},
        }
        for m in MODELS:
            for size, _, _ in SIZES:
                for score in ("accuracy", "log_score"):
                    values = [w["scores"][f"{m}/{size}"][score] for w in ws]
                    row[f"{score}/{m}/{size}"] = float(np.mean(values))
        wins = [w["scores"]["hierarchical/small"]["log_score"]
                > w["scores"]["separate/small"]["log_score"] for w in ws]
        row["hierarchical_beats_separate_small_log_score"] = float(np.mean(wins))
        out[str(spread)] = row
    return out


def format_table(summary: dict) -> str:
    lines = []
    for spread, row in summary.items():
        lines.append(f"rotation spread {float(spread):g} deg, {row['worlds']} worlds: warm "
                     f"wall s median {row['median_wall_seconds_warm']:.2f}, max "
                     f"{row['max_wall_seconds_warm']:.2f}")
        lines.append(f"  {'model':<13}{'div':>5}{'R-hat':>8}{'acc':>7}"
                     + "".join(f"{f'acc {s}':>11}{f'logs {s}':>12}" for s, _, _ in SIZES))
        for m in MODELS:
            cells = "".join(f"{row[f'accuracy/{m}/{s}']:>11.3f}{row[f'log_score/{m}/{s}']:>12.3f}"
                            for s, _, _ in SIZES)
            lines.append(f"  {m:<13}{row['divergences'][m]:>5}{row['max_rhat'][m]:>8.3f}"
                         f"{row['mean_accuracy'][m]:>7.3f}{cells}")
        lines.append("  hierarchy beats separate on the small tasks' log score in "
                     f"{row['hierarchical_beats_separate_small_log_score']:.0%} of worlds")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.neural",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=10, help="worlds per rotation spread (10)")
    p.add_argument("--spreads", default="25,45,90", help="rotation spreads in degrees")
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=RESULTS / "neural.json")
    args = p.parse_args(argv)
    from hierdash.neural import NEURAL_CACHE, NeuralSettings, warm_up_neural

    start = time.perf_counter()
    compile_s = warm_up_neural()
    worlds = []
    for spread in (float(s) for s in args.spreads.split(",")):
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            world = one_world(NeuralSettings(rotation_spread=spread, seed=seed))
            worlds.append(world)
            print(f"spread {spread:g} seed {seed}: {world['wall_seconds']:.2f} s, "
                  f"divergences {[world['fits'][m]['divergences'] for m in MODELS]}, "
                  f"mean accuracy {[round(world['mean_accuracy'][m], 3) for m in MODELS]}",
                  file=sys.stderr, flush=True)
    summary = summarise(worlds)
    print(format_table(summary))
    print(f"compile {compile_s:.1f} s (warm-up); compiles after it: "
          f"{NEURAL_CACHE.compilations - (1 if compile_s else 0)}; "
          f"total {time.perf_counter() - start:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sampler = {k: getattr(NeuralSettings(), k) for k in ("chains", "tune", "draws",
                                                          "target_accept")}
    args.out.write_text(json.dumps({"sampler": sampler, "compile_seconds": compile_s,
                                    "summary": summary,
                                    "worlds": worlds,
                                    "compilations": NEURAL_CACHE.compilations}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
