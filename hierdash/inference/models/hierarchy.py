"""The hierarchy every sampled linear model shares: parent weights, one spread, and
each task's weights, centered or not per task and feature.

``c[t] ~ Normal(parent, spread)`` is written as ``child_raw ~ Normal(w * parent,
spread**w)`` and ``child = parent + spread**(1 - w) * (child_raw - w * parent)``: with
``w = 1`` the raw value is the task's weight (centered), with ``w = 0`` it is its
standard-normal offset (non-centered). ``w`` is data, so one compiled model serves every
choice per task and feature.

Two steps, so that a model can add its own scales between them: the order in which
random variables are made is the order of the sampler's parameter vector, which the
hand-written kernels (:mod:`~hierdash.inference.models.advi_kernel`) rely on.
"""

from __future__ import annotations

import pymc as pm

__all__ = ["parent_and_spread", "task_weights"]


def parent_and_spread(data: dict):
    """Add the parent weights (``parent``, dims feature) and the spread to the open
    ``pm.Model``; the spread in use.

    ``data`` holds ``prior_parent_mean``, ``prior_parent_scale``, ``prior_spread_scale``,
    ``learn_spread`` (1: the spread ``spread`` is sampled; 0: ``fixed_spread`` is used)
    and ``fixed_spread``.
    """
    prior_mu = pm.Data("prior_parent_mean", data["prior_parent_mean"])
    prior_sd = pm.Data("prior_parent_scale", data["prior_parent_scale"])
    spread_scale = pm.Data("prior_spread_scale", data["prior_spread_scale"])
    learn = pm.Data("learn_spread", data["learn_spread"])
    fixed = pm.Data("fixed_spread", data["fixed_spread"])
    parent = pm.Normal("parent", mu=prior_mu, sigma=prior_sd, dims="feature")
    free_spread = pm.HalfNormal("spread", sigma=spread_scale)
    return parent, learn * free_spread + (1.0 - learn) * fixed


def task_weights(parent, spread, data: dict):
    """Add each task's weights (``child_raw`` and the deterministic ``child``, dims
    task and feature) to the open ``pm.Model``, centered where ``data["centered"]`` is
    1; ``child``."""
    w = pm.Data("centered", data["centered"], dims=("task", "feature"))
    # spread**w and spread**(1 - w) for w in {0, 1}, without a power per element
    # (the powers and their gradients doubled the cost of a gradient).
    raw_scale = 1.0 + w * (spread - 1.0)
    offset_scale = spread - w * (spread - 1.0)
    child_raw = pm.Normal("child_raw", mu=w * parent, sigma=raw_scale, dims=("task", "feature"))
    return pm.Deterministic("child", parent + offset_scale * (child_raw - w * parent),
                            dims=("task", "feature"))
