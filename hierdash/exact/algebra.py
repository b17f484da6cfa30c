"""The hierarchical model reduced to per-task eigenbases: its Gaussians given (sigma, tau).

Given the noise ``sigma`` and the spread ``tau`` every weight is jointly Gaussian and
``y``'s marginal likelihood is Gaussian too. :class:`ReducedModel` precomputes, once,
what those conditionals need (each task's ``X'X`` in its eigenbasis, the pooled frame
of the parent), and evaluates them batched over many ``(sigma, tau)`` points: the
parent given both, the log density of ``(log sigma, log tau)``, each task's weights with
the parent integrated out, and joint draws. No dense ``K (T + 1)`` system is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ReducedModel", "log_half_normal", "CHUNK"]

CHUNK = 1 << 21  # elements per chunk of (grid, task, K, K) work: bounds the memory of a batch
_LOG_HALF_NORMAL = 0.5 * math.log(2.0 / math.pi)


@dataclass(frozen=True, eq=False)
class ReducedModel:
    """Everything the conditional Gaussians need, precomputed once.

    Weights are shifted by ``shift`` (a pooled ridge estimate) so that the grid work is
    done on small numbers; ``lam`` and ``U`` are the eigenvalues and eigenvectors of each
    task's ``X'X``; ``z = U' X'(y - X shift)``; ``q = z**2 / lam`` (0 in null directions);
    the directions with ``lam > 0`` are also kept flat (``lam_f``, ``terms``);
    ``rss`` is the total least-squares residual sum of squares of the tasks taken alone.
    """

    n_tasks: int
    n_features: int
    lam: np.ndarray  # (T, K)
    U: np.ndarray  # (T, K, K), columns are eigenvectors
    z: np.ndarray  # (T, K)
    q: np.ndarray  # (T, K)
    rss: float
    n_rows: float
    shift: np.ndarray  # (K,)
    prior_mean: np.ndarray  # (K,) shifted
    prior_scale: float
    noise_scale: float
    spread_scale: float
    fixed_spread: float | None
    basis: np.ndarray  # (K, K): eigenvectors of the pooled X'X (the parent's frame)
    # The J informative directions (lam > 0) of all tasks, flattened:
    lam_f: np.ndarray  # (J,)
    # [lam u u', z u, z^2 / lam] of each (u in the parent's frame): d @ terms gives the
    # parent's data precision (K*K), its linear term (K) and the fit (1) in one product.
    terms: np.ndarray  # (J, K*K + K + 1)
    prior_rot: np.ndarray  # (K,): prior_mean in the parent's frame
    # Tasks with data (any lam > 0); the others' weights are just p + tau * noise.
    informed: np.ndarray  # (T,) bool
    Ui: np.ndarray  # (Ti, K, K): U of the informed tasks
    zi: np.ndarray  # (Ti, K)
    info_i: np.ndarray  # (Ti*K,) bool: informative directions among the informed tasks
    rows: np.ndarray  # (K, Ti*K): p @ rows = U_t' p for every informed task
    cols: np.ndarray  # (Ti*K, K): cols @ S = U_t' S for every informed task

    @classmethod
    def build(cls, XtX, Xty, yty, n, prior_mean, prior_scale, noise_scale, spread_scale,
              fixed_spread) -> ReducedModel:
        t, k = Xty.shape
        eps = 64 * k * np.finfo(float).eps
        total = XtX.sum(axis=0)
        ridge = 1e-6 * np.trace(total) / k
        shift = (np.linalg.solve(total + ridge * np.eye(k), Xty.sum(axis=0))
                 if ridge > 0 else np.zeros(k))
        lam, U = np.linalg.eigh(XtX)
        # Eigenvalues at rounding level are null directions: no information there.
        null = lam <= eps * lam.max(axis=1, keepdims=True)
        lam = np.where(null, 0.0, lam)
        z_raw = np.einsum("tki,tk->ti", U, Xty)
        q_raw = np.where(null, 0.0, z_raw**2 / np.where(null, 1.0, lam))
        rss = float(np.maximum(yty - q_raw.sum(axis=1), 0.0).sum())
        Xty_s = Xty - XtX @ shift
        z = np.where(null, 0.0, np.einsum("tki,tk->ti", U, Xty_s))
        q = np.where(null, 0.0, z**2 / np.where(null, 1.0, lam))
        cols = U.transpose(0, 2, 1).reshape(t * k, k)
        # The parent works in the eigenbasis of the pooled X'X, where directions no task
        # informs are exactly zero in every task's term (so its precision stays positive
        # definite however small sigma and tau get).
        glam, basis = np.linalg.eigh(total)
        cols_rot = cols @ basis
        cols_rot[:, glam <= eps * max(glam.max(), 0.0)] = 0.0
        info = ~null.reshape(-1)
        cols_rot = cols_rot[info]
        outer = (cols_rot[:, :, None] * cols_rot[:, None, :]).reshape(-1, k * k)
        lam_f, z_f, q_f = lam.reshape(-1)[info], z.reshape(-1)[info], q.reshape(-1)[info]
        terms = np.concatenate(
            [lam_f[:, None] * outer, z_f[:, None] * cols_rot, q_f[:, None]], axis=1
        )
        prior_shifted = np.full(k, prior_mean) - shift
        informed = ~null.all(axis=1)
        cols_i = U[informed].transpose(0, 2, 1).reshape(-1, k)
        return cls(
            n_tasks=t, n_features=k, lam=lam, U=U, z=z, q=q, rss=rss,
            n_rows=float(n.sum()), shift=shift,
            prior_mean=prior_shifted, prior_scale=prior_scale,
            noise_scale=noise_scale, spread_scale=spread_scale, fixed_spread=fixed_spread,
            basis=basis, lam_f=lam_f, terms=terms,
            prior_rot=prior_shifted @ basis,
            informed=informed, Ui=U[informed], zi=z[informed],
            info_i=(~null[informed]).reshape(-1),
            rows=np.ascontiguousarray(cols_i.T), cols=cols_i,
        )

    # -- conditional on (sigma, tau) -------------------------------------------------
    def parent_given(self, sigma: np.ndarray, tau: np.ndarray, *, full: bool = False,
                     loglik: bool = True) -> dict:
        """p | sigma, tau, y and log p(y | sigma, tau) at each of G points (1-D arrays).

        Returns ``rho`` (G,), ``mu`` (G, K) (shifted coordinates), ``loglik`` (G,) (if
        ``loglik``) and, if ``full``, ``d`` (G, Ti, K) (informed tasks only) and ``root``
        (G, K, K) with Cov(p) = root root'.
        """
        g, k = sigma.shape[0], self.n_features
        s2 = sigma**2
        rho = tau**2 / s2
        # d = 1 / (1 + tau^2 lam / sigma^2) on the informative directions (1 elsewhere).
        df = 1.0 / (1.0 + rho[:, None] * self.lam_f)  # (G, J)
        sums = df @ self.terms
        Q = sums[:, :k * k].reshape(g, k, k) / s2[:, None, None]
        r = sums[:, k * k:k * k + k] / s2[:, None]
        ps2 = self.prior_scale**2
        P = Q + np.eye(k) / ps2
        ell = r + self.prior_rot / ps2
        try:
            L = np.linalg.cholesky(P)
        except np.linalg.LinAlgError:
            # Rounding made some P (ill-conditioned data) indefinite: P >= I / ps2 holds
            # exactly, so clip its eigenvalues there.
            e, V = np.linalg.eigh(P)
            e = np.maximum(e, 1.0 / ps2)
            logdet = np.log(e).sum(axis=1)
            F = V / np.sqrt(e)[:, None, :]  # P^-1 = F F'
        else:
            logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
            F = None
        if F is None:
            mu_rot = np.linalg.solve(P, ell[..., None])[..., 0]
        else:
            mu_rot = np.einsum("gij,gkj,gk->gi", F, F, ell)
        out = {"rho": rho, "mu": mu_rot @ self.basis.T}
        if loglik:
            fit = self.rss + sums[:, -1]
            # log det(I + tau^2 X'X / sigma^2) = -sum log d (log of d is as exact as
            # needed here, and much faster than log1p).
            out["loglik"] = (
                -0.5 * self.n_rows * np.log(2.0 * math.pi * s2)
                - 0.5 * fit / s2
                + 0.5 * np.log(df).sum(axis=1)
                - k * math.log(self.prior_scale)
                - 0.5 * logdet
                + 0.5 * np.einsum("gk,gk->g", ell, mu_rot)
                - 0.5 * float(self.prior_mean @ self.prior_mean) / ps2
            )
        if full:
            d = np.ones((g, self.info_i.size))
            d[:, self.info_i] = df
            out["d"] = d.reshape(g, -1, k)  # (G, Ti, K)
            if F is None:
                F = np.linalg.inv(L).transpose(0, 2, 1)  # (L L')^-1 = L^-T L^-1
            out["root"] = np.matmul(self.basis, F)
        return out

    def log_density(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Log posterior density of (log sigma, log tau), up to a constant, at points."""
        sigma, tau = np.exp(u), self._tau(v)
        step = max(1024, CHUNK // max(self.lam_f.size, self.n_features**2, 1))
        lp = np.concatenate([
            self.parent_given(sigma[lo:lo + step], tau[lo:lo + step])["loglik"]
            for lo in range(0, sigma.size, step)
        ])
        lp = lp + log_half_normal(sigma, self.noise_scale) + u
        if self.fixed_spread is None:
            tau = np.exp(v)
            lp = lp + log_half_normal(tau, self.spread_scale) + v
        return lp

    def _tau(self, v: np.ndarray) -> np.ndarray:
        if self.fixed_spread is None:
            return np.exp(v)
        return np.full(v.shape, self.fixed_spread)

    def child_moments(self, cond: dict, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Means and variances of c_t | sigma, tau, y (p integrated out): (G, T, K) each.

        ``c_t = a_t + B_t p + noise`` with ``B_t = U diag(d) U'``, so the variance is
        ``tau^2 diag(U diag(d) U') + diag(B_t Cov(p) B_t')``; every product is batched
        over tasks with the grid points side by side (large BLAS calls, no K(T+1) system).
        """
        d, rho, root, mu = cond["d"], cond["rho"], cond["root"], cond["mu"]
        g, t, k = d.shape
        U = self.Ui
        Up = (mu @ self.rows).reshape(g, t, k)
        coef = d * (rho[:, None, None] * self.zi + Up)
        mean_i = np.matmul(U, coef.transpose(1, 2, 0)).transpose(2, 0, 1)
        var_i = np.matmul(U**2, d.transpose(1, 2, 0)).transpose(2, 0, 1)
        var_i *= tau[:, None, None] ** 2
        step = max(1, CHUNK // max(1, t * k * k))
        for lo in range(0, g, step):
            sl = slice(lo, lo + step)
            gg = root[sl].shape[0]
            F = root[sl].transpose(1, 0, 2).reshape(k, gg * k)
            M = (self.cols @ F).reshape(t, k, gg, k)  # U_t' root_g
            M *= d[sl].transpose(1, 2, 0)[..., None]
            BM = np.matmul(U, M.reshape(t, k, gg * k)).reshape(t, k, gg, k)
            var_i[sl] += np.einsum("tkgj,tkgj->gtk", BM, BM)
        # A task without data: c = p + tau * noise.
        shape = (g, self.n_tasks, k)
        mean = np.broadcast_to(mu[:, None, :], shape).copy()
        var = np.broadcast_to(((root**2).sum(axis=2) + tau[:, None] ** 2)[:, None, :],
                              shape).copy()
        mean[:, self.informed] = mean_i
        var[:, self.informed] = var_i
        return mean + self.shift, var

    def draw(self, sigma: np.ndarray, tau: np.ndarray, rng: np.random.Generator):
        """One joint draw of (p, c) given each (sigma, tau): (D, K) and (D, T, K)."""
        g, t, k = sigma.shape[0], self.n_tasks, self.n_features
        cond = self.parent_given(sigma, tau, full=True, loglik=False)
        xi = rng.standard_normal((g, k, 1))
        p = cond["mu"] + np.matmul(cond["root"], xi)[..., 0]
        d, rho = cond["d"], cond["rho"]
        eta = rng.standard_normal((g, t, k))
        c = p[:, None, :] + tau[:, None, None] * eta  # tasks without data
        ti = d.shape[1]
        Up = (p @ self.rows).reshape(g, ti, k)
        eta = eta[:, self.informed]
        coef = d * (rho[:, None, None] * self.zi + Up) + tau[:, None, None] * np.sqrt(d) * eta
        c[:, self.informed] = np.matmul(self.Ui, coef.transpose(1, 2, 0)).transpose(2, 0, 1)
        return p + self.shift, c + self.shift


def log_half_normal(x: np.ndarray, scale: float) -> np.ndarray:
    """Log density of HalfNormal(scale) at ``x >= 0``."""
    return _LOG_HALF_NORMAL - math.log(scale) - 0.5 * (x / scale) ** 2

