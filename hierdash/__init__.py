"""hierdash: hierarchical shrinkage (partial pooling), to fit and to watch.

For a notebook::

    import hierdash as hd

    s = hd.Scenario(samples=(100, 80, 5), method="exact")
    r = hd.fit(s)                    # simulate the world and fit it
    r.weights.head()                 # one row per weight: truth, posterior, pooling
    hd.shrinkage_chart(r.weights)    # an Altair chart

    w = hd.simulate(s)               # or bring a world of your own ...
    r = hd.fit(s, world=w)           # ... and fit exactly that one

    n = hd.fit_neural(hd.NeuralSettings(rotation_spread=45))  # three neural networks
    n.accuracy                       # test accuracy and log score per task and model
    hd.neural_score_chart(n.accuracy)  # the neural twin of the shrinkage chart

The folders are the layers, each importing only those before it:
:mod:`~hierdash.settings` (shared numbers) -> :mod:`~hierdash.scenario` (every setting,
validated) -> :mod:`~hierdash.world` (simulate, pad) -> :mod:`~hierdash.exact` (closed
forms, pooling) -> :mod:`~hierdash.inference` (:func:`fit`: models, samplers) ->
:mod:`~hierdash.summaries` (tables) -> :mod:`~hierdash.own_data`,
:mod:`~hierdash.calibration`, :mod:`~hierdash.classroom` -> :mod:`~hierdash.charts`
(Altair) -> this module (the notebook's names) -> :mod:`~hierdash.cli` and
:mod:`hierdash.ui` with ``app.py`` (Streamlit). See ``docs/architecture.md``.

Import rule: nothing at import time; each name below is loaded from its folder's facade
on first use, so ``import hierdash`` stays quick and the command line does not pay for
PyMC before it needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> its home: the facade (or module) whose ``__all__`` lists it.
_EXPORTS: dict[str, str] = {
    # Settings of a world and of its fit
    "Scenario": "hierdash.scenario",
    "ScenarioError": "hierdash.scenario",
    # Data
    "World": "hierdash.world",
    "simulate": "hierdash.world",
    "pad": "hierdash.world",
    "sufficient_stats": "hierdash.world",
    # Closed forms: the exact posterior and the two pooling extremes
    "ExactPosterior": "hierdash.exact",
    "exact_posterior": "hierdash.exact",
    "NoPooling": "hierdash.exact",
    "no_pooling": "hierdash.exact",
    "complete_pooling": "hierdash.exact",
    "pooling_errors": "hierdash.exact",
    # Yes/no and count outcomes: families, simulation, the quadrature reference
    "OUTCOMES": "hierdash.scenario",
    "Family": "hierdash.outcomes",
    "get_family": "hierdash.outcomes",
    "TaskData": "hierdash.outcomes",
    "simulate_outcomes": "hierdash.outcomes",
    "QuadraturePosterior": "hierdash.outcomes",
    "quadrature_posterior": "hierdash.outcomes",
    "load_rat_tumors": "hierdash.outcomes",
    # Ready-made worlds
    "Preset": "hierdash.scenario",
    "PRESETS": "hierdash.scenario",
    "apply_preset": "hierdash.scenario",
    # Fitting
    "fit": "hierdash.inference",
    "FitResult": "hierdash.inference",
    "FitStopped": "hierdash.inference",
    "Diagnostics": "hierdash.inference",
    # Tables from a fit
    "task_pull": "hierdash.summaries",
    "comparable_errors": "hierdash.summaries",
    "padding_segments": "hierdash.summaries",
    # Charts
    "parent_chart": "hierdash.charts",
    "child_chart": "hierdash.charts",
    "scales_chart": "hierdash.charts",
    "shrinkage_chart": "hierdash.charts",
    "pull_chart": "hierdash.charts",
    "rmse_chart": "hierdash.charts",
    "padding_chart": "hierdash.charts",
    "elbo_chart": "hierdash.charts",
    # Neural tasks: hierarchical Bayesian neural networks on rotated moons
    "NeuralSettings": "hierdash.neural",
    "NeuralResult": "hierdash.neural",
    "fit_neural": "hierdash.neural",
    "simulate_tasks": "hierdash.neural",
    "neural_surface_chart": "hierdash.charts",
    "neural_parent_chart": "hierdash.charts",
    "neural_score_chart": "hierdash.charts",
    "neural_spread_chart": "hierdash.charts",
    # Shared numbers
    "CI_PROB": "hierdash.settings",
}
# Public name -> a folder offered whole, as a namespace (``hd.neural.fit_neural``).
_FOLDERS: dict[str, str] = {"neural": "hierdash.neural"}

__all__ = [
    "Scenario",
    "ScenarioError",
    "World",
    "simulate",
    "pad",
    "sufficient_stats",
    "ExactPosterior",
    "exact_posterior",
    "NoPooling",
    "no_pooling",
    "complete_pooling",
    "pooling_errors",
    "OUTCOMES",
    "Family",
    "get_family",
    "TaskData",
    "simulate_outcomes",
    "QuadraturePosterior",
    "quadrature_posterior",
    "load_rat_tumors",
    "Preset",
    "PRESETS",
    "apply_preset",
    "fit",
    "FitResult",
    "FitStopped",
    "Diagnostics",
    "task_pull",
    "comparable_errors",
    "padding_segments",
    "parent_chart",
    "child_chart",
    "scales_chart",
    "shrinkage_chart",
    "pull_chart",
    "rmse_chart",
    "padding_chart",
    "elbo_chart",
    "neural",
    "NeuralSettings",
    "NeuralResult",
    "fit_neural",
    "simulate_tasks",
    "neural_surface_chart",
    "neural_parent_chart",
    "neural_score_chart",
    "neural_spread_chart",
    "CI_PROB",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _FOLDERS:
        value = importlib.import_module(_FOLDERS[name])  # also sets it on this package
        globals()[name] = value
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hierdash' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_FOLDERS})


if TYPE_CHECKING:  # for editors and type checkers: the same names, imported eagerly
    from hierdash import neural
    from hierdash.charts import (
        child_chart,
        elbo_chart,
        neural_parent_chart,
        neural_score_chart,
        neural_spread_chart,
        neural_surface_chart,
        padding_chart,
        parent_chart,
        pull_chart,
        rmse_chart,
        scales_chart,
        shrinkage_chart,
    )
    from hierdash.exact import (
        ExactPosterior,
        NoPooling,
        complete_pooling,
        exact_posterior,
        no_pooling,
        pooling_errors,
    )
    from hierdash.inference import Diagnostics, FitResult, FitStopped, fit
    from hierdash.neural import NeuralResult, NeuralSettings, fit_neural, simulate_tasks
    from hierdash.outcomes import (
        Family,
        QuadraturePosterior,
        TaskData,
        get_family,
        load_rat_tumors,
        quadrature_posterior,
        simulate_outcomes,
    )
    from hierdash.scenario import (
        OUTCOMES,
        PRESETS,
        Preset,
        Scenario,
        ScenarioError,
        apply_preset,
    )
    from hierdash.settings import CI_PROB
    from hierdash.summaries import comparable_errors, padding_segments, task_pull
    from hierdash.world import World, pad, simulate, sufficient_stats
