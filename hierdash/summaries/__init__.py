"""What a fit means, as tables and text: each task's pull, errors scored on comparable
sets of tasks, the padded array's runs (:mod:`~hierdash.summaries.tables`); the text
report and the files the command line writes (:mod:`~hierdash.summaries.report`).

Import rule: NumPy and pandas; of the package only the layers before it (settings,
scenario, world, exact, inference: a :class:`~hierdash.inference.FitResult` is what
they read). Never own data, calibration, the classroom, charts, the UI or Streamlit.
"""

from hierdash.summaries.report import (
    data_csv,
    data_frame,
    format_errors,
    format_report,
    posterior_netcdf,
    weights_csv,
    write_outputs,
)
from hierdash.summaries.tables import (
    ALL_TASKS,
    PAD_IGNORED,
    PAD_USED,
    REAL,
    RMSE_NAMES,
    child_rows,
    comparable_errors,
    errors_table,
    feature_label,
    padding_segments,
    pulls_toward_parent,
    task_label,
    task_pull,
)

__all__ = [
    "ALL_TASKS",
    "RMSE_NAMES",
    "REAL",
    "PAD_IGNORED",
    "PAD_USED",
    "task_label",
    "feature_label",
    "child_rows",
    "pulls_toward_parent",
    "task_pull",
    "comparable_errors",
    "errors_table",
    "padding_segments",
    "format_report",
    "format_errors",
    "data_frame",
    "weights_csv",
    "data_csv",
    "posterior_netcdf",
    "write_outputs",
]
