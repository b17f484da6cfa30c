"""How far a fit can be trusted: R-hat and ESS of sampled fits, the ELBO's verdict."""

from __future__ import annotations

import numpy as np

from hierdash.inference.results import Diagnostics
from hierdash.scenario import Scenario
from hierdash.settings import MIN_ELBO_ITERATIONS

__all__ = [
    "mcmc_diagnostics", "rank_rhat", "ess_bulk", "ess_tail", "elbo_converged",
]


def mcmc_diagnostics(
    posterior, divergences: int, scenario: Scenario, *, parameterization: str,
    centered_tasks: tuple[int, ...],
) -> Diagnostics:
    """Rank-normalised split R-hat (two or more chains), bulk and tail ESS, worst case
    over every weight and scale."""
    post = posterior["posterior"]
    stacked = np.concatenate(
        [np.asarray(post[name].values, dtype=float).reshape(post[name].shape[:2] + (-1,))
         for name in post.data_vars],
        axis=2,
    )  # (chain, draw, quantity)
    # The split chains' rank-normal scores serve R-hat and bulk ESS alike: ranking is
    # the costly step, so it is done once for both.
    split = _split(stacked)
    z_split = _z_scale(split)
    return Diagnostics(
        max_rhat=(float(np.nanmax(_rank_rhat(split, z_split))) if scenario.chains > 1
                  else None),
        min_ess_bulk=float(np.nanmin(_ess(z_split))),
        min_ess_tail=float(np.nanmin(ess_tail(stacked))),
        divergences=divergences,
        parameterization=parameterization,
        centered_tasks=centered_tasks,
    )


# ---------------------------------------------------------------------------
# ArviZ's diagnostics (arviz_stats.base.diagnostics, Vehtari et al. 2021), vectorised
# over quantities. ArviZ loops over quantities in Python, about 3 ms per quantity and
# statistic: 0.12 s of a default fit's 0.3 s of CPU. The same formulas on arrays
# (chain, draw, quantity) agree with ArviZ to rounding (tests/test_diagnostics.py).
# ---------------------------------------------------------------------------
def _split(x: np.ndarray) -> np.ndarray:
    """(chain, draw, q) -> (2 chain, draw // 2, q): each chain's two halves."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalise each quantity over all its chains and draws."""
    from scipy.special import ndtri
    from scipy.stats import rankdata

    c, n, q = x.shape
    ranks = rankdata(x.reshape(c * n, q), method="average", axis=0)
    return ndtri((ranks - 0.375) / (c * n + 0.25)).reshape(x.shape)


def _rhat(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    between = n * np.var(x.mean(axis=1), axis=0, ddof=1)
    within = np.var(x, axis=1, ddof=1).mean(axis=0)
    return np.sqrt((between / within + n - 1) / n)


def rank_rhat(x: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat, the larger of bulk and folded, per quantity."""
    split = _split(x)
    return _rank_rhat(split, _z_scale(split))


def _rank_rhat(split: np.ndarray, z_split: np.ndarray) -> np.ndarray:
    folded = np.abs(split - np.median(split.reshape(-1, split.shape[2]), axis=0))
    return np.maximum(_rhat(z_split), _rhat(_z_scale(folded)))


def _ess(x: np.ndarray) -> np.ndarray:
    """Geyer's initial monotone sequence estimate, per quantity of (chain, draw, q)."""
    from scipy.fft import irfft, next_fast_len, rfft

    c, n, q = x.shape
    constant = np.ptp(x.reshape(-1, q), axis=0) < np.finfo(float).resolution
    m = next_fast_len(2 * n)
    centred = x - x.mean(axis=1, keepdims=True)
    f = rfft(centred, n=m, axis=1)
    acov = irfft(f * np.conjugate(f), n=m, axis=1)[:, :n] / n  # (c, n, q)
    mean_var = acov[:, 0].mean(axis=0) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if c > 1:
        var_plus = var_plus + np.var(x.mean(axis=1), axis=0, ddof=1)
    rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus  # (n, q)
    rho[0] = 1.0
    # Pairs (rho[2k], rho[2k + 1]); ArviZ computes pair k >= 1 while 2k - 1 < n - 3 and
    # every earlier pair's sum is positive, and stops after the first that is not.
    n_pairs = 1 + max(0, (n - 2) // 2 if n % 2 else (n - 3) // 2)
    n_pairs = min(n_pairs, n // 2)
    even, odd = rho[0: 2 * n_pairs: 2], rho[1: 2 * n_pairs: 2]
    sums = even + odd  # (pairs, q)
    nonpositive = sums <= 0.0
    last = np.where(nonpositive.any(axis=0), nonpositive.argmax(axis=0), n_pairs - 1)
    cols = np.arange(q)
    monotone = np.minimum.accumulate(sums, axis=0)
    kept = np.arange(n_pairs)[:, None] < last[None, :]
    main = np.where(kept, monotone, 0.0).sum(axis=0)
    last_even, last_sum = even[last, cols], sums[last, cols]
    extra = np.where((last_sum >= 0.0) | (last_even > 0.0), last_even, 0.0)
    tau = np.maximum(-1.0 + 2.0 * main + extra, 1.0 / np.log10(c * n))
    ess = c * n / tau
    ess[np.isnan(rho).any(axis=0)] = np.nan
    return np.where(constant, float(c * n), ess)


def ess_bulk(x: np.ndarray) -> np.ndarray:
    """Bulk effective sample size per quantity of (chain, draw, q)."""
    return _ess(_z_scale(_split(x)))


def ess_tail(x: np.ndarray, prob: float | None = None) -> np.ndarray:
    """Tail effective sample size: the smaller ESS of the indicators of the quantiles
    ``1 - prob`` and ``prob``; ``prob`` defaults to ArviZ's ``stats.ci_prob`` (0.89),
    as ``arviz.ess(method="tail")`` does."""
    if prob is None:
        from arviz_base import rcParams

        prob = float(rcParams["stats.ci_prob"])
    flat = x.reshape(-1, x.shape[2])
    low, high = np.quantile(flat, sorted((prob, 1.0 - prob)), axis=0)
    return np.minimum(_ess(_split((x <= low).astype(float))),
                      _ess(_split((x <= high).astype(float))))




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
