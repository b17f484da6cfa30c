"""Simulation-based calibration: the machinery on cases with known answers, then methods.

The synthetic cases use a normal model whose posterior is known in closed form:
theta ~ Normal(0, 1) per quantity, ``n`` observations ~ Normal(theta, 1), posterior
Normal(sum / (n + 1), 1 / (n + 1)). Draws from it must pass; draws from a posterior
60% too narrow must fail, so every check here can fail.
"""

import math

import numpy as np
import pytest
from scipy.stats import binom

from hierdash.calibration import (
    FAMILIES,
    INTERVALS,
    WorldFamily,
    check_draws,
    check_world,
    checks_frame,
    draw_world,
    get_family,
    run_calibration,
    summarise_checks,
    world_scenarios,
)
from hierdash.scenario import BOUNDS, Scenario

ISSUE9 = get_family("issue9")


# ---------------------------------------------------------------------------
# Families and drawn worlds
# ---------------------------------------------------------------------------
def test_issue9_family_is_the_issues():
    assert ISSUE9.n_features == 2
    assert ISSUE9.tasks == (2, 6)
    assert ISSUE9.sample_counts == (0, 1, 2, 3, 5, 8, 13, 30, 60)
    assert (ISSUE9.prior_parent_mean, ISSUE9.prior_parent_scale,
            ISSUE9.prior_spread_scale, ISSUE9.prior_noise_scale) == (0.0, 3.0, 1.0, 2.0)
    assert (ISSUE9.chains, ISSUE9.draws, ISSUE9.tune) == (2, 500, Scenario().tune)
    assert sum(f.n_features >= 3 for f in FAMILIES.values() if f.samples is None) >= 2


@pytest.mark.parametrize("name", list(FAMILIES))
def test_drawn_worlds_stay_within_the_family_and_bounds(name):
    family = FAMILIES[name]
    rng = np.random.default_rng(3)
    for _ in range(200):
        s = draw_world(family, rng)
        assert s.n_features == family.n_features
        if family.samples is None:
            assert family.tasks[0] <= s.n_tasks <= family.tasks[1]
            assert set(s.samples) <= set(family.sample_counts)
        else:
            assert s.samples == family.samples
        for truth, bound in ((s.child_spread, "child_spread"), (s.noise_sd, "noise_sd")):
            assert family.floor <= truth <= BOUNDS[bound].high
        # The truth's parent distribution is the prior the model is fitted with.
        assert (s.parent_mean, s.parent_scale) == (family.prior_parent_mean,
                                                   family.prior_parent_scale)
        assert (s.prior_spread_scale, s.prior_noise_scale) == (family.prior_spread_scale,
                                                               family.prior_noise_scale)
        assert (s.draws, s.chains, s.tune) == (family.draws, family.chains, family.tune)


def test_drawn_scales_follow_their_half_normal_priors():
    rng = np.random.default_rng(11)
    worlds = [draw_world(ISSUE9, rng) for _ in range(2000)]
    spread = np.array([s.child_spread for s in worlds])
    noise = np.array([s.noise_sd for s in worlds])
    # HalfNormal(s) has mean s * sqrt(2 / pi) and sd s * sqrt(1 - 2 / pi).
    for values, scale in ((spread, 1.0), (noise, 2.0)):
        se = scale * math.sqrt(1 - 2 / math.pi) / math.sqrt(len(values))
        assert abs(values.mean() - scale * math.sqrt(2 / math.pi)) < 4 * se
    assert spread.min() == pytest.approx(0.02)  # floored, and the floor is reached


def test_worlds_are_reproducible_and_paired():
    a = world_scenarios(ISSUE9, n_worlds=10, seed=5)
    b = world_scenarios(ISSUE9, n_worlds=4, seed=5)
    assert a[:4] == b  # world i depends on the seed and i only
    assert len({s.seed for s in a}) == 10
    assert world_scenarios(ISSUE9, n_worlds=10, seed=6) != a
    rng1, rng2 = np.random.default_rng(9), np.random.default_rng(9)
    assert draw_world(ISSUE9, rng1) == draw_world(ISSUE9, rng2)


@pytest.mark.parametrize("changes, field", [
    ({"tasks": (0, 3)}, "tasks"),
    ({"tasks": (4, 2)}, "tasks"),
    ({"sample_counts": ()}, "sample_counts"),
    ({"sample_counts": (5, 2000)}, "sample_counts"),
    ({"n_features": 9}, "n_features"),
    ({"prior_parent_scale": 80.0}, "prior_parent_scale"),
    ({"prior_spread_scale": 10.0}, "prior_spread_scale"),  # too many truths beyond 20
    ({"floor": 0.0}, "floor"),
    ({"draws": 10}, "draws"),
    ({"name": ""}, "name"),
])
def test_bad_families_name_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        ISSUE9.replace(**changes)


def test_family_from_scenario_keeps_its_shape_and_priors():
    scenario = Scenario(samples=(7, 0, 3), n_features=3, prior_noise_scale=2.5)
    family = WorldFamily.from_scenario(scenario)
    world = draw_world(family, np.random.default_rng(0))
    assert world.samples == (7, 0, 3) and world.n_features == 3
    assert world.prior_noise_scale == 2.5
    with pytest.raises(ValueError, match="prior_spread_scale"):
        WorldFamily.from_scenario(scenario.replace(prior_spread_scale=100.0))


def test_run_arguments_are_checked():
    with pytest.raises(ValueError, match="n_worlds"):
        world_scenarios(ISSUE9, n_worlds=0, seed=1)
    with pytest.raises(ValueError, match="seed"):
        world_scenarios(ISSUE9, n_worlds=1, seed=-1)
    with pytest.raises(ValueError, match="family"):
        get_family("nope")


# ---------------------------------------------------------------------------
# Ranks, coverage and uniformity on the normal model
# ---------------------------------------------------------------------------
def normal_checks(n_worlds, *, width=1.0, tasks=4, features=2, n_draws=400, seed=0):
    """Checks of the normal model; ``width`` scales the posterior sd of the draws."""
    rng = np.random.default_rng(seed)
    checks = []
    for w in range(n_worlds):
        truth, draws = {}, {}
        for level, shape in (("parent", (features,)), ("child", (tasks, features)),
                             ("noise", ())):
            theta = rng.normal(size=shape)
            n = rng.integers(0, 10, size=shape)
            total = theta * n + rng.normal(size=shape) * np.sqrt(n)
            mean, sd = total / (n + 1), 1 / np.sqrt(n + 1)
            truth[level] = theta
            draws[level] = mean + width * sd * rng.normal(size=(n_draws,) + np.shape(theta))
        checks.append(check_draws(world=w, truth=truth, draws=draws, seconds=0.01 * w))
    return checks


def test_ranks_and_intervals_of_one_world():
    draws = {"noise": np.arange(100.0), "parent": np.arange(100.0)[:, None] + [0.0, 60.0]}
    check = check_draws(world=3, truth={"noise": 24.5, "parent": np.array([49.5, 49.5])},
                        draws=draws)
    assert list(check.level) == ["parent", "parent", "noise"]
    assert check.rank == pytest.approx([0.5, 0.0, 0.25])
    # Central 50% of 0..99 is about [24.75, 74.25]: 24.5 is just outside it.
    assert check.inside.tolist() == [[True, True, True], [False, False, False],
                                     [False, True, True]]
    frame = check.to_frame()
    assert list(frame.columns) == ["world", "level", "task", "feature", "truth", "rank",
                                   "inside_50", "inside_80", "inside_94"]
    assert frame["task"].tolist() == [-1, -1, -1] and frame["feature"].tolist() == [0, 1, -1]


def test_bad_draws_are_refused():
    with pytest.raises(ValueError, match="shape"):
        check_draws(world=0, truth={"parent": np.zeros(2)}, draws={"parent": np.zeros((10, 3))})
    with pytest.raises(ValueError, match="levels"):
        check_draws(world=0, truth={"noise": 1.0}, draws={"parent": np.zeros((10, 2))})
    with pytest.raises(ValueError, match="finite"):
        check_draws(world=0, truth={"noise": 1.0}, draws={"noise": np.array([1.0, np.nan])})


def test_right_posterior_is_calibrated():
    summary = summarise_checks(normal_checks(300))
    for row in summary.coverage.itertuples():
        assert abs(row.coverage - row.interval) < 3 * row.se, row
    assert summary.uniformity["p_value"].min() > 1e-3
    assert summary.divergent_share == 0 and summary.unconverged_share is None


def test_too_narrow_posterior_fails():
    summary = summarise_checks(normal_checks(300, width=0.6))
    for level in ("parent", "child", "noise"):
        coverage, se = summary.coverage_of(level, 0.94)
        assert coverage < 0.94 - 3 * se
        assert summary.p_value_of(level) < 1e-6


def test_clustered_ranks_are_not_taken_for_independent_ones():
    # Every child of a world shares one rank: 8 copies are worth one observation.
    rng = np.random.default_rng(4)
    checks = []
    for w in range(300):
        u = rng.uniform()
        draws = np.sort(rng.normal(size=1000))
        value = np.full((4, 2), np.quantile(draws, u))
        checks.append(check_draws(world=w, truth={"child": value},
                                  draws={"child": np.broadcast_to(draws[:, None, None],
                                                                  (1000, 4, 2))}))
    summary = summarise_checks(checks)
    row = summary.uniformity.iloc[0]
    assert 6 < row["design_effect"] < 10
    assert row["p_value"] > 1e-3
    coverage, se = summary.coverage_of("child", 0.5)
    assert se == pytest.approx(math.sqrt(0.25 / 300), rel=0.15)  # per world, not per copy


def test_summary_times_divergences_and_rhat():
    checks = normal_checks(20)
    checks[3] = check_draws(world=3, truth={"noise": 0.0}, draws={"noise": np.ones(5)},
                            divergences=7, max_rhat=1.05, seconds=9.0)
    checks[4] = check_draws(world=4, truth={"noise": 0.0}, draws={"noise": np.ones(5)},
                            divergences=1, max_rhat=1.001, seconds=0.0)
    summary = summarise_checks(checks)
    assert (summary.worlds_with_divergences, summary.divergences) == (2, 8)
    assert summary.divergent_share == pytest.approx(0.1)
    assert summary.unconverged_share == pytest.approx(0.5)  # of the worlds with an R-hat
    assert summary.median_seconds == pytest.approx(np.median([c.seconds for c in checks]))
    data = summary.to_dict()
    assert data["n_worlds"] == 20 and len(data["coverage"]) == 3 * len(INTERVALS)
    with pytest.raises(ValueError, match="checks"):
        summarise_checks([])


def test_unconverged_means_the_settings_rhat_limit():
    """The summary and the lab's worlds table judge R-hat by ``settings.RHAT_LIMIT``, the
    limit the fit's own diagnostics use: a world at the limit is converged, one just
    above it is not."""
    from hierdash.calibration.lab import worlds_frame
    from hierdash.settings import RHAT_LIMIT

    checks = [check_draws(world=w, truth={"noise": 0.0}, draws={"noise": np.ones(5)},
                          max_rhat=rhat)
              for w, rhat in enumerate([RHAT_LIMIT, RHAT_LIMIT + 1e-6, None])]
    assert summarise_checks(checks).unconverged_share == pytest.approx(0.5)
    assert worlds_frame({"run": checks})["unconverged"].tolist() == [False, True, False]


# ---------------------------------------------------------------------------
# Real fits
# ---------------------------------------------------------------------------
def test_check_world_reads_a_fit():
    from hierdash.inference import fit

    scenario = world_scenarios(ISSUE9, n_worlds=1, seed=2)[0].replace(
        method="exact", samples=(3, 0, 8))
    check = check_world(scenario, fit(scenario), world=7)
    frame = check.to_frame()
    assert (frame["world"] == 7).all()
    assert frame["level"].value_counts().to_dict() == {"child": 6, "parent": 2,
                                                       "spread": 1, "noise": 1}
    assert check.n_draws == ISSUE9.draws * ISSUE9.chains
    fixed = scenario.replace(learn_spread=False)
    assert "spread" not in set(check_world(fixed, fit(fixed)).level)
    with pytest.raises(ValueError, match="fit_result"):
        check_world(scenario.replace(seed=1), fit(scenario))


def test_run_reports_each_world_and_stops():
    seen = []
    run = run_calibration(ISSUE9, method="exact", n_worlds=6, seed=1,
                          on_world=lambda check, done, total: seen.append((done, total)),
                          should_stop=lambda: len(seen) >= 3)
    assert run.stopped and len(run.checks) == 3 and seen[-1] == (3, 6)
    assert len(checks_frame(run.checks)["world"].unique()) == 3


@pytest.fixture(scope="module")
def exact_run():
    return run_calibration(ISSUE9, method="exact", n_worlds=300, seed=20)


def test_exact_is_calibrated_on_issue9_worlds(exact_run):
    summary = exact_run.summary
    assert summary.n_worlds == 300 and not exact_run.stopped
    for level in ("parent", "child", "spread", "noise"):
        for interval in (0.5, 0.94):
            coverage, se = summary.coverage_of(level, interval)
            # A cluster SE estimated from 300 worlds can come out small by chance:
            # never use less than the binomial SE of independent worlds.
            se = max(se, math.sqrt(interval * (1 - interval) / 300))
            assert abs(coverage - interval) < 3 * se, (level, interval, coverage, se)
        assert summary.p_value_of(level) > 1e-3


@pytest.mark.slow
@pytest.mark.statistical
def test_nuts_is_calibrated_without_divergences_on_issue9_worlds():
    n_worlds = 36
    run = run_calibration(ISSUE9, method="nuts", n_worlds=n_worlds, seed=9)
    summary = run.summary
    for level in ("parent", "child", "spread", "noise"):
        for interval in (0.5, 0.94):
            coverage, se = summary.coverage_of(level, interval)
            se = max(se, math.sqrt(interval * (1 - interval) / n_worlds))
            assert abs(coverage - interval) < 3 * se, (level, interval, coverage, se)
    # Issue 9's target is at most 2% of worlds. A sampler exactly at that rate puts
    # more than `allowed` divergent worlds among these 36 only 1% of the time.
    allowed = int(binom.ppf(0.99, n_worlds, 0.02))
    assert summary.worlds_with_divergences <= allowed, summary.to_dict()
