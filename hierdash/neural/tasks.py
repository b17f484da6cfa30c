"""Simulate a world of tasks: two moons per task, each rotated by its own angle.

Written in NumPy (scikit-learn's ``make_moons`` is not a dependency): the two
interleaving half circles, centred on the origin, with Gaussian noise. Every task is the
same problem turned by an angle drawn from N(0, rotation_spread degrees), so tasks are
related (small spread) or not (large spread). Every random function takes a Generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hierdash.neural.settings import NeuralSettings

__all__ = ["MoonTasks", "make_moons", "rotate", "simulate_tasks", "points_frame"]

# Moves make_moons' points (x in [-1, 2], y in [-0.5, 1]) to the origin: the network's
# biases then have nothing to learn before the rotation does, and a rotation about the
# origin turns the problem rather than moving it away.
_CENTRE = np.array([0.5, 0.25])


@dataclass(frozen=True)
class MoonTasks:
    """Training and test points of every task.

    Attributes
    ----------
    X_train, y_train
        Per task: (n, 2) points and their 0/1 classes (``n`` may be 0).
    X_test, y_test
        Per task: the test points, never used for fitting.
    angles
        Each task's rotation, in degrees.
    """

    X_train: tuple[np.ndarray, ...]
    y_train: tuple[np.ndarray, ...]
    X_test: tuple[np.ndarray, ...]
    y_test: tuple[np.ndarray, ...]
    angles: np.ndarray

    @property
    def n_tasks(self) -> int:
        return len(self.X_train)

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(len(y) for y in self.y_train)


def make_moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of two moons, centred on the origin, and their classes.

    Classes are balanced (a random half, rounded at random, of each) and each point sits
    at a uniform position along its moon, plus N(0, noise) on both coordinates.
    """
    y = np.zeros(n, dtype=np.int64)
    y[: n // 2 + (rng.random() < 0.5 if n % 2 else 0)] = 1
    y = rng.permutation(y)
    angle = rng.uniform(0.0, np.pi, n)
    outer = np.column_stack([np.cos(angle), np.sin(angle)])
    inner = np.column_stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)])
    X = np.where(y[:, None] == 1, inner, outer) - _CENTRE
    return X + rng.normal(0.0, noise, X.shape), y


def rotate(X: np.ndarray, degrees: float) -> np.ndarray:
    """``X`` turned about the origin by ``degrees`` (counter-clockwise)."""
    a = np.deg2rad(degrees)
    turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return X @ turn.T


def simulate_tasks(settings: NeuralSettings, rng: np.random.Generator | None = None) -> MoonTasks:
    """The world of ``settings``: its tasks' angles, training and test points.

    Parameters
    ----------
    settings
        Sample counts, rotation spread, noise and test points per task.
    rng
        Random numbers; by default seeded with ``settings.seed``.
    """
    rng = np.random.default_rng(settings.seed) if rng is None else rng
    angles = rng.normal(0.0, settings.rotation_spread, settings.n_tasks)
    parts: list[list[np.ndarray]] = [[], [], [], []]
    for n, angle in zip(settings.samples, angles, strict=True):
        X, y = make_moons(n + settings.test_per_task, settings.noise, rng)
        X = rotate(X, angle)
        for i, part in enumerate((X[:n], y[:n], X[n:], y[n:])):
            parts[i].append(part)
    return MoonTasks(*(tuple(p) for p in parts), angles=angles)


def points_frame(tasks: MoonTasks):
    """One row per point: task, x1, x2, y, and ``set`` (``train`` or ``test``)."""
    import pandas as pd

    frames = []
    for t in range(tasks.n_tasks):
        for name, X, y in (("train", tasks.X_train[t], tasks.y_train[t]),
                           ("test", tasks.X_test[t], tasks.y_test[t])):
            frames.append(pd.DataFrame({"task": t, "x1": X[:, 0], "x2": X[:, 1],
                                        "y": y, "set": name}))
    return pd.concat(frames, ignore_index=True)
