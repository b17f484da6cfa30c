"""The PyMC models of a world and the cache of compiled nutpie models.

:mod:`~hierdash.inference.models.latent` (every weight a variable),
:mod:`~hierdash.inference.models.marginal` (the child weights integrated out; its
likelihood and gradient in :mod:`~hierdash.inference.models.marginal_kernel`, one numba
loop) and :mod:`~hierdash.inference.models.compiled` (models compiled once at capacity,
then only their data swapped).

Import rule: NumPy, PyMC, PyTensor, nutpie and numba; of the package only the layers
before inference (settings, scenario, world, exact), never the rest of
:mod:`hierdash.inference`.
"""
