"""hierdash: set up a world, fit it, and watch hierarchical shrinkage happen.

Run with ``streamlit run app.py``. The page is thin: the sidebar's controls end in one
:class:`~hierdash.scenario.Scenario`, the engine (:func:`hierdash.inference.fit`) does
every computation, :mod:`hierdash.charts` draws, and this file lays out controls,
charts and words.

How fitting works on the page:

- The exact (closed-form) posterior is cheap, so every rerun shows it at once.
- The chosen sampling method runs only when the reader presses *Fit*; its result then
  replaces the exact charts (the exact answer stays as grey ticks). A result already
  in the shared cache appears at once, without pressing *Fit*.
- Results are cached by the whole scenario and shared by every session: thirty
  students on the same settings cost one fit.
- Every setting lives in the URL's query parameters, so a link reproduces a world.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from hierdash import charts, summaries
from hierdash.inference import (
    RHAT_LIMIT,
    Diagnostics,
    FitResult,
    FitStopped,
    Progress,
    fit,
    warm_up,
)
from hierdash.presets import PRESETS, matching_preset
from hierdash.report import data_csv, posterior_netcdf, weights_csv
from hierdash.scenario import (
    BOUNDS,
    FIELD_NAMES,
    MAX_SAMPLES_PER_TASK,
    MAX_TASKS,
    METHODS,
    PADDINGS,
    PARAMETERIZATIONS,
    Scenario,
    ScenarioError,
    scenario_from_mapping,
)

TIME_BUDGET_S = 120.0
"""A sampling fit stops after this many seconds of sampling."""
CACHE_TTL = "2h"
NEW_SEED_MAX = 999_999  # the "new seed" button picks short seeds: links stay readable

METHOD_LABELS = {
    "nuts": "NUTS (nutpie)",
    "pymc_nuts": "NUTS (PyMC)",
    "advi": "ADVI (mean-field)",
    "fullrank_advi": "ADVI (full-rank)",
    "exact": "exact (closed form)",
}
PARAMETERIZATION_LABELS = {"auto": "auto", "marginal": "marginal", "centered": "centered",
                           "noncentered": "non-centered"}
STAGES = ("simulate", "compile", "sample", "summarise")


# ---------------------------------------------------------------------------
# Cached engine calls: keyed by the whole (frozen, hashable) scenario, shared by all
# sessions. Cached objects are never mutated.
# ---------------------------------------------------------------------------
def _scenario_key(scenario: Scenario) -> str:
    return urlencode(scenario.to_query())


class NotCached(LookupError):
    """:func:`sampled_fit` was asked for a result it has not got (exceptions are never
    cached, so asking costs nothing and leaves the cache as it was)."""


@st.cache_resource(
    max_entries=32, ttl=CACHE_TTL, show_spinner=False, hash_funcs={Scenario: _scenario_key}
)
def exact_fit(scenario: Scenario) -> FitResult:
    """The exact (closed-form) fit of ``scenario``: tens of milliseconds.

    Parameters
    ----------
    scenario
        A scenario whose method is ``exact``.

    Returns
    -------
    FitResult
    """
    return fit(scenario)


@st.cache_resource(
    max_entries=16, ttl=CACHE_TTL, show_spinner=False, hash_funcs={Scenario: _scenario_key}
)
def sampled_fit(
    scenario: Scenario,
    _progress: Progress | None = None,
    _should_stop: Callable[[], bool] | None = None,
    _only_if_cached: bool = False,
) -> FitResult:
    """The fit of ``scenario`` with its own method, cached by the scenario alone.

    The underscored arguments are not part of the cache key (Streamlit skips them).

    Parameters
    ----------
    scenario
        What to simulate and how to fit it.
    _progress, _should_stop
        Passed on to :func:`hierdash.inference.fit`. They must not call Streamlit:
        a cached function's Streamlit calls are replayed on every cache hit.
    _only_if_cached
        Raise :class:`NotCached` instead of fitting on a miss.

    Returns
    -------
    FitResult
    """
    if _only_if_cached:
        raise NotCached(scenario)
    return fit(scenario, progress=_progress, should_stop=_should_stop,
               time_budget=TIME_BUDGET_S)


@st.cache_resource(show_spinner=False)
def start_warm_up() -> threading.Thread:
    """Compile the default world's model in the background, once per server process.

    The first page load starts it and does not wait for it: the page shows the exact
    posterior meanwhile, and a Fit pressed before it ends waits for the same compile
    (the engine compiles each model once, whoever asks first).
    """
    thread = threading.Thread(target=_warm_quietly, name="hierdash-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_quietly() -> None:
    try:
        warm_up(Scenario())
    except Exception:  # noqa: BLE001 - a failed warm-up only means a slower first fit
        pass


def cached_sampled_fit(scenario: Scenario) -> FitResult | None:
    """The cached sampling fit of ``scenario``, or None when it has not been fitted."""
    try:
        return sampled_fit(scenario, _only_if_cached=True)
    except NotCached:
        return None


# ---------------------------------------------------------------------------
# Session state and the URL
# ---------------------------------------------------------------------------
def init_session() -> None:
    """On a session's first run, load every setting from the URL's query parameters.

    Missing values take their defaults; broken ones are skipped and listed (shown by
    :func:`url_problems_ui`).
    """
    if "initial_scenario" in st.session_state:
        return
    try:
        scenario, problems = scenario_from_mapping(st.query_params.to_dict(), strict=False)
        messages = [str(p) for p in problems]
    except Exception as err:  # a URL must never break the page
        scenario, messages = Scenario(), [f"the link could not be read ({err})"]
    _load_scenario(scenario)
    st.session_state.initial_scenario = scenario
    st.session_state.url_problems = messages


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


def _apply_preset(name: str) -> None:
    preset = PRESETS[name]
    _set_samples(preset.samples)
    for field, value in preset.settings:
        st.session_state[field] = value


def _resize_tasks() -> None:
    n = int(st.session_state.n_tasks or 1)
    current = tuple(st.session_state.get("samples_current") or st.session_state.samples_base)
    fill = current[-1] if current and isinstance(current[-1], int) else 20
    samples = current[:n] + (fill,) * max(0, n - len(current))
    _set_samples(samples)


def _new_seed() -> None:
    st.session_state.seed = random.randint(0, NEW_SEED_MAX)


def _note_stop_click() -> None:
    st.session_state.stop_clicked = True


def sync_url(scenario: Scenario) -> None:
    """Write every setting, the seed included, into the URL's query parameters."""
    query = scenario.to_query()
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


# ---------------------------------------------------------------------------
# Controls: each *_ui() returns its part of the scenario's fields
# ---------------------------------------------------------------------------
def _slider(label: str, name: str, step: float, help: str, fmt: str = "%.2f") -> float:
    bound = BOUNDS[name]
    return st.slider(label, min_value=float(bound.low), max_value=float(bound.high), step=step,
                     format=fmt, key=name, help=help)


def _number(label: str, name: str, step: float | int, help: str, fmt: str | None = None):
    bound = BOUNDS[name]
    if bound.integer:
        return st.number_input(label, min_value=int(bound.low), max_value=int(bound.high),
                               step=int(step), key=name, help=help)
    return st.number_input(label, min_value=float(bound.low), max_value=float(bound.high),
                           step=float(step), format=fmt, key=name, help=help)


def truth_ui() -> dict[str, Any]:
    """Controls of the true world: parent, spread, noise, features.

    Returns
    -------
    dict
        ``parent_mean, parent_scale, child_spread, noise_sd, n_features, x_mean, x_sd``.
    """
    st.header("1 · The truth")
    values = {
        "parent_mean": _slider("Parent mean", "parent_mean", 0.5,
                               "The true parent weights are drawn around this value."),
        "parent_scale": _slider("Parent scale", "parent_scale", 0.1,
                                "How far the true parent weights scatter around the parent mean."),
        "child_spread": _slider("Child spread", "child_spread", 0.01,
                                "How far each task's true weights scatter around the parent: "
                                "small spread = tasks alike = strong pooling."),
        "noise_sd": _slider("Noise sd", "noise_sd", 0.01,
                            "Standard deviation of the noise on y: more noise = each task's "
                            "own estimate is less reliable."),
        "n_features": st.slider("Number of features", min_value=int(BOUNDS["n_features"].low),
                                max_value=int(BOUNDS["n_features"].high), step=1,
                                key="n_features", help="Weights per task."),
    }
    with st.expander("How the features x are drawn"):
        values["x_mean"] = _number("Mean of x", "x_mean", 0.5, "Features are drawn Normal(mean, sd).",
                                   "%.2f")
        values["x_sd"] = _number("Sd of x", "x_sd", 0.5, "Larger sd = more informative rows.",
                                 "%.2f")
    return values


def data_ui() -> dict[str, Any]:
    """Controls of the data: presets, number of tasks, each task's sample count.

    Returns
    -------
    dict
        ``samples``: the sample count per task, as edited (validated later).
    """
    st.header("2 · The data")
    st.caption("Presets set the tasks and their sample counts in one click.")
    with st.container(horizontal=True, gap="small"):
        for name, preset in PRESETS.items():
            st.button(preset.label, key=f"preset_{name}", on_click=_apply_preset, args=(name,),
                      help=preset.description)
    st.number_input("Number of tasks", min_value=1, max_value=MAX_TASKS, step=1, key="n_tasks",
                    on_change=_resize_tasks,
                    help="Adding tasks copies the last task's sample count; edit the table below.")
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
                required=True, help="Rows of data for this task (0 = no data at all)."),
        },
    )
    samples = tuple(_plain(v) for v in edited["samples"].tolist())
    st.session_state.samples_current = samples
    return {"samples": samples}


def _plain(value: Any) -> Any:
    """A table cell as a plain int when it is a whole number (else as it is, for the
    scenario's validation to report)."""
    try:
        if float(value).is_integer():
            return int(value)
    except (TypeError, ValueError):
        pass
    return value


def fit_ui() -> dict[str, Any]:
    """Controls of the fit: method, draws, parameterization, padding, spread, seed.

    Returns
    -------
    dict
        The remaining scenario fields.
    """
    st.header("3 · The fit")
    values: dict[str, Any] = {
        "method": st.selectbox("Method", METHODS, key="method",
                               format_func=METHOD_LABELS.__getitem__,
                               help="The exact posterior is always shown at once; the other "
                                    "methods run when you press Fit."),
    }
    left, right = st.columns(2)
    with left:
        values["draws"] = _number("Draws", "draws", 100, "Draws per chain (also the number of "
                                  "draws taken from ADVI and the exact posterior).")
    with right:
        values["tune"] = _number("Tune", "tune", 100, "Warm-up steps per chain (NUTS).")
    values["chains"] = st.slider("Chains", min_value=int(BOUNDS["chains"].low),
                                 max_value=int(BOUNDS["chains"].high), step=1, key="chains",
                                 help="Independent chains: R-hat compares them.")
    values["parameterization"] = st.radio(
        "Parameterization", PARAMETERIZATIONS, key="parameterization", horizontal=True,
        format_func=PARAMETERIZATION_LABELS.__getitem__,
        help="Centered samples each task's weights directly; non-centered samples their "
             "distance from the parent in units of the spread. Auto picks per task and "
             "direction: centered where the task's data pin its weights down.")
    values["padding"] = st.radio(
        "Padding", PADDINGS, key="padding", horizontal=True,
        help="masked: padded rows stay out of the likelihood. naive: they enter it as "
             "rows with x = 0 and y = 0, as in the original notebook.")
    values["learn_spread"] = st.toggle("Learn the child spread", key="learn_spread",
                                       help="Off: fix the spread at its true value.")
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        values["seed"] = _number("Seed", "seed", 1, "Seed of the simulation and the sampler.")
    with right:
        st.button("New seed", on_click=_new_seed, key="new_seed", width="stretch",
                  help="A new world from the same settings.")
    with st.expander("Sampler, ADVI and priors"):
        values["target_accept"] = _slider("NUTS target accept", "target_accept", 0.001,
                                          "Higher = smaller steps, fewer divergences.", "%.3f")
        values["advi_iterations"] = _number("ADVI iterations", "advi_iterations", 1000,
                                            "Optimisation steps of ADVI.")
        values["advi_learning_rate"] = _number("ADVI learning rate", "advi_learning_rate",
                                               0.001, "Step size of the Adam optimiser.", "%.4f")
        values["prior_parent_mean"] = _number("Prior: parent mean", "prior_parent_mean", 1.0,
                                              "Parent ~ Normal(mean, scale).", "%.2f")
        values["prior_parent_scale"] = _number("Prior: parent scale", "prior_parent_scale", 1.0,
                                               "Parent ~ Normal(mean, scale).", "%.2f")
        values["prior_spread_scale"] = _number("Prior: spread scale", "prior_spread_scale", 0.5,
                                               "Spread ~ HalfNormal(scale).", "%.2f")
        values["prior_noise_scale"] = _number("Prior: noise scale", "prior_noise_scale", 0.5,
                                              "Noise ~ HalfNormal(scale).", "%.2f")
    return values


def scenario_ui() -> Scenario | None:
    """All controls, in the sidebar, ending in one validated scenario.

    Returns
    -------
    Scenario or None
        None when the settings can't be used (the reason is shown with ``st.error``).
    """
    with st.sidebar:
        values = {**truth_ui(), **data_ui(), **fit_ui()}
    try:
        return Scenario(**values)
    except ScenarioError as err:
        st.error(f"**These settings can't be used.** {err}.", icon=":material/block:")
        return None
    except (TypeError, ValueError) as err:  # anything else a widget could hand over
        st.error(f"**These settings can't be used.** {err}", icon=":material/block:")
        return None


# ---------------------------------------------------------------------------
# Running a sampling fit with a progress display and a Stop button
# ---------------------------------------------------------------------------
class FitMonitor:
    """The fit's latest progress report and the stop flag, shared with the fit's thread.

    The fit runs in a worker thread and reports here (no Streamlit calls there: a
    cached function's Streamlit calls are recorded and replayed on every cache hit, and
    replaying writes to placeholders made outside it fails); the page's thread polls
    and draws.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Stays this way while another reader's fit of the same settings finishes.
        self._latest: tuple[str, float | None, str] = (
            "simulate", None, "Starting (or waiting for another reader's fit of these settings)")
        self._stage_started = time.perf_counter()
        self.started = time.perf_counter()
        self.stop = threading.Event()

    def report(self, stage: str, fraction: float | None, message: str) -> None:
        """Progress callback for :func:`hierdash.inference.fit`."""
        with self._lock:
            if stage != self._latest[0]:
                self._stage_started = time.perf_counter()
            self._latest = (stage, fraction, message)

    def latest(self) -> tuple[str, float | None, str, float]:
        """(stage, fraction, message, seconds in this stage)."""
        with self._lock:
            return (*self._latest, time.perf_counter() - self._stage_started)


def _stage_line(stage: str, fraction: float | None) -> str:
    parts = []
    current = STAGES.index(stage) if stage in STAGES else 0
    for i, name in enumerate(STAGES):
        if i < current:
            parts.append(f"~~{name}~~ ✓")
        elif i == current:
            share = f" {fraction:.0%}" if fraction is not None else ""
            parts.append(f"**{name}{share}**")
        else:
            parts.append(name)
    return " → ".join(parts)


def run_fit(scenario: Scenario, status_slot, stop_slot, message_slot) -> FitResult | None:
    """Fit ``scenario`` with its sampling method, showing progress and a Stop button.

    The fit runs in a worker thread while this (the script's) thread polls its
    progress and draws it. A click anywhere on the page during the fit (Stop, or a
    changed setting) makes Streamlit stop this run and start a new one: the request
    is raised as an exception at the next Streamlit call of the polling loop. The
    loop then sets the stop flag, which the engine polls to cancel the sampler, and
    lets the exception propagate. The next run finds ``fit_running`` still set and
    says the fit was stopped.

    Returns
    -------
    FitResult or None
        None when the fit was stopped by its time budget or failed (a message says so).
    """
    label = METHOD_LABELS[scenario.method]
    # Marked until the fit ends here; a run that finds it set knows the fit was cut off.
    st.session_state.fit_running = label
    monitor = FitMonitor()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hierdash-fit")
    future = pool.submit(sampled_fit, scenario, _progress=monitor.report,
                         _should_stop=monitor.stop.is_set)
    try:
        stop_slot.button("Stop", key="stop_fit", icon=":material/stop_circle:",
                         on_click=_note_stop_click, width="stretch",
                         help="Stop the fit; the charts keep showing the exact posterior.")
        with status_slot.container(border=True):
            stages = st.empty()
            bar = st.progress(0.0, text=f"Fitting with {label}…")
        while True:
            try:
                result = future.result(timeout=0.15)
                break
            except FutureTimeout:
                pass
            except FitStopped as err:
                st.session_state.pop("fit_running", None)
                status_slot.empty()
                message_slot.warning(f"{err} The charts show the exact posterior.",
                                     icon=":material/timer_off:")
                return None
            except Exception as err:  # noqa: BLE001 - never a traceback on the page
                st.session_state.pop("fit_running", None)
                status_slot.empty()
                message_slot.error(
                    f"**The {label} fit failed** ({type(err).__name__}: {err}). The charts "
                    "show the exact posterior. Try fewer tasks or features, another method "
                    "or parameterization, or a new seed.", icon=":material/error:")
                return None
            stage, fraction, message, in_stage = monitor.latest()
            elapsed = time.perf_counter() - monitor.started
            detail = f"{message} ({in_stage:.0f} s)" if fraction is None else message
            stages.markdown(f"**Fitting with {label}** · {_stage_line(stage, fraction)} · "
                            f"{elapsed:.0f} s so far")
            bar.progress(min(max(fraction or 0.0, 0.0), 1.0), text=detail)
    except BaseException:
        # Streamlit's stop or rerun request (or any other interruption) lands here:
        # stop the sampler, wait briefly for it to let go, and pass the request on.
        # No session-state writes here: with fast reruns the next run is already
        # starting; it learns of the interruption from ``fit_running``.
        monitor.stop.set()
        try:
            future.exception(timeout=15)
        except BaseException:  # noqa: BLE001 - only waiting; the request still goes on
            pass
        raise
    finally:
        pool.shutdown(wait=False)
    st.session_state.pop("fit_running", None)
    status_slot.empty()
    return result


def interruption_ui() -> None:
    """Say so when the previous run's fit was stopped or abandoned.

    A fit that ends inside its run clears ``fit_running``; one cut off by a click (Stop,
    or any changed setting) leaves it set for this run to find.
    """
    label = st.session_state.pop("fit_running", None)
    clicked = st.session_state.pop("stop_clicked", False)
    if label is None:
        return
    if clicked:
        st.warning(f"**The {label} fit was stopped.** The charts show the exact posterior; "
                   "press Fit to start again.", icon=":material/stop_circle:")
    else:
        st.info(f"The {label} fit was abandoned because a setting changed while it ran. "
                "Press Fit to fit the new settings.", icon=":material/undo:")


# ---------------------------------------------------------------------------
# What the page shows
# ---------------------------------------------------------------------------
def intro_ui() -> None:
    st.title("hierdash · watch partial pooling happen")
    st.markdown(
        "Several **tasks** share one linear model. Each task's weights scatter around a "
        "**parent** by the *child spread*; each task's data add *noise*. Fit each task "
        "alone (**no pooling**) and small tasks are noisy; fit one model for all "
        "(**complete pooling**) and differences are lost. The hierarchical model "
        "(**partial pooling**) pulls each task toward the parent, hard when its data are "
        "few, gently when they are many. Set up a world in the sidebar and watch."
    )


def url_problems_ui(scenario: Scenario | None) -> None:
    """Warn about broken values in the link, while the page still shows that link's world."""
    problems = st.session_state.get("url_problems") or []
    if problems and scenario == st.session_state.get("initial_scenario"):
        listed = "\n".join(f"- {p}" for p in problems)
        st.warning(f"**Some values in the link could not be used; defaults are shown "
                   f"instead:**\n{listed}", icon=":material/link_off:")


def shown_caption(result: FitResult, scenario: Scenario) -> None:
    """Say which method the charts show, and how to get the other."""
    s = result.scenario
    if s.method == "exact":
        if scenario.method == "exact":
            st.info("Charts show the **exact posterior** (closed form, computed in "
                    f"{result.total_s * 1000:.0f} ms).", icon=":material/functions:")
        else:
            st.info(f"Charts show the **exact posterior** (closed form, instant). Press "
                    f"**Fit** to sample with **{METHOD_LABELS[scenario.method]}**: its result "
                    "replaces these charts, and the exact answer stays as grey ticks to "
                    "check it against.", icon=":material/functions:")
        return
    size = (f"{s.chains} chains × {s.draws} draws after {s.tune} tuning steps"
            if s.method in ("nuts", "pymc_nuts")
            else f"{s.advi_iterations} iterations, {s.draws * s.chains} draws")
    st.success(f"Charts show **{METHOD_LABELS[s.method]}** ({size}; compile "
               f"{result.compile_s:.1f} s, sample {result.sample_s:.1f} s). Grey ticks mark "
               "the exact posterior for comparison.", icon=":material/target:")


def warnings_ui(messages: list[str], *, most: int = 4) -> None:
    """Each warning in its own box; a long list (one per task, say) in one box."""
    if len(messages) <= most:
        for message in messages:
            st.warning(message, icon=":material/warning:")
        return
    listed = "\n".join(f"- {m}" for m in messages)
    st.warning(f"**{len(messages)} warnings:**\n{listed}", icon=":material/warning:")


def world_ui(scenario: Scenario) -> None:
    """One line on the world being shown: its preset, if any, and what to look for."""
    name = matching_preset(scenario)
    counts, tasks = scenario.samples, scenario.n_tasks
    if len(set(counts)) == 1:
        data = f"{tasks} task{'s' if tasks > 1 else ''} with {counts[0]} samples" + (
            " each" if tasks > 1 else "")
    else:
        shown = ", ".join(map(str, counts[:12])) + (", …" if tasks > 12 else "")
        data = f"{tasks} tasks with {shown} samples"
    features = f"{scenario.n_features} feature{'s' if scenario.n_features > 1 else ''}"
    line = f"**World:** {data}, {features}, seed {scenario.seed}."
    if name is not None:
        preset = PRESETS[name]
        line += f" Preset *{preset.label}*: {preset.look_for}"
    st.markdown(line)


def _section(chart, words: str, *, facet: bool = False) -> None:
    """A chart with its words: beside it, or above it for the wide per-feature grids."""
    if facet:
        look, _, tried = words.partition("\n\n")
        left, right = st.columns(2, gap="medium")
        left.markdown(look)
        right.markdown(tried)
        st.altair_chart(chart, width="content")
        return
    left, right = st.columns([3, 1], gap="medium")
    with left:
        st.altair_chart(chart, width="stretch")
    with right:
        st.markdown(words)


def result_ui(result: FitResult, scenario: Scenario) -> None:
    """Every chart of one fit, each with what to look at and what to try next."""
    reference = result.scenario.method != "exact"
    shown_caption(result, scenario)
    warnings_ui(result.warnings())

    st.subheader("1 · Parent weights")
    _section(charts.parent_chart(result.weights, reference=reference),
             "**Look at:** the diamonds are the true parent weights, the dots and bars the "
             "posterior mean and 94% interval. With few tasks the parent is uncertain: "
             "every task is one draw from it.\n\n"
             "**Try:** add tasks (a preset such as *Many tiny tasks*) and watch the "
             "intervals narrow.")

    st.subheader("2 · Child weights")
    _section(charts.child_chart(result.weights, reference=reference),
             "**Look at:** each row is a task (with its sample count *n*), each panel a "
             "feature. Data-rich tasks have tight intervals around the truth; tasks with "
             "little or no data have wide ones.\n\n"
             "**Try:** set one task's samples to 0 in the table, or raise the noise.",
             facet=True)

    st.subheader("3 · Shrinkage")
    _section(charts.shrinkage_chart(result.weights),
             "**Look at:** each arrow starts at the task's own estimate (no pooling, hollow "
             "circle) and ends at its partial-pooling estimate. Tasks are sorted by sample "
             "count: the fewer the samples, the longer the pull toward the dashed parent "
             "line, and the nearer the result usually is to the truth (red tick).\n\n"
             "**Try:** *One rich, many small*; then shrink the child spread and see every "
             "arrow lengthen.",
             facet=True)
    left, right = st.columns(2, gap="medium")
    with left:
        st.markdown("**Pull toward the parent against sample count**")
        st.altair_chart(charts.pull_chart(summaries.task_pull(result.weights)), width="stretch")
        st.caption("0 = the task keeps its own estimate, 1 = it takes the parent's. Tasks "
                   "with too few rows for an estimate of their own are left out; a task "
                   "with no rows takes the parent (pull 1).")
    with right:
        st.markdown("**Error against the true child weights**")
        st.altair_chart(charts.rmse_chart(summaries.comparable_errors(result.weights)), width="stretch")
        st.caption("Partial pooling usually beats both extremes: no pooling overfits "
                   "small tasks, complete pooling ignores real differences. Try a large "
                   "child spread: complete pooling falls far behind.")

    st.subheader("4 · The padded data")
    padded = result.padded
    cap_tasks, cap_rows = padded.capacity
    left, right = st.columns([3, 1], gap="medium")
    with left:
        st.altair_chart(charts.padding_chart(summaries.padding_segments(
            padded.mask, padded.likelihood_mask, padded.counts)), width="stretch")
        st.markdown("**Noise and spread: posterior against the truth**")
        st.altair_chart(charts.scales_chart(result.scales, reference=reference), width="content")
    with right:
        st.markdown(
            "**Look at:** the tasks have different sample counts, so the model stores them "
            "in one rectangular array padded with zeros. Blue cells are real rows; grey "
            "padding is kept out of the likelihood (*masked*); red padding enters it as rows "
            "with x = 0 and y = 0 (*naive*). Those rows are fitted perfectly, so they pretend "
            "the noise is smaller than it is: watch the noise sd below.\n\n"
            "**Try:** switch padding to *naive* with unequal sample counts (*One rich, many "
            "small*): the noise estimate falls below the diamond.\n\n"
            f"The padded array is really {cap_tasks} × {cap_rows}, rounded up to capacity "
            "buckets; the extra cells are padding too. The model reads the rows through "
            "their masked sums (X'X, X'y, y'y per task), so one compiled model serves "
            f"every row count and up to {cap_tasks} tasks.")

    st.subheader("5 · Diagnostics")
    diagnostics_ui(result)


def _parameterization_words(s: Scenario, d: Diagnostics) -> str:
    """Which tasks the fit parameterized how, in words."""
    def listed(tasks: tuple[int, ...]) -> str:
        return ", ".join(str(t) for t in tasks) or "none"

    words = (f"Parameterization *{PARAMETERIZATION_LABELS[s.parameterization]}*: "
             f"centered tasks: {listed(d.centered_tasks)}")
    if d.partly_centered_tasks:
        words += (f"; centered only along the directions their rows pin down: "
                  f"{listed(d.partly_centered_tasks)}")
    return words + "; the rest are non-centered."


def diagnostics_ui(result: FitResult) -> None:
    """R-hat, ESS, divergences, ELBO and timings in plain words."""
    d = result.diagnostics
    s = result.scenario
    cols = st.columns(6)
    cols[0].metric("max R-hat", "—" if d.max_rhat is None else f"{d.max_rhat:.3f}",
                   help="Compares chains: near 1 means they agree. Above 1.01 is a warning.")
    cols[1].metric("min ESS bulk", "—" if d.min_ess_bulk is None else f"{d.min_ess_bulk:.0f}",
                   help="Effective number of independent draws for the posterior's centre.")
    cols[2].metric("min ESS tail", "—" if d.min_ess_tail is None else f"{d.min_ess_tail:.0f}",
                   help="Effective number of independent draws for the interval ends.")
    cols[3].metric("divergences", f"{d.divergences}",
                   help="Steps where the sampler's simulation broke down.")
    cols[4].metric("compile", f"{result.compile_s:.1f} s", help="Building the model (once per shape).")
    cols[5].metric("sample", f"{result.sample_s:.2f} s", help="Drawing from the posterior.")

    words = []
    if s.method == "exact":
        words.append("The exact method draws independent samples from the closed-form "
                     "posterior: there are no chains to compare and nothing can diverge.")
    elif s.method in ("nuts", "pymc_nuts"):
        if d.max_rhat is None:
            words.append("R-hat needs at least two chains.")
        elif d.max_rhat <= RHAT_LIMIT:
            words.append(f"R-hat is at most {d.max_rhat:.3f}: the chains agree.")
        else:
            words.append(f"R-hat reaches {d.max_rhat:.3f}, above {RHAT_LIMIT}: the chains "
                         "have not yet agreed on one posterior (see the warning above).")
        if d.divergences == 0:
            words.append("No divergences: the sampler followed the posterior's shape.")
        else:
            words.append(
                f"**{d.divergences} divergences.** A divergence is a step where the "
                "sampler's simulated trajectory blew up because the posterior curves too "
                "sharply. In the *centered* model a task with little data sits in a "
                "*funnel*: when the child spread is small its weights must all be close to "
                "the parent, when it is large they may roam, and the sampler can't take "
                "steps that suit both. The *non-centered* model samples the distance from "
                "the parent in units of the spread instead, which removes the funnel.")
        words.append(_parameterization_words(s, d))
    else:
        words.append("ADVI fits a Gaussian approximation by maximising the ELBO; its draws "
                     "are independent, so R-hat and ESS don't apply. Check that the ELBO is "
                     "flat over the second half of the iterations, and compare with the grey "
                     "exact ticks: mean-field ADVI often makes intervals too narrow.")
        words.append(f"Parameterization *{PARAMETERIZATION_LABELS[s.parameterization]}* "
                     "matters here too: mean-field ADVI can't represent the strong "
                     "correlation between the parent and a data-rich task's offset.")
    words.append(f"Time: compile {result.compile_s:.2f} s, sample {result.sample_s:.2f} s, "
                 f"{result.total_s:.2f} s in all.")
    words.append("**Try:** parameterization *centered* with *Many tiny tasks* and a small "
                 "child spread, fit with NUTS, and count the divergences; then *non-centered*.")
    if d.elbo is None or not len(d.elbo):
        st.markdown("\n\n".join(words))
        return
    left, right = st.columns([3, 1], gap="medium")
    with left:
        st.markdown("**ELBO during optimisation**")
        st.altair_chart(charts.elbo_chart(d.elbo), width="stretch")
        if d.converged:
            st.success(d.convergence_message, icon=":material/check_circle:")
        else:
            st.warning(d.convergence_message, icon=":material/warning:")
    with right:
        st.markdown("\n\n".join(words))


def downloads_ui(result: FitResult) -> None:
    """The tidy weights, the simulated data and the posterior, as files."""
    s = result.scenario
    stem = f"hierdash_{s.method}_seed{s.seed}"
    cols = st.columns(3)
    cols[0].download_button("Weights (CSV)", weights_csv(result), file_name=f"{stem}_weights.csv",
                            mime="text/csv", icon=":material/download:", key="download_weights", width="stretch",
                            on_click="ignore")
    cols[1].download_button("Simulated data (CSV)", data_csv(result),
                            file_name=f"{stem}_data.csv", mime="text/csv", icon=":material/download:",
                            key="download_data", width="stretch", on_click="ignore")
    cols[2].download_button("Posterior (netCDF)", lambda: posterior_netcdf(result),
                            file_name=f"{stem}_posterior.nc", mime="application/x-netcdf",
                            icon=":material/download:", key="download_posterior", width="stretch",
                            on_click="ignore")


def share_ui(scenario: Scenario) -> None:
    """The link that reproduces this world, seed and fit settings included."""
    base = st.context.url or ""
    st.code(f"{base}?{urlencode(scenario.to_query())}", language=None, wrap_lines=True)
    st.caption("Every setting, the seed included, is in this link (and in the address bar): "
               "hand it out and everyone sees the same world.")


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------
def main() -> None:
    st.set_page_config(page_title="hierdash · partial pooling", page_icon=":material/compress:", layout="wide")
    start_warm_up()
    init_session()
    scenario = scenario_ui()
    intro_ui()
    url_problems_ui(scenario)
    if scenario is None:
        st.info("Fix the setting named above in the sidebar; the charts come back at once.")
        return
    sync_url(scenario)
    world_ui(scenario)
    interruption_ui()

    try:
        exact = exact_fit(scenario.replace(method="exact"))
    except Exception as err:  # noqa: BLE001 - never a traceback on the page
        st.error(f"**This world could not be fitted** ({type(err).__name__}: {err}). Try "
                 "other settings or a new seed.", icon=":material/error:")
        return

    sampling = scenario.method != "exact"
    fit_col, stop_col, note_col = st.columns([2, 1, 3], vertical_alignment="center")
    fit_clicked = fit_col.button(
        f"Fit with {METHOD_LABELS[scenario.method]}" if sampling else "Fit",
        type="primary", icon=":material/play_arrow:", key="fit", disabled=not sampling,
        width="stretch",
        help=("Sample the posterior; the exact charts stay up meanwhile." if sampling
              else "The exact method needs no fitting: its result is shown."))
    stop_slot = stop_col.empty()
    note_col.caption(
        f"Fits stop after {TIME_BUDGET_S:.0f} s of sampling. Results are shared: anyone on "
        "these exact settings gets this fit at once.")
    status_slot = st.empty()
    message_slot = st.empty()

    # Show the best result there is at once: the sampler's if cached, else the exact one.
    sampled = cached_sampled_fit(scenario) if sampling else None
    shown = sampled or exact
    result_ui(shown, scenario)
    st.subheader("Downloads and link")
    downloads_ui(shown)
    share_ui(scenario)

    # Then, if asked, sample (the page above stays readable meanwhile) and rerun: the
    # rerun finds the new result in the cache and draws it in place of the exact one.
    if sampling and sampled is None and fit_clicked:
        if run_fit(scenario, status_slot, stop_slot, message_slot) is not None:
            st.rerun()
        stop_slot.empty()

main()
