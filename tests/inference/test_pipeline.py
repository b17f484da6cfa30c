"""Fits against the exact posterior, within Monte Carlo error.

Every sampled mean is compared with the closed-form posterior mean using the sampler's
own Monte Carlo standard error (sd / sqrt(ESS)), every sd with the MCSE of an sd: a
method that is biased by more than a few standard errors fails, however many draws.
"""

import numpy as np
import pytest

from hierdash.inference import FitStopped, fit
from hierdash.inference.diagnostics import elbo_converged
from hierdash.inference.models.compiled import NUTPIE_CACHE
from hierdash.inference.summarise import draws_of
from hierdash.scenario import Scenario

# The worlds: imbalanced with a task of 0 rows, and the default.
IMBALANCED = Scenario(samples=(50, 10, 2, 0), n_features=2, seed=11)
DEFAULT = Scenario()
Z_LIMIT = 4.5  # per weight; with ~20 weights a correct sampler fails ~1 in 1,000 runs


def _z_scores(result):
    """(mean z, sd z) of every weight and scale against the exact posterior.

    The standard errors are ArviZ's Monte Carlo standard errors of the mean and of the
    sd. (The sd's error needs the ESS of the squared deviations: NUTS draws are often
    antithetic, with a bulk ESS above the number of draws, which would make an error
    computed from the bulk ESS too small for the sd.)
    """
    import arviz as az

    draws = result.posterior["posterior"].to_dataset()
    mcse_mean = az.mcse(draws, method="mean")
    mcse_sd = az.mcse(draws, method="sd")
    exact = result.exact
    pairs = [
        ("parent", exact.parent_mean, exact.parent_sd),
        ("child", exact.child_mean, exact.child_sd),
        ("noise", np.array(exact.noise_mean), np.array(exact.noise_sd)),
    ]
    if result.scenario.learn_spread:
        pairs.append(("spread", np.array(exact.spread_mean), np.array(exact.spread_sd)))
    mean_z, sd_z = [], []
    for name, true_mean, true_sd in pairs:
        d = draws_of(result.posterior, name)
        mean_z.append(np.ravel((d.mean(axis=0) - true_mean) / mcse_mean[name].values))
        sd_z.append(np.ravel((d.std(axis=0, ddof=1) - true_sd) / mcse_sd[name].values))
    return np.concatenate(mean_z), np.concatenate(sd_z)


@pytest.mark.slow
@pytest.mark.statistical
@pytest.mark.parametrize("method", ["nuts", "pymc_nuts"])
@pytest.mark.parametrize("scenario", [DEFAULT, IMBALANCED], ids=["default", "imbalanced"])
def test_nuts_matches_exact_within_monte_carlo_error(method, scenario):
    result = fit(scenario.replace(method=method, draws=1000, tune=1000, chains=2))
    mean_z, sd_z = _z_scores(result)
    assert np.abs(mean_z).max() < Z_LIMIT, mean_z
    assert np.abs(sd_z).max() < Z_LIMIT, sd_z
    assert result.diagnostics.divergences == 0
    assert result.diagnostics.max_rhat < 1.01


@pytest.mark.slow
@pytest.mark.statistical
@pytest.mark.parametrize(
    "parameterization, scenario",
    [("centered", DEFAULT),
     ("noncentered", Scenario(samples=(5,) * 8, n_features=2, noise_sd=3.0, seed=5))],
    ids=["centered-data-rich", "noncentered-data-poor"],
)
def test_the_sampled_forms_match_exact_where_they_suit_the_world(parameterization, scenario):
    # The latent model (the funnel lesson) stays right where its form has no funnel:
    # centered for data-rich tasks, non-centered for data-poor ones.
    result = fit(scenario.replace(parameterization=parameterization, draws=1000, tune=1000))
    mean_z, sd_z = _z_scores(result)
    assert np.abs(mean_z).max() < Z_LIMIT, mean_z
    assert np.abs(sd_z).max() < Z_LIMIT, sd_z
    assert result.diagnostics.parameterization == parameterization


def test_auto_integrates_the_weights_out_for_nuts_and_keeps_them_for_advi():
    from hierdash.inference.samplers import resolve_parameterization

    for method, expected in [("nuts", "marginal"), ("pymc_nuts", "marginal"),
                             ("advi", "per_task"), ("fullrank_advi", "per_task")]:
        assert resolve_parameterization(Scenario(method=method)) == expected
    for chosen in ("marginal", "centered", "noncentered"):
        assert resolve_parameterization(Scenario(method="advi", parameterization=chosen)) == chosen


@pytest.mark.slow
def test_the_marginal_fit_gives_the_empty_task_the_parent():
    result = fit(IMBALANCED.replace(method="nuts"))
    assert result.diagnostics.parameterization == "marginal"
    assert result.diagnostics.divergences == 0
    row = result.weights.query("level == 'child' and task == 3")
    assert np.allclose(row["exact_mean"], result.exact.parent_mean)
    assert np.allclose(row["mean"], row["exact_mean"], atol=4 * row["exact_sd"].max() / np.sqrt(400))


@pytest.mark.slow
def test_advi_means_close_to_exact_and_mean_field_sds_too_narrow():
    mf = fit(DEFAULT.replace(method="advi", advi_iterations=30_000))
    fr = fit(DEFAULT.replace(method="fullrank_advi", advi_iterations=50_000))
    for result in (mf, fr):
        w = result.weights
        # Measured: max |mean - exact| / exact sd 0.06 (mean-field), 0.15 (full-rank);
        # PyMC's pm.fit, its last iterate without averaging: 1.2 and 1.1.
        assert np.abs(w["z_vs_exact"]).max() < 2.0
        assert result.diagnostics.converged is True, result.diagnostics.convergence_message
    # At most its 30,000 iterations: ADVI stops once its ELBO has settled.
    assert 2000 <= len(mf.diagnostics.elbo) <= 30_000
    # Mean-field ignores the posterior correlation between the parent and the child
    # weights: its parent sds are too narrow. Measured ratio to exact: 0.64-0.67.
    parent = mf.weights.query("level == 'parent'")
    ratio = parent["sd"] / parent["exact_sd"]
    assert ratio.max() < 0.9, ratio


@pytest.mark.slow
def test_advi_that_has_not_converged_says_so():
    result = fit(DEFAULT.replace(method="advi", advi_iterations=1000, advi_learning_rate=0.001))
    assert result.diagnostics.converged is False
    assert "not converged" in result.diagnostics.convergence_message
    assert any("not converged" in w for w in result.warnings())


def test_elbo_verdict_on_synthetic_curves():
    rng = np.random.default_rng(0)
    steps = np.arange(20_000)
    flat = -100 + rng.normal(0, 2, 20_000)
    rising = -100 - 50 * np.exp(-steps / 20_000) + rng.normal(0, 2, 20_000)
    # still travelling: the noise shrinks as the fit nears the optimum
    settling = -100 + rng.normal(0, 2, 20_000) * (1 + 50 * np.exp(-steps / 5_000))
    assert elbo_converged(flat)[0]
    assert not elbo_converged(rising)[0]
    assert not elbo_converged(settling)[0]
    assert not elbo_converged(flat[:1500])[0]


def test_exact_method_is_deterministic_and_fast_path():
    a = fit(DEFAULT.replace(method="exact"))
    b = fit(DEFAULT.replace(method="exact"))
    assert np.array_equal(draws_of(a.posterior, "child"), draws_of(b.posterior, "child"))
    assert a.compile_s == 0.0
    assert set(a.weights["level"]) == {"parent", "child"}


def test_naive_padding_shrinks_the_noise_masked_recovers_it():
    # 100 and 20 rows: naive padding adds 80 rows of y = 0 = X c with X = 0, i.e. 80
    # perfectly fitted rows, which pull the noise estimate down by ~sqrt(120 / 200).
    world = Scenario(samples=(100, 20), noise_sd=2.0, method="exact", seed=3)
    masked = fit(world).scales.set_index("name").loc["noise"]
    naive = fit(world.replace(padding="naive")).scales.set_index("name").loc["noise"]
    assert abs(masked["mean"] - 2.0) < 3 * masked["sd"] + 0.05
    assert naive["mean"] < 2.0 - 5 * naive["sd"]
    assert naive["mean"] < 0.85 * masked["mean"]


@pytest.mark.slow
def test_same_seed_same_draws():
    a = fit(DEFAULT.replace(draws=200, tune=200))
    b = fit(DEFAULT.replace(draws=200, tune=200))
    assert np.array_equal(draws_of(a.posterior, "parent"), draws_of(b.posterior, "parent"))
    c = fit(DEFAULT.replace(draws=200, tune=200, seed=43))
    assert not np.array_equal(draws_of(a.posterior, "parent"), draws_of(c.posterior, "parent"))


@pytest.mark.slow
def test_new_data_on_the_same_shapes_does_not_recompile():
    fit(DEFAULT.replace(draws=200, tune=200))
    before = NUTPIE_CACHE.compilations
    changes = [
        {"seed": 1},
        {"parent_mean": -5.0, "noise_sd": 3.0, "child_spread": 2.0},
        {"samples": (90, 80)},
        {"samples": (100, 80)},
        {"parameterization": "noncentered"},
        {"padding": "naive"},
        {"prior_parent_scale": 3.0},
    ]
    for change in changes:
        result = fit(DEFAULT.replace(draws=200, tune=200, **change))
        assert result.compile_s == 0.0, change
    assert NUTPIE_CACHE.compilations == before


@pytest.mark.slow
def test_a_fit_can_be_stopped():
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 2

    with pytest.raises(FitStopped, match="stopped"):
        fit(DEFAULT.replace(draws=5000, tune=5000), should_stop=stop)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["pymc_nuts", "advi"])
def test_pymc_methods_can_be_stopped_and_report_progress(method):
    polls = {"n": 0}
    fractions = []

    def stop():
        polls["n"] += 1
        return polls["n"] > 2

    def progress(stage, fraction, message):
        if stage == "sample" and fraction is not None:
            fractions.append(fraction)

    with pytest.raises(FitStopped, match="stopped"):
        fit(DEFAULT.replace(method=method), should_stop=stop, progress=progress)
    assert fractions and 0 < max(fractions) < 0.5


def test_progress_goes_through_the_stages():
    stages = []
    fit(DEFAULT.replace(method="exact"), progress=lambda s, f, m: stages.append(s))
    assert stages[0] == "simulate" and stages[-1] == "summarise" and "sample" in stages


def test_a_world_is_prepared_once_for_every_method_and_sampler_setting():
    from hierdash.inference.prepare import prepare

    base = Scenario(seed=31, method="exact")
    first = prepare(base)
    assert prepare(base.replace(method="nuts", tune=500, draws=300)) is first
    assert prepare(base.replace(parameterization="centered", chains=4)) is first
    # Anything that changes the world or its exact answer is prepared anew.
    for change in ({"seed": 32}, {"padding": "naive"}, {"prior_noise_scale": 2.0},
                   {"learn_spread": False}, {"samples": (100, 81)}):
        assert prepare(base.replace(**change)) is not first, change


def test_the_quadrature_reference_says_when_it_is_only_approximate():
    # Checked to 0.1 posterior sd up to 3 features; beyond, the page must say so.
    many = fit(Scenario.for_outcome("bernoulli", n_features=4, method="exact", seed=3))
    assert any("only checked" in w and "NUTS" in w for w in many.warnings())
    few = fit(Scenario.for_outcome("bernoulli", method="exact", seed=3))
    assert not any("only checked" in w for w in few.warnings())
