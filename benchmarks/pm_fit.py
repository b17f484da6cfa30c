"""PyMC's own ``pm.fit``, the ADVI that hierdash's compiled loop replaced, as a runner.

Two baselines the ADVI benchmarks measure against, on the very model the compiled loop
fits (the world's own size, no padding; the same parameterization):

- the seed notebook's call, ``pm.fit(100000)`` then ``approx.sample(2000)``: mean-field,
  PyMC's default optimiser (``adagrad_window``, learning rate 0.001), 100,000 steps;
- the runner hierdash used before the compiled loop (commit 67514e0): ``pm.fit`` with
  ``pm.adam(learning_rate=scenario.advi_learning_rate)``, a fixed number of steps (the
  scenario's ``advi_iterations``, 30,000 by default then), either form.

:func:`pm_fit_runner` returns a function with the runners' signature
(:data:`hierdash.inference.samplers.RUNNERS`); :func:`runner_replaced` puts it in place
of a method's runner for a ``with`` block, so ``hierdash.inference.fit`` goes from the
scenario to the tidy tables through it, as it does for every method.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["SEED_ITERATIONS", "pm_fit_runner", "runner_replaced"]

SEED_ITERATIONS = 100_000
"""The seed notebook's ``pm.fit(100000)``."""


def pm_fit_runner(*, iterations: int | None = None, seed_optimizer: bool = False) -> Callable:
    """A runner fitting with PyMC's ``pm.fit``.

    Parameters
    ----------
    iterations
        Steps; ``None``: the scenario's ``advi_iterations``.
    seed_optimizer
        PyMC's default optimiser, as the seed notebook called it; else Adam at the
        scenario's ``advi_learning_rate`` (hierdash's runner before the compiled loop).

    Returns
    -------
    callable
        ``runner(scenario, prep, report, stopper) -> (posterior, diagnostics,
        compile seconds, sample seconds)``: the compile is the time to the first step
        (PyMC builds and compiles the objective then), the rest is the optimisation and
        the draws.
    """

    def run(scenario, prep, report, stopper):
        import pymc as pm

        from hierdash.inference.diagnostics import elbo_converged
        from hierdash.inference.models.compiled import KEPT_VARIABLES, build_pymc_model
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

        parameterization = resolve_parameterization(scenario)
        key, data, _start = model_inputs(scenario, prep, parameterization,
                                         own_size_key(scenario, parameterization))
        model = build_pymc_model(key, data)
        names = KEPT_VARIABLES[key.kind]
        n = scenario.advi_iterations if iterations is None else iterations
        method = "advi" if scenario.method == "advi" else "fullrank_advi"
        steps = {"first": None, "done": 0, "stopped": None}

        def callback(*_args: Any) -> None:
            if steps["first"] is None:
                steps["first"] = time.perf_counter()
            steps["done"] += 1
            if steps["done"] % 500 == 0:
                report("sample", steps["done"] / n, f"pm.fit ({method})")
                steps["stopped"] = stopper.check()
                if steps["stopped"]:
                    raise KeyboardInterrupt  # pm.fit ends its loop on it

        options: dict[str, Any] = {}
        if not seed_optimizer:
            options["obj_optimizer"] = pm.adam(learning_rate=scenario.advi_learning_rate)
        report("compile", None, "Compiling the variational objective")
        stopper.start()
        t0 = time.perf_counter()
        with model, quiet():
            approx = pm.fit(n=n, method=method, random_seed=scenario.seed,
                            callbacks=[callback], progressbar=False, **options)
            if steps["stopped"]:
                raise FitStopped(steps["stopped"])
            trace = approx.sample(scenario.draws * scenario.chains,
                                  random_seed=scenario.seed, return_inferencedata=True)
        shape = (scenario.chains, scenario.draws)
        raw = {name: np.asarray(trace["posterior"][name].values).reshape(
            shape + trace["posterior"][name].shape[2:]) for name in names}
        draws = with_weights(raw, scenario, prep, parameterization)
        end = time.perf_counter()
        first = steps["first"] or end
        posterior = posterior_tree(draws, scenario)
        elbo = -np.asarray(approx.hist, dtype=float)
        converged, message = elbo_converged(elbo)
        diagnostics = Diagnostics(
            elbo=elbo, elbo_limit=n, converged=converged, convergence_message=message,
            parameterization=parameterization,
            centered_tasks=centered_tasks(scenario, prep, parameterization))
        return posterior, diagnostics, first - t0, end - first

    return run


@contextmanager
def runner_replaced(method: str, runner: Callable) -> Iterator[None]:
    """``hierdash.inference.fit`` runs ``method`` with ``runner`` inside the block."""
    from hierdash.inference.samplers import RUNNERS

    before = RUNNERS[method]
    RUNNERS[method] = runner
    try:
        yield
    finally:
        RUNNERS[method] = before
