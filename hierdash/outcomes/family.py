"""The one interface every outcome family implements, and the checks they share.

A family turns the linear predictor ``eta = x . c`` of a row into a distribution of
its outcome ``y``. It knows its link, the log-likelihood of a row and its first two
derivatives in ``eta`` (what Newton's method and the quadrature need), how to draw
``y``, and how to check ``y`` in words a student understands.

Each row may carry a *size*: the number of trials of a binomial row, the exposure of a
Poisson row (its rate is ``exposure * exp(eta)``). Families without one ignore it.

Adding a family (Gamma, negative binomial) means writing one module with one subclass
of :class:`Family` and naming it in :mod:`~hierdash.outcomes.registry`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import numpy as np
from scipy.special import expit, logit

__all__ = ["Family", "Link", "OutcomeName", "first_bad", "numbers"]

Link = Literal["identity", "logit", "log"]
OutcomeName = Literal["gaussian", "bernoulli", "binomial", "poisson"]


def first_bad(bad: np.ndarray, values: np.ndarray, where: str) -> str:
    """``"<where>row 4 has 3"``: the first offending row of ``values``, for a message."""
    i = int(np.flatnonzero(bad)[0])
    value = values[i]
    shown = int(value) if float(value).is_integer() else float(value)
    return f"{where}row {i + 1} has {shown}"


class Family(ABC):
    """An outcome family: link, likelihood of a row, its derivatives, draws and checks.

    Subclasses are frozen dataclasses (hashable, usable as cache keys). Every array
    method works elementwise on arrays that broadcast (a batch of linear predictors
    against one column of outcomes).

    Attributes
    ----------
    name : str
        The outcome's name (``bernoulli``, ...).
    link : {"identity", "logit", "log"}
        How the mean is tied to ``eta``.
    size_name : str or None
        What a row's size is called (``trials``, ``exposure``), or None.
    mergeable : bool
        Whether rows of a task with the same features may be merged into one (summing
        ``y`` and the size) without changing the likelihood beyond a constant.
    """

    name: ClassVar[OutcomeName]
    link: ClassVar[Link]
    size_name: ClassVar[str | None] = None
    mergeable: ClassVar[bool] = False

    # -- the link ----------------------------------------------------------------------
    def inverse_link(self, eta: np.ndarray) -> np.ndarray:
        """The mean per unit of size (a probability, a rate) at linear predictor ``eta``."""
        eta = np.asarray(eta, dtype=float)
        if self.link == "logit":
            return expit(eta)
        if self.link == "log":
            return np.exp(eta)
        return eta

    def link_function(self, mean: np.ndarray) -> np.ndarray:
        """The linear predictor of ``mean`` (a probability, a rate): the inverse of
        :meth:`inverse_link`."""
        mean = np.asarray(mean, dtype=float)
        if self.link == "logit":
            return logit(mean)
        if self.link == "log":
            with np.errstate(divide="ignore"):
                return np.log(mean)
        return mean

    # -- the likelihood ----------------------------------------------------------------
    @abstractmethod
    def kernel(self, eta: np.ndarray, y: np.ndarray, size: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The log-likelihood of rows up to a constant, and its derivatives in ``eta``.

        Parameters
        ----------
        eta, y, size
            Linear predictors, outcomes and sizes (broadcasting).

        Returns
        -------
        value, gradient, curvature
            ``l(eta)`` without the terms free of ``eta`` (see :meth:`constant`),
            ``dl/deta`` and ``-d2l/deta2`` (>= 0: every family here is log-concave in
            ``eta``, which keeps Newton's method on the weights safe).
        """

    def value(self, eta: np.ndarray, y: np.ndarray, size: np.ndarray) -> np.ndarray:
        """The first output of :meth:`kernel` alone (the quadrature's nodes need no
        derivatives); families override it when that is cheaper."""
        return self.kernel(eta, y, size)[0]

    @abstractmethod
    def constant(self, y: np.ndarray, size: np.ndarray) -> np.ndarray:
        """The terms of each row's log-likelihood that do not depend on ``eta``."""

    def log_likelihood(self, eta: np.ndarray, y: np.ndarray, size: np.ndarray) -> np.ndarray:
        """The full log-likelihood of each row (normalising constants included)."""
        value = self.kernel(eta, y, size)[0]
        return value + self.constant(y, size)

    # -- draws and checks --------------------------------------------------------------
    @abstractmethod
    def simulate(self, eta: np.ndarray, size: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw one outcome per row at linear predictor ``eta`` (floats)."""

    @abstractmethod
    def check(self, y: np.ndarray, size: np.ndarray | None, *, where: str = ""
              ) -> tuple[np.ndarray, np.ndarray]:
        """Check one task's outcomes (and sizes) and return them as float arrays.

        Parameters
        ----------
        y
            The outcomes, one per row.
        size
            Trials or exposure per row (None: the family's default, if it has one).
        where
            Prefix naming the task in messages (``"task 3, "``).

        Returns
        -------
        y, size
            Float arrays of one row each; ``size`` is all ones for families without one.

        Raises
        ------
        ValueError
            Naming the problem as a student would see it (``y`` not 0/1 for a yes/no
            outcome, more successes than trials, a negative count, zero exposure).
        """


def numbers(name: str, values: object, where: str) -> np.ndarray:
    """``values`` as a flat float array of finite numbers, or a ValueError naming the row."""
    try:
        out = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must hold numbers: {where}{err}") from None
    if not np.all(np.isfinite(out)):
        row = int(np.flatnonzero(~np.isfinite(out))[0]) + 1
        raise ValueError(f"{name} must be a number on every row: {where}row {row} is "
                         "missing or infinite")
    return out
