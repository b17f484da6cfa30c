"""What every session of the server shares: exact fits, sampling fits, the warm-up.

- :func:`exact_fit` caches exact (closed-form) fits with ``st.cache_resource``, keyed
  by the whole scenario. The cached results are read, never mutated.
- :data:`SAMPLING_FITS` is the one :class:`~hierdash.ui.fit_registry.FitRegistry` of
  the process: running and finished sampling fits by scenario. It is a plain module
  object, not a cached resource, because it changes as fits start and end; it guards
  itself with a lock, and the results it hands out are never mutated either.
- :func:`draw_chart` draws a chart builder's chart through :data:`CHART_SPECS`, which
  builds each chart once per layout and after that only fills in the numbers
  (:class:`~hierdash.charts.specs.ChartSpecs`; its templates are never mutated).
- :func:`start_warm_up` compiles the default world's model once per process, in the
  background, and last the neural tasks page's network.
"""

from __future__ import annotations

import gc
import os
import threading
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from hierdash.charts.specs import ChartSpecs, arrow_datasets
from hierdash.inference import FitResult, fit, warm_up
from hierdash.scenario import Scenario
from hierdash.ui.fit_registry import FitRegistry

__all__ = ["TIME_BUDGET_S", "SAMPLING_FITS", "CHART_SPECS", "draw_chart", "exact_fit",
           "start_warm_up"]

TIME_BUDGET_S = 120.0
"""A sampling fit stops after this many seconds of sampling."""
_CACHE_TTL_S = 2 * 3600

# As many fits sample at once as there are cores (each fit's chains are threads): a
# class pressing Fit together is served in turn, each fit at full speed.
SAMPLING_FITS = FitRegistry(fit, time_budget_s=TIME_BUDGET_S, max_results=16,
                            ttl_s=_CACHE_TTL_S, max_running=os.cpu_count() or 1)


CHART_SPECS = ChartSpecs(size=512)


def draw_chart(builder, *frames: pd.DataFrame, width: str = "stretch", **options) -> None:
    """Draw ``builder(*frames, **options)`` on the page, built once per layout.

    The same as ``st.altair_chart(builder(*frames, **options))``, at a fraction of the
    server's CPU: a world whose layout was drawn before (by anyone) costs only its
    numbers, not a new Altair chart (see :mod:`hierdash.charts.specs`).
    """
    st.vega_lite_chart(arrow_datasets(CHART_SPECS.spec(builder, *frames, **options)),
                       width=width)


def _scenario_key(scenario: Scenario) -> str:
    return urlencode(scenario.to_query())


@st.cache_resource(max_entries=32, ttl=_CACHE_TTL_S, show_spinner=False,
                   hash_funcs={Scenario: _scenario_key})
def exact_fit(scenario: Scenario) -> FitResult:
    """The exact (closed-form) fit of ``scenario``: tens of milliseconds.

    Parameters
    ----------
    scenario
        A scenario whose method is ``exact``.

    Returns
    -------
    FitResult
        Shared by every session: read it, never change it.
    """
    return fit(scenario)


@st.cache_resource(show_spinner=False)
def start_warm_up() -> threading.Thread:
    """Compile the default world's model in the background, once per server process.

    The first page load starts it and does not wait for it: the page shows the exact
    posterior meanwhile, and a Fit pressed before it ends waits for the same compile
    (the engine compiles each model once, whoever asks first).
    """
    freeze_long_lived_objects()
    thread = threading.Thread(target=_warm_quietly, name="hierdash-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_quietly() -> None:
    try:
        warm_up(Scenario())
    except Exception:  # noqa: BLE001 - a failed warm-up only means a slower first fit
        pass
    # Last, after every linear model: the neural tasks page's network (one compile
    # serves every world within its bounds and all three fits). The inference layer
    # cannot import hierdash.neural (a later layer), so the UI warms it here.
    try:
        from hierdash.neural import warm_up_neural

        warm_up_neural()
    except Exception:  # noqa: BLE001 - as above: only a slower first neural fit
        pass
    freeze_long_lived_objects()  # the compiled models, too, live as long as the server


def freeze_long_lived_objects() -> None:
    """Keep the objects alive now out of every later garbage collection.

    Streamlit runs a full garbage collection after each script run, and a running fit's
    progress fragment reruns twice a second. With PyMC, PyTensor and nutpie loaded a
    full collection walks about 250,000 objects (0.1 s to 1 s, holding the GIL and so
    starving a compile in another thread). The modules and compiled models live as
    long as the server: frozen (``gc.freeze``), they are skipped, and a collection only
    looks at what the runs themselves create.
    """
    gc.collect()
    gc.freeze()
