"""The hierarchical regression model in PyMC, and a cache of compiled models.

One model graph serves every world of the same *structure* (feature count, padded
task capacity, learned or fixed spread): the data, the priors, the per-task
parameterization and the padding mode are all ``pm.Data``, so a new seed, new data,
another prior or another parameterization re-uses the compiled model.

The likelihood reads the padded (tasks x rows) array through its masked sufficient
statistics: per task ``X'X``, ``X'y``, ``y'y`` and the number of rows, summed over the
rows of the likelihood mask (the real rows when ``masked``, every row of the
notebook's array when ``naive``). That is the same Gaussian likelihood as summing over
rows, costs O(K^2) instead of O(rows K) per task and gradient, and takes the row count
out of the compiled shape: only the task capacity is padded in the model.

Parameterization per task without recompiling: with ``w`` in {0, 1} per task,

    child_raw ~ Normal(w * parent, spread ** w)
    child     = parent + spread ** (1 - w) * (child_raw - w * parent)

is the centered model when ``w = 1`` (``child = child_raw``) and the non-centered one
when ``w = 0`` (``child = parent + spread * child_raw``); both give
``child ~ Normal(parent, spread)``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hierdash.data import PaddedData, SufficientStats
from hierdash.scenario import Scenario

__all__ = [
    "ModelKey",
    "build_model",
    "model_key",
    "model_data",
    "centering_weights",
    "CompiledModelCache",
    "NUTPIE_CACHE",
]


@dataclass(frozen=True)
class ModelKey:
    """Everything that fixes the model's compiled structure."""

    n_features: int
    capacity_tasks: int
    learn_spread: bool


def model_key(scenario: Scenario, padded: PaddedData) -> ModelKey:
    return ModelKey(scenario.n_features, padded.capacity[0], scenario.learn_spread)


def centering_weights(
    scenario: Scenario,
    stats: SufficientStats,
    capacity_tasks: int,
    *,
    noise_estimate: float,
    spread_estimate: float,
) -> np.ndarray:
    """Per-task parameterization: 1.0 centered, 0.0 non-centered.

    ``auto`` centers a task when its data inform its weights more than the
    hierarchical prior does: the smallest eigenvalue of ``X'X / noise**2`` (the data's
    precision about the weights) at least ``1 / spread**2`` (the prior's). Tasks past
    the real ones (capacity padding) have no data and are non-centered.
    """
    w = np.zeros(capacity_tasks)
    t = len(stats.n)
    if scenario.parameterization == "centered":
        w[:t] = 1.0
    elif scenario.parameterization == "auto":
        data_precision = np.linalg.eigvalsh(stats.XtX)[:, 0] / noise_estimate**2
        w[:t] = (data_precision >= 1.0 / spread_estimate**2).astype(float)
    return w


def model_data(
    scenario: Scenario, stats: SufficientStats, capacity_tasks: int, centered: np.ndarray
) -> dict[str, Any]:
    """Values of every ``pm.Data`` of the model for this world.

    ``stats`` are the likelihood's statistics of the real tasks (summed over the rows
    of the padded array's likelihood mask, see :func:`hierdash.data.sufficient_stats`);
    tasks past them, up to ``capacity_tasks``, get none.
    """
    t, k = stats.Xty.shape
    XtX = np.zeros((capacity_tasks, k, k))
    Xty = np.zeros((capacity_tasks, k))
    XtX[:t], Xty[:t] = stats.XtX, stats.Xty
    data = {
        "XtX": XtX,
        "Xty": Xty,
        "yty": np.array(float(stats.yty.sum())),
        "n_likelihood_rows": np.array(float(stats.n.sum())),
        "centered": np.asarray(centered, dtype=float),
        "prior_parent_mean": np.array(scenario.prior_parent_mean),
        "prior_parent_scale": np.array(scenario.prior_parent_scale),
        "prior_noise_scale": np.array(scenario.prior_noise_scale),
    }
    # Each pm.Data must exist in the graph: the spread is learned or fixed, not both.
    if scenario.learn_spread:
        data["prior_spread_scale"] = np.array(scenario.prior_spread_scale)
    else:
        data["fixed_spread"] = np.array(scenario.child_spread)
    return data


def build_model(key: ModelKey, data: dict[str, Any]):
    """Build the PyMC model for ``key`` holding ``data``.

    Variables: ``parent`` (feature), ``child`` (task, feature), ``noise`` and, when
    learned, ``spread``. Padded rows enter through ``likelihood_mask`` only: no
    NaN or masked ``observed`` (PyMC would impute those).
    """
    import pymc as pm
    import pytensor.tensor as pt

    coords = {
        "task": np.arange(key.capacity_tasks),
        "feature": np.arange(key.n_features),
        "feature_": np.arange(key.n_features),
    }
    with pm.Model(coords=coords) as model:
        XtX = pm.Data("XtX", data["XtX"], dims=("task", "feature", "feature_"))
        Xty = pm.Data("Xty", data["Xty"], dims=("task", "feature"))
        yty = pm.Data("yty", data["yty"])
        n_rows = pm.Data("n_likelihood_rows", data["n_likelihood_rows"])
        w = pm.Data("centered", data["centered"], dims="task")
        prior_mu = pm.Data("prior_parent_mean", data["prior_parent_mean"])
        prior_sd = pm.Data("prior_parent_scale", data["prior_parent_scale"])
        noise_scale = pm.Data("prior_noise_scale", data["prior_noise_scale"])

        parent = pm.Normal("parent", mu=prior_mu, sigma=prior_sd, dims="feature")
        if key.learn_spread:
            spread_scale = pm.Data("prior_spread_scale", data["prior_spread_scale"])
            spread = pm.HalfNormal("spread", sigma=spread_scale)
        else:
            spread = pm.Data("fixed_spread", data["fixed_spread"])
        noise = pm.HalfNormal("noise", sigma=noise_scale)

        wc = w[:, None]
        child_raw = pm.Normal(
            "child_raw", mu=wc * parent, sigma=spread**wc, dims=("task", "feature")
        )
        child = pm.Deterministic(
            "child",
            parent + spread ** (1.0 - wc) * (child_raw - wc * parent),
            dims=("task", "feature"),
        )
        # Sum of squared residuals over the mask's rows, from the statistics:
        # sum (y - X c)^2 = y'y - 2 c'X'y + c'X'X c. Padded rows add nothing (masked)
        # or a zero row with y = 0 to the row count (naive).
        fitted = pt.sum(child * Xty) - 0.5 * pt.sum(child[:, :, None] * XtX * child[:, None, :])
        sq = yty - 2.0 * fitted
        pm.Potential(
            "likelihood",
            -0.5 * sq / noise**2 - n_rows * (pt.log(noise) + 0.5 * np.log(2 * np.pi)),
        )
    return model


class CompiledModelCache:
    """A bounded, thread-safe cache of compiled nutpie models by :class:`ModelKey`.

    Compiling costs seconds; sampling this model costs far less. Every world with the
    same key re-uses one compiled model through ``with_data`` (which returns a new
    object: the cached one is never mutated, so it is safe to share between users).
    """

    def __init__(self, max_entries: int = 16):
        self.max_entries = max_entries
        self._entries: OrderedDict[ModelKey, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[ModelKey, threading.Lock] = {}
        self.compilations = 0
        self.compile_seconds: list[float] = []

    def __contains__(self, key: ModelKey) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(
        self,
        key: ModelKey,
        data: dict[str, Any],
        *,
        on_compile: Callable[[], None] | None = None,
    ) -> tuple[Any, float]:
        """Return the compiled model for ``key`` (holding ``data``) and the seconds
        spent compiling it now (0.0 on a cache hit)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key].with_data(**data), 0.0
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        # One compile per key, even when several users ask at once.
        with key_lock:
            with self._lock:
                if key in self._entries:
                    return self._entries[key].with_data(**data), 0.0
            if on_compile is not None:
                on_compile()
            start = time.perf_counter()
            compiled = _compile_nutpie(key, data)
            seconds = time.perf_counter() - start
            with self._lock:
                self._entries[key] = compiled
                self.compilations += 1
                self.compile_seconds.append(seconds)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return compiled.with_data(**data), seconds


def _compile_nutpie(key: ModelKey, data: dict[str, Any]):
    import nutpie

    model = build_model(key, data)
    # child_raw is an implementation detail; keep the draws small.
    names = ["parent", "child", "noise"] + (["spread"] if key.learn_spread else [])
    return nutpie.compile_pymc_model(model, var_names=names, freeze_model=False)


NUTPIE_CACHE = CompiledModelCache()
