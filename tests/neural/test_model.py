"""The padded network's log density: padding, symmetries and the three fits' flags.

PyTensor compiles these graphs with its Python linker (FAST_COMPILE): no C or numba
compile, so the checks cost seconds, not the minute a cold nutpie compile takes.
"""

from __future__ import annotations

import numpy as np
import pytest

from hierdash.neural.model import (
    LAYERS,
    NeuralShape,
    build_neural_model,
    neural_data,
    task_weights,
)
from hierdash.neural.settings import NeuralSettings
from hierdash.neural.tasks import simulate_tasks

SHAPE = NeuralShape(tasks=4, rows=12, hidden=4)
SETTINGS = NeuralSettings(samples=(9, 4, 1), hidden=3, test_per_task=10, seed=3)
TASKS = simulate_tasks(SETTINGS)
MODE = "FAST_COMPILE"


def _data(kind="hierarchical", padding="masked", bias=True, shape=SHAPE, hidden=3):
    return neural_data(TASKS, shape, hidden=hidden, bias=bias, padding=padding, kind=kind)


class Density:
    """The model's log density and gradient at a point of named values."""

    def __init__(self, shape=SHAPE, **data_options):
        self.model = build_neural_model(shape, _data(shape=shape, **data_options))
        self.logp = self.model.compile_logp(mode=MODE)
        self.dlogp = self.model.compile_dlogp(mode=MODE)
        self.names = [v.name for v in self.model.value_vars]

    def point(self, rng, scale=0.7):
        return {v.name: rng.normal(0.0, scale, v.type.shape) for v in self.model.value_vars}

    def gradient(self, point) -> dict[str, np.ndarray]:
        flat = self.dlogp(point)
        out, i = {}, 0
        for v in self.model.value_vars:
            size = int(np.prod(point[v.name].shape))
            out[v.name] = flat[i:i + size].reshape(point[v.name].shape)
            i += size
        return out

    def likelihood(self, point) -> float:
        """The likelihood term alone (the Potential), without priors."""
        fn = self.model.compile_logp(vars=self.model.potentials, mode=MODE)
        return float(fn(point))


@pytest.fixture(scope="module")
def padded():
    return Density()


def _unpadded_model(hidden: int, bias: bool = True):
    """The same network written per task on its own rows: no padding anywhere."""
    import pymc as pm
    import pytensor.tensor as pt

    t = TASKS.n_tasks
    blocks = {"w1": (2, hidden), "b1": (hidden,), "w2": (hidden,), "b2": ()}
    with pm.Model() as model:
        net = {}
        for name, block in blocks.items():
            parent = pm.Normal(f"parent_{name}", 0.0, 1.0, shape=block)
            raw = pm.Normal(f"raw_{name}", 0.0, 1.0, shape=(t, *block))
            spread = pm.HalfNormal(f"spread_{name}", 1.0)
            net[name] = parent + spread * raw
        total = 0.0
        for i, (X, y) in enumerate(zip(TASKS.X_train, TASKS.y_train, strict=True)):
            on = float(bias)
            hidden_out = pt.tanh(pt.dot(X, net["w1"][i]) + on * net["b1"][i])
            logit = pt.dot(hidden_out, net["w2"][i]) + on * net["b2"][i]
            total = total + pt.sum(y * logit - pt.softplus(logit))
        pm.Potential("likelihood", total)
    return model


def _embed(point_small, shape: NeuralShape, hidden: int) -> dict[str, np.ndarray]:
    """An unpadded point placed in the padded model's corner, zeros elsewhere."""
    out = {}
    for name, value in point_small.items():
        block = name.split("_")[1]
        if name.startswith("spread"):
            out[name] = value
            continue
        full_block = shape.block_shapes()[block]
        full = np.zeros((shape.tasks, *full_block) if name.startswith("raw") else full_block)
        index = (slice(0, value.shape[0]),) if name.startswith("raw") else ()
        index += tuple(slice(0, s) for s in value.shape[len(index):])
        full[index] = value
        out[name] = full
    return out


def test_padded_log_density_and_gradient_equal_the_unpadded_ones(padded):
    small = _unpadded_model(hidden=3)
    logp, dlogp = small.compile_logp(mode=MODE), small.compile_dlogp(mode=MODE)
    rng = np.random.default_rng(0)
    for _ in range(3):
        point = {v.name: rng.normal(0.0, 0.8, v.type.shape) for v in small.value_vars}
        big = _embed(point, SHAPE, hidden=3)
        # The padded coordinates sit at 0: each adds a standard normal's log density at 0.
        inert = sum(big[n].size - point[n].size for n in point)
        assert padded.logp(big) == pytest.approx(logp(point) - 0.5 * np.log(2 * np.pi) * inert,
                                                 rel=1e-10)
        grad_big, flat = padded.gradient(big), dlogp(point)
        i = 0
        for v in small.value_vars:
            size = point[v.name].size
            want = flat[i:i + size].reshape(point[v.name].shape)
            i += size
            got = grad_big[v.name]
            corner = _embed({v.name: want}, SHAPE, 3)[v.name]
            np.testing.assert_allclose(got, corner, rtol=1e-9, atol=1e-12)


def test_naive_padding_without_biases_only_adds_a_constant():
    masked = Density(bias=False)
    naive = Density(bias=False, padding="naive")
    rng = np.random.default_rng(1)
    extra_rows = sum(max(TASKS.counts) - n for n in TASKS.counts)
    for _ in range(3):
        point = masked.point(rng)
        # each zero row: y = 0 at logit 0 -> -log 2, whatever the weights
        assert naive.logp(point) == pytest.approx(masked.logp(point) - extra_rows * np.log(2))


def test_naive_padding_with_biases_moves_the_density(padded):
    naive = Density(padding="naive")
    point = padded.point(np.random.default_rng(2))
    extra_rows = sum(max(TASKS.counts) - n for n in TASKS.counts)
    assert naive.logp(point) != pytest.approx(padded.logp(point) - extra_rows * np.log(2))


def _permute_units(point, order, flip):
    """Hidden units reordered by ``order`` and those in ``flip`` sign-flipped, in the
    parent and every task alike (the padded units beyond ``order`` stay put)."""
    out = {k: v.copy() for k, v in point.items()}
    h = len(order)
    sign = np.where(np.isin(np.arange(h), flip), -1.0, 1.0)
    for prefix in ("parent_", "raw_"):
        for block in ("w1", "b1", "w2"):
            value = out[prefix + block]
            value[..., :h] = value[..., order] * sign
    return out


@pytest.mark.parametrize(("order", "flip"), [([1, 0, 2], []), ([0, 1, 2], [1]),
                                             ([2, 0, 1], [0, 2])])
def test_log_density_is_unchanged_by_permuting_or_flipping_hidden_units(padded, order, flip):
    point = padded.point(np.random.default_rng(4))
    moved = _permute_units(point, order, flip)
    assert not np.allclose(moved["raw_w1"], point["raw_w1"])
    assert padded.logp(moved) == pytest.approx(padded.logp(point), rel=1e-12)


def test_a_near_zero_spread_is_the_pooled_network(padded):
    pooled = Density(kind="pooled")
    point = padded.point(np.random.default_rng(5))
    tiny = point | {f"spread_{b}_log__": np.array(np.log(1e-12)) for b in LAYERS}
    assert padded.likelihood(tiny) == pytest.approx(pooled.likelihood(point), rel=1e-9)


def test_the_separate_networks_are_the_hierarchy_at_parent_zero_and_prior_spread(padded):
    separate = Density(kind="separate")
    point = padded.point(np.random.default_rng(6))
    pinned = point | {f"parent_{b}": np.zeros_like(point[f"parent_{b}"]) for b in LAYERS}
    pinned |= {f"spread_{b}_log__": np.array(0.0) for b in LAYERS}  # spread 1 = prior scale
    assert padded.likelihood(pinned) == pytest.approx(separate.likelihood(point), rel=1e-10)
    # and a separate network's weights are its raw draws, whatever the parent
    draws = {name: np.asarray(v)[None] for name, v in point.items() if "log__" not in name}
    draws |= {f"spread_{b}": np.array([np.exp(point[f"spread_{b}_log__"])]) for b in LAYERS}
    weights = task_weights(draws, "separate", n_tasks=3, hidden=3, bias=True)
    np.testing.assert_allclose(weights["w1"][0], point["raw_w1"][:3, :, :3])


def test_a_huge_spread_lets_each_task_fit_on_its_own(padded):
    """With a huge spread the parent's pull on each task vanishes: at the same task
    weights, the hierarchy's gradient with respect to a task's weights is the separate
    networks' likelihood gradient (the prior's share shrinks as 1 / spread^2)."""
    separate = Density(kind="separate")
    rng = np.random.default_rng(7)
    point = padded.point(rng)
    huge = 1e6
    weights = {b: rng.normal(0.0, 0.8, point[f"raw_{b}"].shape) for b in LAYERS}
    hier = point | {f"spread_{b}_log__": np.array(np.log(huge)) for b in LAYERS}
    hier |= {f"raw_{b}": (weights[b] - point[f"parent_{b}"]) / huge for b in LAYERS}
    sep = point | {f"raw_{b}": weights[b] for b in LAYERS}
    g_hier, g_sep = padded.gradient(hier), separate.gradient(sep)
    for b in LAYERS:
        want = g_sep[f"raw_{b}"] + weights[b]  # the likelihood's part: undo the N(0, 1) prior
        np.testing.assert_allclose(g_hier[f"raw_{b}"] / huge, want, atol=1e-5)


def test_a_world_beyond_the_capacity_is_refused():
    with pytest.raises(ValueError, match="does not fit the model's capacity"):
        _data(shape=NeuralShape(tasks=2, rows=12, hidden=4))
    with pytest.raises(ValueError, match="hidden units"):
        _data(hidden=5)


@pytest.mark.slow
def test_frozen_first_layer_with_a_gaussian_output_agrees_with_the_exact_posterior():
    """Issue 22's check of the hierarchy itself: freeze the first layer and make the
    output Gaussian, and the network is hierarchical linear regression on tanh features;
    NUTS on it must agree with :func:`hierdash.exact.exact_posterior` (parent N(0, 1),
    spread HalfNormal(1), noise HalfNormal(1)). PyMC's NUTS on its default (C) backend:
    PyTensor's Python mode took ten minutes to sample."""
    import pymc as pm

    from hierdash.exact import exact_posterior
    from hierdash.world import SufficientStats

    rng = np.random.default_rng(12)
    hidden, counts, noise = 3, (30, 10, 3), 0.3
    w1, b1 = rng.normal(0, 1, (2, hidden)), rng.normal(0, 0.5, hidden)
    shape = NeuralShape(tasks=4, rows=32, hidden=4)
    X = np.zeros((4, 32, 2))
    y = np.zeros((4, 32))
    weight = np.zeros((4, 32))
    parent = rng.normal(0, 1, hidden)
    stats = {"XtX": [], "Xty": [], "yty": [], "n": []}
    for i, n in enumerate(counts):
        Xi = rng.normal(0, 1.2, (n, 2))
        F = np.tanh(Xi @ w1 + b1)
        yi = F @ (parent + 0.5 * rng.normal(size=hidden)) + noise * rng.normal(size=n)
        X[i, :n], y[i, :n], weight[i, :n] = Xi, yi, 1.0
        for key, value in (("XtX", F.T @ F), ("Xty", F.T @ yi), ("yty", yi @ yi), ("n", n)):
            stats[key].append(value)
    data = {"n_tasks": np.array(3), "n_rows": np.array(32), "n_hidden": np.array(hidden),
            "X": X, "y": y, "row_weight": weight, "bias": np.array(0.0),
            "use_parent": np.array(1.0), "learn_spread": np.array(1.0),
            "fixed_spread": np.array(0.0)}
    model = build_neural_model(shape, data, frozen_first_layer=(w1, b1))
    with model:
        trace = pm.sample(draws=1500, tune=1000, chains=2, cores=1, random_seed=5,
                          target_accept=0.95, progressbar=False,
                          compute_convergence_checks=False)
    exact = exact_posterior(SufficientStats(**{k: np.array(v, dtype=float)
                                               for k, v in stats.items()}),
                            prior_parent_mean=0.0, prior_parent_scale=1.0,
                            prior_spread_scale=1.0, prior_noise_scale=1.0)
    post = trace.posterior
    draw = lambda name: np.asarray(post[name].values).reshape(-1, *post[name].shape[2:])  # noqa: E731
    parent_draws = draw("parent_w2")[:, :hidden]
    child = parent_draws[:, None] + draw("spread_w2")[:, None, None] * draw("raw_w2")[:, :3, :hidden]
    # Within Monte Carlo error: a fifth of a posterior sd (about 3 standard errors at an
    # effective sample size of a few hundred).
    np.testing.assert_allclose(parent_draws.mean(0), exact.parent_mean,
                               atol=0.2 * exact.parent_sd.max())
    np.testing.assert_allclose(child.mean(0), exact.child_mean, atol=0.2 * exact.child_sd.max())
    np.testing.assert_allclose(child.std(0), exact.child_sd, rtol=0.15)
    assert draw("noise").mean() == pytest.approx(exact.noise_mean, abs=0.2 * exact.noise_sd)
    assert draw("spread_w2").mean() == pytest.approx(exact.spread_mean,
                                                     abs=0.2 * exact.spread_sd)
