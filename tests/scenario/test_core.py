"""Validation of the scenario: every bound, every choice, loose text from URLs and flags."""

import math

import pytest

from hierdash.scenario import (
    BOUNDS,
    CHOICES,
    DATA_MAX_ROWS,
    DATA_MAX_TASKS,
    MAX_TASKS,
    MAX_TOTAL_ROWS,
    Scenario,
    ScenarioError,
)
from hierdash.scenario.text import parse_samples, scenario_from_mapping


def test_defaults_reproduce_the_notebook():
    s = Scenario()
    assert s.samples == (100, 80)
    assert (s.parent_mean, s.parent_scale, s.child_spread, s.noise_sd) == (10, 3, 1, 1)
    assert s.n_features == 4 and s.n_tasks == 2
    assert (s.prior_parent_mean, s.prior_parent_scale) == (0, 10)
    assert (s.prior_spread_scale, s.prior_noise_scale) == (5, 5)
    assert s.method == "nuts" and s.parameterization == "auto" and s.padding == "masked"


def test_scenario_is_hashable_and_frozen():
    s = Scenario()
    assert hash(s) == hash(Scenario())
    with pytest.raises(AttributeError):
        s.seed = 3  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_each_bound_is_enforced_with_a_message_naming_field_value_and_range(name):
    bound = BOUNDS[name]
    for bad in (bound.low - 1, bound.high + 1, math.nan, math.inf, -math.inf):
        with pytest.raises(ScenarioError) as info:
            Scenario(**{name: bad})
        msg = str(info.value)
        assert name in msg
        assert "from" in msg and "to" in msg
        assert info.value.field == name
    # both ends are allowed
    Scenario(**{name: bound.low})
    Scenario(**{name: bound.high})


def test_an_outlier_past_the_last_task_has_no_effect_until_the_task_is_back():
    assert Scenario(samples=(5, 5, 5), outlier_task=2).outlier == 2
    fewer = Scenario(samples=(5, 5), outlier_task=2)
    assert fewer.outlier is None and fewer.outlier_task == 2
    assert Scenario(samples=(5, 5, 5)).outlier is None


def test_a_students_data_may_have_more_groups_and_rows_than_a_simulated_world():
    big = (DATA_MAX_ROWS // DATA_MAX_TASKS,) * DATA_MAX_TASKS
    assert Scenario(samples=big, source="data").total_rows == DATA_MAX_ROWS
    with pytest.raises(ScenarioError, match="samples"):
        Scenario(samples=big)


@pytest.mark.parametrize("name", [n for n, b in BOUNDS.items() if b.integer])
def test_integer_fields_reject_fractions(name):
    bound = BOUNDS[name]
    with pytest.raises(ScenarioError, match="whole number"):
        Scenario(**{name: bound.low + 0.5})


@pytest.mark.parametrize("name", sorted(CHOICES))
def test_choices_are_enforced(name):
    with pytest.raises(ScenarioError, match="must be one of"):
        Scenario(**{name: "bogus"})


@pytest.mark.parametrize(
    "samples",
    [(), (-1, 3), (1001,), (1.5, 2), tuple([10] * (MAX_TASKS + 1)), (1000,) * 21, "100", None],
)
def test_bad_samples(samples):
    with pytest.raises(ScenarioError, match="samples"):
        Scenario(samples=samples)


def test_samples_allow_zero_and_limits():
    assert Scenario(samples=(0, 5)).samples == (0, 5)
    assert Scenario(samples=(400,) * MAX_TASKS).total_rows == MAX_TOTAL_ROWS


def test_wrong_types_are_rejected():
    with pytest.raises(ScenarioError):
        Scenario(seed="7")
    with pytest.raises(ScenarioError):
        Scenario(draws=True)
    with pytest.raises(ScenarioError):
        Scenario(learn_spread="yes")


def test_parse_samples_broadcasts_one_number():
    assert parse_samples("5", 3) == (5, 5, 5)
    assert parse_samples("100, 80,5", 3) == (100, 80, 5)
    with pytest.raises(ScenarioError, match="gives 2 counts for 3 tasks"):
        parse_samples("1,2", 3)


def test_query_round_trip():
    s = Scenario(samples=(3, 0, 7), method="exact", learn_spread=False, seed=99, noise_sd=2.5)
    back, problems = scenario_from_mapping(s.to_query())
    assert back == s and problems == []


def test_loose_mapping_reports_each_problem_and_keeps_defaults():
    s, problems = scenario_from_mapping(
        {"noise_sd": "nan", "seed": "abc", "unknown": "1", "draws": "500", "tasks": "x"},
        strict=False,
    )
    assert s.draws == 500 and s.noise_sd == Scenario().noise_sd
    fields = sorted(p.field for p in problems)
    assert fields == ["noise_sd", "seed", "tasks", "unknown"]


def test_strict_mapping_raises_the_first_problem():
    with pytest.raises(ScenarioError, match="noise_sd"):
        scenario_from_mapping({"noise_sd": "-1"})


def test_tasks_without_samples_extends_the_default_counts():
    s, _ = scenario_from_mapping({"tasks": "4"})
    assert s.samples == (100, 80, 80, 80)


def test_repeated_query_keys_take_the_last_value():
    s, problems = scenario_from_mapping({"seed": ["1", "2"]}, strict=False)
    assert s.seed == 2 and not problems


def test_too_long_text_is_refused():
    with pytest.raises(ScenarioError, match="longer than"):
        scenario_from_mapping({"method": "x" * 5000})
