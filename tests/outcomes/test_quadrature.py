"""The reference posterior by nested quadrature: against the closed form where one
exists (a Gaussian outcome with known noise), against itself with more nodes, and on
rat tumours against a long NUTS run."""

import time

import numpy as np
import pytest

from hierdash.exact import exact_posterior
from hierdash.outcomes import (
    Gaussian,
    TaskData,
    default_nodes,
    load_rat_tumors,
    quadrature_posterior,
    simulate_outcomes,
)
from hierdash.settings import CI_PROB
from hierdash.world import SufficientStats

PRIORS = dict(prior_parent_mean=0.3, prior_parent_scale=1.5, prior_spread_scale=0.8)
NOISE = 0.7


def gaussian_world(samples=(12, 3, 0, 6), k=2, seed=5):
    return simulate_outcomes(Gaussian(noise=NOISE), samples=samples, seed=seed, n_features=k,
                             parent_mean=0.3, parent_scale=1.0, child_spread=0.6).data


def closed_form(data: TaskData):
    """The exact posterior of ``data`` with the noise known, by :mod:`hierdash.exact`'s
    conditionals at that noise, integrated over a fine grid of the spread."""
    stats = SufficientStats(
        XtX=np.stack([X.T @ X for X in data.X]),
        Xty=np.stack([X.T @ y for X, y in zip(data.X, data.y, strict=True)]),
        yty=np.array([y @ y for y in data.y]), n=data.counts.astype(float))
    exact = exact_posterior(stats, prior_parent_mean=PRIORS["prior_parent_mean"],
                            prior_parent_scale=PRIORS["prior_parent_scale"],
                            prior_spread_scale=PRIORS["prior_spread_scale"],
                            prior_noise_scale=1.0)
    v = np.linspace(-16.0, 3.0, 8001)
    tau = np.exp(v)
    cond = exact.conditional(np.full_like(tau, NOISE), tau)
    lp = cond["log_likelihood"] - 0.5 * (tau / PRIORS["prior_spread_scale"]) ** 2 + v
    w = np.exp(lp - lp.max())
    w /= w.sum()
    pm = w @ cond["parent_mean"]
    pv = w @ (np.diagonal(cond["parent_cov"], axis1=1, axis2=2) + (cond["parent_mean"] - pm) ** 2)
    cm = np.tensordot(w, cond["child_mean"], 1)
    cv = np.tensordot(w, cond["child_sd"] ** 2 + (cond["child_mean"] - cm) ** 2, 1)
    tm = w @ tau
    return pm, np.sqrt(pv), cm, np.sqrt(cv), tm, np.sqrt(w @ (tau - tm) ** 2), exact


@pytest.mark.parametrize("k, seed", [(1, 1), (2, 5), (3, 2)])
def test_a_gaussian_outcome_matches_the_closed_form(k, seed):
    data = gaussian_world(k=k, seed=seed)
    ref = quadrature_posterior(data, **PRIORS)
    pm, ps, cm, cs, tm, ts, _ = closed_form(data)
    assert np.allclose(ref.parent_mean, pm, atol=1e-3 * ps.min())
    assert np.allclose(ref.parent_sd, ps, rtol=1e-3)
    assert np.allclose(ref.child_mean, cm, atol=1e-3 * cs.min())
    assert np.allclose(ref.child_sd, cs, rtol=1e-3)
    assert ref.spread_mean == pytest.approx(tm, abs=2e-3 * ts)
    assert ref.spread_sd == pytest.approx(ts, rel=2e-3)
    assert ref.accurate


def test_a_fixed_spread_matches_the_closed_form_conditional():
    data = gaussian_world()
    ref = quadrature_posterior(data, **PRIORS, fixed_spread=0.4)
    *_, exact = closed_form(data)
    cond = exact.conditional(NOISE, 0.4)
    assert np.allclose(ref.parent_mean, cond["parent_mean"], atol=1e-8)
    assert np.allclose(ref.parent_sd, np.sqrt(np.diag(cond["parent_cov"])), rtol=1e-8)
    assert np.allclose(ref.child_mean, cond["child_mean"], atol=1e-8)
    assert np.allclose(ref.child_sd, cond["child_sd"], rtol=1e-8)
    assert ref.log_evidence == pytest.approx(float(cond["log_likelihood"]), abs=1e-8)
    assert ref.spread_fixed and ref.spread_sd == 0.0 and ref.spread_mean == 0.4
    assert np.all(ref.interval()["spread"] == 0.4)


def test_the_evidence_matches_the_closed_form():
    data = gaussian_world(k=1)
    ref = quadrature_posterior(data, **PRIORS)
    *_, exact = closed_form(data)
    v = np.linspace(-20.0, 4.0, 20001)
    tau = np.exp(v)
    loglik = exact.conditional(np.full_like(tau, NOISE), tau)["log_likelihood"]
    prior = np.log(np.sqrt(2 / np.pi) / PRIORS["prior_spread_scale"]) \
        - 0.5 * (tau / PRIORS["prior_spread_scale"]) ** 2 + v
    top = (loglik + prior).max()
    evidence = top + np.log(np.exp(loglik + prior - top).sum() * (v[1] - v[0]))
    assert ref.log_evidence == pytest.approx(evidence, abs=1e-4)


@pytest.mark.parametrize("family, k", [("bernoulli", 1), ("binomial", 2), ("poisson", 2)])
def test_the_default_rules_agree_with_many_nodes(family, k):
    data = simulate_outcomes(family, samples=(25, 6, 2, 0, 14), seed=3, n_features=k,
                             trials=4, child_spread=0.7).data
    ref = quadrature_posterior(data, **PRIORS)
    fine = quadrature_posterior(data, **PRIORS, parent_nodes=9, child_nodes=9, grid_size=30)
    assert np.all(np.abs(ref.child_mean - fine.child_mean) <= 0.02 * fine.child_sd)
    assert np.all(np.abs(ref.child_sd / fine.child_sd - 1) <= 0.03)
    assert np.all(np.abs(ref.parent_mean - fine.parent_mean) <= 0.02 * fine.parent_sd)
    assert abs(ref.spread_mean - fine.spread_mean) <= 0.02 * fine.spread_sd
    assert ref.nodes == default_nodes(k) and ref.accurate


def test_plain_laplace_is_not_good_enough_on_small_groups():
    """The issue's finding: one node per rule is off by a large share of a posterior sd
    on rat tumours (the default rules are within 0.05 sd of NUTS, below)."""
    rats = load_rat_tumors()
    ref = quadrature_posterior(rats, prior_parent_scale=2.5, prior_spread_scale=1.0)
    laplace = quadrature_posterior(rats, prior_parent_scale=2.5, prior_spread_scale=1.0,
                                   parent_nodes=1, child_nodes=1)
    assert abs(laplace.parent_mean[0] - ref.parent_mean[0]) > 0.3 * ref.parent_sd[0]
    assert np.max(np.abs(laplace.child_mean - ref.child_mean) / ref.child_sd) > 0.1
    assert not laplace.accurate


# The posterior of rat tumours (logit-normal, parent ~ Normal(0, 2.5), spread ~
# HalfNormal(1)) by nutpie, non-centered, 4 chains x 5,000 draws after 1,000 tuning
# steps, target_accept 0.95, seed 1, no divergences (bulk ESS 7,094 for the parent,
# 5,265 for the spread): (mean, sd) of the parent, the spread and five groups (index:
# tumours of rats).
RATS_NUTS = {"parent": (-1.9430, 0.1244), "spread": (0.6984, 0.1308)}
RATS_GROUPS = {0: (-2.6566, 0.5947), 14: (-2.3670, 0.5402), 39: (-1.8688, 0.4819),
               59: (-1.4543, 0.4471), 70: (-1.4113, 0.4864)}  # 0/20, 1/20, 3/20, 5/20, 4/14


def test_rat_tumours_match_a_long_nuts_run_and_are_instant():
    rats = load_rat_tumors()
    options = dict(prior_parent_mean=0.0, prior_parent_scale=2.5, prior_spread_scale=1.0)
    quadrature_posterior(rats, **options)
    start = time.perf_counter()
    ref = quadrature_posterior(rats, **options)
    assert time.perf_counter() - start < 1.0
    # Within 0.05 posterior sd (issue 21's target; NUTS' own error is about 0.012 sd).
    got = {"parent": (ref.parent_mean[0], ref.parent_sd[0]),
           "spread": (ref.spread_mean, ref.spread_sd),
           **{i: (ref.child_mean[i, 0], ref.child_sd[i, 0]) for i in RATS_GROUPS}}
    for key, (mean, sd) in {**RATS_NUTS, **RATS_GROUPS}.items():
        assert abs(got[key][0] - mean) <= 0.05 * sd, key
        assert got[key][1] == pytest.approx(sd, rel=0.05), key
    # No group sits at 0 tumours on the logit scale (-inf): each is pulled in.
    zero = np.array([y[0] == 0 for y in rats.y])
    assert zero.sum() == 14 and np.all(np.isfinite(ref.child_mean))
    assert np.all(ref.child_mean[zero, 0] > ref.parent_mean[0] - 3 * ref.spread_mean)


def test_intervals_hold_the_mean_and_match_the_closed_form_interval():
    data = gaussian_world(k=1)
    ref = quadrature_posterior(data, **PRIORS)
    got = ref.interval()
    assert got["parent"].shape == (2, 1) and got["child"].shape == (2, 4, 1)
    for name, mean in (("parent", ref.parent_mean), ("child", ref.child_mean),
                       ("spread", ref.spread_mean)):
        assert np.all(got[name][0] < mean) and np.all(mean < got[name][1])
    # For a Gaussian outcome the mixture over the grid is the exact posterior: its
    # central CI_PROB interval of the spread from the grid cells.
    *_, exact = closed_form(data)
    v = np.linspace(-16.0, 3.0, 40001)
    tau = np.exp(v)
    lp = exact.conditional(np.full_like(tau, NOISE), tau)["log_likelihood"] \
        - 0.5 * (tau / PRIORS["prior_spread_scale"]) ** 2 + v
    cdf = np.cumsum(np.exp(lp - lp.max()))
    cdf /= cdf[-1]
    lo, hi = np.interp([(1 - CI_PROB) / 2, (1 + CI_PROB) / 2], cdf, tau)
    assert got["spread"] == pytest.approx([lo, hi], rel=0.01)
    narrow = ref.interval(0.5)
    assert np.all(narrow["child"][0] > got["child"][0])
    with pytest.raises(ValueError, match="level = 1.0 is not allowed"):
        ref.interval(1.0)


def test_empty_tasks_and_no_rows_at_all_give_the_prior():
    data = TaskData("poisson", (np.ones((0, 1)), np.ones((0, 1))), ([], []))
    ref = quadrature_posterior(data, prior_parent_mean=0.5, prior_parent_scale=2.0,
                               prior_spread_scale=1.0)
    assert ref.parent_mean[0] == pytest.approx(0.5, abs=1e-6)
    assert ref.parent_sd[0] == pytest.approx(2.0, rel=1e-3)
    assert ref.spread_mean == pytest.approx(np.sqrt(2 / np.pi), rel=2e-3)  # HalfNormal(1)
    assert ref.log_evidence == pytest.approx(0.0, abs=1e-6)


def test_many_features_fall_back_and_say_so():
    data = simulate_outcomes("bernoulli", samples=(30, 30), seed=1, n_features=4).data
    ref = quadrature_posterior(data)
    assert ref.nodes == default_nodes(4) and not ref.accurate
    assert np.all(np.isfinite(ref.child_sd)) and np.all(ref.child_sd > 0)


@pytest.mark.parametrize("option, value, message", [
    ("prior_parent_scale", 0.0, "prior_parent_scale = 0.0 is not allowed: must be > 0"),
    ("prior_spread_scale", np.inf, "prior_spread_scale = inf is not allowed: must be a "
                                   "finite number"),
    ("fixed_spread", -1.0, "fixed_spread = -1.0 is not allowed: must be > 0"),
    ("child_nodes", 0, "child_nodes = 0 is not allowed: must be a whole number from 1 to 15"),
    ("parent_nodes", 2.5, "parent_nodes = 2.5 is not allowed"),
    ("grid_size", 4, "grid_size = 4 is not allowed: must be a whole number from 8 to 200"),
])
def test_options_are_checked_by_name(option, value, message):
    data = gaussian_world(k=1)
    with pytest.raises(ValueError, match=message):
        quadrature_posterior(data, **{option: value})
    with pytest.raises(ValueError, match="data = 'tuple' is not allowed: must be TaskData"):
        quadrature_posterior((data.X, data.y))
