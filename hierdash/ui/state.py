"""A session's settings: loaded from the link once, kept in session state, written back.

Every setting lives in the URL's query parameters, so a link reproduces a world. On a
session's first run :func:`init_session` loads the link into the widgets' session-state
keys (named like the scenario's fields); after every run :func:`sync_url` writes the
scenario back. The sample counts live in a table editor, which is rebuilt (a new key)
whenever they change from outside it: a preset, a new number of tasks, the link.
"""

from __future__ import annotations

import random

import streamlit as st

from hierdash.scenario import FIELD_NAMES, Scenario, ScenarioError
from hierdash.scenario.presets import PRESETS, apply_preset
from hierdash.scenario.text import scenario_from_mapping

__all__ = [
    "init_session",
    "apply_preset_to_session",
    "resize_tasks",
    "new_seed",
    "sync_url",
    "link_problems",
]

NEW_SEED_MAX = 999_999  # the "new seed" button picks short seeds: links stay readable
_FILL_SAMPLES = 20  # sample count of a new task when the table holds no usable count


def init_session() -> None:
    """On a session's first run, load every setting from the URL's query parameters.

    Missing values take their defaults; broken ones are skipped and listed (see
    :func:`link_problems`).
    """
    if "initial_scenario" in st.session_state:
        return
    try:
        scenario, problems = scenario_from_mapping(st.query_params.to_dict(), strict=False)
        messages = [str(p) for p in problems]
        if not scenario.is_gaussian or scenario.intercept:
            # The pages draw Gaussian worlds; other outcomes are on the command line and
            # in notebooks so far.
            messages.append(f"outcome = {scenario.outcome!r} is not on the pages yet: "
                            "this page shows Gaussian worlds (use the command line's "
                            "--outcome, or hd.fit in a notebook)")
            scenario = scenario.replace(outcome="gaussian", intercept=False)
    except Exception as err:  # noqa: BLE001 - a URL must never break the page
        scenario, messages = Scenario(), [f"the link could not be read ({err})"]
    _load_scenario(scenario)
    st.session_state.initial_scenario = scenario
    st.session_state.url_problems = messages


def link_problems(scenario: Scenario | None) -> list[str]:
    """The link's broken values, while the page still shows that link's world."""
    problems = st.session_state.get("url_problems") or []
    return list(problems) if scenario == st.session_state.get("initial_scenario") else []


def _load_scenario(scenario: Scenario) -> None:
    for name in FIELD_NAMES:
        if name != "samples":
            st.session_state[name] = getattr(scenario, name)
    _set_samples(scenario.samples)


def _set_samples(samples: tuple[int, ...]) -> None:
    """Replace the sample counts: a fresh table editor and a matching task count."""
    st.session_state.samples_base = tuple(samples)
    st.session_state.samples_current = tuple(samples)
    st.session_state.n_tasks = len(samples)
    st.session_state.editor_version = st.session_state.get("editor_version", -1) + 1


def apply_preset_to_session(name: str) -> None:
    """Widget callback: preset ``name``'s sample counts and settings, nothing else."""
    # The preset's own fields, validated by the engine's rule; the others stay as set.
    preset_world = apply_preset(Scenario(), name)
    _set_samples(preset_world.samples)
    for field, _ in PRESETS[name].settings:
        st.session_state[field] = getattr(preset_world, field)


def resize_tasks() -> None:
    """Widget callback: as many tasks as the task count says; new ones copy the last count."""
    n = int(st.session_state.n_tasks or 1)
    current = tuple(st.session_state.get("samples_current") or st.session_state.samples_base)
    try:  # the scenario's own rule for a new task count
        samples = scenario_from_mapping({"tasks": n}, base=Scenario(samples=current))[0].samples
    except ScenarioError:  # counts no scenario accepts (the page says why): extend them as they are
        fill = current[-1] if current and isinstance(current[-1], int) else _FILL_SAMPLES
        samples = current[:n] + (fill,) * max(0, n - len(current))
    _set_samples(samples)


def new_seed() -> None:
    """Widget callback: a new random seed (a new world from the same settings)."""
    st.session_state.seed = random.randint(0, NEW_SEED_MAX)


def sync_url(scenario: Scenario) -> None:
    """Write every setting, the seed included, into the URL's query parameters."""
    query = scenario.to_query()
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
