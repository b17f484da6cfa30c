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

Parameterization per task and direction without recompiling: in a basis ``R`` of the
task's own (orthonormal columns; the prior is isotropic, so any basis will do), with
``w`` in {0, 1} per direction,

    child_raw ~ Normal(w * R'parent, spread ** w)
    child     = R (R'parent + spread ** (1 - w) * (child_raw - w * R'parent))

is centered along a direction when ``w = 1`` and non-centered when ``w = 0``; every
mix gives ``child ~ Normal(parent, spread)``. ``centered`` and ``noncentered`` use
``R = I`` and one ``w`` for all; ``auto`` uses the eigenvectors of the task's ``X'X``
(see :func:`centering_weights`).
"""

from __future__ import annotations

import dataclasses
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
    "Centering",
    "build_model",
    "model_key",
    "model_data",
    "centering_weights",
    "CompiledModelCache",
    "NUTPIE_CACHE",
    "start_from",
]


@dataclass(frozen=True)
class ModelKey:
    """Everything that fixes the model's compiled structure."""

    n_features: int
    capacity_tasks: int
    learn_spread: bool


def model_key(scenario: Scenario, padded: PaddedData) -> ModelKey:
    return ModelKey(scenario.n_features, padded.capacity[0], scenario.learn_spread)


@dataclass(frozen=True, eq=False)
class Centering:
    """How each task's weights are parameterized, direction by direction.

    Attributes
    ----------
    weights : ndarray, shape (capacity, K)
        1.0 where a direction of a task is centered, 0.0 where it is non-centered.
    rotation : ndarray, shape (capacity, K, K)
        Per task, an orthonormal basis (columns) whose directions ``weights`` refers
        to. The prior ``child ~ Normal(parent, spread)`` is isotropic, so it is the same
        in every basis; the eigenvectors of ``X'X`` separate the directions the task's
        data inform from those they do not.
    """

    weights: np.ndarray
    rotation: np.ndarray

    def centered_tasks(self, n_tasks: int) -> tuple[int, ...]:
        """Tasks with every direction centered."""
        return tuple(int(t) for t in np.flatnonzero(self.weights[:n_tasks].all(axis=1)))

    def partly_centered_tasks(self, n_tasks: int) -> tuple[int, ...]:
        """Tasks with some directions centered and some not."""
        w = self.weights[:n_tasks]
        return tuple(int(t) for t in np.flatnonzero(w.any(axis=1) & ~w.all(axis=1)))


def centering_weights(
    scenario: Scenario,
    stats: SufficientStats,
    capacity_tasks: int,
    *,
    noise_estimate: float,
    spread_estimate: float,
) -> Centering:
    """The parameterization of each task's weights: centered, non-centered or a mix.

    ``auto`` decides direction by direction: it rotates each task into the eigenbasis
    of its ``X'X`` and centers a direction when the data's precision along it,
    ``eigenvalue / noise**2``, is at least the hierarchical prior's, ``1 / spread**2``.
    A task with one or two rows (or collinear inputs) is thus centered along the
    directions its rows pin down and non-centered along the rest: a single weight per
    task must choose one form for both, and either choice leaves a funnel (measured on
    20 seeds of 4 tasks with 50, 10, 2 and 0 rows: deciding per task by the smallest
    eigenvalue gave 17 divergences, per direction 0; see
    ``python -m benchmarks.parameterization``). Tasks past the real ones (capacity
    padding) have no data and are non-centered.
    """
    t, k = stats.Xty.shape
    weights = np.zeros((capacity_tasks, k))
    rotation = np.broadcast_to(np.eye(k), (capacity_tasks, k, k)).copy()
    if scenario.parameterization == "centered":
        weights[:t] = 1.0
    elif scenario.parameterization == "auto" and t:
        eigenvalues, eigenvectors = np.linalg.eigh(stats.XtX)
        weights[:t] = eigenvalues / noise_estimate**2 >= 1.0 / spread_estimate**2
        # Rotate only the tasks that mix the forms: one form for every direction is
        # the textbook model in the task's own coordinates (measured: rotating those
        # too left the default world's posterior sds about 0.7 Monte Carlo errors low
        # on average over 8 seeds, against 0.1 unrotated).
        mixed = weights[:t].any(axis=1) & ~weights[:t].all(axis=1)
        rotation[:t][mixed] = eigenvectors[mixed]
    return Centering(weights, rotation)


def model_data(
    scenario: Scenario, stats: SufficientStats, capacity_tasks: int, centering: Centering
) -> dict[str, Any]:
    """Values of every ``pm.Data`` of the model for this world.

    ``stats`` are the likelihood's statistics of the real tasks (summed over the rows
    of the padded array's likelihood mask, see :func:`hierdash.data.sufficient_stats`);
    tasks past them, up to ``capacity_tasks``, get none. ``XtX`` and ``Xty`` are given
    in each task's basis (``R'X'XR``, ``R'X'y`` for the rotation ``R`` of
    ``centering``), so that the likelihood needs no rotation of the weights.
    """
    t, k = stats.Xty.shape
    R = centering.rotation[:t]
    XtX = np.zeros((capacity_tasks, k, k))
    Xty = np.zeros((capacity_tasks, k))
    XtX[:t] = np.einsum("tki,tkl,tlj->tij", R, stats.XtX, R)
    Xty[:t] = np.einsum("tki,tk->ti", R, stats.Xty)
    data = {
        "XtX": XtX,
        "Xty": Xty,
        "yty": np.array(float(stats.yty.sum())),
        "n_likelihood_rows": np.array(float(stats.n.sum())),
        "centered": np.asarray(centering.weights, dtype=float),
        # R' of every task stacked, (capacity * K, K): R'p for all tasks is one
        # matrix-vector product per gradient.
        "rotation_t_stacked": np.ascontiguousarray(
            np.transpose(centering.rotation, (0, 2, 1)).reshape(-1, k)
        ),
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
        w = pm.Data("centered", data["centered"], dims=("task", "feature"))
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

        # In each task's basis (columns of its rotation R): the parent's coordinates
        # R'p, and per direction the centered (w = 1) or non-centered (w = 0) form.
        rotation_t = pm.Data("rotation_t_stacked", data["rotation_t_stacked"])
        parent_rot = pt.dot(rotation_t, parent).reshape((key.capacity_tasks, key.n_features))
        # spread**w and spread**(1 - w) for w in {0, 1}, without a power per element
        # (with 64 tasks x 4 features the powers and their gradients doubled the cost
        # of a gradient).
        raw_scale = 1.0 + w * (spread - 1.0)
        offset_scale = spread - w * (spread - 1.0)
        child_raw = pm.Normal(
            "child_raw", mu=w * parent_rot, sigma=raw_scale, dims=("task", "feature")
        )
        child_rot = parent_rot + offset_scale * (child_raw - w * parent_rot)
        # The weights in the original basis, c = R b: only for the draws (nutpie computes
        # deterministics once per draw, not per gradient).
        rotation_t_3d = rotation_t.reshape((key.capacity_tasks, key.n_features, key.n_features))
        pm.Deterministic(
            "child", pt.sum(rotation_t_3d * child_rot[:, :, None], axis=1), dims=("task", "feature")
        )
        # Sum of squared residuals over the mask's rows, from the statistics in the
        # task's basis: sum (y - X c)^2 = y'y - 2 b'(R'X'y) + b'(R'X'XR) b with c = R b.
        # Padded rows add nothing (masked) or a zero row with y = 0 to the row count (naive).
        fitted = pt.sum(child_rot * Xty) - 0.5 * pt.sum(
            child_rot[:, :, None] * XtX * child_rot[:, None, :]
        )
        sq = yty - 2.0 * fitted
        pm.Potential(
            "likelihood",
            -0.5 * sq / noise**2 - n_rows * (pt.log(noise) + 0.5 * np.log(2 * np.pi)),
        )
    return model


def start_from(compiled, draw: Callable[[np.random.Generator], dict], centering: Centering):
    """``compiled`` with each chain started at a draw of ``draw(rng)``.

    nutpie's own starting point comes from the PyMC model's initial-point function,
    which reads the ``pm.Data`` values the model was *compiled* with, not those of
    ``with_data``: a model compiled for one world starts every later world's chains
    where the first world's would have started (measured: a centered fit of a data-poor
    world, compiled with other centering weights, had one chain stuck with 1001
    divergences). Starting each chain at a draw from the exact posterior is both right
    for the data at hand and already in the typical set, so tuning starts well.

    ``draw(rng)`` returns one posterior draw as ``parent`` (K,), ``child`` (T, K),
    ``noise`` and ``spread`` (floats); ``centering`` is the model's parameterization.
    Tasks past ``T`` (capacity padding) start at prior draws. Returns a new object:
    the cached compiled model is never mutated.
    """
    names, slices, _shapes = compiled.shape_info
    layout = [(n, sl) for n, sl in zip(names, slices, strict=True) if sl.stop <= compiled.n_dim]
    w, rotation = centering.weights, centering.rotation

    def initial_point(seed=None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        d = draw(rng)
        parent, tau = np.asarray(d["parent"], dtype=float), float(d["spread"])
        child = np.asarray(d["child"], dtype=float)
        t = len(child)
        # Invert child = R (R'p + tau**(1 - w) * (raw - w * R'p)) for raw.
        parent_rot = np.einsum("tkj,k->tj", rotation[:t], parent)
        child_rot = np.einsum("tkj,tk->tj", rotation[:t], child)
        raw = rng.standard_normal(w.shape)
        raw[:t] = w[:t] * parent_rot + (child_rot - parent_rot) * tau ** (w[:t] - 1.0)
        values = {
            "parent": parent,
            "child_raw": raw,
            "noise_log__": np.log(float(d["noise"])),
            "spread_log__": np.log(tau),
        }
        flat = np.empty(compiled.n_dim)
        for name, sl in layout:
            flat[sl] = np.ravel(values[name])
        return flat

    return dataclasses.replace(compiled, initial_point_func=initial_point)


class CompiledModelCache:
    """A bounded, thread-safe cache of compiled nutpie models by :class:`ModelKey`.

    Compiling costs seconds; sampling this model costs far less. Every world with the
    same key re-uses one compiled model through ``with_data`` (which returns a new
    object: the cached one is never mutated, so it is safe to share between users).

    Bounded two ways, so that a day of distinct worlds cannot grow the server's memory
    without limit: at most ``max_entries`` models (least recently used dropped first),
    and a model unused for ``max_idle_s`` seconds is dropped at the next lookup.
    """

    def __init__(
        self,
        max_entries: int = 16,
        *,
        max_idle_s: float = 2 * 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_entries = max_entries
        self.max_idle_s = max_idle_s
        self._clock = clock
        self._entries: OrderedDict[ModelKey, Any] = OrderedDict()
        self._last_used: dict[ModelKey, float] = {}
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
            self._last_used.clear()

    def _drop_idle(self, now: float) -> None:
        # Called with self._lock held.
        for key in [k for k, used in self._last_used.items() if now - used > self.max_idle_s]:
            self._entries.pop(key, None)
            del self._last_used[key]

    def _hit(self, key: ModelKey, now: float):
        # Called with self._lock held.
        self._entries.move_to_end(key)
        self._last_used[key] = now
        return self._entries[key]

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
            now = self._clock()
            self._drop_idle(now)
            if key in self._entries:
                return self._hit(key, now).with_data(**data), 0.0
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        # One compile per key, even when several users ask at once.
        with key_lock:
            with self._lock:
                if key in self._entries:
                    return self._hit(key, self._clock()).with_data(**data), 0.0
            if on_compile is not None:
                on_compile()
            start = time.perf_counter()
            compiled = _compile_nutpie(key, data)
            seconds = time.perf_counter() - start
            with self._lock:
                self._entries[key] = compiled
                self._last_used[key] = self._clock()
                self.compilations += 1
                self.compile_seconds.append(seconds)
                while len(self._entries) > self.max_entries:
                    dropped, _ = self._entries.popitem(last=False)
                    del self._last_used[dropped]
        return compiled.with_data(**data), seconds


def _compile_nutpie(key: ModelKey, data: dict[str, Any]):
    import nutpie

    model = build_model(key, data)
    # child_raw is an implementation detail; keep the draws small.
    names = ["parent", "child", "noise"] + (["spread"] if key.learn_spread else [])
    return nutpie.compile_pymc_model(model, var_names=names, freeze_model=False)


NUTPIE_CACHE = CompiledModelCache()
