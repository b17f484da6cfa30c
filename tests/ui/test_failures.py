"""Failures explained: each shown as a plain-words warning, and the charts still render.

The failures: divergences, an R-hat above 1.01, a low ESS, ADVI that did not converge
and a task too small for its own (no-pooling) estimate. For each, the engine produces it
for real (a fit of a world that provokes it), its warning is checked in words, and the
page (``AppTest``) shows the warning beside every chart.

Every NUTS world keeps the default model shape (4 features, at most two tasks), so the
whole file compiles one nutpie model (shared with the app's background warm-up, which
compiles the same shape).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from hierdash.inference import Diagnostics, fit
from hierdash.scenario import Scenario
from hierdash.settings import ESS_LIMIT, RHAT_LIMIT
from testkit.apptest import N_CHARTS, ok, open_page, press_fit, texts

# The worlds that fail. Measured over seeds 1-6: the funnel gives 24-83 divergences and
# R-hat 1.09-2.1; the short run R-hat 1.09-1.9 and a bulk ESS of 3-15; the ADVI run (seeds
# 1, 7, 42) an ELBO still rising by 4,000-12,000 over its second half.
FUNNEL = Scenario(method="nuts", samples=(2, 1), noise_sd=30.0, child_spread=0.05,
                  parameterization="centered", target_accept=0.6, draws=200, tune=200,
                  seed=4)
SHORT_RUN = Scenario(method="nuts", draws=100, tune=100, chains=2, seed=1)
ADVI_UNCONVERGED = Scenario(method="advi", advi_iterations=10_000, advi_learning_rate=0.001,
                            draws=100, seed=42)
TOO_SMALL = Scenario(method="exact", samples=(100, 2), n_features=4, seed=3)

# Words that say what to try next.
ADVICE = ("try", "draw more", "give it", "more iterations", "add rows", "more rows")


def says_what_to_try(message: str) -> bool:
    return any(word in message.lower() for word in ADVICE)


# ---------------------------------------------------------------------------
# Engine: the warnings in words
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("diagnostics", "words"),
    [
        (Diagnostics(divergences=7), "7 divergent transitions"),
        (Diagnostics(max_rhat=1.05, min_ess_bulk=1000, min_ess_tail=1000), "R-hat up to 1.050"),
        (Diagnostics(max_rhat=1.0, min_ess_bulk=1000, min_ess_tail=120),
         "Effective sample size as low as 120"),
        (Diagnostics(max_rhat=1.0, min_ess_bulk=80, min_ess_tail=1000),
         "Effective sample size as low as 80"),
        (Diagnostics(converged=False, convergence_message="ADVI has not converged: give it "
                     "more iterations."), "ADVI has not converged"),
    ],
    ids=["divergences", "rhat", "ess_tail", "ess_bulk", "advi"],
)
def test_each_diagnostic_failure_is_one_warning_that_says_what_to_try(diagnostics, words):
    messages = diagnostics.warnings()
    assert len(messages) == 1, messages
    assert words in messages[0]
    assert says_what_to_try(messages[0]), messages[0]


def test_a_healthy_fit_has_no_warning_and_the_limits_are_strict():
    healthy = Diagnostics(max_rhat=RHAT_LIMIT, min_ess_bulk=ESS_LIMIT, min_ess_tail=ESS_LIMIT,
                          divergences=0, converged=True, convergence_message="converged")
    assert healthy.warnings() == []
    # Methods without chains (exact, ADVI) have no R-hat or ESS: nothing to warn about.
    assert Diagnostics().warnings() == []
    several = Diagnostics(max_rhat=1.2, min_ess_bulk=10, min_ess_tail=5, divergences=3)
    assert len(several.warnings()) == 3


def test_a_task_too_small_for_its_own_estimate_is_named_and_still_estimated():
    result = fit(TOO_SMALL)
    messages = result.warnings()
    assert len(messages) == 1
    assert messages[0].startswith("task 1 has 2 rows for 4 weights: too few to estimate alone")
    child = result.weights.query("level == 'child' and task == 1")
    assert child["no_pooling"].isna().all()  # no estimate of its own...
    assert child[["mean", "ci_low", "ci_high"]].notna().all().all()  # ...but a pooled one


def test_the_too_small_task_warning_says_what_to_try():
    (message,) = fit(TOO_SMALL).warnings()
    assert says_what_to_try(message), message


@pytest.mark.slow
def test_the_centered_funnel_diverges_for_real():
    result = fit(FUNNEL)
    d = result.diagnostics
    assert d.divergences > 0
    assert d.centered_tasks == (0, 1)
    assert any(f"{d.divergences} divergent transitions" in m for m in result.warnings())


@pytest.mark.slow
def test_a_short_run_has_a_high_rhat_and_a_low_ess_for_real():
    result = fit(SHORT_RUN)
    d = result.diagnostics
    assert d.max_rhat > RHAT_LIMIT
    assert min(d.min_ess_bulk, d.min_ess_tail) < ESS_LIMIT
    joined = "\n".join(result.warnings())
    assert "R-hat up to" in joined and "the chains disagree" in joined
    assert "Effective sample size as low as" in joined


def _assert_unconverged_and_explained(result):
    """The fit says ADVI did not converge, as a warning that says what to try."""
    d = result.diagnostics
    assert d.converged is False
    assert d.convergence_message in result.warnings()
    assert says_what_to_try(d.convergence_message)
    return d


@pytest.mark.slow
def test_advi_stopped_while_the_elbo_still_rises_is_not_converged():
    d = _assert_unconverged_and_explained(fit(ADVI_UNCONVERGED))
    assert d.convergence_message.startswith("ADVI has not converged")


@pytest.mark.slow
def test_advi_with_too_few_iterations_is_not_judged_converged():
    result = fit(Scenario(method="advi", advi_iterations=1000, advi_learning_rate=0.001,
                          draws=100, seed=42))
    d = _assert_unconverged_and_explained(result)
    assert "too few to judge" in d.convergence_message


@pytest.mark.slow
def test_advi_far_from_its_optimum_is_not_converged():
    result = fit(Scenario(method="advi", advi_iterations=3000, advi_learning_rate=0.001,
                          draws=100, seed=42))
    assert result.diagnostics.converged is False, result.diagnostics.convergence_message


# ---------------------------------------------------------------------------
# The page: the warning appears and every chart still renders
# ---------------------------------------------------------------------------
def open_world(scenario: Scenario) -> AppTest:
    return ok(open_page(scenario.to_query()))


def fit_world(at: AppTest) -> AppTest:
    return ok(press_fit(at))


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_charts_shown(at: AppTest, label: str, n_charts: int = N_CHARTS) -> None:
    assert f"Charts show **{label}**" in texts(at.success)
    assert len(at.get("vega_lite_chart")) == n_charts
    subheaders = texts(at.subheader)
    for title in ("Parent weights", "Child weights", "Shrinkage", "The padded data",
                  "Diagnostics"):
        assert title in subheaders


@pytest.mark.app
@pytest.mark.slow
def test_page_explains_divergences_and_still_draws_every_chart():
    at = fit_world(open_world(FUNNEL))
    assert_charts_shown(at, "NUTS (nutpie)")
    assert int(metrics(at)["divergences"]) > 0
    warning = texts(at.warning)
    assert "divergent transitions" in warning
    assert "Try the marginal parameterization" in warning and "target_accept to 0.99" in warning
    # The diagnostics section explains the funnel in words.
    assert "divergences.**" in texts(at.markdown) and "funnel" in texts(at.markdown)


@pytest.mark.app
@pytest.mark.slow
def test_page_explains_a_high_rhat_and_a_low_ess_and_still_draws_every_chart():
    at = fit_world(open_world(SHORT_RUN))
    assert_charts_shown(at, "NUTS (nutpie)")
    shown = metrics(at)
    assert float(shown["max R-hat"]) > RHAT_LIMIT
    assert min(float(shown["min ESS bulk"]), float(shown["min ESS tail"])) < ESS_LIMIT
    warning = texts(at.warning)
    assert "R-hat up to" in warning and "Draw more (draws, tune)" in warning
    assert "Effective sample size as low as" in warning and "use more chains" in warning
    assert "the chains have not yet agreed" in texts(at.markdown)


@pytest.mark.app
@pytest.mark.slow
def test_page_says_advi_did_not_converge_and_still_draws_every_chart():
    at = fit_world(open_world(ADVI_UNCONVERGED))
    assert_charts_shown(at, "ADVI (mean-field)", N_CHARTS + 1)  # + the ELBO
    warning = texts(at.warning)
    assert "ADVI has not converged" in warning
    assert "give it more iterations or a larger learning rate" in warning
    assert "ELBO during optimisation" in texts(at.markdown)
    # The ELBO's verdict is a warning, not a success.
    assert "has not converged" not in texts(at.success)


@pytest.mark.app
def test_page_names_a_task_too_small_for_its_own_estimate_and_still_draws_every_chart():
    at = open_world(TOO_SMALL)
    assert "Charts show the **exact posterior**" in texts(at.info)
    assert len(at.get("vega_lite_chart")) == N_CHARTS
    assert "task 1 has 2 rows for 4 weights: too few to estimate alone" in texts(at.warning)


@pytest.mark.app
@pytest.mark.slow
def test_page_names_a_too_small_task_before_and_after_a_sampling_fit():
    # Before Fit the page shows the exact posterior of a NUTS world, warning included.
    at = open_world(TOO_SMALL.replace(method="nuts", draws=200, tune=200))
    assert "Charts show the **exact posterior**" in texts(at.info)
    assert "too few to estimate alone" in texts(at.warning)
    # After it, the NUTS charts, and the warning stays.
    at = fit_world(at)
    assert_charts_shown(at, "NUTS (nutpie)")
    assert "task 1 has 2 rows for 4 weights: too few to estimate alone" in texts(at.warning)


@pytest.mark.app
def test_page_gathers_many_warnings_in_one_box_and_still_draws_every_chart():
    at = open_world(Scenario(method="exact", samples=(40, 1, 2, 3, 1, 2), seed=8))
    assert len(at.warning) == 1
    warning = at.warning[0].value
    assert "**5 warnings:**" in warning
    for task in range(1, 6):
        assert f"task {task} has" in warning
    assert len(at.get("vega_lite_chart")) == N_CHARTS
