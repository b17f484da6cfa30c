"""What every sampler shares: which model a fit uses, its data, and its draws' weights."""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any, Literal

import numpy as np

from hierdash.inference.models.compiled import GLM_TIERS, LARGE_LATENT, MODEL_KEYS, ModelKey
from hierdash.inference.models.glm import SPREAD_QUANTILE, GlmShape, glm_data, glm_start
from hierdash.inference.models.glm import data_rich_tasks as glm_rich_tasks
from hierdash.inference.models.latent import (
    LatentShape,
    centered_weights,
    data_rich_tasks,
    latent_data,
    latent_start,
)
from hierdash.inference.models.marginal import draw_weights, marginal_data, marginal_start
from hierdash.inference.prepare import Prepared
from hierdash.outcomes.data import rows_of
from hierdash.scenario import Scenario

__all__ = ["Resolved", "resolve_parameterization", "centered_tasks", "model_inputs", "with_weights", "Stopper", "quiet"]

Resolved = Literal["marginal", "centered", "noncentered", "per_task"]
# What ``auto`` picks for a yes/no or count outcome, where no marginal form exists: each
# task centered when its data are rich, else non-centered (see
# hierdash.inference.models.glm.RICH_FACTOR). On 45 worlds drawn from the prior (15 per
# family, 2-8 tasks of 0-60 rows, 1-2 features, target_accept 0.99): 3 divergent worlds
# and 2 with R-hat above 1.01; all non-centered, 0 and 16 (poor mixing on data-rich
# tasks); at 0.95 all centered diverged in 19 and all non-centered in 3.
GLM_AUTO: Resolved = "per_task"


def resolve_parameterization(scenario: Scenario) -> Resolved:
    """The parameterization a fit uses: ``auto`` decided for the method.

    NUTS (nutpie's or PyMC's) samples the marginal model: the weights integrated out,
    no funnel (over 200 worlds drawn from the prior, issue 9's family: 1 divergent
    world, against 26 non-centered and 107 centered). The ADVI methods keep every
    weight in the model: integrating them out would hide what a mean-field
    approximation does to them, which is the lesson of those methods. Each task is
    centered when its data are rich and non-centered otherwise (``per_task``, see
    :func:`hierdash.inference.models.latent.data_rich_tasks`).
    """
    if scenario.parameterization != "auto":
        return scenario.parameterization
    if not scenario.is_gaussian:
        return GLM_AUTO
    return "per_task" if scenario.method in ("advi", "fullrank_advi") else "marginal"


def centered_tasks(scenario: Scenario, prep: Prepared, parameterization: Resolved) -> tuple[int, ...]:
    """The real tasks whose weights a fit samples in the centered form."""
    if parameterization == "centered":
        return tuple(range(scenario.n_tasks))
    if parameterization == "per_task" and prep.data is not None:
        spread = (float(prep.exact.interval(1 - 2 * SPREAD_QUANTILE)["spread"][0])
                  if scenario.learn_spread else scenario.child_spread)
        return glm_rich_tasks(prep.data, prep.exact.child_mean, spread)
    if parameterization == "per_task":
        spread = prep.exact.spread_mean if scenario.learn_spread else scenario.child_spread
        return data_rich_tasks(
            prep.stats, noise=max(prep.exact.noise_mean, 1e-6), spread=max(spread, 1e-6)
        )
    return ()


def model_inputs(
    scenario: Scenario, prep: Prepared, parameterization: Resolved, key: ModelKey | None = None
) -> tuple[ModelKey, dict[str, Any], Any]:
    """The model key, its ``pm.Data`` values and a start function ``start(rng)``.

    ``key`` defaults to the shared compiled model of the kind (padded to the bounds);
    PyMC's own samplers pass a key of the world's own size (they compile per fit, and
    padding would only cost them).
    """
    kind = _kind(scenario, parameterization)
    if kind == "glm":
        return _glm_inputs(scenario, prep, parameterization, key)
    key = key or MODEL_KEYS[kind]
    if key.tasks < scenario.n_tasks:
        key = LARGE_LATENT
    exact = prep.exact

    def exact_point(rng: np.random.Generator) -> dict:
        point = {name: value[0, 0] for name, value in exact.sample(1, 1, rng).items()}
        point["spread"] = point.get("spread", scenario.child_spread)
        return point

    if kind == "marginal":
        data = marginal_data(
            exact,
            tasks=key.tasks,
            features=key.features,
            learn_spread=scenario.learn_spread,
            fixed_spread=scenario.child_spread,
        )
        return key, data, lambda rng: marginal_start(exact_point(rng))
    shape = LatentShape(key.tasks, key.features)
    w = centered_weights(centered_tasks(scenario, prep, parameterization), scenario.n_features, shape)
    data = latent_data(scenario, prep.stats, shape, w)
    return key, data, lambda rng: latent_start(exact_point(rng), w, shape, rng)


def _kind(scenario: Scenario, parameterization: Resolved) -> str:
    if not scenario.is_gaussian:
        return "glm"
    return "marginal" if parameterization == "marginal" else "latent"


def _glm_inputs(scenario: Scenario, prep: Prepared, parameterization: Resolved,
                key: ModelKey | None):
    rows = rows_of(prep.data)
    if key is None:  # the smallest shared model the world fits in
        key = next(k for k in GLM_TIERS if _fits(k, scenario, len(rows.y)))
    elif not _fits(key, scenario, len(rows.y)):
        raise ValueError(f"the world ({scenario.n_tasks} tasks, {scenario.n_features} "
                         f"features, {len(rows.y)} rows) does not fit the model {key}")
    shape = GlmShape(key.tasks, key.features, key.rows)
    w = np.zeros((shape.tasks, shape.features))
    w[list(centered_tasks(scenario, prep, parameterization)), :scenario.n_features] = 1.0
    data = glm_data(scenario, rows, shape, w)
    reference = prep.exact
    return key, data, lambda rng: glm_start(reference, w, shape, rng, scenario.learn_spread,
                                            scenario.child_spread)


def _fits(key: ModelKey, scenario: Scenario, rows: int) -> bool:
    return (key.tasks >= scenario.n_tasks and key.features >= scenario.n_features
            and key.rows >= rows)


def own_size_key(scenario: Scenario, parameterization: Resolved, rows: int = 0) -> ModelKey:
    kind = _kind(scenario, parameterization)
    return ModelKey(kind, scenario.n_tasks, scenario.n_features, rows)


def with_weights(
    draws: dict[str, np.ndarray], scenario: Scenario, prep: Prepared, parameterization: Resolved
) -> dict[str, np.ndarray]:
    """The draws of a fit, (chain, draw, ...), with the weights of the real tasks.

    The marginal model's draws hold the scales only: each draw's parent and child
    weights come from their exact Gaussian conditional given its scales. A fixed
    spread is dropped (it is no draw); the latent model's capacity padding is cut.
    """
    out = {"noise": draws["noise"]} if "noise" in draws else {}
    if scenario.learn_spread:
        out["spread"] = draws["spread"]
    k, t = scenario.n_features, scenario.n_tasks
    if parameterization == "marginal":
        shape = draws["noise"].shape
        spread = out.get("spread", np.full(shape, scenario.child_spread))
        rng = np.random.default_rng(np.random.SeedSequence([scenario.seed, 1]))
        parent, child = draw_weights(prep.exact, draws["noise"], spread, rng)
        out["parent"] = parent.reshape(shape + (k,))
        out["child"] = child.reshape(shape + (t, k))
    else:
        out["parent"] = draws["parent"][..., :k]
        out["child"] = draws["child"][..., :t, :k]
    return out


class Stopper:
    """Says when a fit must stop: the user asked, or its time budget ran out."""

    def __init__(self, should_stop, time_budget):
        self.should_stop = should_stop
        self.time_budget = time_budget
        self.started = None

    def start(self):
        self.started = time.perf_counter()

    def check(self) -> str | None:
        """The reason to stop now, or None."""
        if self.should_stop is not None and self.should_stop():
            return "The fit was stopped."
        if self.time_budget is not None and self.started is not None:
            if time.perf_counter() - self.started > self.time_budget:
                return (
                    f"The fit ran past its time budget of {self.time_budget:g} s and was "
                    "stopped. Try fewer draws, fewer tasks or the exact method."
                )
        return None


class quiet:
    """Silence PyMC's and PyTensor's chatter inside a fit (the UI shows progress)."""

    def __enter__(self):
        self._levels = {}
        for name in ("pymc", "pytensor"):
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.ERROR)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        return self

    def __exit__(self, *exc):
        self._warnings.__exit__(*exc)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
        return False
