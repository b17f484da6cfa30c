"""The command line, ``python -m hierdash``: fit a simulated world, a table of your own,
or run a calibration.

Import rule: modules here use the engine, the summaries and the calibration layer, never
Streamlit or the UI.
"""

from hierdash.cli.fit_world import main

__all__ = ["main"]
