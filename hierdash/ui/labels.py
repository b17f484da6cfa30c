"""Short names the pages show for the engine's choices (methods, parameterizations)."""

from __future__ import annotations

__all__ = [
    "METHOD_LABELS",
    "PARAMETERIZATION_LABELS",
    "MCMC_METHODS",
    "method_label",
    "parameterization_label",
]

METHOD_LABELS: dict[str, str] = {
    "nuts": "NUTS (nutpie)",
    "pymc_nuts": "NUTS (PyMC)",
    "advi": "ADVI (mean-field)",
    "fullrank_advi": "ADVI (full-rank)",
    "exact": "exact (closed form)",
}
PARAMETERIZATION_LABELS: dict[str, str] = {
    "auto": "auto",
    "marginal": "marginal",
    "centered": "centered",
    "noncentered": "non-centered",
}
MCMC_METHODS: tuple[str, ...] = ("nuts", "pymc_nuts")  # the methods with chains to compare


def method_label(method: str, outcome: str = "gaussian") -> str:
    """The reader's name of a method (the method itself if it has none yet). The exact
    method of a yes/no or count ``outcome`` is the quadrature reference, no closed form."""
    if method == "exact" and outcome != "gaussian":
        return "exact (quadrature)"
    return METHOD_LABELS.get(method, method)


def parameterization_label(parameterization: str) -> str:
    """The reader's name of a parameterization (itself if it has none yet)."""
    return PARAMETERIZATION_LABELS.get(parameterization, parameterization)
