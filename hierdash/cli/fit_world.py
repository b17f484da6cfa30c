"""Fit a simulated world: ``python -m hierdash --tasks 3 --samples 100,80,5 --method nuts``.

Every field of a simulated :class:`~hierdash.scenario.Scenario` has a flag; the report
(:func:`hierdash.summaries.report.format_report`) goes to stdout and, with ``--out DIR``,
``scenario.json``, ``data.csv``, ``weights.csv`` and ``posterior.nc`` to ``DIR``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hierdash.cli.common import CommandParser, fit_in_terminal, write_files
from hierdash.scenario import BOUNDS, CHOICES, Scenario, ScenarioError
from hierdash.scenario.text import parse_field, scenario_from_mapping

__all__ = ["FLAGS", "build_parser", "scenario_from_args", "main"]

# flag -> scenario field; every field of a simulated scenario has a flag (``source``
# is set by --data, not by hand).
FLAGS = {
    "parent-mean": "parent_mean",
    "parent-scale": "parent_scale",
    "child-spread": "child_spread",
    "noise": "noise_sd",
    "features": "n_features",
    "samples": "samples",
    "x-mean": "x_mean",
    "x-sd": "x_sd",
    "seed": "seed",
    "method": "method",
    "draws": "draws",
    "tune": "tune",
    "chains": "chains",
    "target-accept": "target_accept",
    "advi-iterations": "advi_iterations",
    "advi-learning-rate": "advi_learning_rate",
    "parameterization": "parameterization",
    "padding": "padding",
    "learn-spread": "learn_spread",
    "prior-parent-mean": "prior_parent_mean",
    "prior-parent-scale": "prior_parent_scale",
    "prior-spread-scale": "prior_spread_scale",
    "prior-noise-scale": "prior_noise_scale",
    "outlier-task": "outlier_task",
    "outlier-shift": "outlier_shift",
    "outlier-noise": "outlier_noise",
    "outcome": "outcome",
    "trials": "trials",
    "exposure": "exposure",
    "intercept": "intercept",
}


def build_parser() -> argparse.ArgumentParser:
    defaults = Scenario()
    parser = CommandParser(
        prog="python -m hierdash",
        description="Simulate a hierarchical regression world (a number, yes/no, "
        "successes of trials or a count per row), fit it and compare true with recovered "
        "weights.",
    )
    parser.add_argument("--tasks", help="number of tasks (default: as many as --samples)")
    for flag, name in FLAGS.items():
        default = getattr(defaults, name)
        if name == "samples":
            text = "sample count per task, e.g. 100,80,5, or one number for all tasks"
            default = ",".join(map(str, default))
        elif name in BOUNDS:
            text = BOUNDS[name].describe().replace("must be", "")
        elif name in CHOICES:
            text = "one of " + ", ".join(CHOICES[name])
        else:
            text = "true or false"
        parser.add_argument(f"--{flag}", dest=name, metavar="X", help=f"{text} (default {default})")
    parser.add_argument("--out", type=Path, help="write scenario.json, data.csv, weights.csv, posterior.nc here")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    values = {name: getattr(args, name) for name in FLAGS.values() if getattr(args, name) is not None}
    if args.tasks is not None:
        values["tasks"] = args.tasks
    # An outcome brings its own defaults (link-scale weights, an intercept); the other
    # flags then change them.
    base = None
    if "outcome" in values:
        base = Scenario.for_outcome(parse_field("outcome", values.pop("outcome")))
    scenario, _ = scenario_from_mapping(values, base=base)
    if scenario.outlier_task >= scenario.n_tasks:
        raise ScenarioError(
            "outlier_task", scenario.outlier_task,
            f"{BOUNDS['outlier_task'].describe()} naming one of the {scenario.n_tasks} tasks "
            f"(0 to {scenario.n_tasks - 1}), or -1 for none",
        )
    return scenario


def main(argv: list[str] | None = None) -> int:
    """Fit a simulated world; returns the exit status (0 ok, 1 stopped or not written,
    2 bad flags, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        scenario = scenario_from_args(args)
    except ScenarioError as err:
        parser.error(str(err))

    from hierdash.inference import fit
    from hierdash.summaries.report import format_report, write_outputs

    result, status = fit_in_terminal(lambda progress: fit(scenario, progress=progress),
                                     quiet=args.quiet)
    if result is None:
        return status
    print(format_report(result))
    if args.out is not None:
        return write_files(lambda: write_outputs(result, args.out), args.out)
    return 0
