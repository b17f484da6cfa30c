"""Yes/no and count outcomes on the explore page, through ``AppTest``: the outcome
selector and the controls it brings, the link, the wrong combinations, the charts.

Every world here uses the exact reference (quadrature, tens of milliseconds).
"""

from __future__ import annotations

import json

import pytest

from hierdash.scenario import Scenario
from hierdash.ui.controls import hidden_fields, method_choices, parameterization_choices
from hierdash.ui.results import model_formula
from hierdash.ui.words import keys
from testkit.apptest import N_CHARTS, chart_data, ok, open_page, query, texts

pytestmark = pytest.mark.app

N_OUTCOME_CHARTS = N_CHARTS + 1  # the link-scale charts and each task's probability or rate


def new_app(**params: str):
    return open_page(params, timeout=120)


def specs(at) -> str:
    return json.dumps([json.loads(c.proto.spec) for c in at.get("vega_lite_chart")])


def choose(at, outcome: str):
    return ok(at.selectbox(key="outcome").set_value(outcome).run())


# -- choosing an outcome ---------------------------------------------------------------------
def test_choosing_bernoulli_loads_its_world_and_draws_every_chart():
    at = ok(new_app(seed="7", method="exact"))
    assert at.selectbox(key="outcome").value == "gaussian"
    choose(at, "bernoulli")
    q = query(at)
    expected = Scenario.for_outcome("bernoulli", seed=7, method="exact").to_query()
    assert q == expected  # the outcome's own defaults; the seed and the method stay
    assert len(at.get("vega_lite_chart")) == N_OUTCOME_CHARTS
    assert "log-odds" in specs(at) and "probability of a success" in specs(at)
    # The noise gives way; ADVI and the marginal form are not offered, and a caption says why.
    assert "noise_sd" not in [s.key for s in at.slider]
    assert not [n for n in at.number_input if n.key in ("trials", "exposure")]
    assert at.toggle(key="intercept").value is True
    assert "advi" not in at.selectbox(key="method").options[0]
    assert [o for o in at.selectbox(key="method").options if "ADVI" in o] == []
    assert "marginal" not in at.radio(key="parameterization").options
    assert "ADVI and the marginal parameterization are for Gaussian worlds" in texts(at.caption)
    markdown = texts(at.markdown)
    assert "**yes or no** (Bernoulli" in markdown
    assert "`y ~ 1 + x1 + (1 + x1 | task)`, family *bernoulli*" in markdown
    assert "whose log-odds (or log rate) is linear" in markdown  # the intro, for yes/no
    assert "computed by quadrature" in markdown and "no marginal form" in markdown
    assert "pull on the probability or rate scale is not the same" in texts(at.info)
    # Each task's probability against its own rows' share and the truth.
    natural = chart_data(at, "raw")
    assert {"raw", "natural_true", "natural_low", "natural_high"} <= set(natural.columns)
    assert natural["natural_mean"].between(0, 1).all()
    assert len(natural) == 6


def test_a_task_with_no_successes_is_lifted_above_zero():
    # Seed 1 of the bernoulli defaults with these counts has a task with 0 of 3.
    for seed in range(60):
        world = Scenario.for_outcome("bernoulli", samples=(40, 3, 3, 3), seed=seed,
                                     method="exact")
        at = ok(new_app(**world.to_query()))
        natural = chart_data(at, "raw")
        none = natural[(natural["events"] == 0) & (natural["n"] > 0)]
        if len(none):
            break
    else:
        pytest.fail("no world with a 0-of-n task in 60 seeds")
    assert (none["raw"] == 0).all()
    assert (none["natural_mean"] > 0.02).all() and (none["natural_low"] > 0).all()
    assert "0 of " in specs(at)  # said beside its circle


def test_binomial_brings_trials_and_poisson_exposure():
    at = ok(new_app(method="exact"))
    choose(at, "binomial")
    ok(at.number_input(key="trials").set_value(30).run())
    assert query(at)["outcome"] == "binomial" and query(at)["trials"] == "30"
    natural = chart_data(at, "raw")
    assert (natural["size"] == natural["n"] * 30).all()
    assert (natural["raw"].dropna() <= 1).all()
    assert "y | trials(trials) ~ 1 + x1" in texts(at.markdown)
    assert len(at.get("vega_lite_chart")) == N_OUTCOME_CHARTS

    choose(at, "poisson")
    assert not [n for n in at.number_input if n.key == "trials"]
    ok(at.number_input(key="exposure").set_value(2.5).run())
    q = query(at)
    assert q["outcome"] == "poisson" and q["exposure"] == "2.5"
    assert q["trials"] == "10"  # a hidden setting keeps its value
    natural = chart_data(at, "raw")
    assert (natural["size"] == natural["n"] * 2.5).all()
    assert "log rate" in specs(at) and "rate (expected count" in specs(at)
    assert "offset(log(exposure))" in texts(at.markdown)
    assert len(at.get("vega_lite_chart")) == N_OUTCOME_CHARTS


def test_back_to_gaussian_restores_its_world():
    at = ok(new_app(seed="5"))
    choose(at, "poisson")
    choose(at, "gaussian")
    assert query(at) == Scenario(seed=5).to_query()
    assert "noise_sd" in [s.key for s in at.slider]
    assert any("ADVI" in o for o in at.selectbox(key="method").options)
    assert len(at.get("vega_lite_chart")) == N_CHARTS
    assert "log-odds" not in specs(at) and "log rate" not in specs(at)


def test_advi_gives_way_to_nuts_when_the_outcome_cannot_take_it():
    at = ok(new_app())
    ok(at.selectbox(key="method").set_value("advi").run())
    choose(at, "bernoulli")
    assert query(at)["method"] == "nuts"
    assert at.selectbox(key="method").value == "nuts"


def test_intercept_toggle_and_an_intercept_only_world():
    at = ok(new_app(**Scenario.for_outcome("bernoulli", n_features=1, method="exact").to_query()))
    assert "`y ~ 1 + (1 | task)`" in texts(at.markdown)
    assert len(chart_data(at, "raw")) == 6
    ok(at.toggle(key="intercept").set_value(False).run())
    assert query(at)["intercept"] == "false"
    assert "`y ~ 0 + x0 + (0 + x0 | task)`" in texts(at.markdown)
    assert "no intercept" in texts(at.caption)
    assert len(at.get("vega_lite_chart")) == N_CHARTS  # no probability per task to show


# -- the link ------------------------------------------------------------------------------
@pytest.mark.parametrize("world", [
    Scenario.for_outcome("bernoulli", samples=(30, 5, 0), seed=11, method="pymc_nuts",
                         parameterization="centered"),
    Scenario.for_outcome("binomial", trials=25, seed=3, intercept=False, n_features=2,
                         method="exact"),
    Scenario.for_outcome("poisson", exposure=0.5, seed=8, noise_sd=3.0, learn_spread=False,
                         method="exact"),
], ids=["bernoulli", "binomial", "poisson"])
def test_a_link_opens_its_outcome_world_and_round_trips(world):
    link = world.to_query()
    at = ok(new_app(**link))
    assert "could not be used" not in texts(at.warning)
    assert query(at) == link
    ok(at.run())  # a second run: hidden settings (noise sd here) keep their link values
    assert query(at) == link
    assert at.selectbox(key="outcome").value == world.outcome
    assert at.toggle(key="intercept").value is world.intercept
    assert at.data_editor[0].value["samples"].tolist() == list(world.samples)
    if world.outcome == "binomial":
        assert at.number_input(key="trials").value == 25
    if world.outcome == "poisson":
        assert at.number_input(key="exposure").value == 0.5
    assert at.get("vega_lite_chart")


def test_a_short_link_takes_its_outcomes_own_defaults():
    at = ok(new_app(outcome="bernoulli", seed="3", method="exact"))
    assert query(at) == Scenario.for_outcome("bernoulli", seed=3, method="exact").to_query()
    assert len(at.get("vega_lite_chart")) == N_OUTCOME_CHARTS


def test_a_link_with_a_combination_the_outcome_refuses_says_so():
    at = ok(new_app(outcome="bernoulli", method="advi", parameterization="marginal", seed="4"))
    warning = texts(at.warning)
    assert "could not be used" in warning and "method" in warning and "parameterization" in warning
    q = query(at)
    assert (q["outcome"], q["method"], q["parameterization"], q["seed"]) == (
        "bernoulli", "nuts", "auto", "4")
    assert at.get("vega_lite_chart")


def test_a_fixed_spread_is_fitted_and_kept_in_the_link():
    at = ok(new_app(**Scenario.for_outcome("bernoulli").to_query()))
    ok(at.toggle(key="learn_spread").set_value(False).run())
    assert "can't be used" not in texts(at.error)
    assert query(at)["learn_spread"] == "false"
    assert at.get("vega_lite_chart")


# -- the pieces ------------------------------------------------------------------------------
def test_controls_each_outcome_hides_and_offers():
    assert hidden_fields("gaussian") == ("trials", "exposure")
    assert "noise_sd" in hidden_fields("bernoulli") and "trials" in hidden_fields("bernoulli")
    assert "trials" not in hidden_fields("binomial") and "exposure" in hidden_fields("binomial")
    assert "exposure" not in hidden_fields("poisson")
    for outcome in ("bernoulli", "binomial", "poisson"):
        assert "advi" not in method_choices(outcome) and "exact" in method_choices(outcome)
        assert "marginal" not in parameterization_choices(outcome)
        # Every choice offered is one the scenario takes.
        for method in method_choices(outcome):
            for parameterization in parameterization_choices(outcome):
                Scenario.for_outcome(outcome, method=method, parameterization=parameterization)
    assert "advi" in method_choices("gaussian")


@pytest.mark.parametrize("world, brms, bambi", [
    (Scenario.for_outcome("bernoulli"), "y ~ 1 + x1 + (1 + x1 | task)",
     "y ~ 1 + x1 + (1 + x1 | task)"),
    (Scenario.for_outcome("binomial", n_features=3), "y | trials(trials) ~ 1 + x1 + x2 + "
     "(1 + x1 + x2 | task)", "p(y, trials) ~ 1 + x1 + x2 + (1 + x1 + x2 | task)"),
    (Scenario.for_outcome("poisson", n_features=1),
     "y ~ 1 + offset(log(exposure)) + (1 | task)", "y ~ 1 + offset(log(exposure)) + (1 | task)"),
    (Scenario(n_features=2), "y ~ 0 + x0 + x1 + (0 + x0 + x1 | task)",
     "y ~ 0 + x0 + x1 + (0 + x0 + x1 | task)"),
])
def test_model_formula(world, brms, bambi):
    formula = model_formula(world)
    assert (formula["brms"], formula["bambi"], formula["family"]) == (brms, bambi, world.outcome)


def test_every_outcome_words_entry_asked_for_by_name_exists():
    outcomes = ("gaussian", "bernoulli", "binomial", "poisson")
    assert {f"outcome_{o}" for o in outcomes} <= set(keys("controls"))
    assert {f"world_{o}" for o in outcomes[1:]} <= set(keys("explore"))
    assert {f"outcome_{o}" for o in outcomes[1:]} <= set(keys("classroom"))
    for entry in ("parent", "child", "shrinkage", "pull", "scales_title", "padding"):
        assert f"{entry}_link" in keys("explore")
    assert {"shown_quadrature", "shown_quadrature_before_fit", "natural_title_probability",
            "natural_title_rate", "natural_probability", "natural_rate"} <= set(keys("explore"))
