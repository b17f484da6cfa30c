"""Fitting a world: :func:`fit` for every method, :func:`warm_up` to compile the shared
models at start-up, and the result types.

Folders and modules, in the order a fit runs: :mod:`~hierdash.inference.prepare`
(simulate or take a world, pad, the exact answer), :mod:`~hierdash.inference.models`
(the PyMC models and the cache of compiled ones), :mod:`~hierdash.inference.samplers`
(one runner per method), :mod:`~hierdash.inference.diagnostics` (R-hat, ESS, ELBO
verdicts), :mod:`~hierdash.inference.summarise` (tidy tables) and
:mod:`~hierdash.inference.results` (:class:`FitResult`); :mod:`~hierdash.inference.pipeline`
joins them.

Import rule: NumPy, SciPy, pandas, xarray, ArviZ and the samplers' stack (PyMC,
PyTensor, nutpie, numba, PyArrow); of the package only the layers before it (settings,
scenario, world, exact), never a later layer and never Streamlit. Inside, the layers
run the same way: ``models/`` and the fit steps (``prepare``, ``results``,
``diagnostics``, ``summarise``) never import each other, ``samplers/`` uses both, and
only ``pipeline`` and this facade see the samplers.
"""

from hierdash.inference.pipeline import fit, warm_up
from hierdash.inference.results import Diagnostics, FitResult, FitStopped, Progress

__all__ = ["fit", "warm_up", "FitResult", "Diagnostics", "FitStopped", "Progress"]
