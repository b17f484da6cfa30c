"""Yes/no and count outcomes in a table of your own: the checks (one plain sentence
naming the column, the row and the value), the scenario and fit, the natural scale,
leave-one-out by refits against a direct computation, and the predictive check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, gammaln, logsumexp

from hierdash.own_data import (
    compare_pooling,
    draws_from_posterior,
    pointwise_log_likelihood,
    posterior_predictive_check,
    psis_loo,
)
from hierdash.own_data.datasets import RATS, load_rats
from hierdash.own_data.fit_table import data_scenario, fit_groups, settings_dict
from hierdash.own_data.formula import formulas
from hierdash.own_data.glm_loo import glm_loo_pointwise
from hierdash.own_data.grouped import DataError, default_priors, prepare_groups, to_world
from hierdash.scenario import ScenarioError


def _rats():
    return prepare_groups(load_rats(), group=RATS["group"], y=RATS["y"], x=[],
                          outcome="binomial", trials=RATS["trials"])


@pytest.fixture(scope="module")
def rats():
    return _rats()


@pytest.fixture(scope="module")
def rats_fit(rats):
    return fit_groups(rats, data_scenario(rats, method="exact"))


def _frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


GROUPS = ["a", "a", "b", "b", "c", "c"]


# ---------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frame", "options", "message"),
    [
        (_frame(g=GROUPS, y=[0, 1, 2, 0, 1, 0]), {"outcome": "bernoulli"},
         "The yes/no outcome 'y' must be 0 or 1 in every row: data row 3 holds 2"),
        (_frame(g=GROUPS, y=[0, 1, 0.5, 0, 1, 0]), {"outcome": "bernoulli"},
         "data row 3 holds 0.5"),
        (_frame(g=GROUPS, y=[1, 2, 7, 0, 1, 0], n=[5, 5, 6, 5, 5, 5]),
         {"outcome": "binomial", "trials": "n"},
         "There cannot be more successes than trials: data row 3 has 7 in 'y' but 6 in 'n'"),
        (_frame(g=GROUPS, y=[1, -2, 3, 0, 1, 0], n=[5] * 6),
         {"outcome": "binomial", "trials": "n"},
         "The successes in 'y' cannot be negative: data row 2 holds -2"),
        (_frame(g=GROUPS, y=[1, 2, 3, -1, 1, 0]), {"outcome": "poisson"},
         "The counts in 'y' cannot be negative: data row 4 holds -1"),
        (_frame(g=GROUPS, y=[1, 2, 3.5, 1, 1, 0]), {"outcome": "poisson"},
         "The counts in 'y' must be whole numbers: data row 3 holds 3.5"),
        (_frame(g=GROUPS, y=[1, 2, 3, 1, 1, 0], t=[1.0, 2, 0, 1, 1, 1]),
         {"outcome": "poisson", "exposure": "t"},
         "The exposure column 't' must be more than 0 in every row"),
        (_frame(g=GROUPS, y=[1, 2, 3, 1, 1, 0], t=[1.0, 2, 1, -3, 1, 1]),
         {"outcome": "poisson", "exposure": "t"}, "data row 4 holds -3"),
        (_frame(g=GROUPS, y=[1, 2, 3, 1, 1, 0], n=["5", "5", "ten", "5", "5", "5"]),
         {"outcome": "binomial", "trials": "n"},
         "The trials column 'n' is not numeric: data row 3 holds 'ten'"),
        (_frame(g=GROUPS, y=[0, 0, 0, 0, 0, 0], n=[5, 0, 5, 5, 5, 5]),
         {"outcome": "binomial", "trials": "n"},
         "The trials column 'n' must hold whole numbers of at least 1: data row 2 holds 0"),
        (_frame(g=GROUPS, y=[1, 2, 3, 1, 1, 0], n=[5, 5, 5.5, 5, 5, 5]),
         {"outcome": "binomial", "trials": "n"}, "data row 3 holds 5.5"),
        (_frame(g=GROUPS, y=[1, 2, 3, 1, 1, 0], n=[5] * 6),
         {"outcome": "poisson", "trials": "n"},
         "A trials column ('n') goes only with a binomial outcome"),
        (_frame(g=GROUPS, y=[1, 0, 1, 1, 1, 0], n=[5] * 6),
         {"outcome": "bernoulli", "exposure": "n"},
         "An exposure column ('n') goes only with a count outcome"),
        (_frame(g=GROUPS, y=[1.5, 2, 3, 1, 1, 0], n=[5] * 6),
         {"trials": "n"}, "goes only with a binomial outcome"),
        (_frame(g=GROUPS, y=[1, 2, 3, 1, 1, 0]), {"outcome": "binomial"},
         "A binomial outcome needs a trials column"),
        (_frame(g=GROUPS, y=[1, 2, 3, 1, 1, 0], n=[5] * 6),
         {"outcome": "binomial", "trials": "m"}, "There is no column 'm'"),
        (_frame(g=GROUPS, y=[1, 2, 3, 1, 1, 0], n=[5] * 6),
         {"outcome": "binomial", "trials": "y"}, "'y' is already the outcome column"),
        (_frame(g=GROUPS, y=[0] * 6), {"outcome": "bernoulli"},
         "The outcome 'y' is 0 in every row: no row is a yes"),
        (_frame(g=GROUPS, y=[0] * 6, t=[1.0] * 6), {"outcome": "poisson", "exposure": "t"},
         "is 0 in every row: there is no count at all"),
        (_frame(g=GROUPS, y=[3] * 6, n=[3] * 6), {"outcome": "binomial", "trials": "n"},
         "Every trial in 'y' is a success"),
    ],
    ids=["bernoulli-2", "bernoulli-half", "more-successes", "negative-successes",
         "negative-count", "fractional-count", "zero-exposure", "negative-exposure",
         "text-trials", "zero-trials", "fractional-trials", "trials-with-poisson",
         "exposure-with-bernoulli", "trials-with-gaussian", "binomial-without-trials",
         "unknown-trials", "trials-is-outcome", "all-no", "all-zero-counts", "all-success"],
)
def test_bad_outcomes_are_refused_in_one_sentence(frame, options, message):
    with pytest.raises(DataError) as info:
        prepare_groups(frame, group="g", y="y", x=[], **options)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_unknown_outcome_is_a_programming_error():
    with pytest.raises(ValueError, match="outcome = 'normal' is not allowed"):
        prepare_groups(_frame(g=GROUPS, y=[1, 2, 3, 1, 1, 0]), group="g", y="y", x=[],
                       outcome="normal")


def test_a_group_with_no_event_is_fine_and_noted():
    frame = _frame(g=GROUPS, y=[0, 0, 1, 0, 1, 1])
    grouped = prepare_groups(frame, group="g", y="y", x=[], outcome="bernoulli")
    assert grouped.outcome == "bernoulli" and grouped.sizes is None
    assert any("1 of 3 groups have no yes at all" in n for n in grouped.notes)
    assert any("1 of 3 groups have a yes in every row" in n for n in grouped.notes)


def test_poisson_without_exposure_has_exposure_one_and_missing_sizes_are_dropped():
    frame = _frame(g=GROUPS, y=[0, 2, 1, 0, 4, 1], t=[1.0, None, 2.0, 1.0, 1.0, 3.0])
    counts = prepare_groups(frame, group="g", y="y", x=[], outcome="poisson")
    assert [s.tolist() for s in counts.sizes] == [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    rated = prepare_groups(frame, group="g", y="y", x=[], outcome="poisson", exposure="t")
    assert rated.n_rows == 5 and rated.size_column == "t"
    assert "Dropped 1 of 6 rows with missing values (t: 1)" in rated.notes[0]
    assert list(rated.rows.columns) == ["g", "y", "t"]


def test_rats_as_grouped_data(rats):
    assert rats.n_groups == 71 and rats.n_rows == 71 and rats.feature_names == ("intercept",)
    assert sum(s.sum() for s in rats.sizes) == 1739
    assert sum(y.sum() for y in rats.y) == 267
    assert any("14 of 71 groups have no success at all" in n for n in rats.notes)


def test_glm_priors_are_the_stated_rule():
    frame = _frame(g=GROUPS, y=[0, 1, 1, 0, 1, 0], x=[1.0, 5, 3, 2, 8, 4])
    plain = prepare_groups(frame, group="g", y="y", x=["x"], outcome="bernoulli")
    priors = default_priors(plain)
    assert {k: priors[k] for k in ("prior_parent_mean", "prior_parent_scale",
                                   "prior_spread_scale")} == {
        "prior_parent_mean": 0.0, "prior_parent_scale": 2.5, "prior_spread_scale": 1.0}
    assert "prior_noise_scale" not in priors
    assert "logit scale" in priors["rule"] and "standardise" in priors["rule"]
    scaled = prepare_groups(frame, group="g", y="y", x=["x"], outcome="bernoulli",
                            standardise=True)
    assert "standardise" not in default_priors(scaled)["rule"]


# ---------------------------------------------------------------------------
# Scenario, world and fit
# ---------------------------------------------------------------------------
def test_scenario_and_world_of_counts(rats):
    scenario = data_scenario(rats, method="exact")
    assert scenario.outcome == "binomial" and scenario.intercept and scenario.n_features == 1
    assert scenario.source == "data" and scenario.samples == (1,) * 71
    assert (scenario.prior_parent_scale, scenario.prior_spread_scale) == (2.5, 1.0)
    world = to_world(rats, scenario)
    assert world.sizes is not None and world.task_data().n_tasks == 71
    for method in ("nuts", "pymc_nuts"):
        assert data_scenario(rats, method=method).method == method
    with pytest.raises(ScenarioError, match="ADVI is built for Gaussian outcomes only"):
        data_scenario(rats, method="advi")
    with pytest.raises(ScenarioError, match="has no noise"):
        data_scenario(rats, priors={"prior_noise_scale": 2.0})
    with pytest.raises(ValueError, match="outcome"):
        to_world(rats, data_scenario(rats).replace(outcome="poisson"))


def test_rats_exact_fit_on_both_scales(rats, rats_fit):
    weights = rats_fit.weights
    assert {"natural_scale", "natural_mean", "natural_low", "natural_high",
            "natural_no_pooling", "natural_complete_pooling"} <= set(weights.columns)
    parent = weights[weights["level"] == "parent"].iloc[0]
    # BDA ch. 5: the population's tumour probability is about 0.13.
    assert 0.10 < parent["natural_mean"] < 0.16
    assert parent["natural_low"] < parent["natural_mean"] < parent["natural_high"]
    assert np.allclose(weights["natural_complete_pooling"], expit(weights["complete_pooling"]))
    assert (weights["natural_scale"] == "probability").all()
    assert list(rats_fit.scales["name"]) == ["spread"]
    settings = settings_dict(rats_fit, rule="r", source="example:rats")
    assert settings["data"]["outcome"] == "binomial" and settings["data"]["trials"] == "rats"
    assert set(settings["priors"]) == {"prior_parent_mean", "prior_parent_scale",
                                       "prior_spread_scale"}


def test_zero_tumour_groups_sit_between_no_and_complete_pooling(rats, rats_fit):
    """The lesson of the rat tumours on the logit scale: a group with no tumour is
    pulled from its own (very low) estimate toward the population, not past it."""
    weights = rats_fit.weights
    groups = weights[weights["level"] == "group"].reset_index(drop=True)
    zero = np.array([y.sum() == 0 for y in rats.y])
    assert zero.sum() == 14
    own, partial = groups["no_pooling"][zero], groups["mean"][zero]
    complete = groups["complete_pooling"][zero]
    assert np.all(own < partial) and np.all(partial < complete)
    # And the exact (quadrature) means agree with the draws.
    assert np.allclose(groups["exact_mean"], groups["mean"], atol=0.1)


def test_formulas_for_students():
    rats = _rats()
    both = formulas(rats)
    assert both["bambi"] == "p(tumors, rats) ~ 1 + (1 | experiment)"
    assert both["brms"] == "tumors | trials(rats) ~ 1 + (1 | experiment)"
    frame = _frame(g=GROUPS, y=[0, 2, 1, 0, 4, 1], t=[1.0, 2, 2, 1, 1, 3], x=[1.0, 2, 3, 4, 5, 7])
    counts = prepare_groups(frame, group="g", y="y", x=["x"], outcome="poisson", exposure="t")
    assert formulas(counts)["brms_call"] == (
        "brm(y ~ 1 + x + (1 + x | g) + offset(log(t)), data = data, family = poisson())")


# ---------------------------------------------------------------------------
# Log-likelihood, leave-one-out and the predictive check
# ---------------------------------------------------------------------------
def test_pointwise_log_likelihood_is_the_binomial_pmf(rats, rats_fit):
    child, noise = draws_from_posterior(rats_fit.result.posterior)
    assert noise is None
    loglik = pointwise_log_likelihood(rats, child, None)
    assert loglik.shape == child.shape[:2] + (71,)
    y, n = np.concatenate(rats.y), np.concatenate(rats.sizes)
    p = expit(child[0, 0, :, 0])
    pmf = (gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1) + y * np.log(p)
           + (n - y) * np.log1p(-p))
    assert np.allclose(loglik[0, 0], pmf)
    with pytest.raises(ValueError, match="noise is not allowed"):
        pointwise_log_likelihood(rats, child, np.ones(child.shape[:2]))
    found = psis_loo(rats, child, None)
    assert found["elpd_i"].shape == (71,) and np.isfinite(found["elpd"])


def _poisson_groups():
    frame = _frame(g=["a", "a", "b", "b", "b", "c"], y=[0, 3, 1, 2, 0, 5],
                   t=[1.0, 2.0, 1.5, 1.0, 0.5, 2.0])
    return prepare_groups(frame, group="g", y="y", x=[], outcome="poisson", exposure="t")


def test_no_pooling_refits_match_a_direct_integral():
    """Each group alone with prior Normal(0, 2.5) on its log rate: the left-out row's
    density given the group's other rows is a one-dimensional integral."""
    grouped = _poisson_groups()
    table = glm_loo_pointwise(grouped)
    c = np.linspace(-15, 10, 200_001)
    log_prior = -0.5 * (c / 2.5) ** 2

    def log_lik(y, t):
        return y * (c + np.log(t)) - t * np.exp(c) - gammaln(y + 1)

    expected = []
    for yg, tg in zip(grouped.y, grouped.sizes, strict=True):
        for i in range(len(yg)):
            rest = log_prior + sum(log_lik(yg[j], tg[j]) for j in range(len(yg)) if j != i)
            expected.append(logsumexp(rest + log_lik(yg[i], tg[i])) - logsumexp(rest))
    assert table["loo_no_pooling"].to_numpy() == pytest.approx(expected, abs=2e-3)
    assert "pareto_k_no_pooling" not in table


def test_rats_comparison_prefers_partial_pooling(rats):
    table = compare_pooling(rats)
    assert list(table["method"]) == ["partial_pooling", "complete_pooling", "no_pooling"]
    assert table["elpd_diff"][1] > 2 * table["se_diff"][1]
    assert np.all(np.isfinite(table["p_loo"]))


def test_psis_is_used_past_the_refit_limit(monkeypatch):
    import hierdash.own_data.glm_loo as glm_loo

    grouped = _poisson_groups()
    monkeypatch.setattr(glm_loo, "MAX_REFITS", 2)
    table = glm_loo.glm_loo_pointwise(grouped)
    assert "pareto_k_partial_pooling" in table
    compared = compare_pooling(grouped)
    assert {"max_pareto_k", "bad_k"} <= set(compared.columns)


def test_predictive_check_of_counts(rats, rats_fit):
    child, _ = draws_from_posterior(rats_fit.result.posterior)
    ppc = posterior_predictive_check(rats, child, None, rng=np.random.default_rng(0),
                                     max_draws=400)
    per_group = ppc[ppc["statistic"] == "proportion"]
    assert len(per_group) == 71
    observed = np.array([y.sum() / s.sum() for y, s in zip(rats.y, rats.sizes, strict=True)])
    assert np.allclose(per_group["observed"], observed)
    assert np.all(per_group["low"] <= per_group["high"])
    empty = ppc[ppc["statistic"] == "zero_groups"].iloc[0]
    assert empty["group"] == "all groups" and empty["observed"] == 14
    # 14 empty groups is at the top of what the model replicates (BDA's model is known
    # to find slightly fewer): not an extreme misfit.
    assert empty["low"] <= empty["replicated"] <= empty["high"] and empty["tail"] > 0.01


@pytest.mark.slow
def test_nuts_on_the_rats_agrees_with_the_quadrature(rats, rats_fit):
    own = fit_groups(rats, data_scenario(rats, method="nuts", draws=500, tune=500))
    sampled, exact = own.weights, rats_fit.weights
    assert own.result.diagnostics.divergences <= 5
    # Every group's logit within a quarter of its posterior sd of the reference.
    z = (sampled["mean"] - exact["exact_mean"]) / exact["exact_sd"]
    assert np.abs(z).max() < 0.25
    child, noise = draws_from_posterior(own.result.posterior)
    assert noise is None
    ppc = posterior_predictive_check(rats, child, None, rng=np.random.default_rng(1))
    assert (ppc["statistic"] == "proportion").sum() == 71
