"""Each outcome's own defaults: what :meth:`hierdash.scenario.Scenario.for_outcome` starts
from before the caller's changes."""

from __future__ import annotations

from typing import Any

__all__ = ["OUTCOME_DEFAULTS"]

# Each non-Gaussian outcome's defaults (link scale): an intercept and one feature, weights
# near 0 so that probabilities spread over (0.1, 0.9) and counts over a few units, and the
# weakly informative priors of the quadrature reference (parent Normal(0, 2.5), spread
# HalfNormal(1)), which keep a group with 0 events of 20 finite on the logit scale.
_GLM_DEFAULTS: dict[str, Any] = {
    "parent_mean": 0.0, "parent_scale": 1.0, "child_spread": 0.5, "n_features": 2,
    "intercept": True, "x_mean": 0.0, "x_sd": 1.0, "samples": (40, 25, 15, 10, 5, 3),
    "prior_parent_mean": 0.0, "prior_parent_scale": 2.5, "prior_spread_scale": 1.0,
    # A smaller step than the Gaussian worlds need: with every weight sampled (no
    # marginal form), 0.95 left more prior-drawn worlds divergent (see
    # hierdash.inference.samplers.common.GLM_AUTO).
    "target_accept": 0.99,
}
OUTCOME_DEFAULTS: dict[str, dict[str, Any]] = {
    "gaussian": {},
    "bernoulli": _GLM_DEFAULTS,
    "binomial": {**_GLM_DEFAULTS, "trials": 10},
    # Counts can be large (hundreds), and the log link's curvature grows with them, so
    # Poisson worlds take the smallest steps: judged on prior-drawn worlds at the page's
    # 2 x 1000 draws, and the time of a fit (benchmarks/results/outcomes_calibration/README.md).
    "poisson": {**_GLM_DEFAULTS, "parent_mean": 1.0, "target_accept": 0.998},
}
