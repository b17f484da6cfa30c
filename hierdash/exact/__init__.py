"""The closed-form posterior of the hierarchical linear model, on a (noise, spread) grid.

The model, with ``K`` features shared by ``T`` tasks::

    parent p  ~ Normal(prior_parent_mean, prior_parent_scale)   per feature
    spread tau ~ HalfNormal(prior_spread_scale)                  (or fixed)
    noise sigma ~ HalfNormal(prior_noise_scale)
    child c[t] ~ Normal(p, tau)                                  per feature
    y[t] = X[t] c[t] + Normal(0, sigma)

Given ``(sigma, tau)`` every weight is jointly Gaussian and ``y``'s marginal likelihood
is Gaussian too. Each task's weights are integrated out on their own (``K x K`` work per
task, done once in the eigenbasis of the task's ``X'X``), which leaves a ``K``-dimensional
Gaussian in the parent; ``(sigma, tau)`` are then integrated out numerically on a grid in
log space that adapts to where the posterior mass is. No dense ``K (T + 1)`` system is
ever built.

Modules, in the order the computation runs:

- :mod:`~hierdash.exact.algebra`: the model reduced to per-task eigenbases, and its
  Gaussians given ``(sigma, tau)``;
- :mod:`~hierdash.exact.grid`: the adaptive grid over ``(log sigma, log tau)``;
- :mod:`~hierdash.exact.posterior`: :func:`exact_posterior`, the entry point;
- :mod:`~hierdash.exact.result`: :class:`ExactPosterior`, its draws and intervals;
- :mod:`~hierdash.exact.pooling`: the two extremes, no and complete pooling;
- :mod:`~hierdash.exact.inputs`: the input checks they share.

Import rule: NumPy and SciPy; of the package only the layers before it (settings,
scenario, world).
"""

from hierdash.exact.inputs import check_stats
from hierdash.exact.pooling import NoPooling, complete_pooling, no_pooling, pooling_errors
from hierdash.exact.posterior import exact_posterior
from hierdash.exact.result import ExactPosterior

__all__ = [
    "ExactPosterior",
    "exact_posterior",
    "check_stats",
    "NoPooling",
    "no_pooling",
    "complete_pooling",
    "pooling_errors",
]
