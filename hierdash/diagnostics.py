"""How far a fit can be trusted: R-hat and ESS of sampled fits, the ELBO's verdict."""

from __future__ import annotations

import numpy as np

from hierdash.results import Diagnostics
from hierdash.scenario import Scenario

__all__ = ["mcmc_diagnostics", "elbo_converged", "MIN_ELBO_ITERATIONS"]


def mcmc_diagnostics(
    posterior, divergences: int, scenario: Scenario, *, parameterization: str,
    centered_tasks: tuple[int, ...],
) -> Diagnostics:
    """R-hat (with two or more chains), bulk and tail ESS over every variable."""
    import arviz as az
    import xarray as xr

    draws = posterior["posterior"].to_dataset()

    def extreme(stat: xr.Dataset, fn) -> float:
        return float(fn([fn(stat[v].values) for v in stat.data_vars]))

    rhat = az.rhat(draws)
    ess_bulk = az.ess(draws, method="bulk")
    ess_tail = az.ess(draws, method="tail")
    return Diagnostics(
        max_rhat=extreme(rhat, np.nanmax) if scenario.chains > 1 else None,
        min_ess_bulk=extreme(ess_bulk, np.nanmin),
        min_ess_tail=extreme(ess_tail, np.nanmin),
        divergences=divergences,
        parameterization=parameterization,
        centered_tasks=centered_tasks,
    )


MIN_ELBO_ITERATIONS = 2000


def elbo_converged(elbo: np.ndarray, *, window_share: float = 0.1) -> tuple[bool, str]:
    """Has the ELBO stopped improving?

    Compares the last ``window_share`` of iterations with the window ending half-way
    through: a converged fit is flat over its second half. Three checks, all needed:

    - the median ELBO gained no more than the ELBO's own scatter allows for medians
      of that many iterations (3 standard errors, counting one independent value per
      50 autocorrelated Adam steps), or 0.01 % of its size;
    - the second half brought at most 2 % of the ELBO's whole rise since the first
      window (the noise far from the optimum can hide a large rise from the first check);
    - the scatter itself has settled: far from the optimum the Monte Carlo ELBO is
      far noisier, so a scatter that still fell by more than 3x means the fit is
      still travelling.

    Fewer than ``MIN_ELBO_ITERATIONS`` iterations are too few to judge.

    Returns
    -------
    converged, message
    """
    elbo = np.asarray(elbo, dtype=float)
    elbo = elbo[np.isfinite(elbo)]
    n = len(elbo)
    if n < MIN_ELBO_ITERATIONS:
        return False, (
            f"ADVI has not converged: {n} iterations are too few to judge "
            f"(at least {MIN_ELBO_ITERATIONS}). Give it more iterations."
        )
    w = int(n * window_share)
    last, middle = elbo[-w:], elbo[n // 2 - w : n // 2]

    def scatter(x):
        return 1.4826 * np.median(np.abs(x - np.median(x)))

    gain = np.median(last) - np.median(middle)
    travelled = np.median(last) - np.median(elbo[:w])
    tolerance = 3 * scatter(last) * np.sqrt(2.0 / max(w / 50, 1)) + 1e-4 * abs(np.median(last))
    advice = (
        "Its estimates are not to be trusted: give it more iterations or a larger "
        "learning rate."
    )
    if gain > tolerance:
        return False, (
            f"ADVI has not converged: the ELBO still rose by {gain:.3g} over the second "
            f"half of its {n} iterations (its noise allows {tolerance:.3g}). {advice}"
        )
    if travelled > tolerance and gain > 0.02 * travelled:
        return False, (
            f"ADVI has not converged: the second half of its {n} iterations still brought "
            f"{gain / travelled:.0%} of the ELBO's total rise. {advice}"
        )
    if scatter(middle) > 3 * scatter(last):
        return False, (
            f"ADVI has not converged: the ELBO's scatter fell from {scatter(middle):.3g} "
            f"to {scatter(last):.3g} over the second half of its {n} iterations, so it is "
            f"still moving. {advice}"
        )
    return True, f"The ELBO is flat over the second half of its {n} iterations: converged."
