"""``python -m hierdash neural``: three networks on tasks of rotated moons.

Fits separate networks, one pooled network and the hierarchical network on the same
tasks, prints test accuracy and log score per task, and with ``--out DIR`` writes
``accuracy.csv`` (task, n, model, accuracy, log_score), ``spreads.csv`` (the
hierarchical spreads per layer and kind) and ``summary.json`` (compile and sampling
seconds, divergences, the largest R-hat over predicted probabilities).

Example::

    python -m hierdash neural --samples 100,60,40,25,15,10,6,3 --rotation-spread 90 \\
        --hidden 4 --padding masked --method nuts --seed 1 --out runs/neural
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hierdash.cli.common import CommandParser, fit_in_terminal, write_files

__all__ = ["build_parser", "settings_from_args", "format_table", "main"]

COMMAND = "hierdash neural"
_WHOLE = {"test-per-task": "test_per_task", "hidden": "hidden", "seed": "seed",
          "draws": "draws", "tune": "tune", "chains": "chains", "advi-steps": "advi_steps"}
_NUMBER = {"rotation-spread": "rotation_spread", "noise": "noise",
           "target-accept": "target_accept"}


def build_parser() -> argparse.ArgumentParser:
    """The command's flags (each defaults to the settings' default)."""
    parser = CommandParser(
        command=COMMAND, prog="python -m hierdash neural",
        description="Fit separate, pooled and hierarchical Bayesian neural networks to "
        "tasks of rotated two moons and compare them on test points.")
    world = parser.add_argument_group("the tasks")
    world.add_argument("--samples", metavar="N,N,...",
                       help="training points per task (default 100,60,40,25,15,10,6,3)")
    world.add_argument("--rotation-spread", metavar="DEG",
                       help="sd of each task's rotation in degrees, 0 to 180 (default 90)")
    world.add_argument("--noise", metavar="X", help="noise sd of each point (default 0.3)")
    world.add_argument("--test-per-task", metavar="N", help="test points per task (default 100)")
    net = parser.add_argument_group("the network and its fit")
    net.add_argument("--hidden", metavar="H", help="hidden tanh units, 2 to 8 (default 4)")
    net.add_argument("--no-bias", action="store_true", help="no biases in either layer")
    net.add_argument("--padding", metavar="P", help="masked (default) or naive")
    net.add_argument("--method", metavar="M",
                     help="nuts (default) or advi (mean-field; can sit at chance)")
    for flag in ("seed", "draws", "tune", "chains", "advi-steps"):
        net.add_argument(f"--{flag}", metavar="N", help=f"the fit's {flag.replace('-', ' ')}")
    net.add_argument("--target-accept", metavar="X",
                     help="NUTS's target acceptance rate, 0.6 to 0.99 (default 0.93)")
    run = parser.add_argument_group("the run")
    run.add_argument("--out", type=Path, help="write accuracy.csv, spreads.csv, summary.json here")
    run.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def settings_from_args(args: argparse.Namespace):
    """The run's settings; ``ValueError`` names the bad flag or field."""
    from hierdash.neural.settings import NeuralSettings

    changes: dict[str, object] = {}
    if args.samples is not None:
        try:
            changes["samples"] = tuple(int(p) for p in args.samples.split(","))
        except ValueError:
            raise ValueError(f"--samples = {args.samples!r} is not allowed: must be whole "
                             "numbers separated by commas") from None
    for table, kind, words in ((_WHOLE, int, "a whole number"), (_NUMBER, float, "a number")):
        for flag, name in table.items():
            text = getattr(args, name)
            if text is None:
                continue
            try:
                changes[name] = kind(text)
            except ValueError:
                raise ValueError(f"--{flag} = {text!r} is not allowed: must be {words}") from None
    for name in ("padding", "method"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.no_bias:
        changes["bias"] = False
    return NeuralSettings(**changes)


def format_table(result) -> str:
    """Test accuracy and log score per task and model, then the fits' health."""
    acc = result.accuracy
    models = ("separate", "pooled", "hierarchical")
    lines = [f"{'task':>4} {'n':>4}  " + "".join(f"{m:>22}" for m in models),
             f"{'':>4} {'':>4}  " + "".join(f"{'accuracy  log score':>22}" for _ in models)]
    for (task, n), rows in acc.groupby(["task", "n"], sort=True):
        cells = []
        for m in models:
            row = rows[rows["model"] == m].iloc[0]
            cells.append(f"{row['accuracy']:>12.3f}{row['log_score']:>10.3f}")
        lines.append(f"{task:>4} {n:>4}  " + "".join(cells))
    means = acc.groupby("model")[["accuracy", "log_score"]].mean()
    lines.append(f"{'mean':>9}  " + "".join(
        f"{means.loc[m, 'accuracy']:>12.3f}{means.loc[m, 'log_score']:>10.3f}" for m in models))
    for fit in result.fits:
        rhat = "n/a" if fit.max_rhat is None else f"{fit.max_rhat:.3f}"
        div = "n/a" if fit.divergences is None else str(fit.divergences)
        lines.append(f"{fit.model:<13} {fit.sample_s:6.2f} s, divergences {div}, "
                     f"largest R-hat over probabilities {rhat}")
    lines.append(f"compile {result.compile_s:.1f} s; all three fits {result.total_s:.1f} s")
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def write_outputs(result, out: Path) -> list[Path]:
    """``accuracy.csv``, ``spreads.csv`` and ``summary.json`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "accuracy.csv", out / "spreads.csv", out / "summary.json"]
    result.accuracy.to_csv(paths[0], index=False)
    result.spreads.to_csv(paths[1], index=False)
    paths[2].write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status (2: bad flags, 1: stopped or not written)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ValueError as err:
        parser.error(str(err))
    from hierdash.neural.fit import fit_neural

    result, status = fit_in_terminal(
        lambda progress: fit_neural(settings, progress=progress), quiet=args.quiet,
        command=COMMAND)
    if result is None:
        return status
    print(format_table(result))
    if args.out is not None:
        return write_files(lambda: write_outputs(result, args.out), args.out, command=COMMAND)
    return 0


if __name__ == "__main__":
    sys.exit(main())
