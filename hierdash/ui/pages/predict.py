"""Predict, then reveal: guess how far partial pooling pulls each task, then see the answer.

Top to bottom: the world (one made for predicting, the explore page's, the link's, or a
preset; a new seed with one click); each task's own estimate and sample count beside
the parent, without the partial-pooling result; a slider per task for the predicted
pull (0 = keeps its own estimate, 1 = lands on the parent) and the question "which
task moves furthest, in distance and in share"; then, on *Reveal*, the true pulls from
the exact posterior beside the guess, a score, two sentences on what was right and
wrong, the shrinkage chart, and *Send to the class board* for a student in a class.

The page opens on :data:`PREDICT_WORLD`, whose pulls differ from task to task (on the
default world every pull is about 0, and "half-way" everywhere would score 50 without
teaching anything), or on the link's world when the link sets one (a teacher's link);
the explore page's world stays a choice.

The answer is computed from the exact posterior (milliseconds) but never drawn, nor put
into a chart's data, before *Reveal*.

A yes/no or count world (a link's, or the explore page's) is predicted on its link scale:
the own estimates, the pulls and the arrows are in log-odds or log rate, and the words
say so.
"""

from __future__ import annotations

import hashlib
import random
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from hierdash import charts, summaries
from hierdash.charts.classroom import own_estimates_chart, reveal_chart
from hierdash.charts.style import link_scale, mark_outlier
from hierdash.classroom import PredictionScore, PullInputs, score_prediction, true_pulls
from hierdash.inference import FitResult
from hierdash.scenario import Scenario, ScenarioError
from hierdash.scenario.presets import PRESETS, apply_preset
from hierdash.ui.classroom import last_scenario, send_to_board
from hierdash.ui.shared import draw_chart, exact_fit
from hierdash.ui.state import NEW_SEED_MAX, init_session
from hierdash.ui.words import plain, say

__all__ = ["render"]

SOURCES = ("made", "explore", "link", "preset")
PREDICT_WORLD = apply_preset(Scenario(noise_sd=4.0, method="exact"), "one_rich")
"""The world the page opens on: one task with 300 rows among nine with 6, in a noisy
world (noise sd 4, as the outlier preset's). At its seed (42) the exact pulls run from 0
(the rich task) to 0.96; over seeds 0 to 39 (*New world* deals another seed) the gap
between the least and the most pulled task is never under 0.33. With the default noise
(1) most of the same tasks' pulls stay under 0.1."""
_GUESS_STEP = 0.05
_GUESS_START = 0.5  # every slider starts half-way: no hint either way
_COLUMNS = 3  # sliders per row
_NOT_SURE = -1  # the question's "not sure" option (a task number never is)


def _source_label(source: str) -> str:
    return say("classroom", f"source_{source}")


def _link_sets_a_world() -> bool:
    """Whether the session's link set a world (method aside: this page always uses exact)."""
    return (st.session_state.initial_scenario.replace(method="exact")
            != Scenario(method="exact"))


def _remember_source() -> None:
    """The radio's callback: the student's choice outlives the widget (a page switch drops
    a widget's state, and the page would open on its default world again)."""
    st.session_state.predict_source_chosen = st.session_state.predict_source


def _new_world() -> None:
    """*New world*'s callback: the same settings with a new seed."""
    st.session_state.predict_seed = random.randint(0, NEW_SEED_MAX)


def _base_world(source: str) -> Scenario:
    if source == "made":
        return PREDICT_WORLD
    if source == "explore":
        return last_scenario() or st.session_state.initial_scenario
    if source == "link":
        return st.session_state.initial_scenario
    preset = st.session_state.get("predict_preset") or "one_rich"
    return apply_preset(st.session_state.initial_scenario, preset)


def choose_world() -> Scenario | None:
    """The world chooser; the chosen world with method exact (None if it can't be used)."""
    st.subheader(say("classroom", "predict_world_title"))
    source_col, preset_col, new_col = st.columns([3, 3, 1], vertical_alignment="bottom")
    if "predict_source" not in st.session_state:  # a new session, or back from another page
        st.session_state.predict_source = (st.session_state.get("predict_source_chosen")
                                           or ("link" if _link_sets_a_world() else "made"))
    source = source_col.radio(say("classroom", "world_source"), SOURCES,
                              format_func=_source_label, key="predict_source", horizontal=True,
                              on_change=_remember_source)
    if source == "preset":
        preset_col.selectbox(say("classroom", "preset_label"), list(PRESETS),
                             format_func=lambda name: PRESETS[name].label, key="predict_preset")
    new_col.button(say("classroom", "new_world"), key="predict_new_world", icon=":material/casino:",
                   on_click=_new_world, help=say("classroom", "new_world_help"), width="stretch")
    try:
        scenario = _base_world(source).replace(method="exact")
        seed = st.session_state.get("predict_seed")
        if seed is not None:
            scenario = scenario.replace(seed=int(seed))
    except (ScenarioError, ValueError, TypeError) as err:
        st.error(say("classroom", "predict_unusable", problem=plain(err)), icon=":material/block:")
        return None
    return scenario


def _world_line(scenario: Scenario) -> None:
    counts = scenario.samples
    shown = ", ".join(map(str, counts[:12])) + (", …" if len(counts) > 12 else "")
    features = f"{scenario.n_features} feature{'s' if scenario.n_features > 1 else ''}"
    st.markdown(say("classroom", "predict_world", tasks=len(counts), samples=shown,
                    features=features, seed=scenario.seed))
    if scenario.outlier is not None:
        st.caption(say("classroom", "outlier_note", task=scenario.outlier,
                       shift=scenario.outlier_shift))
    if not scenario.is_gaussian:
        outcome = say("classroom", f"outcome_{scenario.outcome}", trials=scenario.trials)
        st.info(say("classroom", "predict_world_link", outcome=outcome,
                    scale=link_scale(scenario.outcome)), icon=":material/straighten:")


def _scale(scenario: Scenario) -> dict[str, str]:
    """The charts' scale option: a yes/no or count world's link scale; none for Gaussian."""
    scale = link_scale(scenario.outcome)
    return {} if scale is None else {"scale": scale}


def _world_token(scenario: Scenario) -> str:
    """A short name of the world, for widget keys: a new world gets fresh sliders."""
    return hashlib.sha256(urlencode(scenario.to_query()).encode()).hexdigest()[:10]


def _labels(scenario: Scenario) -> pd.DataFrame:
    tasks = pd.DataFrame({"task": range(scenario.n_tasks), "n": list(scenario.samples)})
    tasks["task_label"] = [summaries.task_label(t, n) for t, n in zip(tasks.task, tasks.n,
                                                                       strict=True)]
    return mark_outlier(tasks, scenario.outlier)


def _before(result: FitResult, scenario: Scenario, scorable: np.ndarray) -> None:
    st.subheader(say("classroom", "before_title"))
    child = mark_outlier(summaries.child_rows(result.weights), scenario.outlier)
    left, right = st.columns([3, 1], gap="medium")
    with left:
        draw_chart(own_estimates_chart, child, **_scale(scenario))
    if scenario.is_gaussian:
        right.markdown(say("classroom", "before"))
    else:
        right.markdown(say("classroom", "before_link", scale=link_scale(scenario.outcome)))
    idle = [str(t) for t in np.flatnonzero(~scorable)]
    if idle:
        st.caption(say("classroom", "no_estimate_tasks", tasks=", ".join(idle)))


def _guess_form(scenario: Scenario, labels: pd.DataFrame, scorable: np.ndarray,
                token: str) -> None:
    """Sliders, the question and *Reveal*; a submitted guess goes to ``predict_guess``."""
    st.subheader(say("classroom", "guess_title"))
    tasks = [int(t) for t in np.flatnonzero(scorable)]
    with st.form(key=f"guess_form_{token}", border=True):
        if scenario.is_gaussian:
            st.caption(say("classroom", "guess_help"))
        else:
            st.caption(say("classroom", "guess_help_link", scale=link_scale(scenario.outcome)))
        for start in range(0, len(tasks), _COLUMNS):
            for col, task in zip(st.columns(_COLUMNS), tasks[start:start + _COLUMNS],
                                 strict=False):
                label = labels.task_label[task]
                col.slider(label, 0.0, 1.0, _GUESS_START, _GUESS_STEP,
                           key=f"guess_{token}_{task}",
                           help=(say("classroom", "guess_no_rows")
                                 if scenario.samples[task] == 0 else None))
        options = [_NOT_SURE, *range(scenario.n_tasks)]
        name = {_NOT_SURE: say("classroom", "not_sure"),
                **{t: labels.task_label[t] for t in range(scenario.n_tasks)}}
        left, right = st.columns(2)
        left.selectbox(say("classroom", "furthest_distance"), options, format_func=name.get,
                       key=f"distance_{token}")
        right.selectbox(say("classroom", "furthest_share"), options, format_func=name.get,
                        key=f"share_{token}")
        st.form_submit_button(say("classroom", "reveal_button"), type="primary",
                              icon=":material/visibility:", on_click=_submit_guess,
                              args=(token, tuple(tasks), scenario.n_tasks))


def _answer(choice: int | None) -> int | None:
    return None if choice is None or choice == _NOT_SURE else int(choice)


def _submit_guess(token: str, tasks: tuple[int, ...], n_tasks: int) -> None:
    """*Reveal*'s callback: keep the guess (the page then draws the answer, not the form)."""
    guess = np.full(n_tasks, np.nan)
    for task in tasks:
        guess[task] = float(st.session_state[f"guess_{token}_{task}"])
    st.session_state.predict_guess = {
        "token": token, "pulls": guess,
        "distance": _answer(st.session_state.get(f"distance_{token}")),
        "share": _answer(st.session_state.get(f"share_{token}")),
    }


def _change_guess() -> None:
    st.session_state.pop("predict_guess", None)


def _reveal(result: FitResult, scenario: Scenario, inputs: PullInputs, labels: pd.DataFrame,
            guess: dict) -> None:
    st.subheader(say("classroom", "reveal_title"))
    try:
        scored: PredictionScore = score_prediction(
            inputs, guess["pulls"], furthest_in_distance=guess["distance"],
            furthest_in_share=guess["share"])
    except ValueError as err:  # a guess that no longer fits this world
        st.error(plain(err), icon=":material/error:")
        return
    if scored.score is None:
        st.info(say("classroom", "no_score"), icon=":material/info:")
    else:
        table = scored.table.merge(labels[["task", "task_label"]], on="task")
        left, right = st.columns([3, 1], gap="medium")
        with left:
            st.altair_chart(reveal_chart(table, **_scale(scenario)), width="stretch")
        with right:
            st.metric(say("classroom", "score_label"), f"{scored.score:.0f} / 100",
                      help=say("classroom", "score_help"))
            st.markdown(say("classroom", "reveal"))
        st.success(scored.right, icon=":material/thumb_up:")
        st.warning(scored.wrong, icon=":material/lightbulb:")
        if scored.question:
            st.info(scored.question, icon=":material/help:")
    st.markdown(say("classroom", "shrinkage_after"))
    draw_chart(charts.shrinkage_chart, result.weights, width="content",
               outlier=scenario.outlier, **_scale(scenario))
    if scenario.outlier is not None:
        st.caption(say("classroom", "outlier_lesson", task=scenario.outlier))
    st.button(say("classroom", "change_guess"), key="change_guess", on_click=_change_guess,
              icon=":material/undo:")
    send_to_board(scenario, result.errors, key="predict", prediction_score=scored.score,
                  what=say("classroom", "send_what_reveal"))


def render() -> None:
    """Draw the predict page."""
    init_session()
    st.title(say("classroom", "predict_title"))
    st.markdown(say("classroom", "predict_intro"))
    scenario = choose_world()
    if scenario is None:
        return
    _world_line(scenario)
    try:
        result = exact_fit(scenario)
        inputs = PullInputs.from_weights(result.weights)
    except Exception as err:  # noqa: BLE001 - never a traceback on the page
        st.error(say("classroom", "predict_unusable",
                     problem=plain(f"{type(err).__name__}: {err}")), icon=":material/error:")
        return
    scorable = np.isfinite(true_pulls(inputs))
    labels = _labels(scenario)
    token = _world_token(scenario)
    _before(result, scenario, scorable)
    guess = st.session_state.get("predict_guess")
    if guess is None or guess.get("token") != token:
        _guess_form(scenario, labels, scorable, token)
        return
    _reveal(result, scenario, inputs, labels, guess)

