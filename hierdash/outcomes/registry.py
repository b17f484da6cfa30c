"""The outcome families by name: the one list a new family is added to."""

from __future__ import annotations

from typing import Any

from hierdash.outcomes.binomial import Bernoulli, Binomial
from hierdash.outcomes.family import Family, OutcomeName
from hierdash.outcomes.gaussian import Gaussian
from hierdash.outcomes.poisson import Poisson

__all__ = ["FAMILIES", "OUTCOMES", "get_family"]

FAMILIES: dict[str, type[Family]] = {
    "gaussian": Gaussian,
    "bernoulli": Bernoulli,
    "binomial": Binomial,
    "poisson": Poisson,
}
OUTCOMES: tuple[OutcomeName, ...] = tuple(FAMILIES)  # type: ignore[assignment]
"""The outcome names, in the order a page lists them."""


def get_family(name: str | Family, **options: Any) -> Family:
    """The family called ``name`` (a family passes through unchanged).

    Parameters
    ----------
    name
        One of :data:`OUTCOMES`, or a :class:`Family` already built.
    **options
        The family's own options (``noise`` for ``gaussian``).

    Returns
    -------
    Family

    Raises
    ------
    ValueError
        For a name not in :data:`OUTCOMES`.
    """
    if isinstance(name, Family):
        return name
    if name not in FAMILIES:
        raise ValueError(f"outcome = {name!r} is not allowed: must be one of "
                         f"{', '.join(OUTCOMES)}")
    return FAMILIES[name](**options)
