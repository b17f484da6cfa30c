"""Chart specs built once per layout (hierdash.charts.specs) equal full builds."""

from __future__ import annotations

import json
import threading

import altair as alt
import pandas as pd
import pytest

from hierdash import charts, summaries
from hierdash.charts.classroom import own_estimates_chart
from hierdash.charts.specs import ChartSpecs, arrow_datasets, vega_spec
from hierdash.charts.style import mark_outlier
from hierdash.inference import fit
from hierdash.scenario import Scenario
from hierdash.scenario.presets import PRESETS, apply_preset


def canonical(spec: dict) -> tuple[str, list]:
    """A spec with its datasets named by order (names are arbitrary hashes)."""
    spec = dict(spec)
    data = spec.pop("datasets", {})
    text = json.dumps(spec)
    for i, name in enumerate(data):
        text = text.replace(f'"{name}"', f'"dataset {i}"')
    return text, [data[name] for name in data]


def page_charts(result, *, reference: bool):
    """The explore and predict pages' charts of one fit: (builder, tables, options)."""
    w, outlier, padded = result.weights, result.scenario.outlier, result.padded
    segments = summaries.padding_segments(padded.mask, padded.likelihood_mask, padded.counts)
    return [
        (charts.parent_chart, (w,), {"reference": reference}),
        (charts.child_chart, (w,), {"reference": reference, "outlier": outlier}),
        (charts.shrinkage_chart, (w,), {"outlier": outlier}),
        (charts.pull_chart, (summaries.task_pull(w),), {"outlier": outlier}),
        (charts.rmse_chart, (summaries.comparable_errors(w),), {}),
        (charts.padding_chart, (segments,), {"outlier": outlier}),
        (charts.scales_chart, (result.scales,), {"reference": reference}),
        (own_estimates_chart, (mark_outlier(summaries.child_rows(w), outlier),), {}),
    ]


def worlds():
    for name in PRESETS:
        for seed in (1, 2):
            yield apply_preset(Scenario(seed=seed, method="exact"), name).replace(seed=seed)
    yield Scenario(samples=(0, 0, 7), n_features=3, seed=4, method="exact")
    yield Scenario(samples=(1,), n_features=1, seed=5, method="exact")
    yield Scenario(samples=(9, 3, 40), padding="naive", seed=6, method="exact")


def test_every_page_chart_is_built_once_per_layout_and_equals_a_full_build():
    specs = ChartSpecs()
    for scenario in worlds():
        result = fit(scenario)
        for reference in (False, True):
            for builder, frames, options in page_charts(result, reference=reference):
                got = specs.spec(builder, *frames, **options)
                want = vega_spec(builder(*frames, **options))
                assert canonical(got) == canonical(want), (scenario, builder.__name__)
                json.dumps(got)
                assert specs.templated(builder, **options), builder.__name__


def test_a_second_seed_reuses_the_layout_and_new_numbers_get_new_dataset_names():
    specs = ChartSpecs()
    first = fit(Scenario(seed=1, method="exact"))
    second = fit(Scenario(seed=2, method="exact"))
    calls = []

    def counted(weights, **options):
        calls.append(1)
        return charts.parent_chart(weights, **options)

    a = specs.spec(counted, first.weights, reference=False)
    built = len(calls)  # two stand-in builds: the first sight checks the builder
    b = specs.spec(counted, second.weights, reference=False)
    assert len(calls) == built == 2
    assert set(a["datasets"]).isdisjoint(b["datasets"])
    assert canonical(b) == canonical(vega_spec(charts.parent_chart(second.weights)))


def test_a_builder_that_computes_from_values_is_always_built_in_full():
    frame = pd.DataFrame({"name": ["a", "b", "c"], "value": [0.5, 2.25, 1.125]})

    def sorted_bars(table):  # the sort order depends on the values, not just the layout
        order = table.sort_values("value")["name"].tolist()
        return alt.Chart(table).mark_bar().encode(x="value:Q", y=alt.Y("name:N", sort=order))

    specs = ChartSpecs()
    for values in ([0.5, 2.25, 1.125], [3.5, 0.25, 1.75]):
        table = frame.assign(value=values)
        got = specs.spec(sorted_bars, table)
        assert canonical(got) == canonical(vega_spec(sorted_bars(table)))
    assert specs.templated(sorted_bars) is False


def test_a_builder_that_derives_a_number_is_always_built_in_full():
    def doubled(table):
        return alt.Chart(table.assign(twice=2 * table["value"])).mark_point().encode(
            x="twice:Q", y="name:N")

    specs = ChartSpecs()
    table = pd.DataFrame({"name": ["a", "b"], "value": [0.5, 2.25]})
    got = specs.spec(doubled, table)
    assert canonical(got) == canonical(vega_spec(doubled(table)))
    assert specs.templated(doubled) is False


def test_specs_handed_out_are_fresh_and_a_shared_cache_serves_threads():
    specs = ChartSpecs()
    result = fit(Scenario(seed=3, method="exact"))
    first = specs.spec(charts.child_chart, result.weights)
    first["facet"]["columns"] = 99
    next(iter(first["datasets"].values()))[0]["mean"] = -1.0
    again = specs.spec(charts.child_chart, result.weights)
    assert canonical(again) == canonical(vega_spec(charts.child_chart(result.weights)))

    problems = []

    def draw():
        try:
            got = specs.spec(charts.child_chart, result.weights)
            assert canonical(got) == canonical(vega_spec(charts.child_chart(result.weights)))
        except AssertionError as err:  # pragma: no cover - reported below
            problems.append(err)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not problems


_CALLS: list[int] = []


def counted_child_chart(weights, **options):
    """``charts.child_chart``, counting its calls (a slow builder: it yields the GIL)."""
    _CALLS.append(1)
    return charts.child_chart(weights, **options)


def test_threads_asking_for_one_new_layout_at_once_build_it_once():
    # A class opening one world at once: thirty page runs want the same new layout.
    specs = ChartSpecs()
    result = fit(Scenario(seed=4, method="exact"))
    full = canonical(vega_spec(charts.child_chart(result.weights)))
    _CALLS.clear()
    start = threading.Barrier(8)
    got, problems = [], []

    def draw():
        try:
            start.wait(timeout=30)
            got.append(canonical(specs.spec(counted_child_chart, result.weights)))
        except Exception as err:  # noqa: BLE001 - reported below  # pragma: no cover
            problems.append(err)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not problems
    assert got == [full] * 8
    assert len(_CALLS) == 2  # one build on rising markers, one on falling (the check)


def test_vega_spec_leaves_out_only_altairs_default_theme():
    chart = alt.Chart(pd.DataFrame({"x": [1.5]})).mark_point().encode(x="x:Q")
    spec = vega_spec(chart, validate=True)
    assert "config" not in spec  # the default theme's 300 x 300 view is not ours
    styled = vega_spec(chart.configure_axis(grid=False))
    assert styled["config"] == {"axis": {"grid": False}}
    with pytest.raises(Exception):  # noqa: B017 - the schema's error type is Altair's
        vega_spec(alt.Chart(pd.DataFrame({"x": [1.5]})).mark_point(size="big"), validate=True)


def test_a_table_pandas_cannot_hash_is_built_in_full():
    table = pd.DataFrame({"name": ["a", "b"], "value": [0.5, 2.25], "tags": [["x"], ["y"]]})

    def points(frame):
        return alt.Chart(frame[["name", "value"]]).mark_point().encode(x="value:Q", y="name:N")

    got = ChartSpecs().spec(points, table)
    assert canonical(got) == canonical(vega_spec(points(table)))


def test_arrow_datasets_hold_the_same_rows_and_mixed_columns_stay_rows():
    import pyarrow as pa

    result = fit(Scenario(samples=(0, 5, 30), seed=8, method="exact"))
    for builder, frames, options in page_charts(result, reference=False):
        spec = ChartSpecs().spec(builder, *frames, **options)
        rows = {name: list(data) for name, data in spec["datasets"].items()}
        tables = arrow_datasets(spec)["datasets"]
        for name, table in tables.items():
            if not rows[name]:  # no rows: nothing to convert
                assert table == []
                continue
            assert isinstance(table, pa.Table), builder.__name__
            assert table.to_pylist() == rows[name], builder.__name__
    mixed = {"datasets": {"d": [{"x": 1.5, "label": "a"}, {"x": 2.5, "label": 3}]}}
    assert arrow_datasets(mixed)["datasets"]["d"][1]["label"] == 3
    ragged = {"datasets": {"d": [{"x": 1.5}, {"x": 2.5, "y": 1.0}]}}
    assert arrow_datasets(ragged)["datasets"]["d"][1]["y"] == 1.0


def outcome_worlds():
    yield Scenario.for_outcome("bernoulli", seed=1, method="exact")
    yield Scenario.for_outcome("bernoulli", seed=2, samples=(30, 3, 0), n_features=1,
                               method="exact")
    yield Scenario.for_outcome("binomial", seed=3, trials=20, method="exact")
    yield Scenario.for_outcome("poisson", seed=4, exposure=2.0, method="exact")


def test_a_yes_no_or_count_worlds_charts_are_built_once_per_layout_too():
    from hierdash.charts.classroom import reveal_chart  # noqa: F401 - drawn in full (st.altair_chart)
    from hierdash.charts.style import link_scale
    from hierdash.charts.weights import natural_chart
    from hierdash.summaries.natural import natural_intercepts

    specs = ChartSpecs()
    for scenario in outcome_worlds():
        result = fit(scenario)
        scale = link_scale(scenario.outcome)
        kind = "rate" if scenario.outcome == "poisson" else "probability"
        natural = natural_intercepts(result.weights, result.world.y, result.world.sizes)
        drawn = [(natural_chart, (natural,), {"scale": kind})]
        for builder, frames, options in page_charts(result, reference=True):
            if builder in (charts.parent_chart, charts.child_chart, charts.shrinkage_chart,
                           charts.rmse_chart, charts.scales_chart, own_estimates_chart):
                options = {**options, "scale": scale}
            drawn.append((builder, frames, options))
        for builder, frames, options in drawn:
            got = specs.spec(builder, *frames, **options)
            want = vega_spec(builder(*frames, **options))
            assert canonical(got) == canonical(want), (scenario, builder.__name__)
            assert specs.templated(builder, **options), builder.__name__
