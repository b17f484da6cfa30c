"""The samplers: one runner per method, each ``(scenario, prepared, report, stopper) ->
(posterior, diagnostics, compile seconds, sample seconds)``."""

from hierdash.inference.samplers.common import Stopper, resolve_parameterization
from hierdash.inference.samplers.nutpie_runner import run_nutpie
from hierdash.inference.samplers.pymc_runner import run_advi, run_exact, run_pymc_nuts

RUNNERS = {
    "nuts": run_nutpie,
    "pymc_nuts": run_pymc_nuts,
    "advi": run_advi,
    "fullrank_advi": run_advi,
    "exact": run_exact,
}

__all__ = ["RUNNERS", "Stopper", "resolve_parameterization"]
