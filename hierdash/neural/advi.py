"""Mean-field ADVI for the three networks: offered, and warned about.

Mean-field ADVI fits an independent normal to every weight. A network's posterior is
nothing like that (its weights move together, and its modes come in permuted and
sign-flipped copies), so the fit can settle at chance: issue 22 measured 48% test
accuracy after 5,000 steps, with no warning from the optimiser, and 33 s for 20,000.
The result carries :data:`~hierdash.neural.results.ADVI_WARNING`; NUTS is the default.

PyMC compiles the model afresh for each fit (no shared compile, unlike NUTS).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from hierdash.inference.results import FitStopped
from hierdash.inference.samplers.common import quiet
from hierdash.neural.model import KEPT, NEURAL_SHAPE, build_neural_model
from hierdash.neural.results import ModelFit

__all__ = ["run_advi"]

_REPORT_EVERY = 250


def run_advi(settings, data: dict[str, Any], kind: str, *, step, stopper, seed: int):
    """One ADVI fit: draws of :data:`KEPT` (sample, ...), how it went, 0.0 s of shared
    compile (PyMC's own compile is in the fit's seconds)."""
    import pymc as pm

    t0 = time.perf_counter()
    words = f"Fitting the {kind} network{'s' if kind == 'separate' else ''} (ADVI)"

    def callback(approx, losses, i) -> None:
        if i % _REPORT_EVERY:
            return
        reason = stopper.check()
        if reason:
            raise FitStopped(reason)
        step(i / settings.advi_steps, words)

    with quiet(), build_neural_model(NEURAL_SHAPE, data):
        approx = pm.fit(n=settings.advi_steps, method="advi", random_seed=seed,
                        progressbar=False, callbacks=[callback])
        trace = approx.sample(settings.chains * settings.draws, random_seed=seed)
    post = trace.posterior
    draws = {name: np.asarray(post[name].values).reshape((-1, *post[name].shape[2:]))
             for name in KEPT}
    return draws, ModelFit(kind, None, None, time.perf_counter() - t0, None), 0.0
