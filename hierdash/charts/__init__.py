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
"""

from hierdash.charts.elbo import elbo_chart
from hierdash.charts.padding import padding_chart
from hierdash.charts.shrinkage import pull_chart, rmse_chart, shrinkage_chart
from hierdash.charts.style import COLORS, EXACT, NO_POOL, PARENT, PARTIAL, POSTERIOR, TRUE
from hierdash.charts.weights import child_chart, parent_chart, scales_chart
from hierdash.summaries import ALL_TASKS, PAD_IGNORED, PAD_USED, REAL, task_label

__all__ = [
    "COLORS",
    "TRUE",
    "POSTERIOR",
    "EXACT",
    "NO_POOL",
    "PARTIAL",
    "PARENT",
    "REAL",
    "PAD_IGNORED",
    "PAD_USED",
    "ALL_TASKS",
    "task_label",
    "parent_chart",
    "child_chart",
    "scales_chart",
    "shrinkage_chart",
    "pull_chart",
    "rmse_chart",
    "padding_chart",
    "elbo_chart",
]
