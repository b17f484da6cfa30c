"""Small symmetric positive-definite matrices in batches: solves, inverses, square roots.

The quadrature works with one ``K x K`` matrix per (spread, parent node, task), ``K``
the number of features (1 or 2 on most worlds). NumPy's batched linear algebra pays a
fixed cost per matrix, so ``K = 1`` and ``K = 2`` are written out in closed form.
"""

from __future__ import annotations

import numpy as np

__all__ = ["inverse", "solve", "inverse_root"]


def inverse(M: np.ndarray) -> np.ndarray:
    """``M^-1`` of each symmetric positive-definite ``M`` (..., K, K)."""
    k = M.shape[-1]
    if k == 1:
        return 1.0 / M
    if k == 2:
        a, b, d = M[..., 0, 0], M[..., 0, 1], M[..., 1, 1]
        det = a * d - b * b
        out = np.empty_like(M)
        out[..., 0, 0], out[..., 1, 1] = d / det, a / det
        out[..., 0, 1] = out[..., 1, 0] = -b / det
        return out
    return np.linalg.inv(M)


def solve(M: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``M^-1 b`` for vectors ``b`` (..., K)."""
    if M.shape[-1] == 1:
        return b / M[..., 0]
    return np.einsum("...kl,...l->...k", inverse(M), b)


def inverse_root(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``R`` with ``R R' = M^-1`` (upper triangular) and ``log det M``.

    ``R = L^-T`` for the Cholesky factor ``L`` of ``M``: the nodes ``mode + R z`` of a
    Gauss-Hermite rule then follow the curvature ``M`` of the integrand.
    """
    k = M.shape[-1]
    if k == 1:
        return 1.0 / np.sqrt(M), np.log(M[..., 0, 0])
    if k == 2:
        a = np.sqrt(M[..., 0, 0])
        b = M[..., 1, 0] / a
        c = np.sqrt(M[..., 1, 1] - b * b)
        R = np.zeros_like(M)
        R[..., 0, 0], R[..., 0, 1], R[..., 1, 1] = 1.0 / a, -b / (a * c), 1.0 / c
        return R, 2.0 * (np.log(a) + np.log(c))
    L = np.linalg.cholesky(M)
    R = np.swapaxes(np.linalg.inv(L), -1, -2)
    return R, 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(axis=-1)
