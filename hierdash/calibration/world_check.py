"""One world's calibration check: where the truth falls among the posterior draws."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["INTERVALS", "LEVELS", "WorldCheck", "check_draws", "check_world", "checks_frame"]

INTERVALS: tuple[float, ...] = (0.5, 0.8, 0.94)
"""Probabilities of the central (equal-tailed) intervals that are checked."""

LEVELS: tuple[str, ...] = ("parent", "child", "spread", "noise")
"""The quantities' levels, in the order tables show them."""

_SHAPES = {"parent": 1, "child": 2, "spread": 0, "noise": 0}  # dimensions of one draw


@dataclass(frozen=True, eq=False)
class WorldCheck:
    """The truth's place in one world's posterior, quantity by quantity.

    Attributes
    ----------
    world
        Index of the world in its run.
    level, task, feature : ndarray, shape (quantities,)
        What each quantity is: ``task`` is -1 for the parent, spread and noise,
        ``feature`` -1 for spread and noise.
    truth : ndarray
        The true value of each quantity.
    rank : ndarray
        Fraction of posterior draws below the truth; uniform on [0, 1] over worlds
        drawn from the prior when the posterior is right.
    inside : ndarray of bool, shape (quantities, len(INTERVALS))
        Whether the truth lies in each central interval of the draws.
    n_draws
        Posterior draws per quantity (chains times draws).
    divergences, max_rhat, min_ess_bulk
        The fit's diagnostics (``None`` where the method has none).
    seconds
        Wall time of the fit.
    seed
        The world's seed, to refit it alone.
    """

    world: int
    level: np.ndarray
    task: np.ndarray
    feature: np.ndarray
    truth: np.ndarray
    rank: np.ndarray
    inside: np.ndarray
    n_draws: int
    divergences: int = 0
    max_rhat: float | None = None
    min_ess_bulk: float | None = None
    seconds: float = 0.0
    seed: int | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per quantity: world, level, task, feature, truth, rank, inside_50,
        inside_80, inside_94 (the rows of a ``ranks.csv``)."""
        frame = pd.DataFrame({
            "world": np.full(len(self.rank), self.world, dtype=int),
            "level": self.level,
            "task": self.task,
            "feature": self.feature,
            "truth": self.truth,
            "rank": self.rank,
        })
        for j, prob in enumerate(INTERVALS):
            frame[interval_column(prob)] = self.inside[:, j]
        return frame


def interval_column(prob: float) -> str:
    """``inside_94`` for 0.94."""
    return f"inside_{round(prob * 100)}"


def checks_frame(checks: Sequence[WorldCheck]) -> pd.DataFrame:
    """Every world's :meth:`WorldCheck.to_frame`, stacked."""
    if not checks:
        columns = ["world", "level", "task", "feature", "truth", "rank"]
        return pd.DataFrame(columns=columns + [interval_column(p) for p in INTERVALS])
    return pd.concat([c.to_frame() for c in checks], ignore_index=True)


def check_draws(
    *,
    world: int,
    truth: Mapping[str, float | np.ndarray],
    draws: Mapping[str, np.ndarray],
    divergences: int = 0,
    max_rhat: float | None = None,
    min_ess_bulk: float | None = None,
    seconds: float = 0.0,
    seed: int | None = None,
) -> WorldCheck:
    """Rank the truth among posterior draws, level by level.

    Parameters
    ----------
    world
        Index of the world.
    truth
        Level (``parent``, ``child``, ``spread``, ``noise``) to its true value:
        ``parent`` shaped (features,), ``child`` (tasks, features), the scales scalars.
        Any subset of the levels.
    draws
        The same levels' posterior draws, with the draws first: ``(samples, ...)``.
    divergences, max_rhat, min_ess_bulk, seconds, seed
        Carried into the result.

    Returns
    -------
    WorldCheck
    """
    if set(truth) != set(draws):
        raise ValueError(f"draws = levels {sorted(draws)} is not allowed: must be the "
                         f"levels of truth, {sorted(truth)}")
    parts = {name: [] for name in ("level", "task", "feature", "truth", "rank", "inside")}
    n_draws = None
    for level in (name for name in LEVELS if name in truth):
        value = np.asarray(truth[level], dtype=float)
        sample = np.asarray(draws[level], dtype=float)
        if value.ndim != _SHAPES[level] or sample.shape[1:] != value.shape:
            raise ValueError(
                f"draws[{level!r}] shape = {sample.shape} is not allowed: must be "
                f"(samples,) + the truth's shape {value.shape}, a {_SHAPES[level]}-d truth"
            )
        if sample.shape[0] < 2 or not np.all(np.isfinite(sample)):
            raise ValueError(f"draws[{level!r}] is not allowed: must hold 2 or more finite "
                             "draws")
        if n_draws is not None and sample.shape[0] != n_draws:
            raise ValueError(f"draws[{level!r}] count = {sample.shape[0]} is not allowed: "
                             f"must match the other levels' {n_draws}")
        n_draws = sample.shape[0]
        task, feature = _indices(level, value.shape)
        parts["level"].append(np.full(value.size, level, dtype=object))
        parts["task"].append(task)
        parts["feature"].append(feature)
        parts["truth"].append(value.ravel())
        parts["rank"].append((sample < value).mean(axis=0).ravel())
        parts["inside"].append(_inside(sample, value))
    if n_draws is None:
        raise ValueError("truth = {} is not allowed: must name at least one level of "
                         f"{', '.join(LEVELS)}")
    stacked = {name: np.concatenate(values) for name, values in parts.items()}
    return WorldCheck(
        world=int(world), level=stacked["level"], task=stacked["task"],
        feature=stacked["feature"], truth=stacked["truth"], rank=stacked["rank"],
        inside=stacked["inside"], n_draws=int(n_draws), divergences=int(divergences),
        max_rhat=None if max_rhat is None else float(max_rhat),
        min_ess_bulk=None if min_ess_bulk is None else float(min_ess_bulk),
        seconds=float(seconds), seed=seed,
    )


def _indices(level: str, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    if level == "child":
        tasks, features = shape
        return np.repeat(np.arange(tasks), features), np.tile(np.arange(features), tasks)
    if level == "parent":
        return np.full(shape[0], -1), np.arange(shape[0])
    return np.array([-1]), np.array([-1])


def _inside(sample: np.ndarray, value: np.ndarray) -> np.ndarray:
    """(quantities, intervals) bools: truth within each central interval's quantiles."""
    tails = [(1 - p) / 2 for p in INTERVALS]
    probs = tails + [1 - t for t in tails]
    q = np.quantile(sample, probs, axis=0).reshape(len(probs), -1)
    low, high = q[: len(INTERVALS)], q[len(INTERVALS):]
    flat = value.ravel()
    return ((low <= flat) & (flat <= high)).T


def check_world(scenario, fit_result, *, world: int = 0) -> WorldCheck:
    """Check one fit of a world drawn from the prior against the world's truth.

    Parameters
    ----------
    scenario : hierdash.scenario.Scenario
        The world's scenario (its true spread and noise).
    fit_result : hierdash.inference.FitResult
        The fit of that world (its true parent and children, its posterior).
    world
        Index of the world in its run.

    Returns
    -------
    WorldCheck
        Parent per feature, child per task and feature, the spread when learned
        (a fixed spread has no posterior to check) and the noise.
    """
    if fit_result.scenario != scenario:
        raise ValueError("fit_result is not allowed: it must be the fit of scenario "
                         f"(its scenario has seed {fit_result.scenario.seed}, "
                         f"not {scenario.seed})")
    truth = {
        "parent": fit_result.world.parent,
        "child": fit_result.world.child,
    }
    if scenario.is_gaussian:  # yes/no and count outcomes have no noise
        truth["noise"] = scenario.noise_sd
    if scenario.learn_spread:
        truth["spread"] = scenario.child_spread
    posterior = fit_result.posterior["posterior"].to_dataset()
    draws = {}
    for level in truth:
        values = np.asarray(posterior[level].values)
        draws[level] = values.reshape((-1,) + values.shape[2:])  # chains and draws stacked
    diag = fit_result.diagnostics
    return check_draws(
        world=world, truth=truth, draws=draws, divergences=diag.divergences,
        max_rhat=diag.max_rhat, min_ess_bulk=diag.min_ess_bulk,
        seconds=fit_result.total_s, seed=scenario.seed,
    )
