"""``hierdash`` and ``python -m hierdash``: pick the command from the command line.

- ``hierdash calibrate ...``: simulation-based calibration (:mod:`hierdash.cli.calibrate`);
- ``hierdash neural ...``: three Bayesian neural networks on rotated moons
  (:mod:`hierdash.cli.neural`);
- ``hierdash --data FILE ...`` or ``--example NAME``: a table of your own
  (:mod:`hierdash.cli.fit_data`);
- anything else: fit a simulated world (:mod:`hierdash.cli.fit_world`).

Each command is imported only when chosen, so a bad flag of one never loads another's
dependencies.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def _own_table(argv: list[str]) -> bool:
    return any(a in ("--data", "--example") or a.startswith(("--data=", "--example="))
               for a in argv)


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` names (default: this process's arguments).

    Returns
    -------
    int
        The exit status: 0 done, 1 stopped or not written, 130 interrupted; bad input
        exits 2 (``SystemExit``) with one line on stderr.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["calibrate"]:
        from hierdash.cli.calibrate import main as calibrate

        return calibrate(argv[1:])
    if argv[:1] == ["neural"]:
        from hierdash.cli.neural import main as neural

        return neural(argv[1:])
    if _own_table(argv):
        from hierdash.cli.fit_data import main as fit_data

        return fit_data(argv)
    from hierdash.cli.fit_world import main as fit_world

    return fit_world(argv)
