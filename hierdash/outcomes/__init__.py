"""Outcomes beyond the Gaussian: yes/no, successes of trials and counts, with an instant
reference posterior by nested quadrature (the counterpart of :mod:`hierdash.exact`).

Modules, in the order a world goes through them:

- :mod:`~hierdash.outcomes.family`: the one interface of a family (link, likelihood and
  its derivatives, draws, checks); one module per family
  (:mod:`~hierdash.outcomes.gaussian`, :mod:`~hierdash.outcomes.binomial` with
  Bernoulli, :mod:`~hierdash.outcomes.poisson`), named in
  :mod:`~hierdash.outcomes.registry`;
- :mod:`~hierdash.outcomes.data`: the checked rows of each task, flattened and merged;
- :mod:`~hierdash.outcomes.simulate`: a world of any family, its truth drawn as
  :func:`hierdash.world.simulate` draws it;
- :mod:`~hierdash.outcomes.quadrature`: :func:`quadrature_posterior`, the entry point:
  the spread on an adaptive grid (:mod:`~hierdash.outcomes.spread_grid`), at each
  spread the parent by Gauss-Hermite and each task by adaptive Gauss-Hermite
  (:mod:`~hierdash.outcomes.nested`, with :mod:`~hierdash.outcomes.linalg`);
  :mod:`~hierdash.outcomes.result`: its moments, intervals and draws, the intervals by
  :mod:`~hierdash.outcomes.mixtures` (quantiles of Gaussian mixtures, which
  :mod:`hierdash.exact` uses too);
- :mod:`~hierdash.outcomes.examples`: rat tumours, built in (``builtin/``).

Import rule: NumPy and SciPy; of the package only :mod:`hierdash.settings`. Nothing
here knows the ``Scenario``, the world or the samplers: they will use it.
"""

from hierdash.outcomes.binomial import Bernoulli, Binomial
from hierdash.outcomes.data import TaskData, pad_naively
from hierdash.outcomes.examples import load_rat_tumors, rat_tumors_bytes
from hierdash.outcomes.family import Family
from hierdash.outcomes.gaussian import Gaussian
from hierdash.outcomes.poisson import Poisson
from hierdash.outcomes.quadrature import default_nodes, quadrature_posterior
from hierdash.outcomes.registry import FAMILIES, OUTCOMES, get_family
from hierdash.outcomes.result import QuadraturePosterior
from hierdash.outcomes.simulate import OutcomeWorld, simulate_outcomes

__all__ = [
    "Family",
    "Gaussian",
    "Bernoulli",
    "Binomial",
    "Poisson",
    "FAMILIES",
    "OUTCOMES",
    "get_family",
    "TaskData",
    "pad_naively",
    "OutcomeWorld",
    "simulate_outcomes",
    "QuadraturePosterior",
    "quadrature_posterior",
    "default_nodes",
    "load_rat_tumors",
    "rat_tumors_bytes",
]
