"""Neural tasks: a hierarchical Bayesian neural network over tasks of unequal size.

Each task is two moons turned by its own angle; one small tanh network per task, tied
to a parent network by one spread per layer and kind. Three fits on the same data
(separate networks, one pooled network, the hierarchical one) show a task with three
points borrowing a decision boundary from its siblings.

The pipeline, one module per step: :mod:`~hierdash.neural.settings` (the checked
settings) -> :mod:`~hierdash.neural.tasks` (simulate) -> :mod:`~hierdash.neural.model`
(the padded PyMC model, its likelihood one numba loop in :mod:`~hierdash.neural.kernel`)
-> :mod:`~hierdash.neural.fit` (the three fits, nutpie) and
:mod:`~hierdash.neural.scores` (accuracy, log score, surfaces, R-hat on probabilities)
into a :class:`~hierdash.neural.results.NeuralResult`; :mod:`~hierdash.neural.advi` is
mean-field ADVI, offered with a warning.

Import rule: what the inference layer uses (NumPy, SciPy, pandas, xarray, ArviZ's base,
PyMC, PyTensor, nutpie, numba, PyArrow); of the package, the layers above it (in
practice the settings and, of :mod:`hierdash.inference`, the compiled-model cache, the
stop rule, ``FitStopped`` and R-hat). Never Streamlit, the UI, the charts or the CLI.
"""

from hierdash.neural.fit import NEURAL_CACHE, fit_neural, warm_up_neural
from hierdash.neural.results import ADVI_WARNING, ModelFit, NeuralResult
from hierdash.neural.settings import NeuralSettings
from hierdash.neural.tasks import MoonTasks, points_frame, simulate_tasks

__all__ = ["NeuralSettings", "MoonTasks", "simulate_tasks", "points_frame", "NeuralResult",
           "ModelFit", "fit_neural", "warm_up_neural", "NEURAL_CACHE", "ADVI_WARNING"]
