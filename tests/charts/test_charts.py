"""Unit tests of the chart builders, through ``chart.to_dict()`` (no Streamlit, no browser)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytest

from hierdash import charts, summaries
from hierdash.charts import COLORS
from hierdash.settings import CI_LABEL

OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000", "#999999"}


# ---------------------------------------------------------------------------
# Synthetic inputs shaped like FitResult's fields
# ---------------------------------------------------------------------------
def make_weights(samples=(100, 20, 0), k=3, pull=0.25, unidentified=()):
    """A tidy weights table: each child's partial-pooling mean sits ``pull`` of the way
    from its no-pooling estimate to the parent mean."""
    rng = np.random.default_rng(0)
    parent_true = rng.normal(10, 3, k)
    parent_mean = parent_true + 0.1
    rows = []
    for f in range(k):
        rows.append({"level": "parent", "task": -1, "feature": f, "n": sum(samples),
                     "true": parent_true[f], "mean": parent_mean[f], "sd": 0.5,
                     "ci_low": parent_mean[f] - 1, "ci_high": parent_mean[f] + 1,
                     "exact_mean": parent_mean[f] + 0.01, "exact_sd": 0.5,
                     "no_pooling": np.nan, "complete_pooling": parent_mean[f] - 0.2,
                     "parent_mean": parent_mean[f], "shrinkage": np.nan})
    for t, n in enumerate(samples):
        for f in range(k):
            true = parent_true[f] + rng.normal(0, 1)
            if n == 0 or t in unidentified:
                own = np.nan
                mean = parent_mean[f]
            else:
                own = true + rng.normal(0, 1)
                mean = own - pull * (own - parent_mean[f])
            rows.append({"level": "child", "task": t, "feature": f, "n": n, "true": true,
                         "mean": mean, "sd": 0.3, "ci_low": mean - 0.6, "ci_high": mean + 0.6,
                         "exact_mean": mean + 0.01, "exact_sd": 0.3, "no_pooling": own,
                         "complete_pooling": parent_mean[f] - 0.2,
                         "parent_mean": parent_mean[f],
                         "shrinkage": (own - mean) / (own - parent_mean[f])})
    frame = pd.DataFrame(rows)
    frame["z_vs_exact"] = (frame["mean"] - frame["exact_mean"]) / frame["exact_sd"]
    return frame


def make_scales(learned=True):
    rows = [{"name": "noise", "true": 1.0, "mean": 0.97, "sd": 0.05, "ci_low": 0.88,
             "ci_high": 1.07, "exact_mean": 0.971, "exact_sd": 0.05}]
    if learned:
        rows.append({"name": "spread", "true": 1.0, "mean": 1.08, "sd": 0.6, "ci_low": 0.46,
                     "ci_high": 2.5, "exact_mean": 1.07, "exact_sd": 0.6})
    return pd.DataFrame(rows)


def make_masks(counts, mode="masked", capacity=(4, 16)):
    mask = np.zeros(capacity, dtype=bool)
    for t, n in enumerate(counts):
        mask[t, :n] = True
    if mode == "masked":
        likelihood = mask.copy()
    else:
        likelihood = np.zeros_like(mask)
        likelihood[: len(counts), : max(counts)] = True
    return mask, likelihood


# ---------------------------------------------------------------------------
# Helpers to read a chart's spec
# ---------------------------------------------------------------------------
def spec(chart) -> dict:
    out = chart.to_dict()  # also validates against the Vega-Lite schema
    json.dumps(out)  # and must be plain JSON
    return out


def datasets(chart) -> list[pd.DataFrame]:
    return [pd.DataFrame(values) for values in spec(chart)["datasets"].values()]


def the_data(chart) -> pd.DataFrame:
    frames = datasets(chart)
    assert len(frames) == 1
    return frames[0]


def layers(d: dict) -> list[dict]:
    if "spec" in d:  # facet
        d = d["spec"]
    return d.get("layer", [d])


def roles(d: dict) -> list[str]:
    """The role names each layer tags its rows with (its legend entry)."""
    out = []
    for layer in layers(d):
        for transform in layer.get("transform", []):
            if transform.get("as") == "role":
                out.append(json.loads(transform["calculate"]))
    return out


def colour_scale(d: dict) -> dict:
    for layer in layers(d):
        colour = layer.get("encoding", {}).get("color", {})
        if "scale" in colour:
            return colour["scale"]
    raise AssertionError("no colour scale")


def tooltip_fields(layer: dict) -> set[str]:
    return {t["field"] for t in layer["encoding"].get("tooltip", [])}


# ---------------------------------------------------------------------------
# The module
# ---------------------------------------------------------------------------
def test_charts_module_does_not_import_streamlit():
    sources = [*Path(charts.__file__).parent.glob("*.py"), Path(summaries.__file__)]
    assert len(sources) > 2
    for path in sources:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        assert "streamlit" not in imported, path


def test_interval_labels_come_from_the_one_interval_setting():
    assert CI_LABEL in charts.POSTERIOR
    tooltips = json.dumps(spec(charts.parent_chart(make_weights())))
    assert f"{CI_LABEL} interval from" in tooltips


def test_palette_is_okabe_ito_mid_tones():
    for role, colour in COLORS.items():
        if role != "padding_ignored":
            assert colour.upper() in OKABE_ITO, role
        # No black or yellow: they vanish on a dark or a light background.
        assert colour.upper() not in {"#000000", "#F0E442"}


def test_task_label_shows_sample_count():
    assert summaries.task_label(3, 12) == "task 3 · n=12"


# ---------------------------------------------------------------------------
# 1. Parent
# ---------------------------------------------------------------------------
def test_parent_chart_shows_truth_and_interval():
    weights = make_weights(k=3)
    chart = charts.parent_chart(weights)
    d = spec(chart)
    data = the_data(chart)
    assert len(data) == 3 and set(data["level"]) == {"parent"}
    assert list(data["feature_label"]) == ["feature 0", "feature 1", "feature 2"]
    assert set(roles(d)) == {charts.TRUE, charts.POSTERIOR}
    marks = [layer["mark"]["type"] for layer in layers(d)]
    assert marks[0] == "rule" and layers(d)[0]["encoding"]["y2"]["field"] == "ci_high"
    assert "point" in marks
    assert {"true", "mean", "ci_low", "ci_high"} <= tooltip_fields(layers(d)[0])
    scale = colour_scale(d)
    assert dict(zip(scale["domain"], scale["range"], strict=True))[charts.TRUE] == COLORS["true"]


def test_parent_chart_reference_adds_exact_tick():
    d = spec(charts.parent_chart(make_weights(), reference=True))
    assert charts.EXACT in roles(d)
    assert any(layer["mark"]["type"] == "tick" for layer in layers(d))


# ---------------------------------------------------------------------------
# 2. Child
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("k, columns", [(1, 1), (3, 3), (4, 4), (8, 4)])
def test_child_chart_has_one_panel_per_feature(k, columns):
    chart = charts.child_chart(make_weights(samples=(50, 5), k=k))
    d = spec(chart)
    assert isinstance(chart, alt.FacetChart)
    assert d["facet"]["field"] == "feature_label"
    assert d["columns"] == columns
    assert d["resolve"]["scale"]["x"] == "independent"
    data = the_data(chart)
    assert len(data) == 2 * k and set(data["level"]) == {"child"}


def test_child_chart_rows_are_tasks_with_their_sample_counts():
    chart = charts.child_chart(make_weights(samples=(100, 20, 0)))
    d = spec(chart)
    y = layers(d)[0]["encoding"]["y"]
    assert y["field"] == "task_label"
    assert y["sort"] == ["task 0 · n=100", "task 1 · n=20", "task 2 · n=0"]
    assert "n" in tooltip_fields(layers(d)[0])
    assert set(roles(d)) == {charts.TRUE, charts.POSTERIOR}
    assert charts.EXACT in roles(spec(charts.child_chart(make_weights(), reference=True)))


# ---------------------------------------------------------------------------
# 3. Shrinkage
# ---------------------------------------------------------------------------
def test_shrinkage_chart_sorts_tasks_by_samples_and_draws_arrows():
    chart = charts.shrinkage_chart(make_weights(samples=(20, 100, 0)))
    d = spec(chart)
    all_layers = layers(d)
    y = next(layer["encoding"]["y"] for layer in all_layers if "y" in layer["encoding"])
    assert y["sort"] == ["task 1 · n=100", "task 0 · n=20", "task 2 · n=0"]
    shaft = next(layer for layer in all_layers
                 if layer["mark"]["type"] == "rule" and "x2" in layer["encoding"])
    assert shaft["encoding"]["x"]["field"] == "no_pooling"
    assert shaft["encoding"]["x2"]["field"] == "mean"
    assert set(roles(d)) == {charts.NO_POOL, charts.PARTIAL, charts.PARENT, charts.TRUE}
    # The arrow head's direction is worked out by Vega from the numbers in the data
    # (so that the spec only carries numbers: hierdash.charts.specs).
    head = next(layer for layer in all_layers if "shape" in layer["encoding"])
    assert head["encoding"]["shape"]["field"] == "head"
    calc = next(t["calculate"] for t in head["transform"] if t.get("as") == "head")
    assert calc == ("isValid(datum.no_pooling) ? (datum.mean >= datum.no_pooling ? "
                    "'triangle-right' : 'triangle-left') : 'circle'")
    data = the_data(chart)
    notes = data.set_index(["task", "feature"])["own"]
    assert set(notes.loc[2]) == {"no estimate of its own (too few rows)"}  # no rows: a dot
    assert set(notes.loc[0]) == {""}


def test_task_pull_measures_the_share_of_the_way_to_the_parent():
    pull = summaries.task_pull(make_weights(samples=(100, 20, 0), pull=0.25, unidentified=(1,)))
    assert list(pull["task"]) == [0, 1, 2]
    assert pull.loc[0, "pull"] == pytest.approx(0.25)
    assert np.isnan(pull.loc[1, "pull"])  # rows but no estimate of its own
    assert pull.loc[2, "pull"] == 1.0  # no rows: takes the parent
    assert list(pull["task_label"]) == ["task 0 · n=100", "task 1 · n=20", "task 2 · n=0"]


def test_pull_chart_drops_tasks_without_a_pull_and_uses_symlog():
    chart = charts.pull_chart(
        summaries.task_pull(make_weights(samples=(100, 20, 0), unidentified=(1,))))
    d = spec(chart)
    frames = datasets(chart)
    points = next(f for f in frames if "n" in f)
    assert sorted(points["task"]) == [0, 2]
    point_layer = next(layer for layer in d["layer"] if layer["mark"]["type"] == "circle")
    assert point_layer["encoding"]["x"]["scale"]["type"] == "symlog"


def test_rmse_chart_shows_the_three_estimates_in_spectrum_order():
    errors = {"no_pooling": 0.5, "complete_pooling": 1.0, "partial_pooling": 0.3}
    chart = charts.rmse_chart(summaries.errors_table(errors))
    d = spec(chart)
    data = the_data(chart)
    assert dict(zip(data["method"], data["rmse"], strict=True)) == {
        "no pooling": 0.5, "complete pooling": 1.0, "partial pooling": 0.3}
    assert d["layer"][0]["encoding"]["y"]["sort"] == [
        "no pooling", "partial pooling", "complete pooling"]
    assert d["layer"][0]["encoding"]["color"]["scale"]["range"] == [
        COLORS["no_pooling"], COLORS["posterior"], COLORS["complete_pooling"]]


def test_rmse_chart_leaves_out_nan():
    data = the_data(charts.rmse_chart(summaries.errors_table(
        {"no_pooling": float("nan"), "partial_pooling": 0.3, "complete_pooling": 1.0})))
    assert set(data["method"]) == {"partial pooling", "complete pooling"}


def test_comparable_errors_match_engine_errors_when_every_task_has_an_estimate():
    weights = make_weights(samples=(100, 20, 30))
    errors = summaries.comparable_errors(weights)
    child = weights[weights["level"] == "child"]
    expected = np.sqrt(np.mean((child["mean"] - child["true"]) ** 2))
    assert set(errors["scope"]) == {summaries.ALL_TASKS}
    got = errors.set_index("method")["rmse"]
    assert got["partial pooling"] == pytest.approx(expected)
    # The same chart as from the engine's dict: one panel.
    assert not isinstance(charts.rmse_chart(errors), alt.FacetChart)


def test_rmse_chart_splits_scopes_when_some_task_has_no_estimate():
    weights = make_weights(samples=(100, 20, 0))
    errors = summaries.comparable_errors(weights)
    own_scope = "tasks with an estimate of their own (2 of 3)"
    assert set(errors["scope"]) == {summaries.ALL_TASKS, own_scope}
    assert "no pooling" not in set(errors.loc[errors["scope"] == summaries.ALL_TASKS, "method"])
    assert set(errors.loc[errors["scope"] == own_scope, "method"]) == {
        "no pooling", "partial pooling", "complete pooling"}
    assert (errors.loc[errors["scope"] == own_scope, "tasks"] == 2).all()
    chart = charts.rmse_chart(errors)
    assert isinstance(chart, alt.FacetChart)
    assert spec(chart)["facet"]["row"]["field"] == "scope"


# ---------------------------------------------------------------------------
# 4. Padding and scales
# ---------------------------------------------------------------------------
def test_padding_segments_masked_trim_to_the_real_shape():
    mask, likelihood = make_masks([5, 2, 0], "masked")
    seg = summaries.padding_segments(mask, likelihood, [5, 2, 0])
    assert seg["end"].max() == 5  # trimmed from capacity 16 to the real max rows
    assert sorted(seg["task"].unique()) == [0, 1, 2]  # capacity task 3 trimmed
    assert set(seg["kind"]) == {summaries.REAL, summaries.PAD_IGNORED}
    rows = seg.groupby(["task", "kind"])["rows"].sum()
    assert rows[(0, summaries.REAL)] == 5
    assert rows[(1, summaries.REAL)] == 2 and rows[(1, summaries.PAD_IGNORED)] == 3
    assert rows[(2, summaries.PAD_IGNORED)] == 5


def test_padding_segments_naive_mark_padding_in_the_likelihood():
    mask, likelihood = make_masks([5, 2, 0], "naive")
    seg = summaries.padding_segments(mask, likelihood, [5, 2, 0])
    assert summaries.PAD_IGNORED not in set(seg["kind"])
    used = seg[seg["kind"] == summaries.PAD_USED].groupby("task")["rows"].sum()
    assert used.to_dict() == {1: 3, 2: 5}


def test_padding_segments_of_a_world_without_rows_is_empty():
    mask, likelihood = make_masks([0, 0])
    segments = summaries.padding_segments(mask, likelihood, [0, 0])
    assert segments.empty
    spec(charts.padding_chart(segments))  # still a valid chart


def test_padding_chart_colours_cells_by_kind():
    mask, likelihood = make_masks([5, 2], "naive")
    chart = charts.padding_chart(summaries.padding_segments(mask, likelihood, [5, 2]))
    d = spec(chart)
    assert d["mark"]["type"] == "rect"
    assert d["encoding"]["x2"]["field"] == "end"
    scale = d["encoding"]["color"]["scale"]
    assert scale["domain"] == [summaries.REAL, summaries.PAD_IGNORED, summaries.PAD_USED]
    assert scale["range"][2] == COLORS["true"]
    assert d["encoding"]["y"]["sort"] == ["task 0 · n=5", "task 1 · n=2"]


@pytest.mark.parametrize("learned", [True, False])
def test_scales_chart_has_one_row_per_scale(learned):
    chart = charts.scales_chart(make_scales(learned), reference=True)
    d = spec(chart)
    data = the_data(chart)
    assert list(data["label"]) == (["noise sd", "child spread"] if learned else ["noise sd"])
    assert d["facet"]["row"]["field"] == "label"
    assert d["resolve"]["scale"]["x"] == "independent"
    assert set(roles(d)) == {charts.TRUE, charts.POSTERIOR, charts.EXACT}


# ---------------------------------------------------------------------------
# 5. ELBO
# ---------------------------------------------------------------------------
def test_elbo_chart_thins_long_curves_and_marks_the_windows():
    elbo = -1000 * np.exp(-np.arange(30_000) / 2000) - 300
    chart = charts.elbo_chart(elbo, max_points=500)
    frames = datasets(chart)
    curve = next(f for f in frames if "elbo" in f)
    windows = next(f for f in frames if "window" in f)
    assert len(curve) == 500
    assert curve["iteration"].max() == 29_999
    # The last 10% is compared with the 10% ending half-way (as elbo_converged does).
    assert list(windows["start"]) == [12_000, 27_000] and list(windows["end"]) == [15_000, 30_000]
    line = next(layer for layer in spec(chart)["layer"] if layer["mark"]["type"] == "line")
    low, high = line["encoding"]["y"]["scale"]["domain"]
    assert low > -1000  # the first steep climb is off the axis
    assert high > -300


def _stop_label(chart) -> str | None:
    """The label of the chart's stop rule, or None when it has none."""
    marks = [layer["mark"]["type"] for layer in spec(chart)["layer"]]
    stops = [f for f in datasets(chart) if "label" in f]
    assert ("rule" in marks) == bool(stops)
    return stops[0]["label"].item() if stops else None


def test_elbo_chart_marks_where_the_run_stopped_and_its_limit():
    elbo = -1000 * np.exp(-np.arange(5_500) / 500) - 300
    early = charts.elbo_chart(elbo, limit=100_000)
    assert _stop_label(early) == "stopped at 5,500 of at most 100,000 iterations"
    stop = next(f for f in datasets(early) if "label" in f)
    assert stop["iteration"].item() == 5_500
    text = next(layer for layer in spec(early)["layer"] if layer["mark"]["type"] == "text")
    assert text["encoding"]["text"]["field"] == "label"
    assert _stop_label(charts.elbo_chart(elbo, limit=5_500)) == (
        "ran to its limit of 5,500 iterations")
    # Without a limit (a trace of unknown origin) the chart draws no rule.
    assert _stop_label(charts.elbo_chart(elbo)) is None


def test_elbo_chart_copes_with_short_and_non_finite_curves():
    spec(charts.elbo_chart(np.array([np.nan, -5.0, -4.0, np.inf])))
    spec(charts.elbo_chart(np.array([])))
    assert _stop_label(charts.elbo_chart(np.array([]), limit=1000)) == (
        "stopped at 0 of at most 1,000 iterations")


# ---------------------------------------------------------------------------
# Every chart from real fits of every preset (the exact method: milliseconds)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("preset", ["notebook", "balanced", "one_rich", "empty_task", "many_tiny"])
def test_every_chart_builds_from_a_real_exact_fit(preset):
    from hierdash.inference import fit
    from hierdash.scenario import Scenario
    from hierdash.scenario.presets import apply_preset

    scenario = apply_preset(Scenario(method="exact", draws=200, padding="naive"), preset)
    result = fit(scenario)
    segments = summaries.padding_segments(result.padded.mask, result.padded.likelihood_mask,
                                          result.padded.counts)
    reference = True
    built = [
        charts.parent_chart(result.weights, reference=reference),
        charts.child_chart(result.weights, reference=reference),
        charts.shrinkage_chart(result.weights),
        charts.pull_chart(summaries.task_pull(result.weights)),
        charts.rmse_chart(summaries.comparable_errors(result.weights)),
        charts.padding_chart(segments),
        charts.scales_chart(result.scales, reference=reference),
    ]
    for chart in built:
        spec(chart)
    assert segments["task"].nunique() == scenario.n_tasks
    assert segments["end"].max() == max(scenario.samples)
