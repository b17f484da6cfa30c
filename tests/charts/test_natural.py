"""A yes/no or count world's charts: the link scale in axis titles, and each task's
probability or rate against its own rows (:func:`hierdash.charts.weights.natural_chart`,
fed by :func:`hierdash.summaries.natural.natural_intercepts`)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hierdash import charts
from hierdash.charts.classroom import own_estimates_chart, reveal_chart
from hierdash.charts.style import COLORS, RAW_RATE, RAW_SHARE, link_scale, on_scale
from hierdash.charts.weights import natural_chart
from hierdash.inference import fit
from hierdash.scenario import Scenario
from hierdash.summaries.natural import NATURAL_COLUMNS, natural_intercepts


def spec(chart) -> dict:
    out = chart.to_dict()  # validates against the Vega-Lite schema
    json.dumps(out)
    return out


def titles(d) -> set[str]:
    """Every axis title anywhere in a spec."""
    found = set()
    if isinstance(d, dict):
        for key, value in d.items():
            if key == "title" and isinstance(value, str):
                found.add(value)
            else:
                found |= titles(value)
    elif isinstance(d, list):
        for value in d:
            found |= titles(value)
    return found


def natural_weights(samples=(20, 5, 0), *, scale="probability"):
    """A weights table with the natural-scale columns: an intercept and one slope."""
    rows = []
    names = [scale, "odds ratio" if scale == "probability" else "rate ratio"]
    for t in [-1, *range(len(samples))]:
        for f in range(2):
            rows.append({"level": "parent" if t < 0 else "child", "task": t, "feature": f,
                         "n": sum(samples) if t < 0 else samples[t], "natural_scale": names[f],
                         "natural_true": 0.3 + 0.1 * t, "natural_mean": 0.35 + 0.1 * t,
                         "natural_low": 0.2 + 0.1 * t, "natural_high": 0.5 + 0.1 * t})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def bernoulli():
    return fit(Scenario.for_outcome("bernoulli", samples=(40, 10, 3, 0), seed=2, method="exact"))


# -- the table -----------------------------------------------------------------------------
def test_natural_intercepts_share_of_successes_and_a_task_without_rows():
    weights = natural_weights()
    y = (np.array([1, 0, 1, 1] * 5), np.zeros(5), np.zeros(0))
    table = natural_intercepts(weights, y)
    assert list(table.columns) == NATURAL_COLUMNS
    assert table["events"].tolist() == [15.0, 0.0, 0.0]
    assert table["size"].tolist() == [20.0, 5.0, 0.0]
    assert table["raw"].iloc[0] == 0.75 and table["raw"].iloc[1] == 0.0
    assert np.isnan(table["raw"].iloc[2])  # no rows: nothing to share
    assert table["task_label"].tolist() == ["task 0 · n=20", "task 1 · n=5", "task 2 · n=0"]
    assert table["natural_mean"].tolist() == pytest.approx([0.35, 0.45, 0.55])
    assert table["parent_natural_mean"].to_numpy() == pytest.approx([0.25] * 3)


def test_natural_intercepts_divide_by_trials_or_exposure():
    weights = natural_weights(samples=(2, 1), scale="rate")
    y = (np.array([3.0, 5.0]), np.array([0.0]))
    sizes = (np.array([2.0, 2.0]), np.array([0.5]))
    table = natural_intercepts(weights, y, sizes)
    assert table["raw"].tolist() == [2.0, 0.0] and table["size"].tolist() == [4.0, 0.5]


def test_natural_intercepts_of_a_world_without_an_intercept_or_gaussian_are_empty():
    weights = natural_weights()
    no_intercept = weights.assign(natural_scale="odds ratio")
    assert natural_intercepts(no_intercept, (np.ones(20), np.ones(5), np.ones(0))).empty
    gaussian = weights.drop(columns=["natural_scale"])
    assert list(natural_intercepts(gaussian, ()).columns) == NATURAL_COLUMNS


def test_natural_intercepts_of_a_real_fit(bernoulli):
    table = natural_intercepts(bernoulli.weights, bernoulli.world.y, bernoulli.world.sizes)
    assert len(table) == 4 and table["n"].tolist() == [40, 10, 3, 0]
    assert table["events"].tolist() == [float(np.sum(y)) for y in bernoulli.world.y]
    assert (table["natural_low"] <= table["natural_mean"]).all()
    assert (table["natural_mean"] <= table["natural_high"]).all()
    assert table["natural_mean"].between(0, 1).all()


# -- the chart -------------------------------------------------------------------------------
def test_natural_chart_of_probabilities():
    table = natural_intercepts(natural_weights(), (np.ones(20), np.zeros(5), np.zeros(0)))
    d = spec(natural_chart(table))
    layer = d["layer"]
    roles = [json.loads(t["calculate"]) for lyr in layer for t in lyr.get("transform", [])
             if t.get("as") == "role"]
    assert set(roles) == {"true value", charts.POSTERIOR, RAW_SHARE, charts.PARENT}
    x = next(lyr["encoding"]["x"] for lyr in layer if lyr["encoding"]["x"]["field"] == "raw")
    assert x["scale"]["domain"] == [0, 1]
    assert "probability of a success (yes)" in titles(d)
    colours = next(lyr["encoding"]["color"]["scale"] for lyr in layer
                   if "scale" in lyr["encoding"].get("color", {}))
    assert dict(zip(colours["domain"], colours["range"], strict=True))[RAW_SHARE] == (
        COLORS["no_pooling"])
    # Tasks sorted by sample count, largest first; a 0-of-n task is labelled.
    sort = next(lyr["encoding"]["y"]["sort"] for lyr in layer if "y" in lyr["encoding"])
    assert sort == ["task 0 · n=20", "task 1 · n=5", "task 2 · n=0"]
    text = [lyr for lyr in layer if lyr["mark"]["type"] == "text"][0]
    assert "datum.events == 0" in json.dumps(text["transform"])
    data = next(iter(d["datasets"].values()))
    assert len(data) == 3


def test_natural_chart_of_rates_starts_at_zero():
    table = natural_intercepts(natural_weights(scale="rate"),
                               (np.array([3.0]) * np.ones(20), np.zeros(5), np.zeros(0)))
    d = spec(natural_chart(table, scale="rate"))
    roles = json.dumps(d)
    assert RAW_RATE in roles and RAW_SHARE not in roles
    x = next(lyr["encoding"]["x"] for lyr in d["layer"] if lyr["encoding"]["x"]["field"] == "raw")
    assert x["scale"] == {"zero": True}
    assert "rate (expected count per unit of exposure)" in titles(d)


def test_natural_chart_of_a_real_fit(bernoulli):
    table = natural_intercepts(bernoulli.weights, bernoulli.world.y, bernoulli.world.sizes)
    spec(natural_chart(table))


# -- the link scale in the titles ---------------------------------------------------------
def test_link_scale_names():
    assert [link_scale(o) for o in ("gaussian", "bernoulli", "binomial", "poisson")] == [
        None, "log-odds", "log-odds", "log rate"]
    assert on_scale("child weight", None) == "child weight"
    assert on_scale("child weight", "log rate") == "child weight (log rate)"


def test_every_weight_chart_says_its_link_scale(bernoulli):
    from hierdash import summaries

    w = bernoulli.weights
    child = summaries.child_rows(w)
    built = {
        "parent weight (log-odds)": charts.parent_chart(w, scale="log-odds"),
        "child weight (log-odds)": charts.child_chart(w, scale="log-odds"),
        "child weight (log-odds) ": charts.shrinkage_chart(w, scale="log-odds"),
        "RMSE against the true child weights (log-odds)": charts.rmse_chart(
            summaries.comparable_errors(w), scale="log-odds"),
        "child spread (log-odds)": charts.scales_chart(bernoulli.scales, scale="log-odds"),
        "weight (log-odds)": own_estimates_chart(child, scale="log-odds"),
    }
    for title, chart in built.items():
        d = spec(chart)
        assert title.strip() in json.dumps(d), title
    # Without a scale, the Gaussian titles stay as they were.
    assert "child weight" in titles(spec(charts.child_chart(w)))
    assert not [t for t in titles(spec(charts.child_chart(w))) if "log" in t]


def test_reveal_chart_says_the_pulls_scale():
    table = pd.DataFrame({"task": [0, 1], "task_label": ["task 0 · n=9", "task 1 · n=2"],
                          "n": [9, 2], "predicted": [0.2, 0.6], "true_pull": [0.1, 0.7],
                          "scored": [True, True]})
    assert any("in log-odds" in t for t in titles(spec(reveal_chart(table, scale="log-odds"))))
    assert not any("log" in t for t in titles(spec(reveal_chart(table))))
