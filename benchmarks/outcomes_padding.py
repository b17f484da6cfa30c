"""What naive zero padding does to a yes/no or count model, family by family.

``python -m benchmarks.outcomes_padding`` draws ``--worlds`` worlds per family from the
prior (as :mod:`benchmarks.outcomes_reference` does, every world with an intercept) and
fits each three times with the quadrature reference posterior:

* ``masked``: the real rows only (the right answer);
* ``zeros``: every task padded to the longest with rows whose every column is 0, the
  intercept's too (``X`` zero-padded after the column of ones was added), y = 0, and the
  world's trials or exposure on the padded rows;
* ``intercept``: the same rows, but the intercept kept at 1 on them, as in a model
  written ``eta = b0[task] + X @ w[task]`` over a zero-padded ``X``: each padded row is a
  fake "no event" at x = 0.

For each fit it reports how far the smallest task's intercept, the parent intercept and
the spread moved from ``masked``, in ``masked`` posterior sds (median and share above
0.5 sd over worlds). Gaussian is not here: its padded rows always inform the noise (see
``calibration/ready/padding-*``).

The table is printed and written to ``benchmarks/results/outcomes_padding.{txt,json}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.outcomes_reference import PRIORS, prior_world

RESULTS = Path(__file__).resolve().parent / "results"
FAMILIES = ("bernoulli", "binomial", "poisson")
VARIANTS = ("zeros", "intercept")


def shifts(masked, naive, smallest: int) -> dict[str, float]:
    """Moves of the naive fit from the masked one, in the masked posterior sd."""
    return {
        "smallest_task_intercept": float(
            (naive.child_mean[smallest, 0] - masked.child_mean[smallest, 0])
            / masked.child_sd[smallest, 0]),
        "parent_intercept": float(
            (naive.parent_mean[0] - masked.parent_mean[0]) / masked.parent_sd[0]),
        "spread": float((naive.spread_mean - masked.spread_mean) / masked.spread_sd),
    }


def study(family: str, worlds: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    from hierdash.outcomes import pad_naively, quadrature_posterior

    out = []
    while len(out) < worlds:
        data, about = prior_world(family, rng)
        if not about["intercept"] or data.counts.max() == data.counts.min():
            continue  # no intercept, or nothing padded: nothing to study
        smallest = int(np.argmin(data.counts))
        masked = quadrature_posterior(data, **PRIORS)
        row = {**about, "smallest_rows": int(data.counts[smallest])}
        for variant in VARIANTS:
            naive = quadrature_posterior(
                pad_naively(data, intercept=variant == "intercept"), **PRIORS)
            row[variant] = shifts(masked, naive, smallest)
        out.append(row)
    return out


def summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    table: dict[str, dict[str, dict[str, float]]] = {}
    for variant in VARIANTS:
        table[variant] = {}
        for quantity in rows[0][variant]:
            moved = np.array([r[variant][quantity] for r in rows])
            table[variant][quantity] = {
                "median": float(np.median(moved)),
                "share_beyond_half_sd": float(np.mean(np.abs(moved) > 0.5)),
                "max_abs": float(np.max(np.abs(moved)))}
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.outcomes_padding",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--worlds", type=int, default=100, help="worlds per family (100)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=RESULTS / "outcomes_padding.json")
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    report: dict[str, Any] = {"settings": {"worlds": args.worlds, "seed": args.seed, **PRIORS}}
    lines = [f"{'family':10s} {'padding':10s} {'quantity':24s} {'median':>8s} "
             f"{'>0.5 sd':>8s} {'max':>7s}   (moves in masked posterior sd)"]
    for family in FAMILIES:
        rows = study(family, args.worlds, rng)
        report[family] = {"summary": summary(rows), "worlds": rows}
        for variant, quantities in report[family]["summary"].items():
            for quantity, s in quantities.items():
                lines.append(f"{family:10s} {variant:10s} {quantity:24s} {s['median']:8.3f} "
                             f"{s['share_beyond_half_sd']:8.0%} {s['max_abs']:7.2f}")
        print("\n".join(lines[-6:]) if len(lines) > 1 else "", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    args.out.with_suffix(".txt").write_text(
        f"python -m benchmarks.outcomes_padding {' '.join(argv or sys.argv[1:])}\n"
        + "\n".join(lines) + "\n")
    print(lines[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
