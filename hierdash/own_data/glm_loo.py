"""Which pooling predicts a new row best, for a yes/no or count outcome.

A Gaussian table has exact leave-one-out densities in closed form
(:mod:`hierdash.own_data.loo`); a yes/no or count table has none. Each row's
``log p(y_i | y_-i)`` is found one of two ways:

* **refits** (up to :data:`MAX_REFITS` distinct rows): ``log p(y) - log p(y_-i)``,
  both evidences from the quadrature reference (a refit takes milliseconds), so the
  answer is exact up to the quadrature's own error. Rows alike (same group, features,
  outcome and size) have the same value and share one refit. On the rat tumours, where
  each group is one row, this matters: PSIS (below) misjudges no pooling by about 100
  nats there, as leaving a group's only row out leaves nothing but the prior;
* **PSIS-LOO** beyond that: Pareto-smoothed importance sampling (Vehtari, Gelman &
  Gabry 2017, as ArviZ computes it) of draws from each model's quadrature posterior,
  with the family's own log-likelihood of the row
  (:meth:`hierdash.outcomes.Family.log_likelihood`, trials or exposure included).
  Rows whose Pareto k exceeds 0.7 are unreliable and counted (``bad_k``).

The within-sample density ``log p(y_i | y)`` (for ``p_loo``) always comes from 4000
draws (fewer for a large table).

The three models share the priors on the link scale (parent ``Normal(m, s)``, spread
``HalfNormal(scale)``), and each one's posterior is the quadrature reference's
(:func:`hierdash.outcomes.quadrature_posterior`, the posterior the ``exact`` method
draws from), so no sampler runs:

* **partial pooling**: the hierarchical model, the spread learnt;
* **complete pooling**: the spread fixed at ``1e-6`` (every group has the parent's
  weights: one weight vector for all); its draws come from Laplace's approximation at
  the mode instead (see :func:`_complete_draws`);
* **no pooling**: the parent fixed at the prior mean (its prior sd ``1e-6 s``) and the
  spread fixed at ``s``: each group alone, its weights ``~ Normal(m, s)``, the same
  prior that keeps a group with no event finite in
  :mod:`hierdash.outcomes.pooling`.

What is approximate, said plainly: the evidences carry the quadrature's error (small:
it is the reference the samplers are checked against); the draws are Gaussian given
each spread and parent node (with the mean and sd of adaptive Gauss-Hermite, not
Laplace's mode), so a small group's skewed posterior (0 tumours of 20) is drawn as a
Gaussian of the right mean and sd; and PSIS is an estimate.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from hierdash.outcomes import TaskData, get_family, quadrature_posterior
from hierdash.outcomes.pooling import pooled_mode
from hierdash.own_data.grouped import GroupedData, default_priors, prior_fields
from hierdash.own_data.predictive import pointwise_log_likelihood, psis_from_log_likelihood

__all__ = ["FIXED", "MAX_REFITS", "glm_loo_pointwise"]

METHODS = ("no_pooling", "complete_pooling", "partial_pooling")
FIXED = 1e-6  # a spread (or the parent's sd, times s) this small fixes the weights
_CHAINS = 4
_MOST_DRAWS = 4000
_LEAST_DRAWS = 400
_BUDGET = 20_000_000  # numbers in one (draws x rows) log-likelihood table
# The most distinct rows left out one by one (each a quadrature refit of 5 to 20 ms on
# a table of a few hundred rows; the three poolings refit each).
MAX_REFITS = 200


def _posterior(data: TaskData, method: str, m: float, s: float, scale: float):
    if method == "partial_pooling":
        return quadrature_posterior(data, prior_parent_mean=m, prior_parent_scale=s,
                                    prior_spread_scale=scale)
    if method == "complete_pooling":
        return quadrature_posterior(data, prior_parent_mean=m, prior_parent_scale=s,
                                    fixed_spread=FIXED)
    return quadrature_posterior(data, prior_parent_mean=m, prior_parent_scale=FIXED * s,
                                fixed_spread=s)


def glm_loo_pointwise(
    grouped: GroupedData,
    *,
    priors: Mapping[str, float] | None = None,
    seed: int = 20_24,
) -> pd.DataFrame:
    """PSIS-LOO log predictive density of every row under each pooling.

    Parameters
    ----------
    grouped
        The data: a yes/no or count outcome.
    priors
        Any of ``prior_parent_mean``, ``prior_parent_scale``, ``prior_spread_scale``;
        the others from :func:`~hierdash.own_data.grouped.default_priors`.
    seed
        Seed of the draws (the same seed gives the same table).

    Returns
    -------
    pandas.DataFrame
        One row per data row (in :attr:`GroupedData.rows` order): ``group``, ``row``,
        and for each method ``loo_<method>`` (PSIS estimate of ``log p(y_i | y_-i)``),
        ``lppd_<method>`` (``log p(y_i | y)``) and, when PSIS was used (more than
        :data:`MAX_REFITS` distinct rows), ``pareto_k_<method>``.
    """
    if grouped.is_gaussian:
        raise ValueError("glm_loo_pointwise is for yes/no and count outcomes: a Gaussian "
                         "table has exact leave-one-out (hierdash.own_data.loo)")
    chosen = {k: v for k, v in default_priors(grouped).items() if k in prior_fields(
        grouped.outcome)}
    chosen.update(priors or {})
    m, s = float(chosen["prior_parent_mean"]), float(chosen["prior_parent_scale"])
    scale = float(chosen["prior_spread_scale"])
    data = TaskData(get_family(grouped.outcome), grouped.X, grouped.y, grouped.sizes)
    total = int(np.clip(_BUDGET // max(grouped.n_rows, 1), _LEAST_DRAWS, _MOST_DRAWS))
    rng = np.random.default_rng(seed)
    out = {"group": np.repeat(grouped.group_names, grouped.counts),
           "row": np.arange(grouped.n_rows)}
    first, which = _distinct_rows(data)
    for method in METHODS:
        posterior = _posterior(data, method, m, s, scale)
        if method == "complete_pooling":
            child = _complete_draws(data, m, s, total, rng, grouped.n_groups)
        else:
            child = posterior.sample(total // _CHAINS, _CHAINS, rng)["child"]
        loglik = pointwise_log_likelihood(grouped, child, None)
        flat = loglik.reshape(-1, loglik.shape[-1])
        out[f"lppd_{method}"] = logsumexp(flat, axis=0) - np.log(len(flat))
        if len(first) <= MAX_REFITS:
            full = posterior.log_evidence
            left_out = np.array([full - _posterior(_without(data, i), method, m, s,
                                                   scale).log_evidence for i in first])
            out[f"loo_{method}"] = left_out[which]
        else:
            found = psis_from_log_likelihood(loglik)
            out[f"loo_{method}"] = found["elpd_i"]
            out[f"pareto_k_{method}"] = found["pareto_k"]
    return pd.DataFrame(out)


def _complete_draws(data: TaskData, m: float, s: float, total: int,
                    rng: np.random.Generator, n_groups: int) -> np.ndarray:
    """Draws of complete pooling's one weight vector from Laplace's approximation at its
    mode (every row informs it, so it is close to Gaussian), copied to every group: the
    quadrature's parent draws sit on a few Gauss-Hermite nodes, which PSIS cannot
    weigh."""
    X, y = np.concatenate(data.X), np.concatenate(data.y)
    size = np.concatenate(data.size)
    mode = pooled_mode(data, prior_mean=m, prior_scale=s)
    curvature = data.family.kernel(X @ mode, y, size)[2]
    hessian = (X * curvature[:, None]).T @ X + np.eye(len(mode)) / s**2
    root = np.linalg.cholesky(np.linalg.inv(hessian))
    draws = mode + rng.standard_normal((total, len(mode))) @ root.T
    child = np.broadcast_to(draws[:, None, :], (total, n_groups, len(mode)))
    return child.reshape(_CHAINS, total // _CHAINS, n_groups, len(mode))


def _distinct_rows(data: TaskData) -> tuple[list[int], np.ndarray]:
    """The first row of each kind (same task, features, outcome and size), and each
    row's kind: rows alike have the same leave-one-out density."""
    kinds: dict[bytes, int] = {}
    first, which = [], []
    row = 0
    for t, (X, y, size) in enumerate(zip(data.X, data.y, data.size, strict=True)):
        for r in range(len(y)):
            key = np.concatenate([[t, y[r], size[r]], X[r]]).tobytes()
            if key not in kinds:
                kinds[key] = len(first)
                first.append(row)
            which.append(kinds[key])
            row += 1
    return first, np.array(which, dtype=int)


def _without(data: TaskData, row: int) -> TaskData:
    """``data`` with one row (counted over every task, in order) left out."""
    t = int(np.searchsorted(np.cumsum(data.counts), row, side="right"))
    r = row - int(np.sum(data.counts[:t]))
    keep = np.arange(data.counts[t]) != r
    X, y, size = list(data.X), list(data.y), list(data.size)
    X[t], y[t], size[t] = X[t][keep], y[t][keep], size[t][keep]
    return TaskData(data.family, tuple(X), tuple(y), tuple(size))
