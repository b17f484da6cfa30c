"""The neural settings: defaults, and every bad value refused by name."""

from __future__ import annotations

import pytest

from hierdash.neural.settings import MAX_ROWS, MAX_TASKS, NeuralSettings


def test_the_defaults_are_the_issues_classroom_setup():
    s = NeuralSettings()
    assert s.samples == (100, 60, 40, 25, 15, 10, 6, 3)
    assert (s.hidden, s.bias, s.padding, s.method) == (4, True, "masked", "nuts")
    assert s.n_parameters == 157  # as measured in issue 22
    assert NeuralSettings(bias=False).n_parameters == 9 * 12 + 2


@pytest.mark.parametrize(("changes", "field"), [
    ({"samples": ()}, "samples"),
    ({"samples": (5,) * (MAX_TASKS + 1)}, "samples"),
    ({"samples": (MAX_ROWS + 1,)}, "samples"),
    ({"samples": (3, -1)}, "samples"),
    ({"samples": (3.5,)}, "samples"),
    ({"rotation_spread": -1.0}, "rotation_spread"),
    ({"rotation_spread": float("nan")}, "rotation_spread"),
    ({"noise": 2.0}, "noise"),
    ({"test_per_task": 5}, "test_per_task"),
    ({"hidden": 1}, "hidden"),
    ({"hidden": 9}, "hidden"),
    ({"hidden": True}, "hidden"),
    ({"bias": "yes"}, "bias"),
    ({"padding": "zeros"}, "padding"),
    ({"method": "vi"}, "method"),
    ({"seed": -1}, "seed"),
    ({"draws": 10}, "draws"),
    ({"chains": 0}, "chains"),
])
def test_a_bad_value_is_refused_by_name(changes, field):
    with pytest.raises(ValueError, match=rf"^{field} = .* is not allowed: must be"):
        NeuralSettings(**changes)


def test_settings_are_frozen_keyword_only_and_hashable():
    s = NeuralSettings(samples=[3, 2])
    assert s.samples == (3, 2) and hash(s) == hash(NeuralSettings(samples=(3, 2)))
    with pytest.raises(TypeError):
        NeuralSettings((3, 2))  # type: ignore[misc]
    with pytest.raises(AttributeError):
        s.hidden = 5  # type: ignore[misc]
    assert s.replace(hidden=5).hidden == 5
    assert s.to_dict()["samples"] == [3, 2]


def test_a_query_round_trips_the_linked_fields():
    from hierdash.neural.settings import LINK_FIELDS

    s = NeuralSettings(samples=(7, 0, 3), rotation_spread=22.5, noise=0.15, test_per_task=40,
                       hidden=6, bias=False, padding="naive", seed=99, draws=250, tune=700,
                       target_accept=0.97)
    query = s.to_query()
    assert set(query) == {"nn_" + name for name in LINK_FIELDS}
    assert query["nn_samples"] == "7,0,3" and query["nn_bias"] == "false"
    assert NeuralSettings.from_query(query) == (s, [])
    assert NeuralSettings.from_query({k: [v] for k, v in query.items()})[0] == s


def test_a_query_skips_bad_values_by_name_or_refuses_them_when_strict():
    query = {"nn_hidden": "99", "nn_samples": "3,x", "nn_bias": "maybe", "nn_noise": "nan",
             "nn_draws": "5", "nn_chains": "3", "nn_seed": "12", "nn_padding": "NAIVE",
             "samples": "9,9", "seed": "4"}  # another page's parameters: not read
    settings, problems = NeuralSettings.from_query(query)
    assert settings == NeuralSettings(seed=12, padding="naive")
    named = [p.split(" ")[0] for p in problems]
    assert named == ["hidden", "samples", "bias", "noise", "draws", "nn_chains"]
    with pytest.raises(ValueError, match=r"^hidden = 99 is not allowed"):
        NeuralSettings.from_query(query, strict=True)
    assert NeuralSettings.from_query({"nn_seed": "1" * 10_000})[1]  # cut short, refused
