"""PyMC's own NUTS (the baseline nutpie is measured against) and the exact method's
independent draws. ADVI runs on its own compiled loop (:mod:`.advi_runner`)."""

from __future__ import annotations

import time

import numpy as np

from hierdash.inference.diagnostics import mcmc_diagnostics
from hierdash.inference.models.compiled import KEPT_VARIABLES, build_pymc_model
from hierdash.inference.prepare import Prepared
from hierdash.inference.results import Diagnostics, FitStopped
from hierdash.inference.samplers.common import (
    centered_tasks,
    model_inputs,
    own_size_key,
    quiet,
    resolve_parameterization,
    with_weights,
)
from hierdash.inference.summarise import posterior_tree
from hierdash.outcomes.data import rows_of
from hierdash.scenario import Scenario

__all__ = ["run_pymc_nuts", "run_exact"]


class _Ticker:
    """Callback state for PyMC's sampler: when the first step came,
    progress every ``every`` steps, and a stop raised as KeyboardInterrupt (which
    PyMC catches to end early) when ``stopper`` says so."""

    def __init__(self, report, stopper, *, every: int, total: int, message: str):
        self.report, self.stopper = report, stopper
        self.every, self.total, self.message = every, total, message
        self.steps = 0
        self.first: float | None = None
        self.stopped: str | None = None

    def __call__(self, *_args, **_kwargs) -> None:
        if self.first is None:
            self.first = time.perf_counter()
        self.steps += 1
        if self.steps % self.every == 0:
            self.report("sample", min(self.steps / self.total, 1.0), self.message)
            self.stopped = self.stopper.check()
            if self.stopped:
                raise KeyboardInterrupt

    def raise_if_stopped(self) -> None:
        if self.stopped:
            raise FitStopped(self.stopped)


def _own_size_model(scenario: Scenario, prep: Prepared):
    """PyMC compiles per fit anyway: a model of the world's own size, no padding."""
    parameterization = resolve_parameterization(scenario)
    rows = 0 if prep.data is None else len(rows_of(prep.data).y)
    key, data, _start = model_inputs(
        scenario, prep, parameterization, own_size_key(scenario, parameterization, rows)
    )
    return parameterization, key, build_pymc_model(key, data)


def _draws(trace, names: list[str]) -> dict[str, np.ndarray]:
    post = trace["posterior"]
    return {name: np.asarray(post[name].values) for name in names}


def run_pymc_nuts(scenario: Scenario, prep: Prepared, report, stopper):
    import pymc as pm

    parameterization, key, model = _own_size_model(scenario, prep)
    names = KEPT_VARIABLES[key.kind]
    total = scenario.chains * (scenario.draws + scenario.tune)
    ticker = _Ticker(report, stopper, every=50, total=total, message="Sampling with PyMC's NUTS")
    report("compile", None, "Compiling PyMC's sampler")
    stopper.start()
    t0 = time.perf_counter()
    try:
        with model, quiet():
            trace = pm.sample(
                draws=scenario.draws,
                tune=scenario.tune,
                chains=scenario.chains,
                cores=1,  # no fork-based multiprocessing: this also runs inside the server
                random_seed=scenario.seed,
                target_accept=scenario.target_accept,
                nuts_sampler="pymc",
                progressbar=False,
                callback=ticker,
                compute_convergence_checks=False,
                var_names=names,
            )
    except Exception:
        # A stop during tuning leaves PyMC no draws to build a trace from.
        ticker.raise_if_stopped()
        raise
    ticker.raise_if_stopped()
    draws = with_weights(_draws(trace, names), scenario, prep, parameterization)
    end = time.perf_counter()
    first = ticker.first or end
    report("sample", 1.0, "Sampling done")
    posterior = posterior_tree(draws, scenario)
    divergences = int(trace.sample_stats["diverging"].sum())
    diag = mcmc_diagnostics(
        posterior, divergences, scenario, parameterization=parameterization,
        centered_tasks=centered_tasks(scenario, prep, parameterization),
    )
    # Time to the first draw is compilation and set-up; the rest is sampling.
    return posterior, diag, first - t0, end - first


def run_exact(scenario: Scenario, prep: Prepared, report, stopper):
    """Independent draws from the reference posterior (the closed form, or the
    quadrature for a yes/no or count outcome): no sampler at all."""
    report("sample", 0.0, "Drawing from the reference posterior")
    t0 = time.perf_counter()
    rng = np.random.default_rng(scenario.seed)
    draws = prep.exact.sample(scenario.draws, scenario.chains, rng)
    posterior = posterior_tree(draws, scenario)
    report("sample", 1.0, "Done")
    diag = Diagnostics(parameterization="marginal" if scenario.is_gaussian else "quadrature")
    return posterior, diag, 0.0, time.perf_counter() - t0
