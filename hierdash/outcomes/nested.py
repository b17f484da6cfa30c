"""The posterior given the spread: the parent by Gauss-Hermite, each task by AGHQ.

Given the spread ``tau``, the model is ``p ~ Normal(m, s)`` per feature, ``c[t] ~
Normal(p, tau)``, and each task's rows depend on ``c[t]`` through the family. For a batch
of spreads, :func:`given_spread` integrates

- each task's weights by **adaptive Gauss-Hermite quadrature** (AGHQ): Newton's method
  finds the mode of ``c[t]`` given ``p`` and ``tau``, and the nodes sit at the mode,
  scaled by the curvature there (one node is Laplace's method; a few mend its error on
  small groups, where the conditional is skewed);
- the parent by Gauss-Hermite around its mode, found by Newton's method on the profile
  in which every task is at its own mode (its curvature scales the nodes).

The weights' conditional moments come from the same nodes. Work is done in the scaled
form ``M = I + tau^2 A`` (``A = X'WX``, the data's curvature), so a spread near zero
(complete pooling) loses no precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from scipy.special import logsumexp

from hierdash.outcomes.data import Rows
from hierdash.outcomes.linalg import inverse, inverse_root, solve

__all__ = ["Rule", "GivenSpread", "given_spread"]

_TOL = 1e-9  # Newton stops when no weight moves more than this (link scale)
_MAX_NEWTON = 100  # log-concave objectives: a handful of steps is typical
_MAX_STEP = 4.0  # no Newton step moves any row's linear predictor more than this
_CHUNK = 1 << 21  # elements of the largest per-row array of one batch


@dataclass(frozen=True, eq=False)
class Rule:
    """A product Gauss-Hermite rule for ``Normal(0, I_K)``: nodes ``z`` (I, K), log
    weights (summing to 1) and ``|z|^2 / 2`` (to undo the rule's own weight function)."""

    z: np.ndarray
    log_w: np.ndarray
    half_sq: np.ndarray

    @classmethod
    def product(cls, nodes: int, k: int) -> Rule:
        x, w = np.polynomial.hermite_e.hermegauss(nodes)
        w = w / w.sum()
        grids = np.meshgrid(*[x] * k, indexing="ij")
        z = np.stack([g.ravel() for g in grids], axis=-1)
        log_w = sum(np.log(w)[idx.ravel()] for idx in np.meshgrid(
            *[np.arange(nodes)] * k, indexing="ij"))
        return cls(z, np.asarray(log_w, dtype=float), 0.5 * (z**2).sum(axis=1))

    @property
    def size(self) -> int:
        return len(self.log_w)


@dataclass(frozen=True, eq=False)
class GivenSpread:
    """What the quadrature knows at each spread of a batch (G spreads, J parent nodes).

    Attributes
    ----------
    log_likelihood : ndarray (G,)
        ``log p(y | tau)``, the weights integrated out (up to ``Rows.constant``).
    parent : ndarray (G, J, K)
        The parent's nodes.
    node_weight : ndarray (G, J)
        Their posterior weights given ``tau`` (summing to 1 over J).
    parent_var : ndarray (G, J, K)
        Variance about each node: 0, except with one node (Laplace's method), where it
        is the inverse curvature at the mode.
    child_mean, child_var : ndarray (G, J, T, K)
        Each task's conditional moments given the parent node and ``tau``.
    parent_mode, child_mode : ndarray (G, K), (G, T, K)
        The modes the nodes were placed around (starting points for other spreads).
    """

    log_likelihood: np.ndarray
    parent: np.ndarray
    node_weight: np.ndarray
    parent_var: np.ndarray
    child_mean: np.ndarray
    child_var: np.ndarray
    parent_mode: np.ndarray
    child_mode: np.ndarray

    def take(self, index) -> GivenSpread:
        """The spreads at ``index`` (an index array or a slice)."""
        return GivenSpread(*(getattr(self, f.name)[index] for f in fields(self)))

    @classmethod
    def concatenate(cls, parts: list[GivenSpread]) -> GivenSpread:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))


def given_spread(rows: Rows, tau: np.ndarray, *, prior_mean: float, prior_scale: float,
                 parent_rule: Rule, child_rule: Rule, start_parent: np.ndarray,
                 start_child: np.ndarray) -> GivenSpread:
    """Integrate the weights out at each spread of ``tau`` (G,), in memory-bounded chunks.

    ``start_parent`` (G, K) and ``start_child`` (G, T, K) are where Newton's method
    starts (the modes at a nearby spread, or the prior mean).
    """
    t, k = rows.n_tasks, rows.X.shape[1]
    per_spread = parent_rule.size * max(rows.X.shape[0], 1) * k * (child_rule.size + k) \
        + parent_rule.size * t * child_rule.size * k
    step = max(1, _CHUNK // per_spread)
    parts = [_given_spread(rows, tau[lo:lo + step], prior_mean, prior_scale, parent_rule,
                           child_rule, start_parent[lo:lo + step], start_child[lo:lo + step])
             for lo in range(0, len(tau), step)]
    return GivenSpread.concatenate(parts)


def _given_spread(rows, tau, m, s, parent_rule, child_rule, p0, c0) -> GivenSpread:
    g_count, k = len(tau), rows.X.shape[1]
    t = rows.n_tasks
    tau2 = tau**2
    p_hat, c_hat, M, H = _parent_mode(rows, tau2, m, s, p0, c0)
    Q, logdet_h = inverse_root(H)
    # Parent nodes p_hat + Q u, and each task's start from the mode's slope in p.
    parent = p_hat[:, None, :] + np.einsum("gkl,jl->gjk", Q, parent_rule.z)
    shift = parent - p_hat[:, None, :]
    start = c_hat[:, None] + np.einsum("gtkl,gjl->gjtk", inverse(M), shift)
    j = parent_rule.size
    flat_tau2 = np.repeat(tau2, j)
    flat_p = parent.reshape(-1, k)
    c, grad, A = _child_modes(rows, flat_p, flat_tau2, start.reshape(-1, t, k))
    log_l, mean, var = _task_integrals(rows, child_rule, flat_p, flat_tau2, c, grad, A)
    log_l = log_l.reshape(g_count, j, t)
    prior = (-0.5 * k * math.log(2.0 * math.pi * s * s)
             - 0.5 * ((parent - m) ** 2).sum(axis=-1) / (s * s))
    terms = parent_rule.log_w + parent_rule.half_sq + prior + log_l.sum(axis=-1)
    log_likelihood = (logsumexp(terms, axis=1) + 0.5 * k * math.log(2.0 * math.pi)
                      - 0.5 * logdet_h)
    node_weight = np.exp(terms - terms.max(axis=1, keepdims=True))
    node_weight /= node_weight.sum(axis=1, keepdims=True)
    # One node carries no spread of its own: Laplace's variance stands in for it.
    laplace = (Q**2).sum(axis=-1)[:, None, :] if j == 1 else 0.0
    parent_var = np.zeros_like(parent) + laplace
    return GivenSpread(log_likelihood, parent, node_weight, parent_var,
                       mean.reshape(g_count, j, t, k), var.reshape(g_count, j, t, k), p_hat,
                       c_hat)


def _derivatives(rows: Rows, c: np.ndarray):
    """Each task's gradient ``X'd`` (B, T, K) and curvature ``X'WX`` (B, T, K, K) at ``c``."""
    eta = np.einsum("bnk,nk->bn", c[:, rows.task, :], rows.X)
    _, d1, w = rows.family.kernel(eta, rows.y, rows.size)
    grad = rows.segment_sum(d1[:, None, :] * rows.X.T[None])
    A = rows.segment_sum(w[:, None, None, :] * rows.XX.transpose(1, 2, 0)[None])
    return np.moveaxis(grad, -1, 1), np.moveaxis(A, -1, 1)


def _capped(rows: Rows, step: np.ndarray) -> np.ndarray:
    """``step`` (B, T, K) shortened per task so no row's linear predictor moves more
    than ``_MAX_STEP``: far from the mode a Poisson rate's curvature is tiny and a full
    Newton step would overshoot into overflow."""
    move = np.abs(np.einsum("bnk,nk->bn", step[:, rows.task, :], rows.X))
    biggest = rows.segment_max(move)
    return step * np.minimum(1.0, _MAX_STEP / np.maximum(biggest, 1e-300))[..., None]


def _child_modes(rows: Rows, p: np.ndarray, tau2: np.ndarray, c: np.ndarray):
    """Each task's mode given the parent ``p`` (B, K) and ``tau^2`` (B,), from ``c``.

    Returns the modes (B, T, K) and the data's gradient and curvature there.
    """
    k = p.shape[1]
    eye = np.eye(k)
    t2 = tau2[:, None, None]
    for it in range(_MAX_NEWTON + 1):
        grad, A = _derivatives(rows, c)
        if it == _MAX_NEWTON:
            break
        M = eye + t2[..., None] * A
        # (c - p) / tau^2 = X'd at the mode; in the scaled form: solve M step = p - c + tau^2 X'd.
        step = _capped(rows, solve(M, p[:, None, :] - c + t2 * grad))
        c = c + step
        if np.abs(step).max(initial=0.0) < _TOL:
            grad, A = _derivatives(rows, c)
            break
    return c, grad, A


def _parent_mode(rows: Rows, tau2: np.ndarray, m: float, s: float, p: np.ndarray,
                 c: np.ndarray):
    """The joint mode of the parent and every task at each spread (Newton's method).

    One Newton step on ``(p, c)`` at once, the tasks eliminated first (the Hessian is an
    arrow: each task meets only the parent). With ``M_t = I + tau^2 A_t`` (``A_t = X'WX``,
    ``g_t = X'd`` at the current ``c_t``), the parent's step solves

        (I / s^2 + sum_t M_t^-1 A_t) dp = (m - p) / s^2 + sum_t M_t^-1 (g_t + A_t (c_t - p))

    and each task's step is ``M_t^-1 (tau^2 g_t - (c_t - p) + dp)``: scaled so that a
    spread near zero loses no precision.

    Returns the parent's mode (G, K), the tasks' modes (G, T, K), ``M`` (G, T, K, K) and
    the parent's curvature, the negative Hessian of the profile (G, K, K).
    """
    k = p.shape[1]
    eye = np.eye(k)
    t2 = tau2[:, None, None]
    done = False
    for it in range(_MAX_NEWTON + 1):
        grad, A = _derivatives(rows, c)
        M = eye + t2[..., None] * A
        Minv = inverse(M)
        H = eye / s**2 + np.einsum("gtkl,gtlm->gkm", Minv, A)
        if done or it == _MAX_NEWTON:
            break
        off = c - p[:, None, :]
        rhs = (m - p) / s**2 + np.einsum(
            "gtkl,gtl->gk", Minv, grad + np.einsum("gtkl,gtl->gtk", A, off))
        dp = solve(H, rhs)
        move = np.abs(dp @ rows.X.T).max(axis=1, initial=0.0)
        dp = dp * np.minimum(1.0, _MAX_STEP / np.maximum(move, 1e-300))[:, None]
        dc = _capped(rows, np.einsum("gtkl,gtl->gtk", Minv, t2 * grad - off + dp[:, None, :]))
        p, c = p + dp, c + dc
        done = max(np.abs(dp).max(initial=0.0), np.abs(dc).max(initial=0.0)) < _TOL
    return p, c, M, H


def _task_integrals(rows: Rows, rule: Rule, p: np.ndarray, tau2: np.ndarray, c: np.ndarray,
                    grad: np.ndarray, A: np.ndarray):
    """AGHQ of each task at its mode ``c`` (B, T, K): ``log p(y_t | p, tau)`` (B, T) and
    the conditional mean and variance of its weights (B, T, K)."""
    k = p.shape[1]
    tau = np.sqrt(tau2)
    M = np.eye(k) + tau2[:, None, None, None] * A
    R, logdet_m = inverse_root(M)  # the nodes' scale is tau R: (tau^2 M^-1) = H^-1
    zr = np.einsum("btkl,il->btik", R, rule.z)
    nodes = c[:, :, None, :] + tau[:, None, None, None] * zr
    # Each row's linear predictor at each node: x.c + tau (x R) z, without building the
    # (batch, rows, nodes, K) array of the nodes themselves.
    at_mode = np.einsum("bnk,nk->bn", c[:, rows.task], rows.X)
    xr = np.einsum("bnkl,nk->bnl", R[:, rows.task], rows.X) * tau[:, None, None]
    eta = at_mode[:, None, :] + np.matmul(rule.z, xr.transpose(0, 2, 1))
    value = rows.family.value(eta, rows.y, rows.size)
    data = np.moveaxis(rows.segment_sum(value), 1, 2)  # (B, T, I)
    # (node - p) / tau = tau X'd + R z: the prior's exponent, exact as tau -> 0.
    dev = (tau[:, None, None] * grad)[:, :, None, :] + zr
    terms = rule.log_w + rule.half_sq + data - 0.5 * (dev**2).sum(axis=-1)
    log_l = logsumexp(terms, axis=-1) - 0.5 * logdet_m
    a = np.exp(terms - terms.max(axis=-1, keepdims=True))
    a /= a.sum(axis=-1, keepdims=True)
    mean = np.einsum("bti,btik->btk", a, nodes)
    if rule.size == 1:  # Laplace's method: the variance from the curvature at the mode
        var = tau2[:, None, None] * (R**2).sum(axis=-1)
    else:
        var = np.einsum("bti,btik->btk", a, (nodes - mean[:, :, None, :]) ** 2)
    return log_l, mean, var
