"""The Streamlit page, run headless with ``streamlit.testing.v1.AppTest``.

Most tests use the exact method only (milliseconds per fit); two run a real, small
sampling fit end to end (NUTS, with its one-off compile, and ADVI).
"""

from __future__ import annotations

import json

import pytest

from hierdash import summaries
from hierdash.inference import FitStopped
from hierdash.scenario import METHODS, PARAMETERIZATIONS, Scenario
from hierdash.scenario.presets import PRESETS
from hierdash.ui.jobs import JobEnd
from hierdash.ui.labels import METHOD_LABELS, PARAMETERIZATION_LABELS
from testkit.apptest import (
    N_CHARTS,
    chart_data,
    fit_running,
    ok,
    open_page,
    press_fit,
    query,
    texts,
)

pytestmark = pytest.mark.app


def new_app(**query: str):
    return open_page(query, timeout=120)


def chart_specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


# ---------------------------------------------------------------------------
# The default page
# ---------------------------------------------------------------------------
def test_default_page_shows_every_chart_from_the_exact_posterior():
    at = ok(new_app())
    assert len(at.get("vega_lite_chart")) == N_CHARTS
    assert "Charts show the **exact posterior**" in texts(at.info)
    fit = at.button(key="fit")
    assert fit.label == "Fit with NUTS (nutpie)" and not fit.proto.disabled
    assert not at.warning
    assert len(at.get("download_button")) == 3
    # Every setting, the seed included, is in the URL.
    assert query(at) == Scenario().to_query()
    subheaders = texts(at.subheader)
    for title in ("Parent weights", "Child weights", "Shrinkage", "The padded data",
                  "Diagnostics", "Downloads and link"):
        assert title in subheaders
    assert "seed=42" in at.code[0].value


# ---------------------------------------------------------------------------
# Every control changes what it should
# ---------------------------------------------------------------------------
def test_truth_controls_change_the_world():
    at = ok(new_app())
    for key, value in [("parent_mean", -20.0), ("parent_scale", 7.5), ("child_spread", 0.25),
                       ("noise_sd", 3.0)]:
        before = chart_data(at, "task_label")[["true", "mean"]]
        ok(at.slider(key=key).set_value(value).run())
        assert float(query(at)[key]) == value
        after = chart_data(at, "task_label")[["true", "mean"]]  # the child weights
        assert not after.equals(before), key
    ok(at.slider(key="n_features").set_value(6).run())
    assert query(at)["n_features"] == "6"
    parent = chart_data(at, "feature_label")
    assert parent["feature"].nunique() == 6
    ok(at.number_input(key="x_sd").set_value(2.0).run())
    assert query(at)["x_sd"] == "2.0"
    ok(at.number_input(key="x_mean").set_value(-1.0).run())
    assert query(at)["x_mean"] == "-1.0"


def test_number_of_tasks_and_the_sample_table():
    at = ok(new_app())
    ok(at.number_input(key="n_tasks").set_value(4).run())
    assert query(at)["samples"] == "100,80,80,80"  # new tasks copy the last count
    editor = at.data_editor[0]
    assert editor.value["samples"].tolist() == [100, 80, 80, 80]
    at.session_state[editor.key] = {"edited_rows": {2: {"samples": 7}, 3: {"samples": 0}},
                                    "added_rows": [], "deleted_rows": []}
    ok(at.run())
    assert query(at)["samples"] == "100,80,7,0"
    labels = chart_data(at, "task_label")["task_label"]
    assert {"task 2 · n=7", "task 3 · n=0"} <= set(labels)
    assert "task 3 has no rows" in texts(at.warning)
    ok(at.number_input(key="n_tasks").set_value(2).run())
    assert query(at)["samples"] == "100,80"


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_sets_the_tasks_in_one_click(name):
    at = ok(new_app(samples="3,3,3", seed="9"))
    ok(at.button(key=f"preset_{name}").click().run())
    preset = PRESETS[name]
    assert query(at)["samples"] == ",".join(map(str, preset.samples))
    assert query(at)["seed"] == "9"  # the rest of the world stays
    assert at.number_input(key="n_tasks").value == len(preset.samples)
    assert at.data_editor[0].value["samples"].tolist() == list(preset.samples)
    assert f"Preset *{preset.label}*" in texts(at.markdown)
    assert len(at.get("vega_lite_chart")) == N_CHARTS


def test_fit_controls_reach_the_scenario():
    at = ok(new_app())
    before = chart_data(at, "feature_label")["mean"].tolist()
    # Several widgets changed before one rerun, as a reader does between two clicks.
    at.number_input(key="draws").set_value(300)
    at.number_input(key="tune").set_value(400)
    at.slider(key="chains").set_value(3)
    at.slider(key="target_accept").set_value(0.95)
    at.number_input(key="advi_iterations").set_value(5000)
    at.number_input(key="advi_learning_rate").set_value(0.05)
    at.radio(key="parameterization").set_value("centered")
    ok(at.run())
    at.number_input(key="prior_parent_scale").set_value(20.0)
    at.number_input(key="prior_parent_mean").set_value(1.0)
    at.number_input(key="prior_spread_scale").set_value(2.0)
    at.number_input(key="prior_noise_scale").set_value(3.0)
    ok(at.run())
    assert chart_data(at, "feature_label")["mean"].tolist() != before  # new exact draws
    q = query(at)
    assert (q["draws"], q["tune"], q["chains"], q["target_accept"]) == ("300", "400", "3", "0.95")
    assert (q["advi_iterations"], q["advi_learning_rate"]) == ("5000", "0.05")
    assert (q["prior_parent_scale"], q["prior_parent_mean"]) == ("20.0", "1.0")
    assert (q["prior_spread_scale"], q["prior_noise_scale"]) == ("2.0", "3.0")
    assert q["parameterization"] == "centered"
    ok(at.selectbox(key="method").set_value("advi").run())
    assert query(at)["method"] == "advi"
    assert at.button(key="fit").label == "Fit with ADVI (mean-field)"


def test_exact_method_needs_no_fit_button():
    at = ok(new_app())
    ok(at.selectbox(key="method").set_value("exact").run())
    assert at.button(key="fit").proto.disabled
    assert "computed in" in texts(at.info)
    assert "independent samples" in texts(at.markdown)


def test_padding_learn_spread_and_seed_controls():
    at = ok(new_app(samples="100,10"))
    ok(at.radio(key="padding").set_value("naive").run())
    assert query(at)["padding"] == "naive"
    kinds = set(chart_data(at, "kind")["kind"])
    assert summaries.PAD_USED in kinds and summaries.PAD_IGNORED not in kinds
    noise = chart_data(at, "name").set_index("label")
    assert noise.loc["noise sd", "mean"] < noise.loc["noise sd", "true"]  # the naive bias

    ok(at.toggle(key="learn_spread").set_value(False).run())
    assert query(at)["learn_spread"] == "false"
    assert chart_data(at, "name")["label"].tolist() == ["noise sd"]

    before = chart_data(at, "true")["true"].tolist()
    ok(at.number_input(key="seed").set_value(5).run())
    assert query(at)["seed"] == "5"
    assert chart_data(at, "true")["true"].tolist() != before
    ok(at.button(key="new_seed").click().run())
    assert query(at)["seed"] != "5"
    assert at.number_input(key="seed").value == int(query(at)["seed"])


# ---------------------------------------------------------------------------
# Links and bad input
# ---------------------------------------------------------------------------
def test_link_reproduces_a_world():
    link = Scenario(samples=(30, 5, 0), seed=123, noise_sd=2.5, method="advi").to_query()
    at = ok(new_app(**link))
    assert query(at) == link
    assert at.number_input(key="seed").value == 123
    assert at.slider(key="noise_sd").value == 2.5
    assert at.selectbox(key="method").value == "advi"
    assert at.data_editor[0].value["samples"].tolist() == [30, 5, 0]
    assert "Preset" not in texts(at.markdown)  # no preset has these counts


def test_broken_link_falls_back_to_defaults_with_a_warning():
    at = ok(new_app(noise_sd="-5", samples="1,x", method="magic", bogus="1", seed="7",
                    tasks="3"))
    warning = texts(at.warning)
    assert "could not be used" in warning
    for name in ("noise_sd", "samples", "method", "bogus"):
        assert name in warning
    q = query(at)
    defaults = Scenario()
    assert q["noise_sd"] == str(defaults.noise_sd) and q["method"] == defaults.method
    assert q["seed"] == "7"  # good values in the link are kept
    assert len(at.get("vega_lite_chart")) == N_CHARTS
    # Once the reader changes a setting, the warning has done its job.
    ok(at.slider(key="noise_sd").set_value(2.0).run())
    assert "could not be used" not in texts(at.warning)


def test_the_neural_pages_parameters_are_not_the_worlds():
    # Both pages share the URL: the neural page's nn_... parameters are not settings here.
    at = ok(new_app(nn_samples="3,3", nn_seed="5", seed="8"))
    assert "could not be used" not in texts(at.warning)
    assert at.number_input(key="seed").value == 8


def test_a_link_with_another_outcome_opens_that_world():
    # (tests/ui/test_outcomes.py has the rest: round trips, refused combinations.)
    at = ok(new_app(outcome="poisson", intercept="true", seed="9"))
    assert "could not be used" not in texts(at.warning)
    assert query(at)["outcome"] == "poisson" and query(at)["seed"] == "9"
    assert at.selectbox(key="outcome").value == "poisson"
    assert len(at.get("vega_lite_chart")) == N_CHARTS + 1  # and each task's rate


def test_validation_error_is_a_message_not_a_traceback():
    at = ok(new_app())
    ok(at.number_input(key="n_tasks").set_value(30).run())
    editor = at.data_editor[0]
    at.session_state[editor.key] = {
        "edited_rows": {i: {"samples": 1000} for i in range(30)},
        "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    message = texts(at.error)
    assert "can't be used" in message and "samples" in message and "20000" in message
    assert not at.get("vega_lite_chart")
    assert query(at)["samples"] == ",".join(["100"] + ["80"] * 29)  # the last valid world
    # Fixing the table brings the charts back.
    at.session_state[editor.key] = {"edited_rows": {0: {"samples": 5}}, "added_rows": [],
                                    "deleted_rows": []}
    ok(at.run())
    assert len(at.get("vega_lite_chart")) == N_CHARTS


def test_an_interrupted_fit_is_reported_on_the_next_run():
    at = new_app()
    at.session_state["fit_ended"] = JobEnd(Scenario(method="nuts"), "stopped")
    ok(at.run())
    assert "fit was stopped" in texts(at.warning)
    at.session_state["fit_ended"] = JobEnd(Scenario(method="nuts"), "abandoned")
    ok(at.run())
    assert "abandoned because a setting changed" in texts(at.info)
    ok(at.run())
    assert "fit was stopped" not in texts(at.warning)


# ---------------------------------------------------------------------------
# Real sampling fits, end to end
# ---------------------------------------------------------------------------
def test_real_nuts_fit_replaces_the_exact_charts_and_is_shared():
    link = Scenario(method="nuts", draws=200, tune=200, chains=2, seed=11).to_query()
    at = ok(new_app(**link))
    assert "Charts show the **exact posterior**" in texts(at.info)
    ok(press_fit(at))
    shown = texts(at.success)
    assert "Charts show **NUTS (nutpie)**" in shown and "2 chains × 200 draws" in shown
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["max R-hat"] != "—" and float(metrics["max R-hat"]) < 1.2
    assert int(metrics["divergences"]) >= 0
    assert len(at.get("vega_lite_chart")) == N_CHARTS
    assert "posterior mean" in json.dumps(chart_specs(at)[0])
    parent = chart_data(at, "feature_label")
    assert parent["mean"].round(6).tolist() != parent["exact_mean"].round(6).tolist()

    # Another reader with the same link gets the cached fit at once, without Fit.
    other = ok(new_app(**link))
    assert "Charts show **NUTS (nutpie)**" in texts(other.success)
    # A changed setting shows the exact posterior again until the next Fit.
    ok(other.slider(key="noise_sd").set_value(2.0).run())
    assert "Charts show the **exact posterior**" in texts(other.info)


def test_a_session_keeps_its_fit_after_the_shared_registry_forgets_it(monkeypatch):
    # With a class fitting at once, the registry's last 16 results pushed out the fits
    # of slow pages before they came back for them: they showed the Fit button again.
    from hierdash.ui.shared import SAMPLING_FITS

    link = Scenario(method="nuts", draws=200, tune=200, chains=2, seed=12).to_query()
    at = ok(press_fit(ok(new_app(**link))))
    assert "Charts show **NUTS (nutpie)**" in texts(at.success)
    monkeypatch.setattr(SAMPLING_FITS, "finished", lambda scenario: None)
    ok(at.run())
    assert "Charts show **NUTS (nutpie)**" in texts(at.success)
    other = ok(new_app(**link))  # another reader only had the registry
    assert "Charts show the **exact posterior**" in texts(other.info)


@pytest.fixture
def models_compiled():
    """The shared models compiled, as the server's warm-up does (a page never waits in
    its run for a compile)."""
    from hierdash.inference import warm_up

    warm_up()


def test_a_quick_fit_is_shown_by_the_clicks_own_run(monkeypatch, models_compiled):
    from hierdash.ui import jobs

    # The wait is generous here so a loaded machine cannot fail the test; the page's
    # own wait is shorter.
    monkeypatch.setattr(jobs, "_ANSWER_AT_ONCE_S", 120.0)
    link = Scenario(method="nuts", draws=200, tune=200, chains=2, seed=12).to_query()
    at = ok(new_app(**link))
    ok(at.button(key="fit").click().run())  # one page run, no progress redraws
    assert not fit_running(at)
    assert "Charts show **NUTS (nutpie)**" in texts(at.success)
    assert "Fitting with" not in texts(at.markdown)
    assert len(at.get("vega_lite_chart")) == N_CHARTS


def test_a_fit_of_a_few_seconds_is_shown_by_the_clicks_run_after_its_progress(
        monkeypatch, models_compiled):
    # Past the first moments (none here) the click's run redraws the progress in place
    # and goes on waiting for a fit that will end soon: a class's queued fits cost one
    # page run each, not a run, progress redraws and a whole-page run. At the end: the
    # fit's charts, no progress and no Stop.
    from hierdash.ui import jobs

    monkeypatch.setattr(jobs, "_ANSWER_AT_ONCE_S", 0.0)
    monkeypatch.setattr(jobs, "_ANSWER_IN_RUN_S", 120.0)
    link = Scenario(method="nuts", draws=200, tune=200, chains=2, seed=13).to_query()
    at = ok(new_app(**link))
    ok(at.button(key="fit").click().run())
    assert not fit_running(at)
    assert "Charts show **NUTS (nutpie)**" in texts(at.success)
    assert "Fitting with" not in texts(at.markdown)
    assert not [b for b in at.button if b.key == "stop_fit"]
    assert len(at.get("vega_lite_chart")) == N_CHARTS


def test_real_advi_fit_shows_its_elbo():
    link = Scenario(method="advi", advi_iterations=2000, draws=200, seed=5).to_query()
    at = ok(new_app(**link))
    ok(press_fit(at))
    assert "Charts show **ADVI (mean-field)**" in texts(at.success)
    assert len(at.get("vega_lite_chart")) == N_CHARTS + 1
    assert "ELBO during optimisation" in texts(at.markdown)
    assert "ELBO" in texts(at.success) + texts(at.warning)


# ---------------------------------------------------------------------------
# Stop, and a fit abandoned by a changed setting, for real
# ---------------------------------------------------------------------------
# Long enough that it is still sampling when the test presses Stop, after the page's
# wait for a quick fit: a funnel (centered, tiny spread, 50 tasks of 3 rows), about 30 s.
LONG_FIT = Scenario(method="nuts", draws=5000, tune=5000, chains=4, seed=23,
                    parameterization="centered", child_spread=0.02, samples=(3,) * 50,
                    n_features=8)


def _job_ended(job, timeout: float = 120.0) -> BaseException | None:
    """Wait for a job's fit to end; its exception (None when it has a result)."""
    return job.future.exception(timeout=timeout)


@pytest.mark.slow
def test_stop_ends_the_fit_and_says_so():
    at = ok(new_app(**LONG_FIT.to_query()))
    ok(at.button(key="fit").click().run())
    assert fit_running(at)
    job = at.session_state["fit_job"]
    assert "Fitting with NUTS (nutpie)" in texts(at.markdown)
    ok(at.button(key="stop_fit").click().run())
    assert not fit_running(at)
    assert "fit was stopped" in texts(at.warning)
    assert "Charts show the **exact posterior**" in texts(at.info)
    assert not at.button(key="fit").proto.disabled  # a new fit can start at once
    # Nobody else watched it: the sampler itself stopped.
    assert isinstance(_job_ended(job), FitStopped)


@pytest.mark.slow
def test_a_changed_setting_abandons_the_fit():
    at = ok(new_app(**LONG_FIT.replace(seed=24).to_query()))
    ok(at.button(key="fit").click().run())
    job = at.session_state["fit_job"]
    ok(at.slider(key="noise_sd").set_value(2.0).run())
    assert not fit_running(at)
    assert "abandoned because a setting changed" in texts(at.info)
    assert isinstance(_job_ended(job), FitStopped)


def test_the_parameterization_selector_offers_every_choice_with_a_label():
    at = ok(new_app())
    radio = at.radio(key="parameterization")
    assert list(radio.options) == [PARAMETERIZATION_LABELS[p] for p in PARAMETERIZATIONS]
    assert "marginal" in radio.options
    assert "integrates the child weights out: no funnel" in radio.help
    assert set(METHOD_LABELS) == set(METHODS)
    ok(radio.set_value("marginal").run())
    assert query(at)["parameterization"] == "marginal"


def test_summary_tables_are_made_once_per_result_and_never_keep_it_alive():
    import gc
    import weakref

    from hierdash.inference import fit
    from hierdash.ui import results

    result = fit(Scenario(method="exact", seed=41))
    tables = results._summary_tables(result)
    assert results._summary_tables(result) is tables
    assert results._summary_tables(fit(Scenario(method="exact", seed=42))) is not tables
    gone = weakref.ref(result)
    del result
    gc.collect()
    assert gone() is None  # the cache held only a weak reference
