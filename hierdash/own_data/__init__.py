"""A grouped table of your own: read it, check its columns, group its rows into tasks,
fit them, and compare the pooling choices by leave-one-out and predictive checks.

Any outcome: a number (Gaussian), yes/no (0/1), successes of trials, or counts over an
exposure; the last three are fitted on the link scale (logit or log) with fixed weakly
informative priors, their reference posterior by quadrature.

Modules, in the order a table goes through them: :mod:`~hierdash.own_data.reading`
(a file to a table, with clear errors), :mod:`~hierdash.own_data.columns` and
:mod:`~hierdash.own_data.outcome_columns` (checks on the chosen columns, the outcome's
own among them), :mod:`~hierdash.own_data.grouped` (groups to tasks),
:mod:`~hierdash.own_data.priors` (the priors' rule), :mod:`~hierdash.own_data.fit_table`
(the fit, named by the groups), :mod:`~hierdash.own_data.loo`,
:mod:`~hierdash.own_data.glm_loo` and :mod:`~hierdash.own_data.predictive`
(leave-one-out and posterior predictive checks), :mod:`~hierdash.own_data.formula` (the
model as Bambi and brms write it), :mod:`~hierdash.own_data.datasets` (the built-in
tables: radon in ``builtin/``, the rat tumours from :mod:`hierdash.outcomes`).

Import rule: NumPy, SciPy, pandas, xarray and ArviZ; of the package only the layers
before it (settings, scenario, outcomes, world, exact, inference, summaries). Never calibration,
the classroom, charts, the command line, the UI or Streamlit.
"""

from hierdash.own_data.datasets import RADON, RATS, load_radon, load_rats, radon_bytes, rats_bytes
from hierdash.own_data.fit_table import OwnFit, data_key, data_scenario, fit_groups
from hierdash.own_data.formula import formula, formulas
from hierdash.own_data.glm_loo import glm_loo_pointwise
from hierdash.own_data.grouped import (
    GroupedData,
    default_priors,
    prepare_groups,
    prior_fields,
    to_world,
)
from hierdash.own_data.loo import compare_pooling, comparison_table, loo_pointwise
from hierdash.own_data.predictive import (
    draws_from_posterior,
    pointwise_log_likelihood,
    posterior_predictive_check,
    psis_from_log_likelihood,
    psis_loo,
)
from hierdash.own_data.reading import MAX_BYTES, DataError, read_table

__all__ = [
    "RADON",
    "RATS",
    "load_radon",
    "load_rats",
    "radon_bytes",
    "rats_bytes",
    "OwnFit",
    "data_key",
    "data_scenario",
    "fit_groups",
    "GroupedData",
    "default_priors",
    "prepare_groups",
    "prior_fields",
    "to_world",
    "formula",
    "formulas",
    "compare_pooling",
    "comparison_table",
    "glm_loo_pointwise",
    "loo_pointwise",
    "draws_from_posterior",
    "pointwise_log_likelihood",
    "posterior_predictive_check",
    "psis_from_log_likelihood",
    "psis_loo",
    "MAX_BYTES",
    "DataError",
    "read_table",
]
