"""The hierarchical Bayesian neural network, padded to a capacity, as a PyMC model.

One tanh hidden layer and a Bernoulli-logit output. Each task's network is
``w = use_parent * parent + spread * raw`` (non-centered), with one spread per layer and
kind: ``w1`` (input -> hidden weights), ``b1`` (hidden biases), ``w2`` (hidden -> output
weights), ``b2`` (output bias).

One compiled model serves every world within the bounds and all three fits, as
:mod:`hierdash.inference.models.glm` does: tasks x rows x hidden units are padded to
:class:`NeuralShape`, the likelihood (one numba loop, :mod:`hierdash.neural.kernel`)
reads the world's own ``n_tasks`` tasks, ``n_rows`` rows and ``n_hidden`` units, and
``pm.Data`` flags pick the fit:

- hierarchical: ``use_parent = 1``, ``learn_spread = 1``;
- pooled (one network): ``use_parent = 1``, spread fixed at 0, every task is the parent;
- separate (no pooling): ``use_parent = 0``, spread fixed at the prior scale, every
  task's weights are its own N(0, 1).

Padded rows are excluded by a 0/1 row weight (never a NaN ``observed``, which PyMC would
impute). Padded tasks, hidden units and unused biases leave their parameters out of the
likelihood: they are standard normals, inert for the sampler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hierdash.neural.settings import MAX_HIDDEN, MAX_ROWS, MAX_TASKS
from hierdash.neural.tasks import MoonTasks

__all__ = ["NeuralShape", "NEURAL_SHAPE", "FitKind", "FIT_KINDS", "LAYERS", "PARAMETERS",
           "KEPT", "PRIOR_SCALE", "neural_data", "build_neural_model", "task_weights"]

FitKind = Literal["separate", "pooled", "hierarchical"]
FIT_KINDS: tuple[FitKind, ...] = ("separate", "pooled", "hierarchical")
LAYERS = ("w1", "b1", "w2", "b2")
"""The network's parameter blocks; one spread each."""
PRIOR_SCALE = 1.0
"""Prior sd of the parent's weights and scale of each spread's HalfNormal; a separate
network's weights are N(0, PRIOR_SCALE)."""


@dataclass(frozen=True)
class NeuralShape:
    """The compiled capacity: tasks, rows per task and hidden units."""

    tasks: int
    rows: int
    hidden: int

    def block_shapes(self) -> dict[str, tuple[int, ...]]:
        """Each parameter block's shape in one network."""
        h = self.hidden
        return {"w1": (2, h), "b1": (h,), "w2": (h,), "b2": ()}


NEURAL_SHAPE = NeuralShape(MAX_TASKS, MAX_ROWS, MAX_HIDDEN)
"""The one shape the app compiles: every world within the bounds fits it."""

PARAMETERS = tuple([f"parent_{b}" for b in LAYERS] + [f"raw_{b}" for b in LAYERS]
                   + [f"spread_{b}" for b in LAYERS])
KEPT = PARAMETERS
"""What a fit keeps: every free parameter (the spreads on their own scale)."""

_FLAGS = {
    "hierarchical": {"use_parent": 1.0, "learn_spread": 1.0, "fixed_spread": 0.0},
    "pooled": {"use_parent": 1.0, "learn_spread": 0.0, "fixed_spread": 0.0},
    "separate": {"use_parent": 0.0, "learn_spread": 0.0, "fixed_spread": PRIOR_SCALE},
}


def neural_data(tasks: MoonTasks, shape: NeuralShape, *, hidden: int, bias: bool,
                padding: str, kind: FitKind) -> dict[str, Any]:
    """Values of every ``pm.Data`` of the model for ``tasks``, padded to ``shape``.

    ``padding="masked"`` weighs each task's own rows 1 and its padding 0; ``"naive"``
    pads every task with zero rows up to the largest task's count and weighs them 1, as
    if they were data: with biases, a fake class-0 point at the origin.
    """
    t, counts = tasks.n_tasks, tasks.counts
    n = max(max(counts), 1)
    if t > shape.tasks or n > shape.rows or hidden > shape.hidden:
        raise ValueError(
            f"a world of {t} tasks, {n} rows in its largest task and {hidden} hidden units "
            f"does not fit the model's capacity of {shape.tasks} tasks, {shape.rows} rows "
            f"and {shape.hidden} hidden units")
    X = np.zeros((shape.tasks, shape.rows, 2))
    y = np.zeros((shape.tasks, shape.rows))
    row_weight = np.zeros((shape.tasks, shape.rows))
    for i, (Xi, yi) in enumerate(zip(tasks.X_train, tasks.y_train, strict=True)):
        X[i, : len(yi)] = Xi
        y[i, : len(yi)] = yi
        row_weight[i, : (len(yi) if padding == "masked" else n)] = 1.0
    data = {
        "n_tasks": np.array(t, dtype=np.int64),
        "n_rows": np.array(n, dtype=np.int64),
        "n_hidden": np.array(hidden, dtype=np.int64),
        "X": X,
        "y": y,
        "row_weight": row_weight,
        "bias": np.array(1.0 if bias else 0.0),
    }
    return data | {name: np.array(value) for name, value in _FLAGS[kind].items()}


def build_neural_model(shape: NeuralShape, data: dict[str, Any], *,
                       frozen_first_layer: tuple[np.ndarray, np.ndarray] | None = None,
                       noise_scale: float = 1.0):
    """The PyMC model holding ``data`` (see :func:`neural_data`).

    ``frozen_first_layer = (w1, b1)``, of shapes (2, h) and (h,), is the check of
    issue 22: the first layer fixed and shared, and the output Gaussian with noise
    ``sigma ~ HalfNormal(noise_scale)`` (``y`` then holds real numbers), the model is a
    hierarchical linear regression on the tanh features, which :mod:`hierdash.exact`
    solves in closed form. The app never builds it.
    """
    import pymc as pm

    blocks = shape.block_shapes()
    with pm.Model() as model:
        t = pm.Data("n_tasks", data["n_tasks"])
        n = pm.Data("n_rows", data["n_rows"])
        h = pm.Data("n_hidden", data["n_hidden"])
        X = pm.Data("X", data["X"])
        y = pm.Data("y", data["y"])
        row_weight = pm.Data("row_weight", data["row_weight"])
        bias = pm.Data("bias", data["bias"])
        use_parent = pm.Data("use_parent", data["use_parent"])
        learn = pm.Data("learn_spread", data["learn_spread"])
        fixed = pm.Data("fixed_spread", data["fixed_spread"])

        net = {}
        for name, block in blocks.items():
            parent = pm.Normal(f"parent_{name}", 0.0, PRIOR_SCALE, shape=block)
            raw = pm.Normal(f"raw_{name}", 0.0, 1.0, shape=(shape.tasks, *block))
            spread = pm.HalfNormal(f"spread_{name}", PRIOR_SCALE)
            scale = learn * spread + (1.0 - learn) * fixed
            net[name] = use_parent * parent + scale * raw
        if frozen_first_layer is not None:
            noise = pm.HalfNormal("noise", noise_scale)
            loglik = _gaussian_on_features(net, frozen_first_layer, X, y, row_weight, t, n,
                                           bias, noise)
        else:
            from hierdash.neural.kernel import network_loglik

            # The likelihood and its gradient in one compiled loop over the rows that
            # count (hierdash.neural.kernel). Written as a PyTensor graph of slices, the
            # same sums made the default world's three fits take 6.4 to 9.4 s of sampling
            # against 3.1 to 3.3 s (same machine and load): padded rows and overhead.
            loglik = network_loglik(net["w1"], net["b1"] * bias, net["w2"],
                                    net["b2"] * bias, X=X, y=y, row_weight=row_weight,
                                    n_tasks=t, n_rows=n, n_hidden=h)
        pm.Potential("likelihood", loglik)
    return model


def _gaussian_on_features(net, first_layer, X, y, row_weight, t, n, bias, noise):
    """log N(y | tanh(X w1 + b1) . w2[task] + b2[task], noise) over the rows that count."""
    import pytensor.tensor as pt

    w1, b1 = (np.asarray(a, dtype=float) for a in first_layer)
    h = w1.shape[1]
    features = pt.tanh(pt.tensordot(X[:t, :n], w1, axes=[[2], [0]]) + b1)  # (t, n, h)
    mean = pt.sum(features * net["w2"][:t, None, :h], axis=2) + bias * net["b2"][:t, None]
    resid = (y[:t, :n] - mean) / noise
    per_row = -0.5 * resid**2 - pt.log(noise) - 0.5 * np.log(2 * np.pi)
    return pt.sum(row_weight[:t, :n] * per_row)


def task_weights(draws: dict[str, np.ndarray], kind: FitKind, *, n_tasks: int, hidden: int,
                 bias: bool) -> dict[str, np.ndarray]:
    """Each task's network per draw, as the likelihood saw it: ``w1`` (s, t, 2, h),
    ``b1`` (s, t, h), ``w2`` (s, t, h), ``b2`` (s, t); and the parent's, under
    ``parent_*`` (s, ...). ``draws`` holds :data:`KEPT`, each (sample, ...)."""
    flags = _FLAGS[kind]
    out = {}
    for name in LAYERS:
        parent = draws[f"parent_{name}"]
        raw = draws[f"raw_{name}"][:, :n_tasks]
        spread = draws[f"spread_{name}"] if flags["learn_spread"] else flags["fixed_spread"]
        spread = np.reshape(spread, (-1,) + (1,) * (raw.ndim - 1))
        out[name] = flags["use_parent"] * parent[:, None] + spread * raw
        out[f"parent_{name}"] = parent * flags["use_parent"]
    out["w1"], out["parent_w1"] = out["w1"][..., :hidden], out["parent_w1"][..., :hidden]
    for name in ("b1", "w2"):
        out[name], out[f"parent_{name}"] = out[name][..., :hidden], out[f"parent_{name}"][..., :hidden]
    if not bias:
        for name in ("b1", "b2", "parent_b1", "parent_b2"):
            out[name] = np.zeros_like(out[name])
    return out
