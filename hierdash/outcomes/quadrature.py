"""The instant reference posterior of a hierarchical GLM: nested quadrature.

The model, with ``K`` features shared by ``T`` tasks::

    parent p   ~ Normal(prior_parent_mean, prior_parent_scale)   per feature
    spread tau ~ HalfNormal(prior_spread_scale)                   (or fixed)
    child c[t] ~ Normal(p, tau)                                   per feature
    y[t]       ~ family(X[t] c[t])                                the link scale

No closed form exists, so three integrals are nested:

1. the spread on a grid that adapts to the posterior mass, as :mod:`hierdash.exact.grid`
   does for the Gaussian model (:mod:`~hierdash.outcomes.spread_grid`: uniform in
   ``asinh(tau / tau0)``, which folds the tail towards ``tau = 0`` into few points);
2. at each spread, the parent by Gauss-Hermite around its mode;
3. at each parent node, each task's weights by adaptive Gauss-Hermite quadrature
   (:mod:`~hierdash.outcomes.nested`).

Plain Laplace (one node) is not enough: with small groups it is off by 0.2 to 0.6
posterior sd; a few nodes mend it. The product rules grow as ``nodes^K``, so with many
features the default falls back to fewer nodes and the answer is marked
``accurate=False``: a page should then point to NUTS.
"""

from __future__ import annotations

import math

import numpy as np

from hierdash.outcomes.data import TaskData, rows_of
from hierdash.outcomes.nested import Rule, given_spread
from hierdash.outcomes.result import QuadraturePosterior, assemble
from hierdash.outcomes.spread_grid import Grid, adapt_grid
from hierdash.values import bad_value, finite_number, whole_number

__all__ = ["quadrature_posterior", "default_nodes"]

# Nodes per feature of the product rules (parent, each task), by number of features:
# the rules hold nodes^K points. Past 3 features a task's rule is Laplace's (1 node).
_NODES = {1: (5, 7), 2: (3, 5), 3: (3, 3)}
_ACCURATE_UP_TO = 3  # features; beyond, the fallback rules are not checked to 0.1 sd


def default_nodes(n_features: int) -> tuple[int, int]:
    """Gauss-Hermite nodes per feature (parent, each task) used for ``n_features``."""
    return _NODES.get(n_features, (3, 1) if n_features <= 5 else (1, 1))


def quadrature_posterior(
    data: TaskData,
    *,
    prior_parent_mean: float = 0.0,
    prior_parent_scale: float = 2.5,
    prior_spread_scale: float = 1.0,
    fixed_spread: float | None = None,
    parent_nodes: int | None = None,
    child_nodes: int | None = None,
    grid_size: int = 8,
) -> QuadraturePosterior:
    """The posterior of the hierarchical model of ``data``'s family, by nested quadrature.

    Parameters
    ----------
    data
        The rows of each task, checked for their family.
    prior_parent_mean, prior_parent_scale
        Parent weights ``~ Normal(mean, scale)`` per feature (link scale).
    prior_spread_scale
        Spread ``tau ~ HalfNormal(scale)`` (ignored when ``fixed_spread`` is given).
    fixed_spread
        If given (> 0), ``tau`` is fixed at this value instead of learned.
    parent_nodes, child_nodes
        Gauss-Hermite nodes per feature for the parent and for each task's weights
        (1 to 15; 1 is Laplace's method). None: :func:`default_nodes`.
    grid_size
        The least number of spreads within 6 nats of the top of the spread's posterior
        (8 to 200), on a uniform grid in ``log tau``; it gets finer while halving its
        spacing still changes the mean or sd of the spread or the parent by more than
        0.5% of their sd (see :mod:`~hierdash.outcomes.spread_grid`).

    Returns
    -------
    QuadraturePosterior

    Raises
    ------
    ValueError
        If an option is out of range (naming it).
    """
    if not isinstance(data, TaskData):
        raise bad_value("data", type(data).__name__, "must be TaskData")
    m = finite_number("prior_parent_mean", prior_parent_mean)
    s = finite_number("prior_parent_scale", prior_parent_scale, low=0.0, strict=True)
    scale = finite_number("prior_spread_scale", prior_spread_scale, low=0.0, strict=True)
    if fixed_spread is not None:
        fixed_spread = finite_number("fixed_spread", fixed_spread, low=0.0, strict=True)
    k = data.n_features
    default_parent, default_child = default_nodes(k)
    parent_nodes = default_parent if parent_nodes is None else whole_number(
        "parent_nodes", parent_nodes, 1, 15)
    child_nodes = default_child if child_nodes is None else whole_number(
        "child_nodes", child_nodes, 1, 15)
    grid_size = whole_number("grid_size", grid_size, 8, 200)

    rows = rows_of(data)
    parent_rule, child_rule = Rule.product(parent_nodes, k), Rule.product(child_nodes, k)
    if fixed_spread is not None:
        tau = np.array([fixed_spread])
        found = given_spread(rows, tau, prior_mean=m, prior_scale=s, parent_rule=parent_rule,
                             child_rule=child_rule, start_parent=np.full((1, k), m),
                             start_child=np.full((1, rows.n_tasks, k), m))
        grid = Grid(tau=tau, u=np.zeros(1), log_density=np.zeros(1), weights=np.ones(1),
                    log_mass=float(found.log_likelihood[0]), found=found, tau0=fixed_spread)
        log_evidence = grid.log_mass
    else:
        grid = adapt_grid(rows, prior_mean=m, prior_scale=s, spread_scale=scale,
                          parent_rule=parent_rule, child_rule=child_rule, grid_size=grid_size)
        # The grid's density lacks the HalfNormal's constant sqrt(2 / pi) / scale.
        log_evidence = grid.log_mass + 0.5 * math.log(2.0 / math.pi) - math.log(scale)
    accurate = k <= _ACCURATE_UP_TO and min(parent_nodes, child_nodes) >= 3
    return assemble(grid, log_evidence=log_evidence + rows.constant,
                    fixed=fixed_spread is not None, nodes=(parent_nodes, child_nodes),
                    accurate=accurate, family=data.family.name)
