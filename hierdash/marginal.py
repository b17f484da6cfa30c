"""The marginal model: every weight integrated out, the sampler explores the scales only.

Given the noise ``sigma`` and the spread ``tau`` the model is linear and Gaussian, so the
parent and every task's weights can be integrated out in closed form (the algebra of
:mod:`hierdash.exact`): each task's ``X'X`` in its eigenbasis gives per direction
``d = 1 / (1 + tau^2 lam / sigma^2)``, and the parent is a ``K x K`` Gaussian. NUTS then
samples ``(log sigma, log tau)`` from ``p(sigma, tau | y)``, two smooth dimensions with
no funnel, and each draw's weights come from their exact Gaussian conditional
(:func:`draw_weights`).

Why the parent too, not the children only: with the children alone integrated out, a
few data-rich tasks leave the spread uncertain while the parent's sd scales with
``tau``, a funnel of its own.

One compiled model serves every world within the bounds: the informative directions of
all tasks are padded to (task capacity x feature capacity) with ``lam = 0`` (which adds
exactly nothing: ``d = 1``, ``log d = 0``) and the features to their capacity (a padded
feature's parent coordinate has precision ``1 / prior_scale^2`` and no data, a constant
in the density). Task count, row counts, feature count, padding mode and a learned or
fixed spread all change only data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hierdash.exact import ExactPosterior

__all__ = [
    "MARGINAL_VALUE_NAMES",
    "marginal_data",
    "build_marginal_model",
    "marginal_start",
    "draw_weights",
]

# The sampler's unconstrained variables, as PyMC names them (log transforms). Pinned
# here, where the model is defined; a test checks them against the built model.
MARGINAL_VALUE_NAMES = {"noise": "noise_log__", "spread": "spread_log__"}


def marginal_data(
    exact: ExactPosterior,
    *,
    tasks: int,
    features: int,
    learn_spread: bool,
    fixed_spread: float,
) -> dict[str, Any]:
    """Values of the marginal model's ``pm.Data`` for one world, padded to a capacity of
    ``tasks`` x ``features``.

    ``exact`` holds the world's statistics already in the form the integration needs
    (the informative directions of every task, see :class:`hierdash.exact.ExactPosterior`).
    """
    m = exact._model  # the integration's precomputed terms (see hierdash.exact)
    k, j = m.n_features, m.lam_f.size
    width = k * k + k + 1
    directions = tasks * features
    if j > directions or k > features:
        raise ValueError(
            f"a world with {j} informative directions and {k} features is too large for the "
            f"marginal model: at most {directions} directions and {features} features"
        )
    # The world's own terms in the top-left corner; the model reads only that corner.
    lam = np.zeros(directions)
    lam[:j] = m.lam_f
    terms = np.zeros((directions, features * features + features + 1))
    terms[:j, :width] = m.terms
    prior_rot = np.zeros(features)
    prior_rot[:k] = m.prior_rot
    return {
        "n_directions": np.array(j, dtype=np.int64),
        "n_features": np.array(k, dtype=np.int64),
        "lam": lam,
        "terms": terms,
        "rss": np.array(m.rss),
        "n_likelihood_rows": np.array(m.n_rows),
        "prior_mean_rot": prior_rot,
        "prior_parent_scale": np.array(m.prior_scale),
        "prior_noise_scale": np.array(m.noise_scale),
        "prior_spread_scale": np.array(m.spread_scale),
        "learn_spread": np.array(1.0 if learn_spread else 0.0),
        "fixed_spread": np.array(float(fixed_spread)),
    }


def build_marginal_model(data: dict[str, Any]):
    """The PyMC model of ``p(sigma, tau | y)`` with the weights integrated out.

    Free variables: ``noise`` and ``spread`` (HalfNormal priors). When the spread is
    fixed (``learn_spread = 0``) the free ``spread`` only follows its prior and the
    likelihood uses ``fixed_spread``: the same compiled model serves both.
    """
    import pymc as pm
    import pytensor.tensor as pt

    with pm.Model() as model:
        # The world's size: the model computes on the first j directions and k features
        # of the padded arrays only, so padding costs next to nothing per gradient
        # (measured: 400 padded directions cost 2.3x the gradient time of 8 unsliced).
        j = pm.Data("n_directions", data["n_directions"])
        k = pm.Data("n_features", data["n_features"])
        lam = pm.Data("lam", data["lam"])[:j]
        terms = pm.Data("terms", data["terms"])[:j, : k * k + k + 1]
        rss = pm.Data("rss", data["rss"])
        n_rows = pm.Data("n_likelihood_rows", data["n_likelihood_rows"])
        prior_mean = pm.Data("prior_mean_rot", data["prior_mean_rot"])[:k]
        prior_sd = pm.Data("prior_parent_scale", data["prior_parent_scale"])
        noise_scale = pm.Data("prior_noise_scale", data["prior_noise_scale"])
        spread_scale = pm.Data("prior_spread_scale", data["prior_spread_scale"])
        learn = pm.Data("learn_spread", data["learn_spread"])
        fixed = pm.Data("fixed_spread", data["fixed_spread"])

        noise = pm.HalfNormal("noise", sigma=noise_scale)
        spread = pm.HalfNormal("spread", sigma=spread_scale)
        tau = learn * spread + (1.0 - learn) * fixed
        s2 = noise**2
        # Per informative direction: the share of the task's own estimate kept.
        d = 1.0 / (1.0 + (tau**2 / s2) * lam)
        sums = pt.dot(d, terms)  # [parent's data precision (k*k), linear term (k), fit]
        precision = sums[: k * k].reshape((k, k)) / s2 + pt.eye(k) / prior_sd**2
        linear = sums[k * k : k * k + k] / s2 + prior_mean / prior_sd**2
        chol = pt.linalg.cholesky(precision)
        whitened = pt.linalg.solve_triangular(chol, linear, lower=True)
        loglik = (
            -0.5 * n_rows * pt.log(s2)
            - 0.5 * (rss + sums[k * k + k]) / s2
            + 0.5 * pt.sum(pt.log(d))
            - pt.sum(pt.log(pt.diagonal(chol)))
            + 0.5 * pt.sum(whitened**2)
        )
        pm.Potential("likelihood", loglik)
    return model


def draw_weights(
    exact: ExactPosterior, noise: np.ndarray, spread: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One exact draw of the weights given each ``(noise, spread)`` pair.

    Returns the parent ``(D, K)`` and the children ``(D, T, K)`` drawn from their joint
    Gaussian conditional, the same algebra as the exact posterior's own draws.
    """
    noise = np.asarray(noise, dtype=float).ravel()
    spread = np.asarray(spread, dtype=float).ravel()
    return exact._model.draw(noise, spread, rng)


def marginal_start(point: dict) -> dict:
    """Unconstrained starting values (by :data:`MARGINAL_VALUE_NAMES`) for a posterior
    draw holding ``noise`` and ``spread``."""
    return {
        MARGINAL_VALUE_NAMES["noise"]: np.log(float(point["noise"])),
        MARGINAL_VALUE_NAMES["spread"]: np.log(float(point["spread"])),
    }
