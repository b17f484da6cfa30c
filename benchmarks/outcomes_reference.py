"""The quadrature reference posterior against long NUTS runs, for every outcome family.

``python -m benchmarks.outcomes_reference`` draws ``--worlds`` worlds per family from the
prior (2 to 8 tasks, 0 to 60 rows each, 1 or 2 features, an intercept column in three
worlds of four), fits each with :func:`hierdash.outcomes.quadrature_posterior` and with
nutpie on the same model (non-centered, ``--chains`` x ``--draws``), and compares every
posterior mean and sd: the parent weights, each task's weights and the spread. It also
times and checks the two data sets of issue 21: rat tumours (binomial, intercept only)
and binary radon (85 counties, intercept and floor: is a home above the action level?).

Each world's ``mean_err`` (reference minus NUTS, in NUTS' posterior sd), ``sd_err``
(reference sd over NUTS sd, minus 1) and ``mcse`` (NUTS' own error of the mean, in sd:
1 / sqrt(ESS)) list the parent weights, then each task's weights (task by task), then
the spread.

Targets (issue 21): means within 0.1 posterior sd and sds within 10%, in 95% of the
quantities of each family; on rat tumours within 0.05 sd; the quadrature in 0.1 s on a
default world, 1 s on rat tumours and binary radon.

The table is printed and written to ``benchmarks/results/outcomes_reference.txt``, every
world's numbers to ``outcomes_reference.json`` (rewritten after each family, so a long
run keeps what it has). Worlds where NUTS diverged are counted apart: there the long
run is not the reference. One model is compiled per family and number of features (tasks
padded to 8), then only its data are swapped, so the run pays a handful of compiles.

Examples::

    python -m benchmarks.outcomes_reference                      # 100 worlds per family
    python -m benchmarks.outcomes_reference --worlds 3 --draws 500 --tune 300 --chains 2
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
FAMILIES = ("gaussian", "bernoulli", "binomial", "poisson")
CAPACITY = 8  # tasks of the compiled prior-world models (worlds have 2 to 8)
PRIORS = {"prior_parent_mean": 0.0, "prior_parent_scale": 1.0, "prior_spread_scale": 1.0}
MEAN_TOL, SD_TOL, SHARE = 0.1, 0.10, 0.95  # issue 21's targets
RATS_TOL = 0.05
# Non-centered NUTS on worlds with data-rich tasks has the funnel the other way round:
# a high target keeps divergences rare (worlds that still diverge are counted apart).
TARGET_ACCEPT = 0.95
# The EPA's action level, 4 pCi/L. The table's log_radon is the natural log of pCi/L
# (exp gives readings in steps of 0.1, the least 0.1, as in Gelman & Hill), rounded to 6
# decimals: the 13 readings of exactly 4.0 are stored as 1.386294 < log(4), so
# ``log_radon > log(4)`` counts the 415 homes strictly above the level.
ACTION_LEVEL = 4.0
DATA_PRIORS = {"prior_parent_mean": 0.0, "prior_parent_scale": 2.5, "prior_spread_scale": 1.0}


# ---------------------------------------------------------------------------
# Worlds and data sets
# ---------------------------------------------------------------------------
def prior_world(family: str, rng: np.random.Generator):
    """A world drawn from the prior the reference and NUTS assume (:data:`PRIORS`)."""
    from hierdash.outcomes import Gaussian, simulate_outcomes

    n_tasks = int(rng.integers(2, 9))
    k = int(rng.integers(1, 3))
    spread = abs(rng.normal(0.0, PRIORS["prior_spread_scale"]))
    fam = Gaussian(noise=1.0) if family == "gaussian" else family
    world = simulate_outcomes(
        fam, samples=tuple(int(n) for n in rng.integers(0, 61, size=n_tasks)),
        seed=int(rng.integers(2**31)), n_features=k, intercept=bool(rng.random() < 0.75),
        parent_mean=PRIORS["prior_parent_mean"], parent_scale=PRIORS["prior_parent_scale"],
        child_spread=spread, trials=int(rng.integers(1, 21)),
        exposure=float(rng.uniform(0.5, 5.0)))
    return world.data, {"tasks": n_tasks, "features": k, "intercept": world.intercept,
                        "rows": world.counts.tolist(), "true_spread": spread}


def binary_radon():
    """Minnesota radon as a yes/no outcome: is a home above 4 pCi/L? 85 counties,
    intercept and floor (0 basement, 1 first floor)."""
    from hierdash.outcomes import TaskData
    from hierdash.own_data import load_radon

    table = load_radon()
    above = (table["log_radon"].to_numpy() > math.log(ACTION_LEVEL)).astype(float)
    X, y = [], []
    for _, rows in table.assign(above=above).groupby("county", sort=True):
        X.append(np.column_stack([np.ones(len(rows)), rows["floor"].to_numpy(float)]))
        y.append(rows["above"].to_numpy())
    return TaskData("bernoulli", tuple(X), tuple(y))


# ---------------------------------------------------------------------------
# NUTS on the same model
# ---------------------------------------------------------------------------
def pymc_model(family, n_features: int, n_tasks: int, priors: dict[str, float]):
    """The model in PyMC, non-centered, its rows as data (``X``, ``task``, ``y``, ``size``)
    so that one compiled model serves every world with as many features and tasks."""
    import pymc as pm

    m, s = priors["prior_parent_mean"], priors["prior_parent_scale"]
    k = n_features
    with pm.Model() as model:
        X = pm.Data("X", np.zeros((1, k)))
        task = pm.Data("task", np.zeros(1, dtype="int64"))
        y = pm.Data("y", np.zeros(1))
        size = pm.Data("size", np.ones(1))
        parent = pm.Normal("parent", m, s, shape=k)
        spread = pm.HalfNormal("spread", priors["prior_spread_scale"])
        z = pm.Normal("z", 0.0, 1.0, shape=(n_tasks, k))
        child = pm.Deterministic("child", parent + spread * z)
        eta = (X * child[task]).sum(axis=-1)
        if family.name == "gaussian":
            pm.Normal("obs", eta, family.noise, observed=y)
        elif family.name in ("bernoulli", "binomial"):
            pm.Binomial("obs", n=size, logit_p=eta, observed=y)
        else:
            pm.Poisson("obs", mu=size * pm.math.exp(eta), observed=y)
    return model


def rows_data(data) -> dict[str, np.ndarray]:
    """Every row of ``data`` (not merged), as the PyMC model's data."""
    k = data.n_features
    X = np.concatenate(data.X) if data.counts.sum() else np.zeros((0, k))
    out = {"X": X, "task": np.repeat(np.arange(data.n_tasks), data.counts).astype("int64"),
           "y": np.concatenate(data.y) if data.counts.sum() else np.zeros(0),
           "size": np.concatenate(data.size) if data.counts.sum() else np.zeros(0)}
    if data.family.name == "gaussian":  # no sizes in its likelihood, so none in its graph
        del out["size"]
    return out


class Compiled:
    """nutpie models compiled once per (family, features, tasks, priors)."""

    def __init__(self):
        self.models: dict[tuple, Any] = {}
        self.compile_s = 0.0

    def get(self, family, k: int, tasks: int, priors: dict[str, float]):
        import nutpie

        key = (family, k, tasks, tuple(sorted(priors.items())))
        if key not in self.models:
            start = time.perf_counter()
            model = pymc_model(family, k, tasks, priors)
            self.models[key] = nutpie.compile_pymc_model(model, freeze_model=False)
            self.compile_s += time.perf_counter() - start
        return self.models[key]


def nuts(compiled: Compiled, data, *, priors: dict[str, float], tasks: int, draws: int,
         tune: int, chains: int, seed: int) -> dict[str, Any]:
    """Posterior means and sds by nutpie (tasks past the data's are inert padding)."""
    import nutpie

    model = compiled.get(data.family, data.n_features, tasks, priors).with_data(
        **rows_data(data))
    start = time.perf_counter()
    trace = nutpie.sample(model, draws=draws, tune=tune, chains=chains, seed=seed,
                          progress_bar=False, cores=1, target_accept=TARGET_ACCEPT)
    seconds = time.perf_counter() - start
    post = trace.posterior
    t = data.n_tasks

    def moments(name, sl=slice(None)):
        values = post[name].values
        values = values.reshape(values.shape[0] * values.shape[1], *values.shape[2:])[:, sl]
        return values.mean(axis=0), values.std(axis=0), _ess(post[name].values[:, :, sl])

    pm_, ps, pe = moments("parent")
    cm, cs, ce = moments("child", slice(0, t))
    spread = post["spread"].values
    return {"parent": (pm_, ps, pe), "child": (cm, cs, ce),
            "spread": (np.array([spread.mean()]), np.array([spread.std()]),
                       _ess(spread[..., None])),
            "divergences": int(trace.sample_stats["diverging"].values.sum()),
            "seconds": seconds}


def _ess(values: np.ndarray) -> np.ndarray:
    """Bulk ESS of each quantity (chains, draws, ...), by ArviZ."""
    from arviz_stats import ess

    flat = values.reshape(values.shape[0], values.shape[1], -1)
    return np.array([float(ess(flat[:, :, i])) for i in range(flat.shape[2])])


# ---------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------
def compare(ref, run: dict[str, Any]) -> dict[str, Any]:
    """Per quantity: (reference - NUTS) / NUTS sd for the mean, reference / NUTS - 1 for
    the sd, and NUTS' own Monte Carlo error of the mean in its sd (1 / sqrt(ESS))."""
    mean_err, sd_err, mcse = [], [], []
    pairs = {"parent": (ref.parent_mean, ref.parent_sd),
             "child": (ref.child_mean, ref.child_sd),
             "spread": (np.array([ref.spread_mean]), np.array([ref.spread_sd]))}
    for name, (qm, qs) in pairs.items():
        nm, ns, ne = run[name]
        mean_err += ((np.ravel(qm) - np.ravel(nm)) / np.ravel(ns)).tolist()
        sd_err += (np.ravel(qs) / np.ravel(ns) - 1.0).tolist()
        mcse += (1.0 / np.sqrt(np.maximum(np.ravel(ne), 1.0))).tolist()
    return {"mean_err": mean_err, "sd_err": sd_err, "mcse": mcse}


def timed_reference(data, **options):
    from hierdash.outcomes import quadrature_posterior

    quadrature_posterior(data, **options)  # the first call pays imports and caches
    start = time.perf_counter()
    ref = quadrature_posterior(data, **options)
    return ref, time.perf_counter() - start


def summarise(worlds: list[dict[str, Any]]) -> dict[str, Any]:
    mean_err = np.abs(np.concatenate([w["mean_err"] for w in worlds]))
    sd_err = np.abs(np.concatenate([w["sd_err"] for w in worlds]))
    seconds = np.array([w["reference_s"] for w in worlds])
    clean = [w for w in worlds if w["divergences"] == 0]  # NUTS itself trusted there
    clean_mean = np.abs(np.concatenate([w["mean_err"] for w in clean] or [np.zeros(0)]))
    clean_sd = np.abs(np.concatenate([w["sd_err"] for w in clean] or [np.zeros(0)]))
    return {
        "worlds": len(worlds),
        "quantities": int(mean_err.size),
        "share_means_within": float(np.mean(mean_err <= MEAN_TOL)),
        "share_sds_within": float(np.mean(sd_err <= SD_TOL)),
        "p95_mean_err": float(np.quantile(mean_err, 0.95)),
        "max_mean_err": float(mean_err.max()),
        "p95_sd_err": float(np.quantile(sd_err, 0.95)),
        "max_sd_err": float(sd_err.max()),
        "median_mcse": float(np.median(np.concatenate([w["mcse"] for w in worlds]))),
        "divergent_worlds": len(worlds) - len(clean),
        "share_means_within_no_divergences": float(np.mean(clean_mean <= MEAN_TOL))
        if clean_mean.size else None,
        "share_sds_within_no_divergences": float(np.mean(clean_sd <= SD_TOL))
        if clean_sd.size else None,
        # Quantities off by more than the target, with NUTS' own error there (1/sqrt(ESS)).
        "misses": [{"world": i, "quantity": j, "mean_err": w["mean_err"][j],
                    "sd_err": w["sd_err"][j], "mcse": w["mcse"][j],
                    "divergences": w["divergences"]}
                   for i, w in enumerate(worlds) for j in range(len(w["mean_err"]))
                   if abs(w["mean_err"][j]) > MEAN_TOL or abs(w["sd_err"][j]) > SD_TOL],
        "reference_median_s": float(np.median(seconds)),
        "reference_max_s": float(seconds.max()),
        "meets_target": bool(np.mean(mean_err <= MEAN_TOL) >= SHARE
                             and np.mean(sd_err <= SD_TOL) >= SHARE),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.outcomes_reference",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--worlds", type=int, default=100,
                   help="worlds per family (default 100; 0: the data sets only)")
    p.add_argument("--families", default=",".join(FAMILIES), help="comma-separated")
    p.add_argument("--draws", type=int, default=5000, help="NUTS draws per chain (5000)")
    p.add_argument("--tune", type=int, default=1000, help="NUTS tuning steps (1000)")
    p.add_argument("--chains", type=int, default=4, help="NUTS chains (4)")
    p.add_argument("--seed", type=int, default=1, help="seed of the worlds (1)")
    p.add_argument("--no-data", action="store_true", help="skip rat tumours and radon")
    p.add_argument("--out", type=Path, default=RESULTS / "outcomes_reference.json")
    args = p.parse_args(argv)
    from hierdash.outcomes import load_rat_tumors

    sampler = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    report: dict[str, Any] = {"settings": {**vars(args), "out": str(args.out), **PRIORS,
                                           "target_accept": TARGET_ACCEPT},
                              "families": {}, "data": {}}
    lines: list[str] = []
    compiled = Compiled()
    rng = np.random.default_rng(args.seed)
    for family in args.families.split(",") if args.worlds > 0 else ():
        worlds = []
        for i in range(args.worlds):
            data, about = prior_world(family, rng)
            ref, seconds = timed_reference(data, **PRIORS)
            run = nuts(compiled, data, priors=PRIORS, tasks=CAPACITY,
                       seed=args.seed * 1000 + i, **sampler)
            worlds.append({**about, **compare(ref, run), "reference_s": seconds,
                           "nuts_s": run["seconds"], "divergences": run["divergences"]})
        report["families"][family] = {"summary": summarise(worlds), "worlds": worlds}
        _write(args.out, report)
        lines.append(_line(family, report["families"][family]["summary"]))
        print(lines[-1], flush=True)
    if not args.no_data:
        for name, data in (("rat_tumors", load_rat_tumors()), ("binary_radon", binary_radon())):
            ref, seconds = timed_reference(data, **DATA_PRIORS)
            run = nuts(compiled, data, priors=DATA_PRIORS, tasks=data.n_tasks, seed=args.seed,
                       **sampler)
            got = compare(ref, run)
            worst = float(np.max(np.abs(got["mean_err"])))
            report["data"][name] = {
                **got, "reference_s": seconds, "nuts_s": run["seconds"],
                "divergences": run["divergences"], "max_mean_err": worst,
                "max_sd_err": float(np.max(np.abs(got["sd_err"]))), "priors": DATA_PRIORS,
                "meets_target": worst <= (RATS_TOL if name == "rat_tumors" else MEAN_TOL)
                and seconds <= 1.0}
            _write(args.out, report)
            d = report["data"][name]
            lines.append(f"{name:12s} reference {seconds:.3f} s   max |mean err| {worst:.3f} "
                         f"sd   max |sd err| {d['max_sd_err']:.1%}   divergences "
                         f"{d['divergences']}   {'ok' if d['meets_target'] else 'MISSED'}")
            print(lines[-1], flush=True)
    report["compile_s"] = compiled.compile_s
    _write(args.out, report)
    args.out.with_suffix(".txt").write_text(
        f"python -m benchmarks.outcomes_reference {' '.join(argv or sys.argv[1:])}\n"
        + "\n".join(lines) + "\n")
    return 0 if all(f["summary"]["meets_target"] for f in report["families"].values()) and all(
        d["meets_target"] for d in report["data"].values()) else 1


def _line(family: str, s: dict[str, Any]) -> str:
    return (f"{family:10s} {s['worlds']:4d} worlds {s['quantities']:5d} quantities   means within "
            f"0.1 sd {s['share_means_within']:.1%} (p95 {s['p95_mean_err']:.3f}, max "
            f"{s['max_mean_err']:.3f})   sds within 10% {s['share_sds_within']:.1%} (p95 "
            f"{s['p95_sd_err']:.1%}, max {s['max_sd_err']:.1%})   reference median "
            f"{s['reference_median_s'] * 1000:.0f} ms, max {s['reference_max_s'] * 1000:.0f} ms"
            f"   divergent worlds {s['divergent_worlds']}   "
            f"{'ok' if s['meets_target'] else 'MISSED'}")


def _write(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1, default=_plain) + "\n")
    tmp.replace(path)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value).__name__)


if __name__ == "__main__":
    sys.exit(main())
