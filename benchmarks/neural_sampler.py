"""The hierarchical network's sampler settings, judged over many worlds.

``python -m benchmarks.neural_sampler`` fits the hierarchical network of the page's
default world (8 tasks of 100 to 3 points, 4 hidden units with biases) for ``--seeds``
worlds at each rotation spread, once per sampler setting of ``--configs`` (a JSON object:
name -> changes to :class:`~hierdash.neural.NeuralSettings`), and counts worlds with a
divergence and worlds whose largest R-hat over predicted probabilities passes 1.05.

Divergences and R-hat do not depend on the machine's load (nutpie is seeded); the
seconds do, so run it alone. Writes every fit to ``benchmarks/results/neural_sampler.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
RHAT_OK = 1.05
DEFAULT_CONFIGS = ('{"ta0.90 t300 d300": {"target_accept": 0.9, "tune": 300, "draws": 300}, '
                   '"ta0.90 t600 d300": {"target_accept": 0.9, "tune": 600, "draws": 300}, '
                   '"ta0.93 t500 d400": {"target_accept": 0.93, "tune": 500, "draws": 400}}')


def hierarchical_fit(settings) -> dict:
    """One hierarchical fit: divergences, R-hat over probabilities, seconds."""
    from hierdash.inference.samplers.common import Stopper
    from hierdash.neural.fit import sample_kind
    from hierdash.neural.model import task_weights
    from hierdash.neural.scores import max_rhat
    from hierdash.neural.tasks import simulate_tasks

    tasks = simulate_tasks(settings)
    stopper = Stopper(None, None)
    stopper.start()
    start = time.perf_counter()
    draws, fit, _ = sample_kind(settings, tasks, "hierarchical", report=lambda *a: None,
                                step=lambda *a: None, stopper=stopper, seed=settings.seed + 2)
    seconds = time.perf_counter() - start
    weights = task_weights(draws, "hierarchical", n_tasks=tasks.n_tasks,
                           hidden=settings.hidden, bias=settings.bias)
    return {"divergences": fit.divergences, "max_rhat": float(max_rhat(weights, tasks, settings.chains)),
            "seconds": seconds, "steps_per_draw": fit.steps_per_draw}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.neural_sampler",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", default=DEFAULT_CONFIGS, help="JSON: name -> settings changes")
    p.add_argument("--spreads", default="90", help="rotation spreads in degrees (90)")
    p.add_argument("--seeds", type=int, default=30, help="worlds per spread (30)")
    p.add_argument("--out", type=Path, default=RESULTS / "neural_sampler.json")
    args = p.parse_args(argv)
    from hierdash.neural import NeuralSettings, warm_up_neural

    warm_up_neural()
    fits, lines = [], []
    for name, changes in json.loads(args.configs).items():
        for spread in (float(s) for s in args.spreads.split(",")):
            rows = []
            for seed in range(1, args.seeds + 1):
                settings = NeuralSettings(rotation_spread=spread, seed=seed, **changes)
                rows.append({"config": name, "rotation_spread": spread, "seed": seed,
                             **hierarchical_fit(settings)})
            fits += rows
            lines.append(
                f"{name:<20} {spread:>5g} deg: divergent worlds "
                f"{sum(r['divergences'] > 0 for r in rows)}/{len(rows)}, R-hat > {RHAT_OK} in "
                f"{sum(r['max_rhat'] > RHAT_OK for r in rows)}, largest "
                f"{max(r['max_rhat'] for r in rows):.3f}, median "
                f"{np.median([r['seconds'] for r in rows]):.2f} s")
            print(lines[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"table": lines, "fits": fits}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
