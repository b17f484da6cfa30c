"""The neural tasks page: separate, pooled and hierarchical Bayesian neural networks on
tasks of rotated moons, side by side.

Top to bottom: the settings (sidebar), the words, what was wrong with the link (if
anything), the tasks' points, the Fit bar, then the fits: how the samplers did (with
why R-hat is computed on probabilities), test scores against each task's size, the
decision surfaces, the parent network, the spreads.

The settings live in the URL, as ``nn_...`` query parameters
(:meth:`~hierdash.neural.NeuralSettings.to_query`): a first visit reads them
(:meth:`~hierdash.neural.NeuralSettings.from_query`; a bad value falls back to its
default, with a warning), every run writes them back, leaving the class code and the
Explore page's parameters as they are.

The three fits never run in the page's script: *Fit* starts (or joins) a job in
:data:`NEURAL_FITS`, a :class:`~hierdash.ui.fit_registry.FitRegistry` keyed by the whole
:class:`~hierdash.neural.NeuralSettings` (thirty students on one link pay one fit, and a
finished result is kept for two hours), followed by the page's
:class:`~hierdash.ui.jobs.BackgroundJob` (progress, *Stop*, queueing). Only NUTS is
offered here: mean-field ADVI can sit at chance on these networks (the CLI and the
notebook offer it, with a warning).
"""

from __future__ import annotations

import streamlit as st

from hierdash.charts.neural import (
    MODEL_NAMES,
    neural_parent_chart,
    neural_points_chart,
    neural_score_chart,
    neural_spread_chart,
    neural_surface_chart,
)
from hierdash.classroom.csv_safe import safe_csv
from hierdash.neural.fit import fit_neural
from hierdash.neural.results import NeuralResult
from hierdash.neural.settings import (
    MAX_DRAWS,
    MAX_HIDDEN,
    MAX_ROWS,
    MAX_SEED,
    MAX_TARGET_ACCEPT,
    MAX_TASKS,
    MAX_TEST,
    MIN_DRAWS,
    MIN_HIDDEN,
    MIN_TARGET_ACCEPT,
    MIN_TEST,
    PADDINGS,
)
from hierdash.neural.settings import NeuralSettings as Settings
from hierdash.neural.tasks import points_frame, simulate_tasks
from hierdash.ui.fit_registry import FitJob, FitRegistry
from hierdash.ui.jobs import BackgroundJob
from hierdash.ui.shared import TIME_BUDGET_S
from hierdash.ui.words import plain, say

__all__ = ["render"]

NEURAL_FITS: FitRegistry[Settings] = FitRegistry(
    fit_neural, time_budget_s=TIME_BUDGET_S, max_results=16, ttl_s=2 * 3600, max_running=1)
"""Every session's neural fits. One at a time: each fit's two chains fill both cores."""
_JOB: BackgroundJob[Settings] = BackgroundJob(name="neural", registry=NEURAL_FITS,
                                              stop_key="neural_stop")
_DEFAULT = Settings()
_RHAT_OK = 1.05  # the issue's target on probabilities (weights' R-hat means nothing here)


# -- the settings ---------------------------------------------------------------------
_CONTROLS = {"samples": "nn_samples", "rotation_spread": "nn_rotation", "noise": "nn_noise",
             "test_per_task": "nn_test", "hidden": "nn_hidden", "bias": "nn_bias",
             "padding": "nn_padding", "seed": "nn_seed", "draws": "nn_draws",
             "tune": "nn_tune", "target_accept": "nn_target_accept"}
"""Each setting a link carries (:data:`~hierdash.neural.settings.LINK_FIELDS`) and the
key of its control."""


def _read_link() -> None:
    """On the page's first run in a session: the link's settings, and what was wrong
    with it (a link must never break the page: a bad value falls back to its default)."""
    if "nn_link" in st.session_state:
        return
    try:
        settings, problems = Settings.from_query(st.query_params.to_dict())
    except Exception as err:  # noqa: BLE001 - a URL must never break the page
        settings, problems = _DEFAULT, [f"the link could not be read ({err})"]
    st.session_state.nn_link = (settings, problems)
    st.session_state.nn_world = settings


def _restore_controls() -> None:
    """Give every control its value: from the link on a first visit, else the last
    world's (Streamlit forgets a control's value while another page is shown)."""
    world = st.session_state.nn_world
    for name, key in _CONTROLS.items():
        if key not in st.session_state:
            st.session_state[key] = _control_value(world, name)


def _control_value(world: Settings, name: str):
    """Field ``name`` of ``world`` as its control holds it."""
    value = getattr(world, name)
    if name == "samples":
        return ",".join(str(n) for n in value)
    return float(value) if name in ("rotation_spread", "target_accept") else value


def _controls() -> dict:
    """The sidebar's controls, as the settings' fields (the sample counts as text)."""
    side = st.sidebar
    side.header("Neural tasks")
    return dict(
        samples=side.text_input(say("neural", "samples"), key="nn_samples",
                                help=say("neural", "samples_help", most=MAX_ROWS,
                                         tasks=MAX_TASKS)),
        rotation_spread=side.slider(say("neural", "rotation"), 0.0, 180.0, step=5.0, format="%g",
                                    key="nn_rotation", help=say("neural", "rotation_help")),
        noise=side.slider(say("neural", "noise"), 0.0, 1.0, step=0.05, key="nn_noise",
                          help=say("neural", "noise_help")),
        test_per_task=side.slider(say("neural", "test_points"), MIN_TEST, MAX_TEST, step=10,
                                  key="nn_test", help=say("neural", "test_points_help")),
        hidden=side.slider(say("neural", "hidden"), MIN_HIDDEN, MAX_HIDDEN, key="nn_hidden",
                           help=say("neural", "hidden_help")),
        bias=side.toggle(say("neural", "bias"), key="nn_bias", help=say("neural", "bias_help")),
        padding=side.radio(say("neural", "padding"), PADDINGS, key="nn_padding",
                           horizontal=True, help=say("neural", "padding_help")),
        seed=side.number_input(say("neural", "seed"), min_value=0, max_value=MAX_SEED, step=1,
                               key="nn_seed", help=say("neural", "seed_help")),
        **_sampler_controls(side),
    )


def _sampler_controls(side) -> dict:
    """NUTS's settings, folded away: the defaults were judged on many worlds."""
    with side.expander(say("neural", "sampler"), icon=":material/tune:"):
        return dict(
            draws=st.number_input(say("neural", "draws"), MIN_DRAWS, MAX_DRAWS, step=100,
                                  key="nn_draws", help=say("neural", "draws_help")),
            tune=st.number_input(say("neural", "tune"), MIN_DRAWS, MAX_DRAWS, step=100,
                                 key="nn_tune", help=say("neural", "tune_help")),
            target_accept=st.slider(say("neural", "target_accept"), MIN_TARGET_ACCEPT,
                                    MAX_TARGET_ACCEPT, step=0.01, key="nn_target_accept",
                                    help=say("neural", "target_accept_help",
                                             default=_DEFAULT.target_accept)),
        )


def _settings() -> Settings | None:
    """The sidebar's settings, or None (said in words) when the counts are not usable."""
    _read_link()
    _restore_controls()
    values = _controls()
    try:
        samples = tuple(int(part) for part in values.pop("samples").replace(" ", "").split(","))
        settings = Settings(samples=samples, **values)
    except ValueError as err:
        problem = str(err) if "not allowed" in str(err) else "they must be whole numbers"
        st.error(say("neural", "samples_bad", problem=plain(problem)), icon=":material/block:")
        return None
    st.session_state.nn_world = settings
    return settings


def _link(settings: Settings | None) -> None:
    """Say what was wrong with the link while its world is shown; then write this world
    into the URL (only the ``nn_`` parameters: the class code and other pages' stay)."""
    first, problems = st.session_state.nn_link
    if problems and settings == first:
        listed = "\n".join(f"- {plain(p)}" for p in problems)
        st.warning(say("neural", "link_problems", listed=listed), icon=":material/link_off:")
    if settings is None:
        return
    for key, text in settings.to_query().items():
        if st.query_params.get(key) != text:
            st.query_params[key] = text


@st.cache_resource(max_entries=64, ttl=2 * 3600, show_spinner=False,
                   hash_funcs={Settings: repr})
def _points(settings: Settings):
    """The tasks' points (milliseconds; shared by every session, never mutated)."""
    return points_frame(simulate_tasks(settings))


# -- the fit --------------------------------------------------------------------------
def _draw_progress(job: FitJob[Settings]) -> None:
    now = job.progress()
    with st.container(border=True):
        st.markdown(say("neural", "progress", message=plain(now.message),
                        seconds=now.elapsed_s))
        st.progress(min(max(now.fraction or 0.0, 0.0), 1.0))


def _fit_bar(settings: Settings) -> None:
    fit_col, stop_col, note_col = st.columns([2, 1, 3], vertical_alignment="center")
    if fit_col.button(say("neural", "fit"), type="primary", icon=":material/play_arrow:",
                      key="nn_fit", width="stretch",
                      help=say("neural", "fit_help", chains=settings.chains,
                               tune=settings.tune, draws=settings.draws)):
        _JOB.start(settings)
    note_col.caption(say("neural", "fit_note"))
    _JOB.follow(settings, stop_column=stop_col, draw=_draw_progress,
                stop_help=say("neural", "stop_help"))


def _notices() -> None:
    end = _JOB.take_ended("stopped", "abandoned", "ran_out", "failed")
    if end is None:
        return
    if end.how == "stopped":
        st.warning(say("neural", "stopped"), icon=":material/stop_circle:")
    elif end.how == "abandoned":
        st.info(say("neural", "abandoned"), icon=":material/undo:")
    elif end.how == "ran_out":
        st.warning(say("neural", "ran_out", reason=plain(end.reason)),
                   icon=":material/timer_off:")
    else:
        st.error(say("neural", "failed", error=plain(end.reason)), icon=":material/error:")


# -- the results ----------------------------------------------------------------------
def _health(result: NeuralResult) -> None:
    st.subheader(say("neural", "health_title"))
    lines = []
    for fit in result.fits:
        rhat = "n/a" if fit.max_rhat is None else f"{fit.max_rhat:.3f}"
        lines.append(say("neural", "health", model=MODEL_NAMES[fit.model],
                         divergences=fit.divergences, rhat=rhat, seconds=fit.sample_s))
    st.markdown("\n".join(f"- {line}" for line in lines))
    good = all(f.divergences == 0 and (f.max_rhat or 1.0) <= _RHAT_OK for f in result.fits)
    if good:
        st.success(say("neural", "health_good"), icon=":material/check_circle:")
    else:
        st.warning(say("neural", "health_bad"), icon=":material/warning:")
    st.markdown(say("neural", "rhat_why"))


def _results(result: NeuralResult, points) -> None:
    _health(result)
    st.subheader(say("neural", "scores_title"))
    st.altair_chart(neural_score_chart(result.accuracy), key="nn_scores")
    st.markdown(say("neural", "scores_look"))
    st.info(say("neural", "rotation_lesson"), icon=":material/rotate_right:")
    st.subheader(say("neural", "surfaces_title"))
    model_col, value_col = st.columns([3, 1])
    model = model_col.segmented_control(
        say("neural", "surface_model"), list(MODEL_NAMES), default="hierarchical",
        key="nn_surface_model", format_func=MODEL_NAMES.get) or "hierarchical"
    value = value_col.segmented_control(
        say("neural", "surface_value"), ["mean", "sd"], default="mean", key="nn_surface_value",
        format_func={"mean": "probability", "sd": "uncertainty"}.get) or "mean"
    st.altair_chart(neural_surface_chart(result.surfaces, points, model=model, value=value),
                    key="nn_surfaces")
    st.markdown(say("neural", "surfaces_look"))
    st.subheader(say("neural", "parent_title"))
    st.altair_chart(neural_parent_chart(result.parent, value=value), key="nn_parent")
    st.markdown(say("neural", "parent_look"))
    st.subheader(say("neural", "spreads_title"))
    st.altair_chart(neural_spread_chart(result.spreads), key="nn_spreads")
    st.markdown(say("neural", "spreads_look"))
    st.download_button(say("neural", "download"), data=safe_csv(result.accuracy),
                       file_name="accuracy.csv", mime="text/csv", key="nn_download",
                       icon=":material/download:")


def render() -> None:
    """Draw the neural tasks page."""
    settings = _settings()
    st.title(say("neural", "title"))
    st.markdown(say("neural", "intro"))
    _link(settings)
    _JOB.settle(settings)
    if settings is None:
        return
    points = _points(settings)
    _notices()
    _fit_bar(settings)
    if _JOB.job() is not None:  # still running: its progress is drawn above
        return
    result = _JOB.result(settings)
    if result is None:
        st.subheader(say("neural", "data_title"))
        st.altair_chart(neural_points_chart(points), key="nn_points")
        st.info(say("neural", "press_fit"), icon=":material/play_arrow:")
        st.caption(say("neural", "advi_note"))
        return
    _results(result, points)
