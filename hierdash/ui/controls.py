"""The sidebar's controls: each group returns its fields, and together one scenario.

Every widget's key is the name of the scenario field it sets, and its range comes from
:data:`hierdash.scenario.BOUNDS`, so the page, the link and the command line share one
set of limits. Help texts are in ``words/controls.md``.

The outcome chosen first shapes the rest: a yes/no or count outcome has no noise (its
trials or exposure take the noise's place), and offers neither ADVI nor the marginal
parameterization. A setting whose control is hidden keeps its value (and its place in
the link) until the outcome brings the control back.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from hierdash.scenario import (
    BOUNDS,
    MAX_SAMPLES_PER_TASK,
    MAX_TASKS,
    METHODS,
    OUTCOMES,
    PADDINGS,
    PARAMETERIZATIONS,
    Scenario,
    ScenarioError,
)
from hierdash.scenario.presets import PRESETS
from hierdash.ui.labels import method_label, parameterization_label
from hierdash.ui.state import (
    apply_outcome_to_session,
    apply_preset_to_session,
    new_seed,
    resize_tasks,
)
from hierdash.ui.words import say

__all__ = ["scenario_sidebar"]


def _slider(label: str, name: str, step: float, fmt: str = "%.2f") -> float:
    bound = BOUNDS[name]
    return st.slider(label, min_value=float(bound.low), max_value=float(bound.high), step=step,
                     format=fmt, key=name, help=say("controls", name))


def _int_slider(label: str, name: str) -> int:
    bound = BOUNDS[name]
    return st.slider(label, min_value=int(bound.low), max_value=int(bound.high), step=1,
                     key=name, help=say("controls", name))


def _number(label: str, name: str, step: float | int, fmt: str | None = None):
    bound = BOUNDS[name]
    if bound.integer:
        return st.number_input(label, min_value=int(bound.low), max_value=int(bound.high),
                               step=int(step), key=name, help=say("controls", name))
    return st.number_input(label, min_value=float(bound.low), max_value=float(bound.high),
                           step=float(step), format=fmt, key=name, help=say("controls", name))


# Settings that mean nothing for an outcome: their controls are hidden, their values kept.
GAUSSIAN_ONLY = ("noise_sd", "prior_noise_scale", "advi_iterations", "advi_learning_rate")
GAUSSIAN_ONLY_METHODS = ("advi", "fullrank_advi")
GAUSSIAN_ONLY_PARAMETERIZATIONS = ("marginal",)
_SIZE_OF = {"binomial": "trials", "poisson": "exposure"}  # the row size each outcome reads


def hidden_fields(outcome: str) -> tuple[str, ...]:
    """The scenario fields whose controls ``outcome`` hides (their values are kept)."""
    sizes = tuple(name for kind, name in _SIZE_OF.items() if kind != outcome)
    return sizes if outcome == "gaussian" else GAUSSIAN_ONLY + sizes


def method_choices(outcome: str) -> tuple[str, ...]:
    """The methods ``outcome`` can be fitted with."""
    return METHODS if outcome == "gaussian" else tuple(
        m for m in METHODS if m not in GAUSSIAN_ONLY_METHODS)


def parameterization_choices(outcome: str) -> tuple[str, ...]:
    """The parameterizations ``outcome`` can be fitted with."""
    return PARAMETERIZATIONS if outcome == "gaussian" else tuple(
        p for p in PARAMETERIZATIONS if p not in GAUSSIAN_ONLY_PARAMETERIZATIONS)


def _keep(names: tuple[str, ...]) -> dict[str, Any]:
    """The values of hidden controls: kept in session state (Streamlit forgets a widget's
    value once it is not drawn) and handed to the scenario as they are."""
    values = {}
    for name in names:
        if name in st.session_state:
            st.session_state[name] = st.session_state[name]  # now a plain value: it stays
            values[name] = st.session_state[name]
    return values


def _outcome_label(outcome: str) -> str:
    return say("controls", f"outcome_{outcome}")


def outcome_controls() -> dict[str, Any]:
    """What ``y`` is (choosing one loads that outcome's defaults) and the intercept."""
    if st.session_state.get("outcome") not in OUTCOMES:
        st.session_state.outcome = "gaussian"
    outcome = st.selectbox("Outcome y", OUTCOMES, key="outcome", format_func=_outcome_label,
                           on_change=apply_outcome_to_session, help=say("controls", "outcome"))
    values: dict[str, Any] = {"outcome": outcome}
    if outcome == "binomial":
        values["trials"] = _number("Trials per row", "trials", 1)
    elif outcome == "poisson":
        values["exposure"] = _number("Exposure per row", "exposure", 0.5, "%.2f")
    values["intercept"] = st.toggle("Intercept (feature 0 = 1)", key="intercept",
                                    help=say("controls", "intercept"))
    return values


def truth_controls() -> dict[str, Any]:
    """The true world: what y is, parent, spread, noise (Gaussian), features."""
    st.header(say("controls", "truth_title"))
    values = outcome_controls()
    gaussian = values["outcome"] == "gaussian"
    values |= _keep(hidden_fields(values["outcome"]))
    if not gaussian:
        st.caption(say("controls", "link_scale"))
    values |= {
        "parent_mean": _slider("Parent mean", "parent_mean", 0.5),
        "parent_scale": _slider("Parent scale", "parent_scale", 0.1),
        "child_spread": _slider("Child spread", "child_spread", 0.01),
    }
    if gaussian:
        values["noise_sd"] = _slider("Noise sd", "noise_sd", 0.01)
    values["n_features"] = _int_slider("Number of features", "n_features")
    with st.expander("How the features x are drawn"):
        values["x_mean"] = _number("Mean of x", "x_mean", 0.5, "%.2f")
        values["x_sd"] = _number("Sd of x", "x_sd", 0.5, "%.2f")
    return values


def data_controls() -> dict[str, Any]:
    """The data: presets, number of tasks, each task's sample count (validated later)."""
    st.header(say("controls", "data_title"))
    st.caption(say("controls", "presets"))
    with st.container(horizontal=True, gap="small"):
        for name, preset in PRESETS.items():
            st.button(preset.label, key=f"preset_{name}", on_click=apply_preset_to_session,
                      args=(name,), help=preset.description)
    st.number_input("Number of tasks", min_value=1, max_value=MAX_TASKS, step=1, key="n_tasks",
                    on_change=resize_tasks, help=say("controls", "n_tasks"))
    base = st.session_state.samples_base
    table = pd.DataFrame({"task": list(range(len(base))), "samples": list(base)})
    edited = st.data_editor(
        table,
        key=f"samples_editor_{st.session_state.editor_version}",
        hide_index=True,
        num_rows="fixed",
        disabled=["task"],
        width="stretch",
        column_config={
            "task": st.column_config.NumberColumn("task", format="%d"),
            "samples": st.column_config.NumberColumn(
                "samples", min_value=0, max_value=MAX_SAMPLES_PER_TASK, step=1, format="%d",
                required=True, help=say("controls", "samples")),
        },
    )
    samples = tuple(_plain(v) for v in edited["samples"].tolist())
    st.session_state.samples_current = samples
    return {"samples": samples, **outlier_controls(len(samples))}


def _outlier_name(task: int, n_tasks: int) -> str:
    if task < 0:
        return "none"
    return f"task {task}" if task < n_tasks else f"task {task} (not in this world)"


def outlier_controls(n_tasks: int) -> dict[str, Any]:
    """The outlier task: which task, how many child spreads off the parent, its own noise."""
    current = int(st.session_state.get("outlier_task", -1))
    with st.expander(say("classroom", "outlier_title"), expanded=current >= 0):
        if st.session_state.get("outcome", "gaussian") != "gaussian" or st.session_state.get(
                "intercept", False):
            st.caption(say("controls", "outlier_gaussian_only"))
        # The current choice stays an option even past the last task (it then has no effect).
        options = list(range(-1, max(n_tasks, current + 1)))
        values = {
            "outlier_task": st.selectbox(
                "Outlier task", options, key="outlier_task",
                format_func=lambda task: _outlier_name(task, n_tasks),
                help=say("classroom", "outlier_task")),
        }
        shift, noise = BOUNDS["outlier_shift"], BOUNDS["outlier_noise"]
        values["outlier_shift"] = st.slider(
            "Child spreads off the parent", min_value=float(shift.low),
            max_value=float(shift.high), step=0.5, key="outlier_shift",
            help=say("classroom", "outlier_shift"))
        values["outlier_noise"] = st.slider(
            "Its noise, times the noise sd", min_value=float(noise.low),
            max_value=float(noise.high), step=0.1, key="outlier_noise",
            help=say("classroom", "outlier_noise"))
    return values


def _plain(value: Any) -> Any:
    """A table cell as a plain int when it is a whole number (else as it is, for the
    scenario's validation to report)."""
    try:
        if float(value).is_integer():
            return int(value)
    except (TypeError, ValueError):
        pass
    return value


def _offer(name: str, choices: tuple[str, ...], fallback: str) -> None:
    """Before a choice is drawn: a value it no longer offers gives way to ``fallback``."""
    if st.session_state.get(name) not in choices:
        st.session_state[name] = fallback


def fit_controls(outcome: str = "gaussian") -> dict[str, Any]:
    """The fit: method, draws, parameterization, padding, spread, seed, sampler details.

    A yes/no or count ``outcome`` offers neither ADVI nor the marginal parameterization
    (a caption says why).
    """
    st.header(say("controls", "fit_title"))
    gaussian = outcome == "gaussian"
    methods, parameterizations = method_choices(outcome), parameterization_choices(outcome)
    _offer("method", methods, "nuts")
    _offer("parameterization", parameterizations, "auto")
    values: dict[str, Any] = {
        "method": st.selectbox("Method", methods, key="method", format_func=lambda m: method_label(m, outcome),
                               help=say("controls", "method")),
    }
    if not gaussian:
        st.caption(say("controls", "outcome_methods", outcome=_outcome_label(outcome)))
    left, right = st.columns(2)
    with left:
        values["draws"] = _number("Draws", "draws", 100)
    with right:
        values["tune"] = _number("Tune", "tune", 100)
    values["chains"] = _int_slider("Chains", "chains")
    values["parameterization"] = st.radio(
        "Parameterization", parameterizations, key="parameterization", horizontal=True,
        format_func=parameterization_label, help=say("controls", "parameterization"))
    values["padding"] = st.radio("Padding", PADDINGS, key="padding", horizontal=True,
                                 help=say("controls", "padding"))
    values["learn_spread"] = st.toggle("Learn the child spread", key="learn_spread",
                                       help=say("controls", "learn_spread"))
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        values["seed"] = _number("Seed", "seed", 1)
    with right:
        st.button("New seed", on_click=new_seed, key="new_seed", width="stretch",
                  help=say("controls", "new_seed"))
    with st.expander("Sampler, ADVI and priors" if gaussian else "Sampler and priors"):
        values["target_accept"] = _slider("NUTS target accept", "target_accept", 0.001, "%.3f")
        if gaussian:
            values["advi_iterations"] = _number("ADVI iterations", "advi_iterations", 1000)
            values["advi_learning_rate"] = _number("ADVI learning rate", "advi_learning_rate",
                                                   0.001, "%.4f")
        values["prior_parent_mean"] = _number("Prior: parent mean", "prior_parent_mean", 1.0,
                                              "%.2f")
        values["prior_parent_scale"] = _number("Prior: parent scale", "prior_parent_scale", 1.0,
                                               "%.2f")
        values["prior_spread_scale"] = _number("Prior: spread scale", "prior_spread_scale", 0.5,
                                               "%.2f")
        if gaussian:
            values["prior_noise_scale"] = _number("Prior: noise scale", "prior_noise_scale",
                                                  0.5, "%.2f")
    return values


def scenario_sidebar() -> Scenario | None:
    """All controls, in the sidebar, ending in one validated scenario.

    Returns
    -------
    Scenario or None
        None when the settings can't be used (the reason is shown with ``st.error``).
    """
    with st.sidebar:
        truth = truth_controls()
        values = {**truth, **data_controls(), **fit_controls(truth["outcome"])}
    try:
        return Scenario(**values)
    except ScenarioError as err:
        problem = f"{err}."
    except (TypeError, ValueError) as err:  # anything else a widget could hand over
        problem = str(err)
    st.error(say("explore", "settings_unusable", problem=problem), icon=":material/block:")
    return None
