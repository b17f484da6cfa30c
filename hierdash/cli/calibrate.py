"""``python -m hierdash calibrate``: simulation-based calibration of one method.

Draws ``--worlds`` worlds from a family's prior, fits each with ``--method`` and
checks where its truth falls among the posterior draws; the worlds run in parallel on
Dask (a local cluster of ``--workers`` processes, or ``--scheduler ADDRESS``), or
serially in this process with ``--workers 0``. Prints coverage per level and interval
and writes ``ranks.csv``, ``worlds.csv`` and ``summary.json`` to ``--out``.

Example::

    python -m hierdash calibrate --method nuts --worlds 200 --seed 1 --out runs/nuts
    python -m hierdash calibrate --family notebook --method advi --worlds 40 --out runs/advi
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hierdash.calibration.families import FAMILIES, WorldFamily, get_family
from hierdash.calibration.lab import MAX_WORLDS, LabSettings
from hierdash.cli.common import STOPPED, CommandParser, write_files
from hierdash.scenario import MAX_SEED, METHODS, PADDINGS, PARAMETERIZATIONS

__all__ = ["build_parser", "settings_from_args", "format_table", "main"]

COMMAND = "hierdash calibrate"
"""How this command's messages on stderr begin."""

# flag -> WorldFamily field, for the flags that take one number.
_NUMBER_FLAGS = {
    "features": ("n_features", int),
    "x-mean": ("x_mean", float),
    "x-sd": ("x_sd", float),
    "prior-parent-mean": ("prior_parent_mean", float),
    "prior-parent-scale": ("prior_parent_scale", float),
    "prior-spread-scale": ("prior_spread_scale", float),
    "prior-noise-scale": ("prior_noise_scale", float),
    "draws": ("draws", int),
    "tune": ("tune", int),
    "chains": ("chains", int),
}


def build_parser() -> argparse.ArgumentParser:
    """The command's flags; every family flag overrides the ``--family``'s field."""
    parser = CommandParser(
        command=COMMAND, prog="python -m hierdash calibrate",
        description="Fit many worlds drawn from the prior and check whether the method's "
        "intervals contain the truth as often as they claim (simulation-based calibration).")
    family = parser.add_argument_group("the family of worlds (default: --family issue9)")
    family.add_argument("--family", default="issue9",
                        help=f"a named family: {', '.join(FAMILIES)} (default issue9)")
    family.add_argument("--outcome", metavar="O",
                        help="bernoulli, binomial or poisson: that outcome's family of "
                             "prior worlds (the same as --family O)")
    family.add_argument("--tasks", metavar="A,B",
                        help="tasks per world: fewest,most (or one number)")
    family.add_argument("--sample-counts", metavar="N,N,...",
                        help="sample counts each task draws from, e.g. 0,5,20,60")
    family.add_argument("--samples", metavar="N,N,...",
                        help="fixed sample counts of every world, e.g. 100,80 (overrides "
                             "--tasks and --sample-counts)")
    for flag, (name, _) in _NUMBER_FLAGS.items():
        family.add_argument(f"--{flag}", dest=name, metavar="X", help=f"the family's {name}")
    family.add_argument("--learn-spread", metavar="true|false",
                        help="fit the child spread (default true)")
    fitting = parser.add_argument_group("the fit of every world")
    fitting.add_argument("--method", default="nuts", metavar="M",
                         help=f"one of {', '.join(METHODS)} (default nuts)")
    fitting.add_argument("--parameterization", default="auto", metavar="P",
                         help=f"one of {', '.join(PARAMETERIZATIONS)} (default auto)")
    fitting.add_argument("--padding", default="masked", metavar="P",
                         help=f"one of {', '.join(PADDINGS)} (default masked)")
    run = parser.add_argument_group("the run")
    run.add_argument("--worlds", default="200", metavar="N",
                     help=f"worlds, 1 to {MAX_WORLDS} (default 200)")
    run.add_argument("--seed", default="1", metavar="S", help="world i depends on it and i only")
    run.add_argument("--workers", metavar="N",
                     help="Dask worker processes (default: the machine's cores); 0 runs "
                          "serially in this process")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    run.add_argument("--out", type=Path, help="write ranks.csv, worlds.csv, summary.json here")
    run.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def _whole(flag: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"--{flag} = {text!r} is not allowed: must be a whole number "
                         f"from {low} to {high}") from None
    if not low <= value <= high:
        raise ValueError(f"--{flag} = {value} is not allowed: must be from {low} to {high}")
    return value


def _counts(flag: str, text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--{flag} = {text!r} is not allowed: must be whole numbers "
                         "separated by commas") from None


def _choice(flag: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"--{flag} = {value!r} is not allowed: must be one of "
                         f"{', '.join(choices)}")
    return value


def family_from_args(args: argparse.Namespace) -> WorldFamily:
    """The named family with every given flag applied (``ValueError`` naming the field)."""
    if args.outcome is not None:
        if args.outcome not in ("bernoulli", "binomial", "poisson"):
            raise ValueError(f"--outcome = {args.outcome!r} is not allowed: must be one of "
                             "bernoulli, binomial, poisson (Gaussian worlds: --family)")
        if args.family not in ("issue9", args.outcome):
            raise ValueError(f"--outcome = {args.outcome!r} is not allowed with --family "
                             f"{args.family!r}: give one of them")
        args.family = args.outcome
    base = get_family(args.family)
    changes: dict[str, object] = {}
    for flag, (name, kind) in _NUMBER_FLAGS.items():
        text = getattr(args, name)
        if text is None:
            continue
        try:
            changes[name] = kind(text)
        except ValueError:
            raise ValueError(f"--{flag} = {text!r} is not allowed: must be a "
                             f"{'whole number' if kind is int else 'number'}") from None
    if args.learn_spread is not None:
        if args.learn_spread.lower() not in ("true", "false"):
            raise ValueError(f"--learn-spread = {args.learn_spread!r} is not allowed: must "
                             "be true or false")
        changes["learn_spread"] = args.learn_spread.lower() == "true"
    if args.samples is not None:
        changes["samples"] = _counts("samples", args.samples)
    elif args.tasks is not None or args.sample_counts is not None:
        changes["samples"] = None  # a family of varying shapes, even from a fixed one
        if args.tasks is not None:
            tasks = _counts("tasks", args.tasks)
            changes["tasks"] = (tasks[0], tasks[0]) if len(tasks) == 1 else tasks
        if args.sample_counts is not None:
            changes["sample_counts"] = _counts("sample-counts", args.sample_counts)
    if changes:
        changes.setdefault("name", f"{base.name}-custom")
    return base.replace(**changes) if changes else base


def settings_from_args(args: argparse.Namespace) -> LabSettings:
    """The run's settings from parsed flags; ``ValueError`` names the bad one."""
    return LabSettings(
        family=family_from_args(args),
        method=_choice("method", args.method, METHODS),
        parameterization=_choice("parameterization", args.parameterization, PARAMETERIZATIONS),
        padding=_choice("padding", args.padding, PADDINGS),
        n_worlds=_whole("worlds", args.worlds, 1, MAX_WORLDS),
        seed=_whole("seed", args.seed, 0, MAX_SEED),
    )


def format_table(summary, *, title: str) -> str:
    """Coverage per level (rows) and interval (columns), then divergences and time."""
    from hierdash.calibration.world_check import INTERVALS

    lines = [title, f"{'level':<8}" + "".join(f"{f'{round(p * 100)}% (se)':>16}" for p in INTERVALS)]
    for level in summary.coverage["level"].unique():
        cells = []
        for prob in INTERVALS:
            coverage, se = summary.coverage_of(level, prob)
            cells.append(f"{coverage:9.3f} ({se:.3f})")
        lines.append(f"{level:<8}" + "".join(f"{cell:>16}" for cell in cells))
    unconverged = ("n/a" if summary.unconverged_share is None
                   else f"{summary.unconverged_share:.1%}")
    lines.append(f"worlds {summary.n_worlds}; with divergences {summary.worlds_with_divergences} "
                 f"({summary.divergent_share:.1%}); unconverged {unconverged}; seconds per "
                 f"world: median {summary.median_seconds:.2f}, 90th percentile "
                 f"{summary.p90_seconds:.2f}")
    return "\n".join(lines)


def _progress(quiet: bool):
    if quiet:
        return None, None

    def on_world(check, done, total):
        sys.stderr.write(f"world {check.world:4d} done ({done}/{total}): "
                         f"{check.seconds:6.2f} s, {check.divergences} divergences\n")
        sys.stderr.flush()

    def on_status(line):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    return on_world, on_status


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status (2: bad flags, 1: a failed run)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
        workers = None if args.workers is None else _whole("workers", args.workers, 0, 256)
        if workers == 0 and args.scheduler is not None:
            raise ValueError("--workers = 0 is not allowed with --scheduler: 0 means no Dask")
    except ValueError as err:
        parser.error(str(err))
    from hierdash.calibration.files import write_run
    from hierdash.calibration.summary import summarise_checks

    on_world, on_status = _progress(args.quiet)
    start = time.perf_counter()
    warm_up_s: dict[str, float] = {}
    worlds_s = None  # seconds from the first world sent to the last received
    try:
        if workers == 0:
            from hierdash.calibration.lab import run_lab

            checks, used = run_lab(settings, on_world=on_world).checks, 0
        else:
            from hierdash.calibration.distributed import run_on_dask

            done = run_on_dask(settings, workers=workers, scheduler=args.scheduler,
                               on_world=on_world, on_status=on_status)
            checks, used, warm_up_s = done.checks, done.workers, done.warm_up_s
            worlds_s = done.wall_s
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{COMMAND}: stopped\n")
        return STOPPED
    except Exception as err:  # noqa: BLE001 - one line, not a traceback
        sys.stderr.write(f"{COMMAND}: error: {type(err).__name__}: {err}\n")
        return 1
    wall = time.perf_counter() - start
    summary = summarise_checks(checks)
    label = settings.family.name
    print(format_table(summary, title=f"{settings.method} ({settings.parameterization}, "
                                      f"{settings.padding} padding) on {label}, seed "
                                      f"{settings.seed}: {len(checks)} worlds in {wall:.1f} s"))
    if args.out is not None:
        meta = {**settings.to_dict(), "workers": used, "scheduler": args.scheduler,
                "wall_seconds": wall, "warm_up_seconds": warm_up_s,
                "worlds_wall_seconds": wall if worlds_s is None else worlds_s}
        return write_files(lambda: write_run(checks, args.out, meta=meta), args.out,
                           command=COMMAND)
    return 0


if __name__ == "__main__":
    sys.exit(main())
