"""Compiled nutpie models: which ones exist, a shared cache, and chains' starting points.

Compiling costs seconds (7 s warm, 25-90 s on an empty disk cache); sampling this model
costs far less. So the shapes are fixed: two compiled models serve every world within
the bounds, one per kind of model (:data:`MODEL_KEYS`), each padded to the largest
world. The app compiles both in the background at start-up; every later fit only
swaps data in with ``with_data`` (a student's own data with more than the simulated
bound of tasks, fitted with a sampled form, is the one exception: see LARGE_LATENT).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hierdash.scenario import BOUNDS, DATA_MAX_ROWS, DATA_MAX_TASKS, MAX_TASKS, MAX_TOTAL_ROWS

__all__ = ["ModelKey", "MODEL_KEYS", "LARGE_LATENT", "LARGE_GLM", "GLM_TIERS", "CompiledModelCache",
           "NUTPIE_CACHE", "start_from"]

ModelKind = Literal["marginal", "latent", "glm"]


@dataclass(frozen=True)
class ModelKey:
    """Everything that fixes a compiled model's structure."""

    kind: ModelKind
    tasks: int
    features: int
    rows: int = 0  # the glm model's row capacity (the others read statistics, not rows)


MAX_FEATURES = int(BOUNDS["n_features"].high)
# The marginal model's cost per gradient follows the world's own size (it computes on
# slices), so one capacity serves simulated worlds and a student's data alike. The
# latent model samples every padded weight, so it keeps the simulated bound; a data
# set with more groups fitted centered or non-centered compiles LARGE_LATENT once.
MODEL_KEYS: dict[str, ModelKey] = {
    "marginal": ModelKey("marginal", DATA_MAX_TASKS, MAX_FEATURES),
    "latent": ModelKey("latent", MAX_TASKS, MAX_FEATURES),
    # Yes/no and count outcomes, every family in one model. Its padded weights are
    # sampled too, and NUTS pays for them in steps, not only in arithmetic: its step
    # size shrinks as the dimension grows. On the default worlds of the three families
    # the model at the simulated bounds took 20 to 60% more steps per draw and twice
    # the time of one of 12 tasks and 3 features (benchmarks/glm_tiers). So small
    # worlds get a small model.
    "glm_small": ModelKey("glm", 12, 3, 3000),
    "glm": ModelKey("glm", MAX_TASKS, MAX_FEATURES, MAX_TOTAL_ROWS),
}
LARGE_LATENT = ModelKey("latent", DATA_MAX_TASKS, MAX_FEATURES)
# A student's yes/no or count data with more groups (rat tumours have 71): a fit's cost
# follows the task capacity (every padded weight is sampled), so the simulated worlds
# keep their smaller model.
LARGE_GLM = ModelKey("glm", DATA_MAX_TASKS, MAX_FEATURES, DATA_MAX_ROWS)
# The outcome models from the smallest: a world is fitted by the first it fits in.
GLM_TIERS = (MODEL_KEYS["glm_small"], MODEL_KEYS["glm"], LARGE_GLM)


def build_pymc_model(key: ModelKey, data: dict[str, Any]):
    """The PyMC model of ``key`` holding ``data``."""
    if key.kind == "marginal":
        from hierdash.inference.models.marginal import build_marginal_model

        return build_marginal_model(data)
    if key.kind == "glm":
        from hierdash.inference.models.glm import GlmShape, build_glm_model

        return build_glm_model(GlmShape(key.tasks, key.features, key.rows), data)
    from hierdash.inference.models.latent import LatentShape, build_latent_model

    return build_latent_model(LatentShape(key.tasks, key.features), data)


# What a fit keeps of each kind of model (the rest are implementation details).
KEPT_VARIABLES: dict[ModelKind, list[str]] = {
    "marginal": ["noise", "spread"],
    "latent": ["parent", "child", "noise", "spread"],
    "glm": ["parent", "child", "spread"],
}


def _compile_nutpie(key: ModelKey, data: dict[str, Any]):
    import nutpie

    model = build_pymc_model(key, data)
    return nutpie.compile_pymc_model(model, var_names=KEPT_VARIABLES[key.kind], freeze_model=False)


def start_from(compiled, start: Callable[[np.random.Generator], dict[str, Any]]):
    """``compiled`` with each chain started at ``start(rng)``.

    nutpie's own starting point comes from the PyMC model's initial-point function,
    which reads the ``pm.Data`` values the model was *compiled* with, not those of
    ``with_data``: a model compiled for one world would start every later world's chains
    where the first world's would have started (measured on the latent model: one chain
    of a centered data-poor fit stuck, 1001 divergences). ``start(rng)`` returns the
    unconstrained value of every free variable by its value name (the models pin those
    names: ``LATENT_VALUE_NAMES``, ``MARGINAL_VALUE_NAMES``). Returns a new object
    (``initial_point_func`` is a field of nutpie's compiled-model dataclass): the cached
    compiled model is never mutated.
    """
    names, slices, _shapes = compiled.shape_info
    layout = [(n, sl) for n, sl in zip(names, slices, strict=True) if sl.stop <= compiled.n_dim]

    def initial_point(seed=None) -> np.ndarray:
        values = start(np.random.default_rng(seed))
        missing = {n for n, _ in layout} - set(values)
        if missing:
            raise KeyError(f"no starting value for {sorted(missing)}")
        flat = np.empty(compiled.n_dim)
        for name, sl in layout:
            flat[sl] = np.ravel(values[name])
        return flat

    return dataclasses.replace(compiled, initial_point_func=initial_point)


class CompiledModelCache:
    """A bounded, thread-safe cache of compiled nutpie models by :class:`ModelKey`.

    Every world re-uses one compiled model through ``with_data`` (which returns a new
    object: the cached one is never mutated, so it is safe to share between users).
    Bounded two ways, so that a long-running server cannot grow without limit: at most
    ``max_entries`` models (least recently used dropped first), and a model unused for
    ``max_idle_s`` seconds is dropped at the next lookup. ``compile(key, data)`` makes a
    missing model (default: the PyMC model of a :class:`ModelKey`, compiled by nutpie).
    """

    def __init__(
        self,
        max_entries: int = 16,
        *,
        max_idle_s: float = 2 * 3600.0,
        clock: Callable[[], float] = time.monotonic,
        compile: Callable[[Any, dict[str, Any]], Any] | None = None,
    ):
        self.max_entries = max_entries
        # How a missing key is compiled: another model family (hierdash.neural) keeps a
        # cache of the same kind with its own keys and compile function.
        self._compile = _compile_nutpie if compile is None else compile
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
        this call spent on its compile: compiling it, or waiting for another thread's
        compile of it (the app's start-up warm-up); 0.0 on a cache hit.

        ``on_compile`` is called first in both cases, so the caller can say so.
        """
        with self._lock:
            now = self._clock()
            self._drop_idle(now)
            if key in self._entries:
                return self._hit(key, now).with_data(**data), 0.0
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        if on_compile is not None:
            on_compile()
        start = time.perf_counter()
        # One compile per key, even when several users ask at once.
        with key_lock:
            with self._lock:
                if key in self._entries:
                    return self._hit(key, self._clock()).with_data(**data), time.perf_counter() - start
            compiled = self._compile(key, data)
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


NUTPIE_CACHE = CompiledModelCache()
