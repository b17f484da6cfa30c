"""Fitting a world: :func:`fit` for every method, :func:`warm_up` to compile the shared
models at start-up, and the result types.

Folders and modules, in the order a fit runs: :mod:`~hierdash.inference.prepare`
(simulate or take a world, pad, the exact answer), :mod:`~hierdash.inference.models`
(the PyMC models and the cache of compiled ones), :mod:`~hierdash.inference.samplers`
(one runner per method), :mod:`~hierdash.inference.diagnostics` (R-hat, ESS, ELBO
verdicts), :mod:`~hierdash.inference.summarise` (tidy tables) and
:mod:`~hierdash.inference.results` (:class:`FitResult`); :mod:`~hierdash.inference.pipeline`
joins them.

Import rule: modules here import :mod:`hierdash.settings`, :mod:`hierdash.scenario`,
:mod:`hierdash.world` and :mod:`hierdash.exact`, never a later layer, and never
Streamlit.
"""

from hierdash.inference.pipeline import fit, warm_up
from hierdash.inference.results import Diagnostics, FitResult, FitStopped, Progress

__all__ = ["fit", "warm_up", "FitResult", "Diagnostics", "FitStopped", "Progress"]
