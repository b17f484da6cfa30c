"""A session's settings: loaded from the link once, kept in session state, written back.

Every setting lives in the URL's query parameters, so a link reproduces a world (its
outcome, trials, exposure and intercept too). On a session's first run
:func:`init_session` loads the link into the widgets' session-state keys (named like the
scenario's fields); after every run :func:`sync_url` writes the scenario back. A link
whose combination the scenario refuses (ADVI with a yes/no outcome, say) drops the
value named and says so (:func:`link_problems`). The sample counts live in a table editor, which is rebuilt (a new key)
whenever they change from outside it: a preset, a new number of tasks, the link.
"""

from __future__ import annotations

import random

import streamlit as st

from hierdash.neural.settings import QUERY_PREFIX
from hierdash.scenario import FIELD_NAMES, Scenario, ScenarioError
from hierdash.scenario.presets import PRESETS, apply_preset
from hierdash.scenario.text import scenario_from_mapping

__all__ = [
    "init_session",
    "apply_preset_to_session",
    "apply_outcome_to_session",
    "outcome_world",
    "resize_tasks",
    "new_seed",
    "sync_url",
    "link_problems",
]

NEW_SEED_MAX = 999_999  # the "new seed" button picks short seeds: links stay readable
_FILL_SAMPLES = 20  # sample count of a new task when the table holds no usable count


def init_session() -> None:
    """On a session's first run, load every setting from the URL's query parameters.

    Missing values take their defaults (the link's outcome's own,
    :meth:`Scenario.for_outcome`); broken ones are skipped and listed (see
    :func:`link_problems`).
    """
    if "initial_scenario" in st.session_state:
        return
    try:
        params = _own(st.query_params.to_dict())
        scenario, problems = scenario_from_mapping(params, base=_link_base(params),
                                                   strict=False)
        messages = [str(p) for p in problems]
    except Exception as err:  # noqa: BLE001 - a URL must never break the page
        scenario, messages = Scenario(), [f"the link could not be read ({err})"]
    _load_scenario(scenario)
    st.session_state.initial_scenario = scenario
    st.session_state.url_problems = messages


def _own(params: dict) -> dict:
    """The scenario's query parameters: without the neural page's (``nn_...``), which
    share the app's URL."""
    return {key: value for key, value in params.items() if not key.startswith(QUERY_PREFIX)}


def _link_base(params: dict) -> Scenario:
    """The defaults a link's missing settings take: its outcome's own (so that a short
    link such as ``?outcome=bernoulli`` opens a yes/no world on its link scale, not one
    with the Gaussian world's weights near 10)."""
    outcome = str(params.get("outcome", "")).strip().lower()
    try:
        return Scenario.for_outcome(outcome)
    except ScenarioError:  # no outcome or a bad one (reported by the reader of the link)
        return Scenario()


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


def outcome_world(outcome: str, *, seed: int, method: str) -> Scenario:
    """The world a reader gets on choosing ``outcome``: its own defaults
    (:meth:`Scenario.for_outcome`), the seed kept, and the method kept when the outcome
    takes it (ADVI is for Gaussian worlds only; the default method then).

    Parameters
    ----------
    outcome
        One of :data:`hierdash.scenario.OUTCOMES`.
    seed, method
        The session's seed and method.

    Returns
    -------
    Scenario
    """
    world = Scenario.for_outcome(outcome, seed=seed)
    try:
        return world.replace(method=method)
    except ScenarioError:
        return world


def apply_outcome_to_session() -> None:
    """Widget callback: the outcome just chosen, with that outcome's own defaults (like a
    preset: the sample counts and the truth's settings change; the seed stays)."""
    seed, method = st.session_state.get("seed", 42), st.session_state.get("method", "nuts")
    try:
        world = outcome_world(st.session_state.outcome, seed=int(seed), method=str(method))
    except (ScenarioError, TypeError, ValueError):  # a seed no scenario takes
        world = Scenario.for_outcome(st.session_state.outcome)
    _load_scenario(world)


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
