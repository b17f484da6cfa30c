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
all tasks are padded to (task capacity x feature capacity) and the features to their
capacity, and the likelihood (one compiled loop with its gradient,
:mod:`hierdash.inference.models.marginal_kernel`) reads only the world's own corner of them. Task count,
row counts, feature count, padding mode and a learned or fixed spread all change only
data.
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


# The model's pm.Data, by the names marginal_data returns (with_data swaps them).
_DATA_NAMES = (
    "n_directions", "n_features", "lam", "terms", "rss", "n_likelihood_rows", "prior_mean_rot",
    "prior_parent_scale", "prior_noise_scale", "prior_spread_scale", "learn_spread", "fixed_spread",
)


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

    from hierdash.inference.models.marginal_kernel import marginal_loglik

    with pm.Model() as model:
        # The padded arrays and the world's size: the likelihood reads only the first
        # n_directions directions and n_features features (see hierdash.inference.models.marginal_kernel),
        # so padding to capacity costs nothing per gradient.
        data_vars = {name: pm.Data(name, data[name]) for name in _DATA_NAMES}
        noise = pm.HalfNormal("noise", sigma=data_vars["prior_noise_scale"])
        spread = pm.HalfNormal("spread", sigma=data_vars["prior_spread_scale"])
        learn = data_vars["learn_spread"]
        tau = learn * spread + (1.0 - learn) * data_vars["fixed_spread"]
        loglik = marginal_loglik(
            noise**2,
            tau**2,
            lam=data_vars["lam"],
            terms=data_vars["terms"],
            rss=data_vars["rss"],
            n_rows=data_vars["n_likelihood_rows"],
            prior_mean=data_vars["prior_mean_rot"],
            prior_sd=data_vars["prior_parent_scale"],
            n_directions=data_vars["n_directions"],
            n_features=data_vars["n_features"],
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
