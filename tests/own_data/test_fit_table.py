"""Fitting a table of your own (hierdash.own_data.fit_table): scenario, tables by group name, and
the radon fit by NUTS against the exact posterior."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hierdash.own_data.datasets import RADON, load_radon
from hierdash.own_data.fit_table import data_key, data_scenario, fit_groups
from hierdash.own_data.grouped import DataError, default_priors, prepare_groups


@pytest.fixture(scope="module")
def radon():
    return prepare_groups(load_radon(), group=RADON["group"], y=RADON["y"],
                          x=list(RADON["x"]))


def _table(seed: int = 0, groups: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(groups):
        for _ in range(4 + 3 * g):
            x = rng.normal(50, 10)
            rows.append({"g": f"grp{g}", "x": x, "y": 2 + 0.1 * x + rng.normal(0, 1)})
    return pd.DataFrame(rows)


def test_scenario_from_the_data(radon):
    scenario = data_scenario(radon, method="nuts", seed=3)
    assert scenario.source == "data" and scenario.n_tasks == 85 and scenario.n_features == 2
    assert scenario.samples == tuple(radon.counts) and scenario.total_rows == 919
    rule = default_priors(radon)
    assert scenario.prior_parent_scale == rule["prior_parent_scale"]
    edited = data_scenario(radon, priors={"prior_spread_scale": 0.5})
    assert edited.prior_spread_scale == 0.5
    assert edited.prior_noise_scale == rule["prior_noise_scale"]
    with pytest.raises(ValueError, match="priors key"):
        data_scenario(radon, priors={"spread": 1.0})


def test_more_than_200_groups_is_a_data_error():
    frame = pd.DataFrame({"g": np.repeat(np.arange(250), 2), "y": np.arange(500) % 7})
    grouped = prepare_groups(frame, group="g", y="y", x=[])
    with pytest.raises(DataError, match="at most 200 can be fitted"):
        data_scenario(grouped)


def test_data_key_follows_content():
    frame = _table()
    a = prepare_groups(frame, group="g", y="y", x=["x"])
    again = prepare_groups(frame.copy(), group="g", y="y", x=["x"])
    changed = frame.copy()
    changed.loc[0, "y"] += 1e-9
    b = prepare_groups(changed, group="g", y="y", x=["x"])
    assert data_key(a) == data_key(again)
    assert data_key(a) != data_key(b)
    assert data_key(a) != data_key(prepare_groups(frame, group="g", y="y", x=["x"],
                                                  standardise=True))


def test_group_weights_by_name_and_on_the_original_scale():
    frame = _table()
    raw = prepare_groups(frame, group="g", y="y", x=["x"])
    std = prepare_groups(frame, group="g", y="y", x=["x"], standardise=True)
    fit_raw = fit_groups(raw, data_scenario(raw, priors={"prior_parent_scale": 1000.0}))
    fit_std = fit_groups(std, data_scenario(std, priors={"prior_parent_scale": 1000.0}))
    w = fit_raw.weights
    assert list(w["group"].unique()) == ["", "grp0", "grp1", "grp2", "grp3", "grp4"]
    assert w.loc[w["group"] == "grp2", "n"].tolist() == [10, 10]
    assert list(w["feature"][:2]) == ["intercept", "x"]
    # Least squares (complete and no pooling) are the same lines on either scale.
    for column in ("complete_pooling", "no_pooling"):
        assert fit_std.weights[column].to_numpy() == pytest.approx(
            w[column].to_numpy(), rel=1e-6, abs=1e-9, nan_ok=True)
    assert fit_std.weights["exact_sd"].isna().all()
    assert fit_raw.weights["exact_sd"].notna().all()


def test_warnings_name_groups(radon):
    own = fit_groups(radon, data_scenario(radon))
    assert all("task " not in w for w in own.warnings())
    assert own.scales["name"].tolist() == ["noise", "spread"] and "true" not in own.scales


@pytest.mark.slow
@pytest.mark.statistical
def test_radon_nuts_matches_the_exact_posterior(radon):
    """Every county's partial-pooling weights from NUTS sit on the exact posterior mean
    within Monte Carlo error: z = (NUTS mean - exact mean) / (exact sd / sqrt(ESS))."""
    from hierdash.inference import warm_up
    from hierdash.inference.diagnostics import ess_bulk

    warm_up()
    own = fit_groups(radon, data_scenario(radon, method="nuts", seed=11))
    d = own.result.diagnostics
    assert d.divergences == 0 and d.max_rhat < 1.01
    child = own.result.posterior["posterior"]["child"].transpose(
        "chain", "draw", "task", "feature").values
    chains, draws = child.shape[:2]
    ess = ess_bulk(child.reshape(chains, draws, -1))
    groups = own.weights[own.weights["level"] == "group"]
    z = (groups["mean"].to_numpy() - groups["exact_mean"].to_numpy()) / (
        groups["exact_sd"].to_numpy() / np.sqrt(ess))
    # 170 weights: |z| > 4.2 has probability 2.7e-5 each, under 0.5% for any of them.
    assert np.max(np.abs(z)) < 4.2, groups.assign(z=z).loc[np.abs(z) >= 4.2]
    # Their mean square is about 1 (a chi-square of 170 / 170: sd 0.11, weights correlate).
    assert 0.5 < np.mean(z**2) < 1.6
    # Posterior sds agree too, within the sd's Monte Carlo error (~1/sqrt(2 ESS)).
    ratio = groups["sd"].to_numpy() / groups["exact_sd"].to_numpy()
    assert np.max(np.abs(ratio - 1) * np.sqrt(2 * ess)) < 4.5


def test_charts_draw_every_row_in_their_colour(radon):
    """Each chart builds; every method drawn is in its colour scale's domain (a value
    outside it would be drawn in no colour at all)."""
    from hierdash.charts import own_data as charts
    from hierdash.own_data import (
        compare_pooling,
        draws_from_posterior,
        posterior_predictive_check,
    )

    own = fit_groups(radon, data_scenario(radon))
    comparison = compare_pooling(radon)
    ppc = posterior_predictive_check(radon, *draws_from_posterior(own.result.posterior),
                                     rng=np.random.default_rng(0))
    built = [charts.estimates_by_size_chart(own.weights, feature="floor"),
             charts.group_shrinkage_chart(own.weights, feature="intercept"),
             charts.parent_spread_chart(own.weights, own.scales),
             charts.ppc_chart(ppc, statistic="sd"), charts.loo_chart(comparison)]
    for chart in built:
        spec = chart.to_dict()
        for layer in spec.get("layer", []):
            color = layer.get("encoding", {}).get("color", {})
            domain = color.get("scale", {}).get("domain")
            if domain and color.get("field") == "method":
                data = spec["datasets"][layer["data"]["name"]] if "data" in layer else \
                    spec["datasets"][spec["data"]["name"]]
                assert {row["method"] for row in data} <= set(domain)
    with pytest.raises(ValueError, match="feature = 'height'"):
        charts.estimates_by_size_chart(own.weights, feature="height")
