"""ADVI's log densities and optimisation loop, compiled once by numba.

PyMC's ``pm.fit`` compiled a new objective for every fit (1-2 s) and then drove each of
its 30,000 Adam steps from Python (8-9 s); the arithmetic of one step of this model is
a few microseconds. Here the same ADVI runs as one numba loop over many steps:

- the model is the one PyMC fitted (:func:`hierdash.inference.models.latent.build_latent_model`
  or :func:`hierdash.inference.models.marginal.build_marginal_model` at the world's own
  size), written out as its log density in the unconstrained space with its gradient:
  the same priors, the log transform of the noise and the spread with its Jacobian, a
  free spread that only follows its prior when the spread is fixed, and the rows of
  the likelihood through the sufficient statistics (so 0-row tasks and naive padding
  are data, not shapes). A test checks value and gradient against PyTensor's;
- the approximation is PyMC's: mean-field ``mu + softplus(rho) * eps`` starting at
  ``rho = 0``, full-rank ``mu + L eps`` with ``L``'s diagonal through a softplus,
  its raw parameters starting at the identity; ``mu`` starts at the model's initial
  point;
- each step draws one ``eps`` (PyMC's default), takes the reparameterised gradient
  of ``log p(z) - log q(z)`` with the entropy's gradient in closed form, and makes
  PyMC's Adam step (``beta1 = 0.9``, ``beta2 = 0.999``, ``epsilon = 1e-8``, bias
  corrected), so ``advi_learning_rate`` means what it meant;
- the ELBO recorded per step is PyMC's: ``log p(z) - log q(z)`` at that step's draw.

Numba compiles a function once per type signature, not per shape: every world, of any
size, with either model and either form, calls :func:`advi_steps` with the same types
(the unused model's arrays are empty), so one compile (about 3 s) serves them all. It
is cached on disk (``cache=True``, as in :mod:`~hierdash.inference.models.marginal_kernel`):
a new process loads it in about 0.2 s. Numba keys that cache on this file only: after
editing ``marginal_kernel.py``, delete this folder's ``__pycache__`` so the loop picks
the change up. Arithmetic is IEEE's (``error_model="numpy"``): a division by zero gives
an infinity, which the loop catches as a step it cannot take, not an exception raised
from inside the loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from hierdash.inference.models.marginal_kernel import marginal_terms

__all__ = ["LATENT", "MARGINAL", "AdviModel", "advi_model", "advi_steps", "log_density"]

LATENT, MARGINAL = 0, 1
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_HALF_LOG_2_OVER_PI = 0.5 * math.log(2.0 / math.pi)
_BETA1, _BETA2, _ADAM_EPS = 0.9, 0.999, 1e-8  # pm.adam's defaults


@numba.njit(cache=True, error_model="numpy")
def _half_normal_log(x_log, scale):
    """``log HalfNormal(exp(x_log) | scale) + x_log`` (the log transform's Jacobian) and
    its derivative in ``x_log``."""
    ratio = math.exp(x_log) / scale
    return _HALF_LOG_2_OVER_PI - math.log(scale) - 0.5 * ratio * ratio + x_log, 1.0 - ratio * ratio


@numba.njit(cache=True, error_model="numpy")
def _latent_logp(theta, grad, XtX, Xty, w, scalars):
    """The latent model: ``theta = [parent (K), log spread, log noise, child_raw (T*K)]``
    (PyMC's order), ``scalars = [y'y, rows, prior mean, prior scale, noise scale,
    spread scale, learn_spread, fixed_spread]``. Per task and feature, with ``w`` in
    {0, 1}: ``child_raw ~ Normal(w p, a)``, ``child = p + b (child_raw - w p)``,
    ``a = 1 + w (tau - 1)``, ``b = tau - w (tau - 1)``."""
    t_count, k_count = Xty.shape[0], Xty.shape[1]
    yty, n_rows, prior_mean, prior_sd = scalars[0], scalars[1], scalars[2], scalars[3]
    learn, fixed = scalars[6], scalars[7]
    ls, ln = theta[k_count], theta[k_count + 1]
    spread, noise = math.exp(ls), math.exp(ln)
    tau = learn * spread + (1.0 - learn) * fixed
    grad[:] = 0.0
    value = 0.0
    for k in range(k_count):
        d = (theta[k] - prior_mean) / prior_sd
        value += -0.5 * d * d - math.log(prior_sd) - _HALF_LOG_2PI
        grad[k] -= d / prior_sd
    v, g = _half_normal_log(ls, scalars[5])
    value += v
    grad[k_count] += g
    v, g = _half_normal_log(ln, scalars[4])
    value += v
    grad[k_count + 1] += g
    inv_s2 = 1.0 / (noise * noise)
    d_tau = 0.0  # d log p / d tau, turned into d / d log spread at the end
    sq = yty  # sum of squared residuals: y'y - 2 c'X'y + c'X'X c, task by task
    child = np.empty(k_count)
    pull = np.empty(k_count)
    base = k_count + 2
    for t in range(t_count):
        row = base + t * k_count
        for k in range(k_count):
            wk = w[t, k]
            a = 1.0 + wk * (tau - 1.0)
            z = (theta[row + k] - wk * theta[k]) / a
            value += -0.5 * z * z - math.log(a) - _HALF_LOG_2PI
            grad[row + k] -= z / a
            grad[k] += wk * z / a
            d_tau += wk * (z * z - 1.0) / a
            child[k] = theta[k] + (tau - wk * (tau - 1.0)) * (theta[row + k] - wk * theta[k])
        for k in range(k_count):
            acc = Xty[t, k]
            for m in range(k_count):
                acc -= XtX[t, k, m] * child[m]
            pull[k] = acc * inv_s2  # d log-likelihood / d child = (X'y - X'X c) / s2
            sq += child[k] * (-Xty[t, k] - acc)
        for k in range(k_count):
            wk = w[t, k]
            b = tau - wk * (tau - 1.0)
            grad[row + k] += pull[k] * b
            grad[k] += pull[k] * (1.0 - b * wk)
            d_tau += pull[k] * (1.0 - wk) * (theta[row + k] - wk * theta[k])
    value += -0.5 * sq * inv_s2 - n_rows * (ln + _HALF_LOG_2PI)
    grad[k_count + 1] += sq * inv_s2 - n_rows
    grad[k_count] += d_tau * learn * spread
    return value


@numba.njit(cache=True, error_model="numpy")
def _marginal_logp(theta, grad, lam, terms, prior_mean, scalars):
    """The marginal model: ``theta = [log noise, log spread]`` (PyMC's order),
    ``scalars = [rss, rows, prior scale, directions, features, noise scale, spread
    scale, learn_spread, fixed_spread]``; the likelihood is
    :func:`~hierdash.inference.models.marginal_kernel.marginal_terms`."""
    spread = math.exp(theta[1])
    learn = scalars[7]
    tau = learn * spread + (1.0 - learn) * scalars[8]
    v_noise, g_noise = _half_normal_log(theta[0], scalars[5])
    v_spread, g_spread = _half_normal_log(theta[1], scalars[6])
    scales = np.empty(2)
    scales[0] = math.exp(2.0 * theta[0])
    scales[1] = tau * tau
    if not scales[0] > 0.0:  # marginal_terms divides by it (and would raise)
        grad[:] = np.nan
        return -np.inf
    value, d = marginal_terms(scales, scalars[:5], lam, terms, prior_mean)
    grad[0] = g_noise + d[0] * 2.0 * scales[0]
    grad[1] = g_spread + d[1] * 2.0 * tau * learn * spread
    return v_noise + v_spread + value[0]


@numba.njit(cache=True, error_model="numpy")
def log_density(kind, theta, grad, data):
    """``log p(theta)`` of model ``kind`` (:data:`LATENT` or :data:`MARGINAL`), its
    gradient written into ``grad``; ``data`` is :attr:`AdviModel.data`."""
    XtX, Xty, w, lam, terms, prior_mean, scalars = data
    if kind == LATENT:
        return _latent_logp(theta, grad, XtX, Xty, w, scalars)
    return _marginal_logp(theta, grad, lam, terms, prior_mean, scalars)


@numba.njit(cache=True, error_model="numpy")
def _adam(param, grad, m, v, a_t):
    m_new = _BETA1 * m + (1.0 - _BETA1) * grad
    v_new = _BETA2 * v + (1.0 - _BETA2) * grad * grad
    return param - a_t * m_new / (math.sqrt(v_new) + _ADAM_EPS), m_new, v_new


@numba.njit(cache=True, error_model="numpy")
def advi_steps(kind, full, state, data, eps, learning_rate, t0, elbo):
    """Run ``len(eps)`` ADVI steps in place; return how many were done.

    Parameters
    ----------
    kind
        :data:`LATENT` or :data:`MARGINAL`.
    full
        Full-rank (true) or mean-field.
    state
        ``(mu (D,), scale, moments (4, P), mu_sum (D,), scale_sum)``: mean-field
        ``scale`` is ``rho`` shaped (1, D), full-rank ``L`` (D, D), lower triangle, its
        diagonal before the softplus; ``moments`` are Adam's ``m`` and ``v`` of ``mu``
        (rows 0, 1, first D entries) and of the scale (rows 2, 3, flattened). The sums
        gain each step's parameters (iterate averaging).
    data
        :attr:`AdviModel.data`.
    eps
        (steps, D) standard normal draws, one row per step.
    learning_rate
        Adam's learning rate.
    t0
        Steps done before this call (Adam's bias correction counts on).
    elbo
        (steps,) out: ``log p(z) - log q(z)`` at each step's draw.

    A step whose log density or gradient is not finite is not taken: its ELBO is NaN
    and the call returns its index, leaving the parameters of the step before.
    """
    mu, scale, moments, mu_sum, scale_sum = state
    d = mu.shape[0]
    z, g, sd = np.empty(d), np.empty(d), np.empty(d)
    slope = np.empty(d)  # softplus' at the diagonal
    for step in range(eps.shape[0]):
        e = eps[step]
        log_det = 0.0
        for i in range(d):
            raw = scale[i, i] if full else scale[0, i]
            if raw > 30.0:
                sd[i], slope[i] = raw, 1.0
            else:
                x = math.exp(raw)
                sd[i], slope[i] = math.log1p(x), x / (1.0 + x)
            log_det += math.log(sd[i])
            acc = mu[i] + sd[i] * e[i]
            if full:
                for j in range(i):
                    acc += scale[i, j] * e[j]
            z[i] = acc
        lp = log_density(kind, z, g, data)
        ok = math.isfinite(lp) and math.isfinite(log_det)
        sq = 0.0
        for i in range(d):
            sq += e[i] * e[i]
            ok = ok and math.isfinite(g[i])
        if not ok:
            elbo[step] = np.nan
            return step
        elbo[step] = lp + 0.5 * sq + d * _HALF_LOG_2PI + log_det
        t = t0 + step + 1.0
        a_t = learning_rate * math.sqrt(1.0 - _BETA2**t) / (1.0 - _BETA1**t)
        # The loss is -ELBO: each parameter steps along minus its ELBO gradient.
        for i in range(d):
            mu[i], moments[0, i], moments[1, i] = _adam(mu[i], -g[i], moments[0, i], moments[1, i], a_t)
            mu_sum[i] += mu[i]
        if full:
            for i in range(d):
                for j in range(i + 1):
                    q = i * d + j
                    if i == j:
                        grad = -(g[i] * e[i] + 1.0 / sd[i]) * slope[i]
                    else:
                        grad = -g[i] * e[j]
                    scale[i, j], moments[2, q], moments[3, q] = _adam(
                        scale[i, j], grad, moments[2, q], moments[3, q], a_t)
                    scale_sum[i, j] += scale[i, j]
        else:
            for i in range(d):
                grad = -(g[i] * e[i] + 1.0 / sd[i]) * slope[i]
                scale[0, i], moments[2, i], moments[3, i] = _adam(
                    scale[0, i], grad, moments[2, i], moments[3, i], a_t)
                scale_sum[0, i] += scale[0, i]
    return eps.shape[0]


_EMPTY1, _EMPTY2, _EMPTY3 = np.zeros(0), np.zeros((0, 0)), np.zeros((0, 0, 0))


def _f64(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class AdviModel:
    """One world's model as :func:`advi_steps` reads it.

    Attributes
    ----------
    kind
        :data:`LATENT` or :data:`MARGINAL`.
    data
        ``(XtX, Xty, w, lam, terms, prior_mean, scalars)``, float64, the other
        model's arrays empty: always the same types, so one compile.
    start
        The unconstrained initial point PyMC starts ADVI from.
    n_tasks, n_features
        The world's size (of the latent model; 0 for the marginal, whose draws hold
        the scales only).
    learn_spread, fixed_spread
        Whether the children use the free spread or the fixed one.
    """

    kind: int
    data: tuple
    start: np.ndarray
    n_tasks: int
    n_features: int
    learn_spread: bool
    fixed_spread: float

    def variables(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """The model's variables at unconstrained points ``z`` (draws, D): ``noise``
        and ``spread`` (the free one), and for the latent model ``parent`` (draws, K)
        and ``child`` (draws, T, K), as PyMC's draws of ``KEPT_VARIABLES`` are."""
        if self.kind == MARGINAL:
            return {"noise": np.exp(z[:, 0]), "spread": np.exp(z[:, 1])}
        t, k = self.n_tasks, self.n_features
        parent = z[:, :k]
        spread = np.exp(z[:, k])
        tau = (spread if self.learn_spread else np.full_like(spread, self.fixed_spread))[:, None, None]
        w = self.data[2]
        raw = z[:, k + 2:].reshape(len(z), t, k)
        child = parent[:, None, :] + (tau - w * (tau - 1.0)) * (raw - w * parent[:, None, :])
        return {"parent": parent, "child": child, "noise": np.exp(z[:, k + 1]), "spread": spread}


def advi_model(kind: str, data: dict[str, Any]) -> AdviModel:
    """The :class:`AdviModel` of a model's ``pm.Data`` values at the world's own size
    (``latent_data`` or ``marginal_data`` of a key from ``own_size_key``)."""
    learn = bool(float(data["learn_spread"]))
    fixed = float(data["fixed_spread"])
    noise_scale, spread_scale = float(data["prior_noise_scale"]), float(data["prior_spread_scale"])
    if kind == "marginal":
        scalars = _f64([data["rss"], data["n_likelihood_rows"], data["prior_parent_scale"],
                        data["n_directions"], data["n_features"], noise_scale, spread_scale,
                        float(learn), fixed])
        arrays = (_EMPTY3, _EMPTY2, _EMPTY2, _f64(data["lam"]), _f64(data["terms"]),
                  _f64(data["prior_mean_rot"]), scalars)
        start = np.log([noise_scale, spread_scale])
        return AdviModel(MARGINAL, arrays, start, 0, 0, learn, fixed)
    t, k = int(data["n_tasks"]), int(data["n_features"])
    if data["Xty"].shape != (t, k):
        raise ValueError(f"ADVI fits the world's own size: data padded to {data['Xty'].shape}, "
                         f"the world has {t} tasks and {k} features")
    mean = float(data["prior_parent_mean"])
    w = _f64(data["centered"])
    scalars = _f64([data["yty"], data["n_likelihood_rows"], mean, data["prior_parent_scale"],
                    noise_scale, spread_scale, float(learn), fixed])
    arrays = (_f64(data["XtX"]), _f64(data["Xty"]), w, _EMPTY1, _EMPTY2, _EMPTY1, scalars)
    # PyMC's initial point: each Normal at its mean, each HalfNormal at its scale.
    start = np.concatenate([np.full(k, mean), np.log([spread_scale, noise_scale]), (w * mean).ravel()])
    return AdviModel(LATENT, arrays, start, t, k, learn, fixed)
