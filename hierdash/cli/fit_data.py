"""Fit a table of your own: ``python -m hierdash --data FILE --group COL ...``.

Any outcome: a number (the default), ``--outcome bernoulli`` (yes/no, 0 or 1),
``--outcome binomial --trials COL`` (successes of trials) or ``--outcome poisson
[--exposure COL]`` (counts). Without ``--x`` each group has only its intercept (one mean,
probability or rate per group). Built in: ``--data radon`` and ``--data rats`` (the rat
tumours of *Bayesian Data Analysis*, binomial, intercept only).

The dispatcher (:mod:`hierdash.cli.dispatch`) hands every command line with ``--data``
or ``--example`` to :func:`main`. It reads the table
(:func:`hierdash.own_data.reading.read_table`), splits it into groups, fits them
(:func:`hierdash.own_data.fit_table.fit_groups`), prints the weights by group name and,
with ``--out DIR``, writes ``weights.csv`` and ``data.csv`` (escaped against spreadsheet
formulas), ``settings.json`` (the priors and their rule too) and ``posterior.nc``. Bad
input exits with status 2 and one line; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from pathlib import Path

from hierdash.cli.common import CommandParser, fit_in_terminal, write_files
from hierdash.own_data.formula import formula
from hierdash.own_data.grouped import PRIOR_FIELDS, default_priors, prepare_groups, prior_fields
from hierdash.own_data.reading import DataError, read_table
from hierdash.scenario import BOUNDS, CHOICES, ScenarioError

__all__ = ["EXAMPLES", "build_parser", "main"]

EXAMPLES = ("radon", "rats")
_FIT_FLAGS = {"draws": "draws", "tune": "tune", "chains": "chains",
              "target-accept": "target_accept", "seed": "seed"}


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="python -m hierdash --data",
        description="Fit a grouped table of your own: one task per group, no, complete "
        "and partial pooling compared.",
    )
    parser.add_argument("--data", metavar="FILE",
                        help="a CSV file (any delimiter or encoding), or 'radon' (Minnesota "
                        "radon) or 'rats' (rat tumours, binomial) for a built-in example")
    parser.add_argument("--example", choices=EXAMPLES, help="a built-in example table")
    parser.add_argument("--group", metavar="COL", help="the column naming the groups")
    parser.add_argument("--y", metavar="COL", help="the outcome column")
    parser.add_argument("--x", metavar="COL[,COL...]", default=None,
                        help="feature columns, comma-separated (none: varying intercepts)")
    parser.add_argument("--outcome", choices=CHOICES["outcome"], default=None,
                        help="what y is: gaussian (a number, the default), bernoulli (yes/no, "
                        "0 or 1), binomial (successes of --trials) or poisson (a count, over "
                        "--exposure if given)")
    parser.add_argument("--trials", metavar="COL", default=None,
                        help="the column of trials per row (binomial only)")
    parser.add_argument("--exposure", metavar="COL", default=None,
                        help="the column of exposure per row (poisson only; 1 without it)")
    parser.add_argument("--no-intercept", action="store_true",
                        help="no intercept (by default each group has its own)")
    parser.add_argument("--standardise", "--standardize", action="store_true",
                        help="rescale the features to mean 0, sd 1 before fitting; the "
                        "weights are reported on the original scale")
    parser.add_argument("--missing", choices=("drop", "refuse"), default="drop",
                        help="rows with a missing value: drop them (counted) or refuse")
    parser.add_argument("--method", choices=CHOICES["method"], default="exact",
                        help="inference method (default exact)")
    parser.add_argument("--parameterization", choices=CHOICES["parameterization"],
                        default="auto", help="sampler parameterization (default auto)")
    for flag, name in _FIT_FLAGS.items():
        parser.add_argument(f"--{flag}", dest=name, metavar="X",
                            help=BOUNDS[name].describe().replace("must be ", ""))
    for name in PRIOR_FIELDS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="X",
                            help=f"{BOUNDS[name].describe().replace('must be ', '')} "
                            "(default: from the data, see settings.json)")
    parser.add_argument("--compare", action="store_true",
                        help="also compare no, complete and partial pooling by exact "
                        "leave-one-out prediction (writes pooling.csv with --out)")
    parser.add_argument("--out", type=Path, help="write weights.csv, data.csv, "
                        "settings.json and posterior.nc here")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def _number(name: str, text: str):
    bound = BOUNDS[name]
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(name, text, bound.describe()) from None
    return int(value) if bound.integer and value.is_integer() else value


def _printable(text: str) -> str:
    """Text safe for a terminal: control characters (escape sequences) become '?'."""
    return "".join("?" if unicodedata.category(c) == "Cc" else c for c in text)


def _source(args, parser) -> tuple[str, object, dict]:
    """(what to call the source, the bytes or path to read, default columns)."""
    from hierdash.own_data.datasets import EXAMPLES as TABLES

    if args.example and args.data:
        parser.error("give --data or --example, not both")
    name = args.example or args.data
    if name is None:
        parser.error("--data needs a file name (or 'radon' or 'rats')")
    if name in EXAMPLES and not Path(name).is_file():
        read, defaults = TABLES[name]
        return f"example:{name}", read(), defaults
    return name, Path(name), {}


def main(argv: list[str] | None = None) -> int:
    """Fit a table of your own; returns the exit status (0 ok, 1 stopped or not written,
    130 interrupted); bad input exits 2 with one line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    source_name, source, defaults = _source(args, parser)
    group = args.group or defaults.get("group")
    y = args.y or defaults.get("y")
    if group is None or y is None:
        parser.error("--group and --y are required (the group column and the outcome)")
    if args.x is not None:
        x = [c.strip() for c in args.x.split(",") if c.strip()]
    else:
        x = list(defaults.get("x", ()))
    outcome = args.outcome or defaults.get("outcome", "gaussian")
    # The example's trials or exposure column, unless another outcome was asked for.
    same = outcome == defaults.get("outcome", "gaussian")
    trials = args.trials or (defaults.get("trials") if same else None)
    exposure = args.exposure or (defaults.get("exposure") if same else None)

    from hierdash.own_data.fit_table import data_scenario

    try:
        frame = read_table(source)
        grouped = prepare_groups(frame, group=group, y=y, x=x,
                                 intercept=not args.no_intercept,
                                 standardise=args.standardise, missing=args.missing,
                                 outcome=outcome, trials=trials, exposure=exposure)
        fit_settings = {name: _number(name, getattr(args, name))
                        for name in _FIT_FLAGS.values() if getattr(args, name) is not None}
        priors = {name: _number(name, getattr(args, name))
                  for name in PRIOR_FIELDS if getattr(args, name) is not None}
        scenario = data_scenario(grouped, method=args.method, priors=priors,
                                 parameterization=args.parameterization, **fit_settings)
    except (DataError, ScenarioError) as err:
        parser.error(str(err))
    rule = default_priors(grouped)["rule"]
    if priors:
        rule += " Set by hand: " + ", ".join(f"{k} = {v:g}" for k, v in priors.items()) + "."
    return _fit_and_report(args, grouped, scenario, source_name, rule)


def _fit_and_report(args, grouped, scenario, source_name, rule) -> int:
    from hierdash.own_data.fit_table import fit_groups

    own, status = fit_in_terminal(
        lambda progress: fit_groups(grouped, scenario, progress=progress), quiet=args.quiet)
    if own is None:
        return status
    comparison = None
    if args.compare:
        from hierdash.own_data.loo import compare_pooling

        comparison = compare_pooling(grouped, priors={
            k: getattr(scenario, k) for k in prior_fields(grouped.outcome)})
    print(format_report(own, rule, comparison))
    if args.out is not None:
        return write_files(lambda: write_outputs(own, args.out, rule=rule, source=source_name,
                                                 comparison=comparison), args.out)
    return 0


def format_report(own, rule: str, comparison=None) -> str:
    """The weights by group, the scales, the notes and the timings, as text."""
    grouped, result = own.grouped, own.result
    sc = result.scenario
    noise = f", noise HalfNormal({sc.prior_noise_scale:g})" if grouped.is_gaussian else ""
    kind = "" if grouped.is_gaussian else f" ({_OUTCOME_TEXT[grouped.outcome]}" + (
        f" of {grouped.size_column})" if grouped.size_column else ")")
    lines = [
        f"{grouped.n_groups} groups ({grouped.group_column}), {grouped.n_rows} rows, "
        f"outcome {grouped.outcome_column}{kind}, weights {', '.join(grouped.feature_names)}"
        f"{' (standardised; shown on the original scale)' if grouped.standardised else ''}; "
        f"method {result.scenario.method}",
        *(f"note: {note}" for note in grouped.notes),
        f"priors: parent Normal({sc.prior_parent_mean:g}, {sc.prior_parent_scale:g}), "
        f"spread HalfNormal({sc.prior_spread_scale:g}){noise}. {rule}",
        "",
    ]
    if not grouped.is_gaussian:
        lines.insert(1, f"model: {formula(grouped)}")
    columns = ["level", "group", "n", "feature", "mean", "sd", "ci_low", "ci_high",
               "no_pooling", "complete_pooling"]
    if not grouped.is_gaussian:
        columns += ["natural_scale", "natural_mean", "natural_low", "natural_high"]
    table = own.weights[columns].copy()
    table["group"] = [_printable(g) if g else "-" for g in table["group"]]
    lines.append(table.to_string(index=False, float_format=lambda v: f"{v:8.3f}"))
    lines += ["", own.scales.to_string(index=False, float_format=lambda v: f"{v:8.3f}")]
    if comparison is not None:
        how = ("exact" if grouped.is_gaussian else "PSIS" if "bad_k" in comparison
               else "refitted (exact up to the quadrature)")
        lines += ["", f"{how} leave-one-out comparison (elpd: higher predicts new rows better):",
                  comparison.to_string(index=False, float_format=lambda v: f"{v:10.2f}")]
    d = result.diagnostics
    parts = [f"compile {result.compile_s:.2f} s", f"sample {result.sample_s:.2f} s",
             f"total {result.total_s:.2f} s", f"divergences {d.divergences}"]
    if d.max_rhat is not None:
        parts.append(f"max R-hat {d.max_rhat:.3f}")
    if d.min_ess_bulk is not None:
        parts.append(f"min ESS bulk {d.min_ess_bulk:.0f}")
    lines += ["", "diagnostics: " + "; ".join(parts)]
    lines += [f"warning: {_printable(w)}" for w in own.warnings()]
    return "\n".join(lines)


_OUTCOME_TEXT = {"bernoulli": "yes/no", "binomial": "successes", "poisson": "counts"}


def write_outputs(own, out: Path, *, rule: str, source: str, comparison=None) -> list[Path]:
    """Write ``weights.csv``, ``data.csv``, ``settings.json``, ``posterior.nc`` (and
    ``pooling.csv`` with a comparison) into ``out``; returns the paths written."""
    from hierdash.classroom.csv_safe import safe_csv
    from hierdash.own_data.fit_table import labelled_posterior, settings_dict

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "weights.csv": safe_csv(own.weights),
        "data.csv": safe_csv(own.grouped.rows),
        "settings.json": json.dumps(settings_dict(own, rule=rule, source=source), indent=2)
        + "\n",
    }
    if comparison is not None:
        texts["pooling.csv"] = safe_csv(comparison)
    written = []
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    path = out / "posterior.nc"
    labelled_posterior(own).to_netcdf(path, engine="h5netcdf")
    written.append(path)
    return written
