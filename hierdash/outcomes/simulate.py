"""Simulating a world of any outcome family: the truth as the Gaussian world draws it.

The truth is drawn as :func:`hierdash.world.simulate` draws it: parent weights
``Normal(parent_mean, parent_scale)`` per feature, each task's weights
``Normal(parent, child_spread)`` around them. Features are ``Normal(x_mean, x_sd)``,
with an optional first column of ones (the intercept). Each row's outcome is drawn by
the family at its linear predictor ``x . c[t]``.

The truth and each task's rows come from their own spawned random streams, in the same
order as the Gaussian world's: changing one task's row count leaves every other task's
rows and the truth as they were, and a Gaussian family without an intercept gives the
very numbers of :func:`hierdash.world.simulate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hierdash.outcomes.data import TaskData
from hierdash.outcomes.family import Family
from hierdash.outcomes.registry import get_family
from hierdash.values import bad_value, finite_number, whole_number

__all__ = ["OutcomeWorld", "simulate_outcomes"]


@dataclass(frozen=True, eq=False)
class OutcomeWorld:
    """The truth and the data of one simulated world.

    Attributes
    ----------
    data : TaskData
        The rows of each task (features, outcomes, sizes).
    parent : ndarray (K,)
        True parent weights (link scale).
    child : ndarray (T, K)
        True weights of each task (link scale).
    intercept : bool
        Whether the first feature is a column of ones.
    """

    data: TaskData
    parent: np.ndarray
    child: np.ndarray
    intercept: bool

    @property
    def family(self) -> Family:
        return self.data.family

    @property
    def counts(self) -> np.ndarray:
        return self.data.counts


def simulate_outcomes(
    family: str | Family,
    *,
    samples: Sequence[int],
    seed: int | np.random.Generator,
    n_features: int = 1,
    intercept: bool = True,
    parent_mean: float = 0.0,
    parent_scale: float = 1.0,
    child_spread: float = 0.5,
    x_mean: float = 0.0,
    x_sd: float = 1.0,
    trials: int = 1,
    exposure: float = 1.0,
) -> OutcomeWorld:
    """Simulate the truth and the rows of a world of ``family``.

    Parameters
    ----------
    family
        An outcome family or its name (``gaussian``, ``bernoulli``, ``binomial``,
        ``poisson``).
    samples
        Rows per task (its length is the number of tasks); zero is allowed.
    seed
        A seed (the same seed gives the same world bit for bit) or a Generator (its
        streams are spawned from it).
    n_features
        Weights per task, the intercept included (1 to 8).
    intercept
        Whether the first feature is a column of ones (with ``n_features = 1`` the
        model is intercept only: one rate or probability per task).
    parent_mean, parent_scale, child_spread
        The truth: parent ``~ Normal(parent_mean, parent_scale)`` per feature, each task
        ``~ Normal(parent, child_spread)``, on the link scale.
    x_mean, x_sd
        Features (other than the intercept) are ``Normal(x_mean, x_sd)``.
    trials
        Trials per row of a binomial world (>= 1).
    exposure
        Exposure per row of a Poisson world (> 0).

    Returns
    -------
    OutcomeWorld

    Raises
    ------
    ValueError
        If an option is out of range (naming it) or the counts would be too large to
        draw.
    """
    fam = get_family(family)
    samples = _samples(samples)
    n_features = whole_number("n_features", n_features, 1, 8)
    if not isinstance(intercept, bool):
        raise bad_value("intercept", intercept, "must be true or false")
    parent_mean = finite_number("parent_mean", parent_mean)
    parent_scale = finite_number("parent_scale", parent_scale, low=0.0)
    child_spread = finite_number("child_spread", child_spread, low=0.0)
    x_mean = finite_number("x_mean", x_mean)
    x_sd = finite_number("x_sd", x_sd, low=0.0)
    trials = whole_number("trials", trials, 1, 10**6)
    exposure = finite_number("exposure", exposure, low=0.0, strict=True)
    size = {"trials": trials, "exposure": exposure}.get(fam.size_name or "")

    n_tasks = len(samples)
    if isinstance(seed, np.random.Generator):
        streams = seed.spawn(1 + n_tasks)
    else:
        seed = whole_number("seed", seed, 0, 2**63 - 1)
        streams = [np.random.default_rng(s)
                   for s in np.random.SeedSequence(seed).spawn(1 + n_tasks)]
    truth = streams[0]
    parent = truth.normal(parent_mean, parent_scale, size=n_features)
    child = truth.normal(parent, child_spread, size=(n_tasks, n_features))
    drawn = n_features - int(intercept)
    Xs, ys = [], []
    for t, n in enumerate(samples):
        rng = streams[1 + t]
        X = rng.normal(x_mean, x_sd, size=(n, drawn))
        if intercept:
            X = np.concatenate([np.ones((n, 1)), X], axis=1)
        Xs.append(X)
        ys.append(fam.simulate(X @ child[t], np.full(n, float(size or 1.0)), rng))
    data = TaskData(fam, tuple(Xs), tuple(ys), size if size is not None else None)
    return OutcomeWorld(data, parent, child, intercept)


def _samples(samples) -> tuple[int, ...]:
    try:
        out = tuple(int(n) for n in samples)
    except (TypeError, ValueError):
        raise bad_value("samples", samples, "must be rows per task, whole numbers") from None
    if not out or any(n < 0 for n in out) or any(
            float(a) != n for a, n in zip(samples, out, strict=True)):
        raise bad_value("samples", samples, "must be one whole number >= 0 per task, at "
                        "least one task")
    return out
