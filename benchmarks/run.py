"""Benchmarks of hierdash's inference methods on fixed worlds.

``python -m benchmarks`` fits each world with each method, once cold (the first fit of
that world and method in this process, before any warm run: for ``nuts`` that is the
compile of the model) and then ``--repeats`` times warm, the methods interleaved within
each repeat so that machine noise hits all alike. It prints a table of medians and the
issue's targets (MET / NOT MET), and writes the rows to ``benchmarks/results/latest.json``
(and the run's context, the raw runs and the targets to ``latest.meta.json`` beside it).

Every time is ``time.perf_counter`` wall time:

- ``end_to_end_s``: the call ``fit(scenario)``, from the scenario to the tidy tables;
- ``compile_s``, ``sample_s``: as the engine reports them (``FitResult``);
- ``min_ess``: the smallest bulk ESS over the real tasks' child weights (computed from
  the draws for every method, also the independent draws of ``exact`` and ADVI);
- ``ess_per_s``: ``min_ess / sample_s``;
- ``max_abs_z``: the largest ``|mean - exact_mean| / exact_sd`` over all weights;
- ``x_seed_advi``: the seed notebook's ``pm.fit(100000)`` (``seed_advi``, PyMC called
  directly, :mod:`benchmarks.advi_rows`) end to end on the same world over the row's.

Examples::

    python -m benchmarks --quick                  # a few minutes: default world only
    python -m benchmarks                          # all worlds, 5 repeats (15-25 min)
    python -m benchmarks --worlds default --methods advi,fullrank_advi,seed_advi
    python -m benchmarks --worlds default --methods nuts,exact --repeats 10
    python -m benchmarks --profile                # cProfile of warm exact and nuts fits
    python -m benchmarks --quick --cold-disk-cache  # a truly cold compile (empty caches)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.advi_rows import PM_FIT_METHODS, add_seed_ratios, advi_targets

RESULTS = Path(__file__).resolve().parent / "results"

# The fixed worlds: the default, 20 tasks of 5 to 200 rows, 50 tasks of 200 rows.
WORLDS: dict[str, dict[str, Any]] = {
    "default": {},
    "twenty": {"samples": tuple(int(n) for n in np.linspace(5, 200, 20).round())},
    "fifty": {"samples": (200,) * 50},
}

# Benchmark method name -> the scenario fields that select it. seed_advi is the
# notebook's own pm.fit(100000), PyMC called directly (PM_FIT_METHODS) on the model the
# compiled ADVI loop fits.
METHODS: dict[str, dict[str, Any]] = {
    "exact": {"method": "exact"},
    "nuts": {"method": "nuts"},
    "pymc_nuts": {"method": "pymc_nuts"},
    "advi": {"method": "advi"},
    "fullrank_advi": {"method": "fullrank_advi"},
    "seed_advi": {"method": "advi"},
}
DEFAULT_METHODS = ("nuts", "exact", "pymc_nuts", "advi", "fullrank_advi", "seed_advi")
SLOW = frozenset({"pymc_nuts", "seed_advi"})
# Methods that only run on the default world unless named in --methods: the targets
# need seed_advi there only, and each of its fits takes about a minute.
DEFAULT_WORLD_ONLY = frozenset({"seed_advi"})

NUMERIC = ("compile_s", "sample_s", "end_to_end_s", "fit_total_s", "min_ess", "ess_per_s",
           "max_abs_z", "divergences", "iterations")


# ---------------------------------------------------------------------------
# Disk caches (pytensor's C compiledir and its numba cache)
# ---------------------------------------------------------------------------
def base_compiledir() -> Path:
    """PyTensor's base_compiledir, without importing pytensor (that would warm us up)."""
    if "pytensor" in sys.modules:
        from pytensor import config

        return Path(config.base_compiledir)
    for item in os.environ.get("PYTENSOR_FLAGS", "").split(","):
        name, _, value = item.partition("=")
        if name.strip() == "base_compiledir" and value:
            return Path(value.strip()).expanduser()
    return Path.home() / ".pytensor"


def cache_state(base: Path) -> dict[str, Any]:
    """How warm the disk caches are: files in the numba cache, C modules compiled."""
    numba_dir = base / "numba"
    numba_files = list(numba_dir.glob("*.nbi")) if numba_dir.is_dir() else []
    numba_bytes = sum(f.stat().st_size for f in numba_dir.glob("*")) if numba_dir.is_dir() else 0
    c_modules = 0
    if base.is_dir():
        for sub in base.glob("compiledir_*"):
            c_modules += sum(1 for _ in sub.glob("tmp*"))
    return {
        "base_compiledir": str(base),
        "numba_cache_entries": len(numba_files),
        "numba_cache_mb": round(numba_bytes / 1e6, 1),
        "c_compiledir_modules": c_modules,
        "warm": bool(numba_files) or c_modules > 0,
    }


# ---------------------------------------------------------------------------
# One measured fit
# ---------------------------------------------------------------------------
def scenario_for(world: str, method: str):
    from hierdash.scenario import Scenario

    return Scenario(**WORLDS[world], **METHODS[method])


def child_min_ess(result) -> float:
    """Smallest bulk ESS over the real tasks' child weights."""
    import arviz as az

    draws = result.posterior["posterior"].to_dataset()[["child"]]
    ess = np.asarray(az.ess(draws, method="bulk")["child"].values, dtype=float)
    return float(np.nanmin(ess))


def measure(world: str, method: str) -> dict[str, Any]:
    """Fit ``world`` with ``method`` once and return the measurements."""
    from contextlib import nullcontext

    from benchmarks.pm_fit import pm_fit_runner, runner_replaced
    from hierdash.inference import fit
    from hierdash.inference.models.advi_kernel import advi_steps
    from hierdash.inference.models.compiled import NUTPIE_CACHE

    scenario = scenario_for(world, method)
    replaced = (runner_replaced(scenario.method, pm_fit_runner(**PM_FIT_METHODS[method]))
                if method in PM_FIT_METHODS else nullcontext())
    gc.collect()
    compilations = NUTPIE_CACHE.compilations + len(advi_steps.signatures)
    with replaced:
        start = time.perf_counter()
        result = fit(scenario)
        end_to_end = time.perf_counter() - start
    min_ess = child_min_ess(result)
    z = np.abs(result.weights["z_vs_exact"].to_numpy(dtype=float))
    return {
        "compile_s": float(result.compile_s),
        "sample_s": float(result.sample_s),
        "end_to_end_s": end_to_end,
        "fit_total_s": float(result.total_s),
        "min_ess": min_ess,
        "ess_per_s": min_ess / result.sample_s if result.sample_s > 0 else None,
        "max_abs_z": float(np.nanmax(z)),
        "divergences": int(result.diagnostics.divergences),
        "max_rhat": result.diagnostics.max_rhat,
        "iterations": None if result.diagnostics.elbo is None else len(result.diagnostics.elbo),
        "new_compilations": NUTPIE_CACHE.compilations + len(advi_steps.signatures) - compilations,
    }


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(statistics.median(values)) if values else None


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (world, method, phase): medians of the runs."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["world"], run["method"], run["phase"]), []).append(run)
    rows = []
    for (world, method, phase), group in groups.items():
        row: dict[str, Any] = {"world": world, "method": method, "phase": phase,
                               "n": len(group)}
        for name in NUMERIC:
            row[name] = _median([g[name] for g in group])
        row["end_to_end_runs"] = [round(g["end_to_end_s"], 4) for g in group]
        row["new_compilations"] = sum(g["new_compilations"] for g in group)
        row["first_in_process"] = any(g["first_in_process"] for g in group)
        row["disk_cache_warm"] = group[0]["disk_cache_warm"]
        rows.append(row)
    order = {"cold": 0, "warm": 1}
    worlds, methods = list(WORLDS), list(METHODS)
    rows.sort(key=lambda r: (worlds.index(r["world"]), methods.index(r["method"]),
                             order[r["phase"]]))
    add_seed_ratios(rows)
    return rows


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------
def _pick(rows, world, method):
    """The warm row of (world, method), else its cold row (a single run), else None."""
    found = {r["phase"]: r for r in rows if r["world"] == world and r["method"] == method}
    return found.get("warm") or found.get("cold")


def _src(row) -> str:
    return "" if row["phase"] == "warm" else " [cold row: single run]"


def evaluate_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target of the issue with its measured value and verdict."""
    out: list[dict[str, Any]] = []

    def add(name, met, value, detail):
        status = "NOT RUN" if met is None else ("MET" if met else "NOT MET")
        out.append({"target": name, "status": status, "value": value, "detail": detail})

    def e2e(world, method):
        return _pick(rows, world, method)

    for world, limit in (("default", 0.05), ("fifty", 1.0)):
        r = e2e(world, "exact")
        name = f"exact on {world}: end to end < {limit * 1000:g} ms"
        if r is None:
            add(name, None, None, "not run")
        else:
            v = r["end_to_end_s"]
            add(name, v < limit, v, f"{v * 1000:.1f} ms{_src(r)}")

    nuts = e2e("default", "nuts")
    name = "nuts on default, warm cache: end to end < 500 ms"
    if nuts is None or nuts["phase"] != "warm":
        add(name, None, None, "no warm nuts run")
    else:
        v = nuts["end_to_end_s"]
        add(name, v < 0.5, v, f"{v * 1000:.0f} ms (sample {nuts['sample_s'] * 1000:.0f} ms)")

    fifty = e2e("fifty", "nuts")
    name = "nuts on fifty, warm cache: no slower than before issue 9 (2.434 s end to end)"
    if fifty is None or fifty["phase"] != "warm":
        add(name, None, None, "no warm nuts run on fifty")
    else:
        v = fifty["end_to_end_s"]
        add(name, v <= 2.434, v, f"{v:.3f} s (sample {fifty['sample_s']:.3f} s)")

    pymc = e2e("default", "pymc_nuts")
    name = "nuts >= 10x faster than pymc_nuts on default (end to end)"
    if nuts is None or pymc is None:
        add(name, None, None, "not run")
    else:
        ratio = pymc["end_to_end_s"] / nuts["end_to_end_s"]
        add(name, ratio >= 10, ratio,
            f"{ratio:.1f}x ({pymc['end_to_end_s']:.2f} s / {nuts['end_to_end_s']:.3f} s)"
            f"{_src(pymc)}")

    seed = e2e("default", "seed_advi")
    name = "nuts >= 40x faster than seed_advi (100k iter) at equal or better accuracy"
    if nuts is None or seed is None:
        add(name, None, None, "not run")
    else:
        ratio = seed["end_to_end_s"] / nuts["end_to_end_s"]
        accurate = nuts["max_abs_z"] <= seed["max_abs_z"]
        add(name, ratio >= 40 and accurate, ratio,
            f"{ratio:.1f}x ({seed['end_to_end_s']:.1f} s / {nuts['end_to_end_s']:.3f} s); "
            f"max|z| vs exact: nuts {nuts['max_abs_z']:.3f}, seed_advi "
            f"{seed['max_abs_z']:.3f} ({'equal or better' if accurate else 'worse'})"
            f"{_src(seed)}")

    exact = e2e("default", "exact")
    name = "exact >= 1000x faster than seed_advi on default"
    if exact is None or seed is None:
        add(name, None, None, "not run")
    else:
        ratio = seed["end_to_end_s"] / exact["end_to_end_s"]
        add(name, ratio >= 1000, ratio,
            f"{ratio:.0f}x ({seed['end_to_end_s']:.1f} s / {exact['end_to_end_s'] * 1000:.1f} ms)"
            f"{_src(seed)}")

    for world in WORLDS:
        n, p = e2e(world, "nuts"), e2e(world, "pymc_nuts")
        if world != "default" and (n is None or p is None):
            continue
        name = f"ESS/s of nuts >= 10x pymc_nuts on {world}"
        if n is None or p is None or not n["ess_per_s"] or not p["ess_per_s"]:
            add(name, None, None, "not run")
            continue
        ratio = n["ess_per_s"] / p["ess_per_s"]
        add(name, ratio >= 10, ratio,
            f"{ratio:.1f}x ({n['ess_per_s']:.0f} / {p['ess_per_s']:.0f} ESS/s; min ESS "
            f"{n['min_ess']:.0f} in {n['sample_s']:.2f} s vs {p['min_ess']:.0f} in "
            f"{p['sample_s']:.1f} s){_src(p)}")

    out += advi_targets(rows)
    for r in rows:
        if r["phase"] == "cold" and r["method"] == "nuts":
            where = "first fit in this process" if r["first_in_process"] else \
                "first fit of this model shape (not the first fit in the process)"
            out.append({
                "target": f"cold start: nuts on {r['world']}",
                "status": "INFO",
                "value": r["end_to_end_s"],
                "detail": f"compile {r['compile_s']:.1f} s, end to end {r['end_to_end_s']:.1f} s, "
                          f"then warm {_warm_e2e(rows, r['world'], 'nuts')}; {where}; disk "
                          f"caches {'warm' if r['disk_cache_warm'] else 'cold (empty)'}",
            })
    return out


def _warm_e2e(rows, world, method) -> str:
    for r in rows:
        if (r["world"], r["method"], r["phase"]) == (world, method, "warm"):
            return f"{r['end_to_end_s']:.3f} s"
    return "n/a"


# ---------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------
def _fmt(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "s":
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    if kind == "int":
        return f"{value:.0f}"
    if kind == "x":
        return f"{value:.1f}x" if value < 100 else f"{value:.0f}x"
    return f"{value:.3f}"


def format_table(rows: list[dict[str, Any]]) -> str:
    head = ("world", "method", "phase", "n", "compile_s", "sample_s", "end_to_end_s",
            "min_ess", "ess_per_s", "max_abs_z", "iterations", "x_seed_advi")
    kinds = ("", "", "", "", "s", "s", "s", "int", "int", "z", "int", "x")
    lines = [[str(h) for h in head]]
    for r in rows:
        lines.append([r["world"], r["method"], r["phase"], str(r["n"])]
                     + [_fmt(r[h], k) for h, k in zip(head[4:], kinds[4:], strict=True)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for i, line in enumerate(lines):
        cells = [c.ljust(w) if j < 3 else c.rjust(w)
                 for j, (c, w) in enumerate(zip(line, widths, strict=True))]
        out.append("  ".join(cells))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def format_targets(targets: list[dict[str, Any]]) -> str:
    lines = ["targets"]
    for t in targets:
        lines.append(f"  [{t['status']}] {t['target']}: {t['detail']}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
def plan(worlds, methods, methods_given: bool):
    """(world, method) pairs to run, in order."""
    pairs = []
    for world in worlds:
        for method in methods:
            if method in DEFAULT_WORLD_ONLY and world != "default" and not methods_given:
                continue
            pairs.append((world, method))
    return pairs


def run(args) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    log = (lambda *a: None) if args.silent else (lambda *a: print(*a, file=sys.stderr,
                                                                  flush=True))
    base = base_compiledir()
    cache_before = cache_state(base)
    started = dt.datetime.now().isoformat(timespec="seconds")
    load_before = os.getloadavg()
    t_import = time.perf_counter()
    import hierdash.inference  # noqa: F401  (pymc, nutpie and arviz load lazily in fit)

    import_s = time.perf_counter() - t_import

    pairs = plan(args.worlds, args.methods, args.methods_given)
    runs: list[dict[str, Any]] = []
    first = [True]
    total_fits = len(pairs) + sum(
        args.warm_repeats(method) for _, method in pairs
    )
    count = [0]

    def one(world, method, phase, repeat):
        count[0] += 1
        m = measure(world, method)
        m.update(world=world, method=method, phase=phase, repeat=repeat,
                 first_in_process=first[0], disk_cache_warm=cache_before["warm"])
        first[0] = False
        runs.append(m)
        log(f"[{count[0]}/{total_fits}] {world:8s} {method:13s} {phase} r{repeat}: "
            f"end to end {m['end_to_end_s']:.3f} s (compile {m['compile_s']:.2f}, "
            f"sample {m['sample_s']:.3f}), min ESS {m['min_ess']:.0f}, "
            f"max|z| {m['max_abs_z']:.3f}")

    log(f"benchmark: {len(pairs)} world/method pairs, {total_fits} fits; disk caches "
        f"{'warm' if cache_before['warm'] else 'cold'} ({cache_before['numba_cache_entries']} "
        f"numba entries in {base})")
    # Cold: the first fit of every (world, method) before any warm run.
    for world, method in pairs:
        one(world, method, "cold", 0)
    # Warm: repeats, methods interleaved (rotated each repeat) within each world.
    max_repeats = max((args.warm_repeats(m) for _, m in pairs), default=0)
    for repeat in range(1, max_repeats + 1):
        for world in args.worlds:
            here = [m for w, m in pairs if w == world and args.warm_repeats(m) >= repeat]
            if not here:
                continue
            shift = (repeat - 1) % len(here)
            for method in here[shift:] + here[:shift]:
                one(world, method, "warm", repeat)

    rows = summarise(runs)
    meta = {
        "command": " ".join([Path(sys.executable).name, "-m", "benchmarks", *sys.argv[1:]]),
        "started": started,
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "versions": _versions(),
        "import_hierdash_inference_s": import_s,
        "disk_cache_before": cache_before,
        "disk_cache_after": cache_state(base_compiledir()),
        "worlds": {w: _world_fields(w) for w in args.worlds},
        "methods": {m: METHODS[m] for m in args.methods},
        "pm_fit": {m: PM_FIT_METHODS[m] for m in args.methods if m in PM_FIT_METHODS},
        "repeats": args.repeats,
        "slow_repeats": args.slow_repeats,
        "runs": runs,
    }
    return rows, meta


def _world_fields(world: str) -> dict[str, Any]:
    from hierdash.scenario import Scenario

    s = Scenario(**WORLDS[world])
    return {"n_tasks": s.n_tasks, "samples": list(s.samples), "n_features": s.n_features,
            "draws": s.draws, "tune": s.tune, "chains": s.chains}


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("pymc", "pytensor", "nutpie", "numba", "arviz", "numpy", "scipy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "-"
    return out


def profile(args) -> None:
    """cProfile one warm fit of each method on each world; print the top costs."""
    import cProfile
    import pstats

    from hierdash.inference import fit

    for world in args.worlds:
        for method in args.methods:
            scenario = scenario_for(world, method)
            fit(scenario)  # warm: compile, imports, first-call costs
            gc.collect()
            prof = cProfile.Profile()
            start = time.perf_counter()
            prof.enable()
            fit(scenario)
            prof.disable()
            wall = time.perf_counter() - start
            print(f"\n=== profile: {method} on {world}, warm, {wall * 1000:.0f} ms wall "
                  "(profiler overhead included) ===")
            stats = pstats.Stats(prof)
            stats.strip_dirs()
            for key in ("cumulative", "tottime"):
                print(f"--- top {args.profile_top} by {key} ---")
                stats.sort_stats(key).print_stats(args.profile_top)


class _Args(argparse.Namespace):
    def warm_repeats(self, method: str) -> int:
        if method == "seed_advi" and self.quick:
            return 0  # --quick: seed_advi's 100k iterations run once (the cold row)
        return self.slow_repeats if method in SLOW else self.repeats


def parse_args(argv: list[str] | None = None) -> _Args:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark hierdash's inference methods on fixed worlds.",
    )
    p.add_argument("--quick", action="store_true",
                   help="a few minutes: the default world, 3 repeats (1 for pymc_nuts), "
                        "seed_advi run once")
    p.add_argument("--worlds", help=f"comma-separated, of {', '.join(WORLDS)} (default: all; "
                                    "--quick: default)")
    p.add_argument("--methods", help=f"comma-separated, of {', '.join(METHODS)} (default: "
                                     f"{','.join(DEFAULT_METHODS)}; seed_advi then runs on "
                                     "the default world only)")
    p.add_argument("--repeats", type=int, help="warm repeats per method (default 5; --quick 3)")
    p.add_argument("--slow-repeats", type=int,
                   help="warm repeats of pymc_nuts and seed_advi (default: --repeats; "
                        "--quick 1)")
    p.add_argument("--out", type=Path, default=RESULTS / "latest.json",
                   help="rows as JSON (default benchmarks/results/latest.json); the context "
                        "and raw runs go to <out stem>.meta.json")
    p.add_argument("--cold-disk-cache", action="store_true",
                   help="point pytensor's base_compiledir (C and numba caches) at an empty "
                        "temporary directory, for a truly cold compile")
    p.add_argument("--profile", action="store_true",
                   help="instead of benchmarking, cProfile one warm fit of each method "
                        "(default exact,nuts) on each world (default: default)")
    p.add_argument("--profile-top", type=int, default=25)
    p.add_argument("--seed-iterations", type=int, default=PM_FIT_METHODS["seed_advi"]["iterations"],
                   help="seed_advi's pm.fit steps (default the seed's 100000; fewer only to "
                        "try the benchmark out)")
    p.add_argument("--silent", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv, namespace=_Args())

    def names(text, known, default):
        if text is None:
            return list(default)
        items = [x.strip() for x in text.split(",") if x.strip()]
        bad = [x for x in items if x not in known]
        if bad or not items:
            p.error(f"unknown {bad or text!r}; known: {', '.join(known)}")
        return items

    args.methods_given = args.methods is not None
    if args.seed_iterations < 1:
        p.error("--seed-iterations must be >= 1")
    PM_FIT_METHODS["seed_advi"]["iterations"] = args.seed_iterations
    if args.profile:
        args.worlds = names(args.worlds, WORLDS, ["default"])
        args.methods = names(args.methods, METHODS, ["exact", "nuts"])
        return args
    args.worlds = names(args.worlds, WORLDS, ["default"] if args.quick else WORLDS)
    args.methods = names(args.methods, METHODS, DEFAULT_METHODS)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.slow_repeats is None:
        args.slow_repeats = 1 if args.quick else args.repeats
    if args.repeats < 0 or args.slow_repeats < 0:
        p.error("repeats must be >= 0")
    return args


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n")
    tmp.replace(path)


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmpdir = None
    if args.cold_disk_cache:
        if "pytensor" in sys.modules:
            raise SystemExit("--cold-disk-cache must be set before pytensor is imported")
        tmpdir = tempfile.mkdtemp(prefix="hierdash-bench-cache-")
        flags = [f for f in os.environ.get("PYTENSOR_FLAGS", "").split(",")
                 if f and not f.startswith("base_compiledir")]
        os.environ["PYTENSOR_FLAGS"] = ",".join([*flags, f"base_compiledir={tmpdir}"])
    try:
        if args.profile:
            profile(args)
            return 0
        rows, meta = run(args)
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
    targets = evaluate_targets(rows)
    meta["targets"] = targets
    print(format_table(rows))
    print()
    print(format_targets(targets))
    print()
    cache = meta["disk_cache_before"]
    print(f"disk caches before the run: {'warm' if cache['warm'] else 'cold'} "
          f"({cache['numba_cache_entries']} numba entries, {cache['numba_cache_mb']} MB, "
          f"{cache['c_compiledir_modules']} C modules in {cache['base_compiledir']}); "
          f"load average {meta['load_average_before']} -> {meta['load_average_after']} on "
          f"{meta['cpu_count']} CPUs")
    out = args.out
    _write_json(out, rows)
    meta_path = out.with_name(out.stem + ".meta.json")
    _write_json(meta_path, meta)
    print(f"wrote {out} and {meta_path}")
    return 0
