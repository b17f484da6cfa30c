"""The numbers every layer shares: one place for each, so labels and checks agree.

Nothing here computes anything. The engine judges fits by these limits, the summaries
and charts label intervals with :data:`CI_LABEL`, and the page's words quote them.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "CI_PROB",
    "CI_LABEL",
    "RHAT_LIMIT",
    "ESS_LIMIT",
    "ELBO_WINDOW_SHARE",
    "MIN_ELBO_ITERATIONS",
    "ELBO_CHECK_EVERY",
    "ELBO_STOP_RISE",
    "VariableName",
    "VARIABLE_NAMES",
    "SCALE_NAMES",
]

CI_PROB: Final = 0.94
"""Probability inside every credible interval the package reports (equal-tailed)."""

CI_LABEL: Final = f"{CI_PROB:.0%}"
""":data:`CI_PROB` as a reader sees it in labels: ``"94%"``."""

RHAT_LIMIT: Final = 1.01
"""An R-hat above this means the chains disagree (Vehtari et al. 2021)."""

ESS_LIMIT: Final = 400
"""An effective sample size below this makes interval ends rough."""

ELBO_WINDOW_SHARE: Final = 0.1
"""Share of ADVI's iterations in each window the ELBO convergence check compares: the
last window against the one ending half-way."""

MIN_ELBO_ITERATIONS: Final = 2000
"""Fewer ADVI iterations than this are too few to judge convergence."""

ELBO_CHECK_EVERY: Final = 500
"""ADVI checks its stopping rule (and reports progress) every this many iterations."""

ELBO_STOP_RISE: Final = 1.0
"""ADVI stops before its iteration limit once the ELBO is judged converged and its rise
over the second half of the run, plus two standard errors, is at most this many nats.
The convergence check alone cannot tell a flat ELBO from one whose noise hides a
climb: early in a run the noise is large. On 100 prior-drawn worlds (25 of each
calibration family), the check alone would have stopped 18 full-rank fits early, 16
at 2,000 iterations, their ELBO still 2 to 14,000 nats below where 30,000
iterations ended; with this bound, none."""

VariableName = Literal["parent", "child", "noise", "spread"]
VARIABLE_NAMES: Final[tuple[VariableName, ...]] = ("parent", "child", "noise", "spread")
"""The posterior's variables, in the order they are reported: parent weights (feature),
child weights (task, feature), the noise sd and the child spread (absent when fixed)."""

SCALE_NAMES: Final[tuple[VariableName, ...]] = ("noise", "spread")
"""The scalar variables: the rows of ``FitResult.scales``."""
