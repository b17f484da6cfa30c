"""The samplers: one runner per method, each ``(scenario, prepared, report, stopper) ->
(posterior, diagnostics, compile seconds, sample seconds)``.

Import rule: as :mod:`hierdash.inference`'s; inside it, :mod:`~hierdash.inference.models`
and the fit steps (``prepare``, ``results``, ``diagnostics``, ``summarise``), never
``pipeline`` or the facade.
"""

from hierdash.inference.samplers.advi_runner import run_advi
from hierdash.inference.samplers.common import Stopper, resolve_parameterization
from hierdash.inference.samplers.nutpie_runner import run_nutpie
from hierdash.inference.samplers.pymc_runner import run_exact, run_pymc_nuts

RUNNERS = {
    "nuts": run_nutpie,
    "pymc_nuts": run_pymc_nuts,
    "advi": run_advi,
    "fullrank_advi": run_advi,
    "exact": run_exact,
}

__all__ = ["RUNNERS", "Stopper", "resolve_parameterization"]
