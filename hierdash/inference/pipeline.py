"""One entry point, :func:`fit`, for every inference method.

The pipeline: :func:`hierdash.inference.prepare.prepare` (simulate or take a world, pad, exact
answer), a runner of :mod:`hierdash.inference.samplers`, then the tidy tables of
:mod:`hierdash.inference.summarise`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hierdash.exact.pooling import pooling_errors
from hierdash.inference.diagnostics import elbo_converged
from hierdash.inference.models.compiled import GLM_TIERS, MODEL_KEYS, NUTPIE_CACHE
from hierdash.inference.prepare import Prepared, prepare
from hierdash.inference.results import Diagnostics, FitResult, FitStopped, Progress
from hierdash.inference.samplers import RUNNERS, Stopper
from hierdash.inference.samplers.advi_runner import warm_up_advi
from hierdash.inference.samplers.common import model_inputs
from hierdash.inference.summarise import draws_of, posterior_mean, summarise
from hierdash.scenario import Scenario
from hierdash.world import World

__all__ = [
    "fit",
    "warm_up",
    "FitResult",
    "Diagnostics",
    "FitStopped",
    "Progress",
    "prepare",
    "Prepared",
    "draws_of",
    "posterior_mean",
    "summarise",
    "elbo_converged",
]


def warm_up(scenario: Scenario | None = None) -> float:
    """Compile (or find in the cache) the shared nutpie models, then ADVI's loop, then
    the model of yes/no and count outcomes.

    The app calls this at start-up in a background thread so that no user pays a
    compile: the models serve every world within the bounds, and one compiled ADVI loop
    serves both of its forms on every world. Gaussian NUTS, the default, is made ready
    first; the outcome models (each serves every family) last, from the smallest.
    Returns the seconds spent compiling (0.0 if all were ready).
    """
    scenario = scenario or Scenario()
    prep = prepare(scenario)
    seconds = 0.0
    for parameterization, kind in (("marginal", "marginal"), ("noncentered", "latent")):
        key, data, _ = model_inputs(scenario, prep, parameterization, MODEL_KEYS[kind])
        seconds += NUTPIE_CACHE.get(key, data)[1]
    seconds += warm_up_advi(scenario, prep)
    outcome = Scenario.for_outcome("bernoulli")
    # The default worlds' model first; the large one last, for the built-in rat tumours
    # (71 groups, past the simulated bound) and other data with many groups.
    for key in GLM_TIERS:
        key, data, _ = model_inputs(outcome, prepare(outcome), "noncentered", key)
        seconds += NUTPIE_CACHE.get(key, data)[1]
    return seconds


def fit(
    scenario: Scenario,
    *,
    world: World | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    time_budget: float | None = None,
) -> FitResult:
    """Fit ``scenario``'s world (simulated, or ``world``) with ``scenario.method``.

    Parameters
    ----------
    scenario
        What to simulate and how to fit it.
    world
        Data to fit instead of simulating them (edited or external data): its sample
        counts and feature count must match ``scenario``'s.
    progress
        Called as ``progress(stage, fraction, message)`` through the stages
        ``simulate``, ``compile``, ``sample``, ``summarise``.
    should_stop
        Polled while sampling; when it returns true the fit stops and
        :class:`FitStopped` is raised.
    time_budget
        Seconds of sampling after which the fit stops with :class:`FitStopped`.

    Returns
    -------
    FitResult
    """
    report = progress or (lambda stage, fraction, message: None)
    stopper = Stopper(should_stop, time_budget)
    start = time.perf_counter()
    report("simulate", None, "Simulating the world and padding the data")
    prep = prepare(scenario, world)
    runner = RUNNERS[scenario.method]
    posterior, diag, compile_s, sample_s = runner(scenario, prep, report, stopper)
    report("summarise", None, "Summarising the posterior")
    weights, scales = summarise(scenario, prep, posterior)
    partial = posterior_mean(posterior, "child")
    errors = pooling_errors(
        prep.world.child, no_pool=prep.no_pool, complete=prep.complete, partial=partial
    )
    return FitResult(
        scenario=scenario,
        world=prep.world,
        padded=prep.padded,
        posterior=posterior,
        diagnostics=diag,
        weights=weights,
        scales=scales,
        errors=errors,
        no_pool=prep.no_pool,
        exact=prep.exact,
        compile_s=compile_s,
        sample_s=sample_s,
        total_s=time.perf_counter() - start,
        notes=reference_notes(prep.exact),
    )


def reference_notes(exact) -> tuple[str, ...]:
    """What the user must know about the exact reference: a yes/no or count world's
    quadrature is checked to 0.1 posterior sd only up to 3 features (beyond, it takes
    fewer nodes per feature and says it is not accurate)."""
    if getattr(exact, "accurate", True):
        return ()
    k = exact.child_mean.shape[1]
    return (f"With {k} features the exact reference (quadrature) uses fewer points per "
            "feature and is only checked to within 0.1 posterior sd up to 3 features: "
            "treat it as approximate, and fit with NUTS to check it.",)
