"""Predictive checks of a fit to data without a truth.

:mod:`hierdash.predictive.loo` compares no, complete and partial pooling by exact
leave-one-out prediction of each row; :mod:`hierdash.predictive.draws` computes
log-likelihoods, PSIS-LOO and per-group posterior predictive checks from any method's
posterior draws.
"""

from hierdash.predictive.draws import (
    draws_from_posterior,
    pointwise_log_likelihood,
    posterior_predictive_check,
    psis_loo,
)
from hierdash.predictive.loo import METHODS, compare_pooling, comparison_table, loo_pointwise

__all__ = [
    "METHODS",
    "compare_pooling",
    "comparison_table",
    "draws_from_posterior",
    "loo_pointwise",
    "pointwise_log_likelihood",
    "posterior_predictive_check",
    "psis_loo",
]
