"""Altair chart builders: each draws a table it is given and computes nothing of its own.

The tables come from a :class:`~hierdash.inference.FitResult` (its ``weights`` and
``scales``) or from :mod:`hierdash.summaries` (pulls, comparable errors, padding runs).
Nothing here imports Streamlit, so every chart can be tested through
``chart.to_dict()``. One module per family of chart:

- :mod:`~hierdash.charts.weights`: parent and child weights, noise and spread, each
  posterior against the truth;
- :mod:`~hierdash.charts.shrinkage`: shrinkage arrows, pull per task, pooling errors;
- :mod:`~hierdash.charts.padding`: the padded array;
- :mod:`~hierdash.charts.elbo`: ADVI's ELBO;
- :mod:`~hierdash.charts.style`: the colours, legend names and sizes all of them share.

And for the other pages: :mod:`~hierdash.charts.own_data` (a table of your own),
:mod:`~hierdash.charts.calibration` (the calibration lab), :mod:`~hierdash.charts.classroom`
(the prediction and the class board), :mod:`~hierdash.charts.neural` (neural tasks);
:mod:`~hierdash.charts.specs` builds each chart
once per layout and then only fills in its numbers.

Import rule: Altair, NumPy, pandas and PyArrow; of the package only the layers before it
(settings to the classroom; in practice the settings, the summaries' tables and names,
and a calibration check's intervals); never the command line or the UI. The
names of the tables' kinds and scopes (``REAL``, ``ALL_TASKS``, ``task_label`` ...)
live in :mod:`hierdash.summaries`.
"""

from hierdash.charts.elbo import elbo_chart
from hierdash.charts.neural import (
    neural_parent_chart,
    neural_points_chart,
    neural_score_chart,
    neural_spread_chart,
    neural_surface_chart,
)
from hierdash.charts.padding import padding_chart
from hierdash.charts.shrinkage import pull_chart, rmse_chart, shrinkage_chart
from hierdash.charts.style import COLORS, EXACT, NO_POOL, PARENT, PARTIAL, POSTERIOR, TRUE
from hierdash.charts.weights import child_chart, parent_chart, scales_chart

__all__ = [
    "COLORS",
    "TRUE",
    "POSTERIOR",
    "EXACT",
    "NO_POOL",
    "PARTIAL",
    "PARENT",
    "parent_chart",
    "child_chart",
    "scales_chart",
    "shrinkage_chart",
    "pull_chart",
    "rmse_chart",
    "padding_chart",
    "elbo_chart",
    "neural_points_chart",
    "neural_surface_chart",
    "neural_parent_chart",
    "neural_score_chart",
    "neural_spread_chart",
]
