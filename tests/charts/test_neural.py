"""The neural charts, on tables shaped like a NeuralResult's (no fit needed)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pytest

from hierdash.charts.neural import (
    MODEL_NAMES,
    neural_parent_chart,
    neural_score_chart,
    neural_spread_chart,
    neural_surface_chart,
)

MODELS = ("separate", "pooled", "hierarchical")
AXIS = np.linspace(-2.5, 2.5, 5)


def _surfaces(tasks=3, models=MODELS):
    x1, x2 = np.meshgrid(AXIS, AXIS, indexing="ij")
    rows = [pd.DataFrame({"model": m, "task": t, "x1": x1.ravel(), "x2": x2.ravel(),
                          "mean": 0.5 + 0.1 * t, "sd": 0.1}) for m in models
            for t in range(tasks)]
    return pd.concat(rows, ignore_index=True)


def _points(tasks=3):
    rng = np.random.default_rng(0)
    rows = [pd.DataFrame({"task": t, "x1": rng.normal(size=4), "x2": rng.normal(size=4),
                          "y": [0, 1, 0, 1], "set": ["train", "train", "test", "test"]})
            for t in range(tasks)]
    return pd.concat(rows, ignore_index=True)


def _accuracy():
    return pd.DataFrame([{"task": t, "n": n, "model": m, "accuracy": 0.6 + 0.01 * t,
                          "log_score": -0.6} for t, n in enumerate((30, 8, 3)) for m in MODELS])


def _data(spec: dict) -> pd.DataFrame:
    datasets = spec["datasets"]
    return pd.DataFrame(next(iter(datasets.values())))


def test_surface_chart_draws_one_panel_per_task_of_the_chosen_model():
    chart = neural_surface_chart(_surfaces(), _points(), model="pooled")
    assert isinstance(chart, alt.FacetChart)
    data = _data(chart.to_dict())
    surface = data[data["layer"] == "surface"]
    assert len(surface) == 3 * len(AXIS) ** 2
    assert set(data["task_label"]) == {"task 0 (n = 2)", "task 1 (n = 2)", "task 2 (n = 2)"}
    assert (surface["x1_hi"] - surface["x1_lo"]).round(9).eq(1.25).all()
    sd = neural_surface_chart(_surfaces(), _points(), value="sd").to_dict()
    assert "posterior sd" in str(sd)


def test_surface_chart_refuses_an_unknown_value():
    with pytest.raises(ValueError, match="value = 'median'"):
        neural_surface_chart(_surfaces(), _points(), value="median")


def test_parent_chart_has_the_parent_and_the_pooled_network():
    chart = neural_parent_chart(_surfaces(tasks=1, models=("hierarchical", "pooled")))
    data = _data(chart.to_dict())
    assert set(data["model_name"]) == {"hierarchical: the parent", "one pooled network"}


def test_score_chart_puts_both_scores_against_the_sample_count():
    chart = neural_score_chart(_accuracy())
    spec = chart.to_dict()
    data = _data(spec)
    assert set(data["score"]) == {"test accuracy", "log score per test point"}
    assert set(data["model_name"]) == set(MODEL_NAMES.values())
    assert len(data) == 2 * 9
    x = spec["spec"]["layer"][0]["encoding"]["x"]
    assert x["scale"]["type"] == "log" and x["scale"]["domain"] == [3, 30]  # no stray 0
    assert x["axis"]["values"] == [3, 6, 10, 15, 25, 30]


def test_score_chart_keeps_a_task_without_training_points_at_0():
    accuracy = _accuracy()
    accuracy.loc[accuracy["n"] == 3, "n"] = 0
    x = neural_score_chart(accuracy).to_dict()["spec"]["layer"][0]["encoding"]["x"]
    assert x["scale"]["type"] == "symlog" and x["axis"]["values"][0] == 0


def test_spread_chart_labels_each_layer_and_kind():
    spreads = pd.DataFrame({"block": ["w1", "w2"], "layer": ["input -> hidden",
                                                             "hidden -> output"],
                            "kind": ["weights", "weights"], "mean": [0.1, 2.0],
                            "low": [0.01, 1.0], "high": [0.3, 3.5]})
    spec = neural_spread_chart(spreads).to_dict()
    assert "hidden -> output weights" in str(spec)
