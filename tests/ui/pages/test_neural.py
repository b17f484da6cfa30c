"""The neural tasks page through ``AppTest``: it opens, shows the tasks, and after Fit
draws every chart. The fit is stubbed (a compile of the network takes a minute cold;
tests/neural/test_fit.py fits for real)."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from hierdash.charts.neural import MODEL_NAMES
from hierdash.neural.results import ModelFit, NeuralResult
from hierdash.neural.scores import grid_points
from hierdash.neural.settings import LINK_FIELDS
from hierdash.neural.settings import NeuralSettings as Settings
from hierdash.neural.tasks import simulate_tasks
from hierdash.ui.pages import neural as page

pytestmark = pytest.mark.app

SCRIPT = "from hierdash.ui.pages.neural import render\nrender()\n"


def _fake_fit(settings, *, progress, should_stop, time_budget):
    progress("sample", 0.5, "Sampling")
    tasks = simulate_tasks(settings)
    grid, _ = grid_points()
    surfaces = pd.concat([pd.DataFrame({"model": m, "task": t, "x1": grid[:, 0],
                                        "x2": grid[:, 1], "mean": 0.5, "sd": 0.1})
                          for m in MODEL_NAMES for t in range(tasks.n_tasks)])
    parent = surfaces[(surfaces["task"] == 0) & (surfaces["model"] != "separate")]
    accuracy = pd.DataFrame([{"task": t, "n": n, "model": m, "accuracy": 0.8,
                              "log_score": -0.5} for t, n in enumerate(tasks.counts)
                             for m in MODEL_NAMES])
    spreads = pd.DataFrame({"block": ["w1"], "layer": ["input -> hidden"], "kind": ["weights"],
                            "mean": [1.0], "low": [0.5], "high": [1.5]})
    fits = tuple(ModelFit(m, 0, 1.01, 1.0, 20.0) for m in MODEL_NAMES)
    return NeuralResult(settings=settings, tasks=tasks, accuracy=accuracy, spreads=spreads,
                        surfaces=surfaces, parent=parent.drop(columns="task"), fits=fits,
                        compile_s=0.0, total_s=3.0)


@pytest.fixture
def stubbed(monkeypatch):
    monkeypatch.setattr(page.NEURAL_FITS, "_fit", _fake_fit)


def _clean(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_the_page_opens_with_the_tasks_and_a_fit_button(stubbed):
    at = _clean(AppTest.from_string(SCRIPT, default_timeout=60).run())
    assert "Neural tasks" in at.title[0].value
    assert at.button(key="nn_fit") is not None
    assert len(at.get("vega_lite_chart")) == 1  # the tasks' points


def test_fit_draws_every_chart(stubbed):
    at = _clean(AppTest.from_string(SCRIPT, default_timeout=60).run())
    at = _clean(at.button(key="nn_fit").click().run())
    for _ in range(20):  # the stub ends at once; AppTest runs no fragment timer
        if len(at.get("vega_lite_chart")) >= 4:
            break
        at = _clean(at.run())
    assert len(at.get("vega_lite_chart")) == 4  # scores, surfaces, parent, spreads
    text = "\n".join(str(m.value) for m in at.markdown)
    assert "R-hat on probabilities" in text or "R-hat" in text
    assert at.success, "the stub's fits are healthy"


def test_bad_sample_counts_are_said_in_words(stubbed):
    at = AppTest.from_string(SCRIPT, default_timeout=60).run()
    at = at.text_input(key="nn_samples").set_value("3,x,5").run()
    assert not at.exception
    assert at.error and "whole numbers" in at.error[0].value
    at = at.text_input(key="nn_samples").set_value("500").run()
    assert at.error and "samples" in at.error[0].value


# -- the link -------------------------------------------------------------------------
LINKED = Settings(samples=(20, 5), rotation_spread=25.0, noise=0.2, test_per_task=50,
                  hidden=3, bias=False, padding="naive", seed=7, draws=600, tune=300,
                  target_accept=0.97)


def _open(query: dict) -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _shown(at: AppTest) -> dict:
    """The controls' values, as the settings' fields."""
    return {"samples": at.text_input(key="nn_samples").value,
            "rotation_spread": at.slider(key="nn_rotation").value,
            "noise": at.slider(key="nn_noise").value,
            "test_per_task": at.slider(key="nn_test").value,
            "hidden": at.slider(key="nn_hidden").value,
            "bias": at.toggle(key="nn_bias").value,
            "padding": at.radio(key="nn_padding").value,
            "seed": at.number_input(key="nn_seed").value,
            "draws": at.number_input(key="nn_draws").value,
            "tune": at.number_input(key="nn_tune").value,
            "target_accept": at.slider(key="nn_target_accept").value}


def test_a_link_reopens_its_world(stubbed):
    at = _clean(_open(LINKED.to_query()))
    assert _shown(at) == {name: getattr(LINKED, name) for name in LINK_FIELDS} | {
        "samples": "20,5"}
    assert at.query_params == {**LINKED.to_query()}
    at = _clean(at.slider(key="nn_hidden").set_value(5).run())
    assert at.query_params["nn_hidden"] == "5"  # a change is written back
    again = _clean(_open(dict(at.query_params)))
    assert _shown(again) == _shown(at) and not again.warning


def test_a_bad_link_value_warns_and_falls_back_to_its_default(stubbed):
    at = _clean(_open({"nn_hidden": "99", "nn_samples": "3,x", "nn_noise": "0.1",
                       "nn_draws": "5", "nn_chains": "3"}))
    warned = "\n".join(w.value for w in at.warning).replace("\\", "")  # plain() escapes
    assert all(name in warned for name in ("hidden", "samples", "draws", "nn_chains"))
    shown = _shown(at)
    assert shown["hidden"] == Settings().hidden and shown["noise"] == 0.1
    assert shown["samples"] == ",".join(str(n) for n in Settings().samples)
    at = _clean(at.slider(key="nn_hidden").set_value(3).run())
    assert not at.warning  # another world now: the link's problems are not repeated


def test_the_page_leaves_other_pages_parameters_alone(stubbed):
    theirs = {"samples": "5,5", "seed": "3", "noise": "2.0", "class": "ABC123"}
    at = _clean(_open({**theirs, "nn_seed": "4"}))
    assert at.number_input(key="nn_seed").value == 4
    assert at.text_input(key="nn_samples").value == ",".join(str(n) for n in Settings().samples)
    assert {k: at.query_params[k] for k in theirs} == theirs and not at.warning
