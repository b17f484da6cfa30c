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

VariableName = Literal["parent", "child", "noise", "spread"]
VARIABLE_NAMES: Final[tuple[VariableName, ...]] = ("parent", "child", "noise", "spread")
"""The posterior's variables, in the order they are reported: parent weights (feature),
child weights (task, feature), the noise sd and the child spread (absent when fixed)."""

SCALE_NAMES: Final[tuple[VariableName, ...]] = ("noise", "spread")
"""The scalar variables: the rows of ``FitResult.scales``."""
