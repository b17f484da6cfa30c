"""Calibration over worlds drawn from the prior: divergences, coverage, rank uniformity.

``python -m benchmarks.calibration`` draws worlds from each family's prior
(:mod:`hierdash.calibration`), fits every world with each method and
parameterization, and reports per run: worlds with divergences and divergences in
all, the share of unconverged worlds (R-hat above 1.01), the coverage of the 50% and
94% central intervals per level (parent, child, spread, noise) with its cluster Monte
Carlo standard error, a rank-uniformity p-value per level (simulation-based
calibration, Talts et al. 2018; chi-square corrected for the clustering of quantities
within a world) and the fit time per world. Every method sees the same worlds (same
seeds), so comparisons between rows are paired. It prints two tables and issue 9's
targets (MET / NOT MET) and writes ``benchmarks/results/calibration.json``.

Families (``hierdash.calibration.FAMILIES``): ``issue9`` (issue 9's ordinary worlds,
``--worlds``, default 200, with every configuration), ``wide`` and ``eight`` (3+
features, half as many worlds, ``exact`` and ``nuts-auto``), ``notebook`` (on request),
and the yes/no and count families ``bernoulli``, ``binomial`` and ``poisson`` (on
request, ``--worlds`` each: the quadrature reference and NUTS auto, centered and
non-centered).

Examples::

    python -m benchmarks.calibration                    # the full run (hours on 2 cores)
    python -m benchmarks.calibration --quick            # 20 + 10 worlds, exact and nuts-auto
    python -m benchmarks.calibration --worlds 10 --families issue9 --methods exact,nuts-auto
    python -m benchmarks.calibration --families bernoulli,binomial,poisson --worlds 100 \
        --out benchmarks/results/calibration_outcomes.json
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

# name -> run_calibration keywords
CONFIGS: dict[str, dict[str, Any]] = {
    "exact": {"method": "exact"},
    "nuts-auto": {"method": "nuts", "parameterization": "auto"},
    "nuts-centered": {"method": "nuts", "parameterization": "centered"},
    "nuts-noncentered": {"method": "nuts", "parameterization": "noncentered"},
    "nuts-auto-ta99": {"method": "nuts", "parameterization": "auto", "target_accept": 0.99},
    "nuts-noncentered-ta99": {"method": "nuts", "parameterization": "noncentered",
                              "target_accept": 0.99},
    "nuts-marginal": {"method": "nuts", "parameterization": "marginal"},
    "nuts-auto-ta80": {"method": "nuts", "parameterization": "auto", "target_accept": 0.8},
    "nuts-auto-ta90": {"method": "nuts", "parameterization": "auto", "target_accept": 0.9},
    "nuts-noncentered-ta80": {"method": "nuts", "parameterization": "noncentered",
                              "target_accept": 0.8},
    # The default before issue 9's CPU work: 1000 tuning steps (the family's tune).
    "nuts-auto-tune1000": {"method": "nuts", "parameterization": "auto", "tune": 1000},
    # The pages' own sampler settings: 2 x 1000 draws where the family's worlds keep 500
    # (more draws are more chances to diverge, and what a student sees).
    "nuts-auto-page": {"method": "nuts", "parameterization": "auto", "draws": 1000},
}
FAMILY_CONFIGS: dict[str, tuple[str, ...]] = {
    "issue9": ("exact", "nuts-auto", "nuts-centered", "nuts-noncentered", "nuts-auto-ta99",
               "nuts-noncentered-ta99", "nuts-auto-tune1000"),
    "wide": ("exact", "nuts-auto"),
    "eight": ("exact", "nuts-auto"),
    "notebook": ("exact", "nuts-auto"),
    # Yes/no and count worlds (issue 21): the quadrature reference, and NUTS auto against
    # each fixed parameterization (there is no marginal form).
    **{outcome: ("exact", "nuts-auto", "nuts-centered", "nuts-noncentered", "nuts-auto-page")
       for outcome in ("bernoulli", "binomial", "poisson")},
}
FULL_SIZE = ("issue9", "bernoulli", "binomial", "poisson")  # --worlds each; others half
DEFAULT_FAMILIES = ("issue9", "wide", "eight")
LEVELS = ("parent", "child", "spread", "noise")
FIXED = ("nuts-centered", "nuts-noncentered")  # the best of these bounds nuts-auto


def run_one(family_name: str, config: str, n_worlds: int, seed: int) -> dict[str, Any]:
    """One family and configuration over ``n_worlds`` worlds: summary and per-world rows."""
    from hierdash.calibration import get_family, run_calibration

    def progress(check, done, total):
        print(f"{family_name:8s} {config:22s} world {done:3d}/{total}: "
              f"{check.divergences:4d} divergences, {check.seconds:6.2f} s",
              file=sys.stderr, flush=True)

    start = time.perf_counter()
    settings = dict(CONFIGS[config])
    family = get_family(family_name)
    for name in ("tune", "draws"):  # sampler settings of the family's worlds
        if name in settings:
            family = dataclasses.replace(family, **{name: settings.pop(name)})
    try:
        run = run_calibration(family, n_worlds=n_worlds, seed=seed, on_world=progress,
                              **settings)
    except Exception as err:  # one broken configuration must not lose the others
        print(f"{family_name} {config}: failed: {err!r}", file=sys.stderr, flush=True)
        return {"family": family_name, "config": config, "settings": CONFIGS[config],
                "n_worlds": n_worlds, "seed": seed, "error": repr(err),
                "seconds": time.perf_counter() - start}
    worlds = [{"world": c.world, "seed": c.seed, "divergences": c.divergences,
               "max_rhat": c.max_rhat, "min_ess_bulk": c.min_ess_bulk, "seconds": c.seconds}
              for c in run.checks]
    return {"family": family_name, "config": config,
            "settings": {**run.settings, "tune": family.tune, "draws": family.draws},
            "n_worlds": n_worlds, "seed": seed, "summary": run.summary.to_dict(),
            "worlds": worlds, "seconds": time.perf_counter() - start}


def _coverage(summary: dict[str, Any], level: str, interval: float) -> dict[str, Any] | None:
    for row in summary["coverage"]:
        if row["level"] == level and math.isclose(row["interval"], interval):
            return row
    return None


def _p_value(summary: dict[str, Any], level: str) -> float | None:
    rows = [r["p_value"] for r in summary["uniformity"] if r["level"] == level]
    return rows[0] if rows else None


def _within(row: dict[str, Any] | None, n_worlds: int) -> bool:
    """Coverage within 3 Monte Carlo SEs of nominal (the SE never below the binomial
    SE of independent worlds, which a small run can underestimate)."""
    if row is None:
        return True  # the level is not in this family (e.g. a fixed spread)
    p = row["interval"]
    se = max(row["se"] or 0.0, math.sqrt(p * (1 - p) / n_worlds))
    return abs(row["coverage"] - p) < 3 * se


def format_tables(runs: list[dict[str, Any]]) -> str:
    """The overview table and the coverage table."""
    overview = [["family", "config", "worlds", "div worlds", "divergences", "unconverged",
                 "s/world", "p90 s"]]
    coverage = [["family", "config", "level", "cover 50%", "cover 94%", "rank p"]]
    for r in runs:
        if "error" in r:
            overview.append([r["family"], r["config"], "-", "failed", r["error"][:40], "", "", ""])
            continue
        s = r["summary"]
        unconverged = "-" if s["unconverged_share"] is None else f"{s['unconverged_share']:.0%}"
        overview.append([r["family"], r["config"], str(s["n_worlds"]),
                         f"{s['worlds_with_divergences']} ({s['divergent_share']:.0%})",
                         str(s["divergences"]), unconverged, f"{s['median_seconds']:.2f}",
                         f"{s['p90_seconds']:.2f}"])
        for level in LEVELS:
            cells = []
            for interval in (0.5, 0.94):
                row = _coverage(s, level, interval)
                if row is None:
                    break
                flag = "" if _within(row, s["n_worlds"]) else " !"
                se = float("nan") if row["se"] is None else row["se"]
                cells.append(f"{row['coverage']:.3f} ± {se:.3f}{flag}")
            if cells:
                p = _p_value(s, level)
                coverage.append([r["family"], r["config"], level, *cells,
                                 "-" if p is None else f"{p:.3f}"])
    return _table(overview) + "\n\n" + _table(coverage) + (
        "\n(± is the cluster Monte Carlo SE; ! marks coverage more than 3 SE from nominal)")


def _table(cells: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdicts(runs: list[dict[str, Any]]) -> list[str]:
    """Issue 9's calibration targets for ``nuts-auto`` (and ``nuts-auto-page``, the
    pages' own draws, when it ran) in each family run."""
    by = {(r["family"], r["config"]): r for r in runs if "error" not in r}
    out = []
    for (family, config), r in by.items():
        if config not in ("nuts-auto", "nuts-auto-page"):
            continue
        s = r["summary"]
        n = s["n_worlds"]
        allowed = math.floor(0.02 * n)
        ok = s["worlds_with_divergences"] <= allowed
        out.append(f"[{'MET' if ok else 'NOT MET'}] {family}: {config} diverges in at most "
                   f"2% of worlds: {s['worlds_with_divergences']} of {n} (allowed {allowed})")
        fixed = [by[(family, f)]["summary"]["worlds_with_divergences"]
                 for f in FIXED if (family, f) in by]
        if fixed and config == "nuts-auto":  # the fixed ones ran at the same draws
            ok = s["worlds_with_divergences"] <= min(fixed)
            out.append(f"[{'MET' if ok else 'NOT MET'}] {family}: nuts-auto diverges in no more "
                       f"worlds than the best fixed parameterization: "
                       f"{s['worlds_with_divergences']} against {min(fixed)}")
        bad = [f"{level} {interval:.0%}" for level in LEVELS for interval in (0.5, 0.94)
               if not _within(_coverage(s, level, interval), n)]
        out.append(f"[{'MET' if not bad else 'NOT MET'}] {family}: {config}'s 50% and 94% "
                   f"coverage within 3 MC SE of nominal"
                   + (f" (off: {', '.join(bad)})" if bad else ""))
    return out


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _names(text: str, known: dict[str, Any], flag: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise SystemExit(f"{flag} = {text!r} is not allowed: must be a comma-separated list "
                         f"of {', '.join(known)}")
    return names


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.calibration",
                                description=__doc__.split("\n")[0])
    p.add_argument("--worlds", type=int, default=None,
                   help="worlds of the issue9 family (default 200; 20 with --quick); "
                        "other families get half as many")
    p.add_argument("--families", default=",".join(DEFAULT_FAMILIES),
                   help=f"comma-separated families (default {','.join(DEFAULT_FAMILIES)})")
    p.add_argument("--methods", default=None,
                   help=f"comma-separated configurations for every family, of "
                        f"{', '.join(CONFIGS)} (default: each family's own list)")
    p.add_argument("--quick", action="store_true",
                   help="20 issue9 worlds, exact and nuts-auto only: a few minutes")
    p.add_argument("--seed", type=int, default=1, help="seed of the worlds (default 1)")
    p.add_argument("--out", type=Path, default=RESULTS / "calibration.json")
    args = p.parse_args(argv)
    if args.worlds is not None and args.worlds < 2:
        p.error(f"--worlds = {args.worlds} is not allowed: must be 2 or more")
    worlds = args.worlds or (20 if args.quick else 200)
    families = _names(args.families, FAMILY_CONFIGS, "--families")
    methods = _names(args.methods, CONFIGS, "--methods") if args.methods else None
    if args.quick and methods is None:
        methods = ["exact", "nuts-auto"]

    start = time.perf_counter()
    runs = []
    for family in families:
        n_worlds = worlds if family in FULL_SIZE else max(2, worlds // 2)
        for config in methods or FAMILY_CONFIGS[family]:
            runs.append(run_one(family, config, n_worlds, args.seed))
    print(format_tables(runs))
    print()
    found = verdicts(runs)
    for line in found:
        print(line)
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "HEAD"),
        # The engine measured is the working tree's: name its changes against the commit.
        "uncommitted_engine_files": (_git("status", "--porcelain", "--", "hierdash") or "")
        .splitlines(),
        "python": platform.python_version(),
        "machine": platform.platform(), "argv": sys.argv[1:] if argv is None else argv,
        "seed": args.seed, "seconds": time.perf_counter() - start,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "runs": runs, "verdicts": found}, indent=1))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
