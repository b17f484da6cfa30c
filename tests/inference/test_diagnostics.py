"""The vectorised R-hat and ESS agree with ArviZ's own, quantity by quantity."""

import numpy as np
import pytest

from hierdash.inference.diagnostics import ess_bulk, ess_tail, rank_rhat


def _chains(rng, chains, draws, q, phi):
    """AR(1) chains per quantity (phi sets the autocorrelation), some chains shifted."""
    x = np.empty((chains, draws, q))
    x[:, 0] = rng.normal(size=(chains, q))
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + rng.normal(size=(chains, q))
    return x + rng.normal(0, 0.3, size=(chains, 1, q))


CASES = {
    "independent": (2, 1000, 5, 0.0),
    "sticky": (4, 500, 3, 0.95),
    "antithetic": (2, 1001, 4, -0.6),
    "short": (2, 12, 3, 0.5),
    "one chain": (1, 400, 2, 0.3),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_matches_arviz(case):
    import arviz as az
    import xarray as xr

    chains, draws, q, phi = case
    x = _chains(np.random.default_rng(sum(case[:3])), chains, draws, q, phi)
    x[:, :, -1] = np.round(x[:, :, -1])  # ties
    data = xr.Dataset({"v": (("chain", "draw", "q"), x)})
    np.testing.assert_allclose(ess_bulk(x), az.ess(data, method="bulk")["v"].values, rtol=1e-8)
    np.testing.assert_allclose(ess_tail(x), az.ess(data, method="tail")["v"].values, rtol=1e-8)
    if chains > 1:
        np.testing.assert_allclose(rank_rhat(x), az.rhat(data)["v"].values, rtol=1e-10)


def test_a_constant_quantity_counts_every_draw():
    x = np.ones((2, 100, 1))
    assert ess_bulk(x)[0] == 200.0
