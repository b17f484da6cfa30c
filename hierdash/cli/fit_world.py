"""Command line: ``python -m hierdash --tasks 3 --samples 100,80,5 --method nuts``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from hierdash.scenario import BOUNDS, CHOICES, Scenario, ScenarioError
from hierdash.scenario.text import scenario_from_mapping

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
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, never a traceback
        message = " ".join(message.split())  # argparse echoes raw tokens, newlines too
        self.exit(2, f"hierdash: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    defaults = Scenario()
    parser = _Parser(
        prog="python -m hierdash",
        description="Simulate a hierarchical regression world, fit it and compare "
        "true with recovered weights.",
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
    scenario, _ = scenario_from_mapping(values)
    if scenario.outlier_task >= scenario.n_tasks:
        raise ScenarioError(
            "outlier_task", scenario.outlier_task,
            f"{BOUNDS['outlier_task'].describe()} naming one of the {scenario.n_tasks} tasks "
            f"(0 to {scenario.n_tasks - 1}), or -1 for none",
        )
    return scenario


class _TerminalProgress:
    """Progress on stderr: one redrawn line on a terminal, a line per step elsewhere."""

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self.last = (None, -1)
        self.start = time.perf_counter()

    def __call__(self, stage, fraction, message):
        step = -1 if fraction is None else int(fraction * 10)
        if (stage, step) == self.last:
            return
        new_stage = stage != self.last[0]
        self.last = (stage, step)
        elapsed = time.perf_counter() - self.start
        bar = ""
        if fraction is not None:
            filled = int(round(fraction * 30))
            bar = f" [{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%}"
        line = f"{elapsed:6.1f}s {stage:<9} {message}{bar}"
        if self.tty:
            self.stream.write(("\n" if new_stage else "\r") + line + "   ")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["calibrate"]:  # python -m hierdash calibrate: its own flags
        from hierdash.cli.calibrate import main as calibrate_main

        return calibrate_main(argv[1:])
    if any(a in ("--data", "--example") or a.startswith(("--data=", "--example="))
           for a in argv):  # a table of your own: its own flags (hierdash.cli.fit_data)
        from hierdash.cli.fit_data import main as data_main

        return data_main(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        scenario = scenario_from_args(args)
    except ScenarioError as err:
        parser.error(str(err))

    from hierdash.inference import FitStopped, fit
    from hierdash.summaries.report import format_report, write_outputs

    progress = None if args.quiet else _TerminalProgress(sys.stderr)
    try:
        result = fit(scenario, progress=progress)
    except KeyboardInterrupt:
        sys.stderr.write("\nhierdash: stopped\n")
        return 130
    except FitStopped as err:
        sys.stderr.write(f"\nhierdash: {err}\n")
        return 1
    finally:
        if progress is not None:
            progress.close()
    print(format_report(result))
    if args.out is not None:
        try:
            paths = write_outputs(result, args.out)
        except OSError as err:
            sys.stderr.write(f"hierdash: error: cannot write to {args.out}: {err.strerror or err}\n")
            return 1
        print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def scenario_json(scenario: Scenario) -> str:
    return json.dumps(scenario.to_dict(), indent=2)
