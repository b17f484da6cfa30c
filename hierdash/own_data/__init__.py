"""A grouped table of your own: read it, check its columns, group its rows into tasks,
fit them, and compare the pooling choices by leave-one-out and predictive checks.

Modules, in the order a table goes through them: :mod:`~hierdash.own_data.reading`
(a file to a table, with clear errors), :mod:`~hierdash.own_data.columns` (checks on the
chosen columns), :mod:`~hierdash.own_data.grouped` (groups to tasks),
:mod:`~hierdash.own_data.fit_table` (the fit, named by the groups),
:mod:`~hierdash.own_data.loo` and :mod:`~hierdash.own_data.predictive` (leave-one-out
and posterior predictive checks), :mod:`~hierdash.own_data.datasets` (the built-in
tables in ``builtin/``).

Import rule: NumPy, SciPy, pandas, xarray and ArviZ; of the package only the layers
before it (settings, scenario, world, exact, inference, summaries). Never calibration,
the classroom, charts, the command line, the UI or Streamlit.
"""

from hierdash.own_data.datasets import RADON, load_radon, radon_bytes
from hierdash.own_data.fit_table import OwnFit, data_key, data_scenario, fit_groups
from hierdash.own_data.grouped import GroupedData, default_priors, prepare_groups, to_world
from hierdash.own_data.loo import compare_pooling, comparison_table, loo_pointwise
from hierdash.own_data.predictive import (
    draws_from_posterior,
    pointwise_log_likelihood,
    posterior_predictive_check,
    psis_loo,
)
from hierdash.own_data.reading import MAX_BYTES, DataError, read_table

__all__ = [
    "RADON",
    "load_radon",
    "radon_bytes",
    "OwnFit",
    "data_key",
    "data_scenario",
    "fit_groups",
    "GroupedData",
    "default_priors",
    "prepare_groups",
    "to_world",
    "compare_pooling",
    "comparison_table",
    "loo_pointwise",
    "draws_from_posterior",
    "pointwise_log_likelihood",
    "posterior_predictive_check",
    "psis_loo",
    "MAX_BYTES",
    "DataError",
    "read_table",
]
