"""The sidebar's controls: each group returns its fields, and together one scenario.

Every widget's key is the name of the scenario field it sets, and its range comes from
:data:`hierdash.scenario.BOUNDS`, so the page, the link and the command line share one
set of limits. Help texts are in ``words/controls.md``.
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
    PADDINGS,
    PARAMETERIZATIONS,
    Scenario,
    ScenarioError,
)
from hierdash.scenario.presets import PRESETS
from hierdash.ui.labels import method_label, parameterization_label
from hierdash.ui.state import apply_preset_to_session, new_seed, resize_tasks
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


def truth_controls() -> dict[str, Any]:
    """The true world: parent, spread, noise, features."""
    st.header(say("controls", "truth_title"))
    values = {
        "parent_mean": _slider("Parent mean", "parent_mean", 0.5),
        "parent_scale": _slider("Parent scale", "parent_scale", 0.1),
        "child_spread": _slider("Child spread", "child_spread", 0.01),
        "noise_sd": _slider("Noise sd", "noise_sd", 0.01),
        "n_features": _int_slider("Number of features", "n_features"),
    }
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


def fit_controls() -> dict[str, Any]:
    """The fit: method, draws, parameterization, padding, spread, seed, sampler details."""
    st.header(say("controls", "fit_title"))
    values: dict[str, Any] = {
        "method": st.selectbox("Method", METHODS, key="method", format_func=method_label,
                               help=say("controls", "method")),
    }
    left, right = st.columns(2)
    with left:
        values["draws"] = _number("Draws", "draws", 100)
    with right:
        values["tune"] = _number("Tune", "tune", 100)
    values["chains"] = _int_slider("Chains", "chains")
    values["parameterization"] = st.radio(
        "Parameterization", PARAMETERIZATIONS, key="parameterization", horizontal=True,
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
    with st.expander("Sampler, ADVI and priors"):
        values["target_accept"] = _slider("NUTS target accept", "target_accept", 0.001, "%.3f")
        values["advi_iterations"] = _number("ADVI iterations", "advi_iterations", 1000)
        values["advi_learning_rate"] = _number("ADVI learning rate", "advi_learning_rate",
                                               0.001, "%.4f")
        values["prior_parent_mean"] = _number("Prior: parent mean", "prior_parent_mean", 1.0,
                                              "%.2f")
        values["prior_parent_scale"] = _number("Prior: parent scale", "prior_parent_scale", 1.0,
                                               "%.2f")
        values["prior_spread_scale"] = _number("Prior: spread scale", "prior_spread_scale", 0.5,
                                               "%.2f")
        values["prior_noise_scale"] = _number("Prior: noise scale", "prior_noise_scale", 0.5,
                                              "%.2f")
    return values


def scenario_sidebar() -> Scenario | None:
    """All controls, in the sidebar, ending in one validated scenario.

    Returns
    -------
    Scenario or None
        None when the settings can't be used (the reason is shown with ``st.error``).
    """
    with st.sidebar:
        values = {**truth_controls(), **data_controls(), **fit_controls()}
    try:
        return Scenario(**values)
    except ScenarioError as err:
        problem = f"{err}."
    except (TypeError, ValueError) as err:  # anything else a widget could hand over
        problem = str(err)
    st.error(say("explore", "settings_unusable", problem=problem), icon=":material/block:")
    return None
