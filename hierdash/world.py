"""Simulation of the true weights and ragged per-task data, and padding to one array."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from hierdash.outcomes import TaskData, get_family, simulate_outcomes
from hierdash.scenario import Scenario

__all__ = [
    "World",
    "PaddedData",
    "SufficientStats",
    "simulate",
    "pad",
    "capacity_for",
    "sufficient_stats",
]


@dataclass(frozen=True, eq=False)
class World:
    """The truth and the ragged data of one scenario.

    Attributes
    ----------
    parent : ndarray, shape (features,)
        True parent weights.
    child : ndarray, shape (tasks, features)
        True child weights.
    X : tuple of ndarray, each (n_t, features)
        Features of each task (real rows only).
    y : tuple of ndarray, each (n_t,)
        Targets of each task.
    sizes : tuple of ndarray, each (n_t,), or None
        Trials (binomial) or exposure (Poisson) of each row; None for outcomes without
        one.
    """

    scenario: Scenario
    parent: np.ndarray
    child: np.ndarray
    X: tuple[np.ndarray, ...]
    y: tuple[np.ndarray, ...]
    sizes: tuple[np.ndarray, ...] | None = None

    @property
    def counts(self) -> np.ndarray:
        return np.array([len(y) for y in self.y], dtype=int)

    def task_data(self) -> TaskData:
        """The rows as the outcome families read them (checked for the outcome)."""
        family = get_family(self.scenario.outcome, **(
            {"noise": self.scenario.noise_sd} if self.scenario.is_gaussian else {}))
        return TaskData(family, self.X, self.y, self.sizes)


def simulate(scenario: Scenario) -> World:
    """Simulate the truth and the data of ``scenario`` from its seed alone.

    The truth and each task's rows come from their own spawned random streams, so
    changing one task's sample count leaves every other task's data and all true
    weights unchanged, and the same scenario gives the same data bit for bit. An
    outlier task (``scenario.outlier_task``) has every true weight
    ``outlier_shift`` child spreads off the parent and its own noise scale.

    Parameters
    ----------
    scenario
        The world to simulate.

    Returns
    -------
    World
    """
    s = scenario
    if not s.is_gaussian or s.intercept:
        return _simulate_outcome(s)
    seeds = np.random.SeedSequence(s.seed).spawn(1 + s.n_tasks)
    truth_rng = np.random.default_rng(seeds[0])
    parent = truth_rng.normal(s.parent_mean, s.parent_scale, size=s.n_features)
    child = truth_rng.normal(parent, s.child_spread, size=(s.n_tasks, s.n_features))
    noise = np.full(s.n_tasks, s.noise_sd)
    if s.outlier is not None:
        # Set after the draws, so every other task's truth and data stay as they were.
        child[s.outlier] = parent + s.outlier_shift * s.child_spread
        noise[s.outlier] *= s.outlier_noise
    # Task streams are spawned independently of the task count so adding a task
    # never changes the first tasks' data.
    Xs, ys = [], []
    for t, n in enumerate(s.samples):
        rng = np.random.default_rng(seeds[1 + t])
        X = rng.normal(s.x_mean, s.x_sd, size=(n, s.n_features))
        y = X @ child[t] + rng.normal(0.0, noise[t], size=n)
        Xs.append(X)
        ys.append(y)
    return World(s, parent, child, tuple(Xs), tuple(ys))


def _simulate_outcome(s: Scenario) -> World:
    """A world of any outcome (or a Gaussian one with an intercept column), drawn by
    :func:`hierdash.outcomes.simulate_outcomes` from the same seed streams. The outlier
    task (a lesson about a Gaussian task's weights and noise) is not drawn here."""
    family = get_family(s.outcome, **({"noise": s.noise_sd} if s.is_gaussian else {}))
    drawn = simulate_outcomes(
        family, samples=s.samples, seed=s.seed, n_features=s.n_features,
        intercept=s.intercept, parent_mean=s.parent_mean, parent_scale=s.parent_scale,
        child_spread=s.child_spread, x_mean=s.x_mean, x_sd=s.x_sd, trials=s.trials,
        exposure=s.exposure)
    data = drawn.data
    sizes = None if family.size_name is None else tuple(
        np.full(len(y), float(s.trials if family.size_name == "trials" else s.exposure))
        for y in data.y)
    return World(s, drawn.parent, drawn.child, tuple(data.X), tuple(data.y), sizes)


def _bucket(n: int, minimum: int) -> int:
    """Smallest power of two >= max(n, minimum)."""
    n = max(int(n), minimum)
    return 1 << (n - 1).bit_length()


def capacity_for(n_tasks: int, max_rows: int) -> tuple[int, int]:
    """Padded capacity (tasks, rows) for a world: powers of two, so that one compiled
    model serves every world in the same bucket."""
    return _bucket(n_tasks, 2), _bucket(max_rows, 16)


@dataclass(frozen=True, eq=False)
class PaddedData:
    """Ragged tasks padded to one rectangular array.

    Attributes
    ----------
    X : ndarray, shape (capacity_tasks, capacity_rows, features)
    y : ndarray, shape (capacity_tasks, capacity_rows)
    mask : ndarray of bool, shape (capacity_tasks, capacity_rows)
        True on real rows.
    likelihood_mask : ndarray of bool, same shape
        Rows that enter the likelihood: the real rows (``masked``) or every row of the
        notebook's (tasks x max rows) array, padding included (``naive``).
    counts : ndarray of int, shape (n_tasks,)
        Real rows per task.
    """

    X: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    likelihood_mask: np.ndarray
    counts: np.ndarray
    mode: str

    @property
    def n_tasks(self) -> int:
        return len(self.counts)

    @property
    def capacity(self) -> tuple[int, int]:
        return self.y.shape

    def unpad(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """The way back: the ragged (X, y) of the real rows of each real task."""
        Xs = tuple(self.X[t, self.mask[t]] for t in range(self.n_tasks))
        ys = tuple(self.y[t, self.mask[t]] for t in range(self.n_tasks))
        return Xs, ys


def pad(
    world: World,
    *,
    mode: Literal["masked", "naive"] = "masked",
    capacity: tuple[int, int] | None = None,
) -> PaddedData:
    """Zero-pad the ragged tasks of ``world`` into one array.

    Parameters
    ----------
    world
        Simulated data.
    mode
        ``masked``: only real rows enter the likelihood. ``naive``: every row of the
        (tasks x max rows) array does, zero padding included, as in the notebook.
    capacity
        (tasks, rows) of the padded array; by default the world's own shape. A larger
        capacity adds tasks with no rows and rows that never enter the likelihood.

    Returns
    -------
    PaddedData
    """
    if mode not in ("masked", "naive"):
        raise ValueError(f"padding mode = {mode!r} is not allowed: must be masked or naive")
    counts = world.counts
    n_tasks, k = len(counts), world.parent.shape[0]
    max_rows = int(counts.max(initial=0))
    cap_tasks, cap_rows = capacity if capacity is not None else (n_tasks, max_rows)
    if cap_tasks < n_tasks or cap_rows < max_rows:
        raise ValueError(
            f"capacity = {(cap_tasks, cap_rows)} is too small for {n_tasks} tasks "
            f"of up to {max_rows} rows"
        )
    X = np.zeros((cap_tasks, cap_rows, k))
    y = np.zeros((cap_tasks, cap_rows))
    mask = np.zeros((cap_tasks, cap_rows), dtype=bool)
    for t, n in enumerate(counts):
        X[t, :n] = world.X[t]
        y[t, :n] = world.y[t]
        mask[t, :n] = True
    if mode == "masked":
        likelihood_mask = mask.copy()
    else:
        likelihood_mask = np.zeros_like(mask)
        likelihood_mask[:n_tasks, :max_rows] = True
    return PaddedData(X, y, mask, likelihood_mask, counts, mode)


@dataclass(frozen=True, eq=False)
class SufficientStats:
    """Per-task sufficient statistics of the Gaussian likelihood.

    Attributes
    ----------
    XtX : ndarray, shape (tasks, features, features)
    Xty : ndarray, shape (tasks, features)
    yty : ndarray, shape (tasks,)
    n : ndarray, shape (tasks,)
        Rows in the likelihood per task (padding included in naive mode).
    """

    XtX: np.ndarray
    Xty: np.ndarray
    yty: np.ndarray
    n: np.ndarray


def sufficient_stats(padded: PaddedData) -> SufficientStats:
    """Sufficient statistics of the rows that enter the likelihood, real tasks only."""
    t = padded.n_tasks
    w = padded.likelihood_mask[:t].astype(float)
    X, y = padded.X[:t], padded.y[:t]
    Xw = X * w[..., None]
    return SufficientStats(
        XtX=np.einsum("tnk,tnl->tkl", Xw, X),
        Xty=np.einsum("tnk,tn->tk", Xw, y),
        yty=np.einsum("tn,tn->t", w * y, y),
        n=w.sum(axis=1),
    )
