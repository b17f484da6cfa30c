"""The command line, ``hierdash`` or ``python -m hierdash``: fit a simulated world, fit
a table of your own, or run a calibration.

:func:`main` (:mod:`~hierdash.cli.dispatch`) picks the command; one module per command
(:mod:`~hierdash.cli.fit_world`, :mod:`~hierdash.cli.fit_data`,
:mod:`~hierdash.cli.calibrate`) parses its flags and prints its report, through the
parser, progress printer and exit codes of :mod:`~hierdash.cli.common`.

Import rule: the standard library; of the package any layer before it (the engine, the
summaries, own data, calibration, the classroom's safe CSV), never the UI or Streamlit.
"""

from hierdash.cli.dispatch import main

__all__ = ["main"]
