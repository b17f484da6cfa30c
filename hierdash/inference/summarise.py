"""Posterior draws as ArviZ trees, and the tidy tables every chart and download reads."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hierdash.inference.prepare import Prepared
from hierdash.scenario import Scenario
from hierdash.settings import CI_PROB

__all__ = ["draws_of", "posterior_mean", "posterior_tree", "trim", "summarise",
           "natural_scale_names", "with_natural_scale"]



def posterior_tree(draws: dict[str, np.ndarray], scenario: Scenario):
    """An ArviZ-style DataTree from arrays shaped (chain, draw, ...)."""
    import xarray as xr

    dims = {"parent": ("feature",), "child": ("task", "feature"), "noise": (), "spread": ()}
    chains, n_draws = draws["parent"].shape[:2]
    data = {name: (("chain", "draw") + dims[name], value) for name, value in draws.items()}
    coords = {
        "chain": np.arange(chains),
        "draw": np.arange(n_draws),
        "task": np.arange(scenario.n_tasks),
        "feature": np.arange(scenario.n_features),
    }
    return xr.DataTree.from_dict({"posterior": xr.Dataset(data, coords=coords)})


def trim(trace, scenario: Scenario):
    """Keep the posterior group of the real tasks only (drop capacity padding)."""
    import xarray as xr

    post = trace["posterior"].to_dataset()
    keep = [v for v in ("parent", "child", "noise", "spread") if v in post]
    post = post[keep].isel(task=slice(0, scenario.n_tasks))
    post = post.assign_coords(
        task=np.arange(scenario.n_tasks), feature=np.arange(scenario.n_features)
    )
    return xr.DataTree.from_dict({"posterior": post})


def draws_of(posterior, name: str) -> np.ndarray:
    """Draws of one variable with chains and draws stacked first: (samples, ...)."""
    values = posterior["posterior"][name].values
    return values.reshape((-1,) + values.shape[2:])


def posterior_mean(posterior, name: str) -> np.ndarray:
    return draws_of(posterior, name).mean(axis=0)


def summarise(
    scenario: Scenario, prep: Prepared, posterior
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tidy weights table and the table of scales (noise, spread).

    One row per weight: ``level`` (parent or child), ``task`` (-1 for the parent),
    ``feature``, ``n`` (the task's rows; all rows for the parent), ``true``, posterior
    ``mean``, ``sd``, a ``CI_PROB`` equal-tailed interval ``ci_low``/``ci_high``,
    the exact posterior's ``exact_mean``/``exact_sd``, the ``no_pooling`` and
    ``complete_pooling`` estimates, the posterior ``parent_mean`` of that feature and
    ``shrinkage``: the share of the way from the no-pooling estimate to the parent
    that the partial-pooling estimate moved (0 = none, 1 = all the way).
    """
    lo, hi = (1 - CI_PROB) / 2, 1 - (1 - CI_PROB) / 2
    k, t = scenario.n_features, scenario.n_tasks
    # parent and children side by side: (samples, 1 + tasks, features)
    stacked = np.concatenate(
        [draws_of(posterior, "parent")[:, None, :], draws_of(posterior, "child")], axis=1
    )
    mean = stacked.mean(axis=0)
    qlo, qhi = np.quantile(stacked, [lo, hi], axis=0)
    parent_mean = mean[0]
    no_pool = np.vstack([np.full(k, np.nan), prep.no_pool.estimate])
    with np.errstate(invalid="ignore", divide="ignore"):
        shrink = (no_pool - mean) / (no_pool - parent_mean)
    rows = 1 + t
    weights = pd.DataFrame(
        {
            "level": np.repeat(["parent"] + ["child"] * t, k),
            "task": np.repeat(np.arange(-1, t), k),
            "feature": np.tile(np.arange(k), rows),
            "n": np.repeat([scenario.total_rows, *scenario.samples], k),
            "true": np.vstack([prep.world.parent, prep.world.child]).ravel(),
            "mean": mean.ravel(),
            "sd": stacked.std(axis=0, ddof=1).ravel(),
            "ci_low": qlo.ravel(),
            "ci_high": qhi.ravel(),
            "exact_mean": np.vstack([prep.exact.parent_mean, prep.exact.child_mean]).ravel(),
            "exact_sd": np.vstack([prep.exact.parent_sd, prep.exact.child_sd]).ravel(),
            "no_pooling": no_pool.ravel(),
            "complete_pooling": np.tile(prep.complete, rows),
            "parent_mean": np.tile(parent_mean, rows),
            "shrinkage": shrink.ravel(),
        }
    )
    weights["z_vs_exact"] = (weights["mean"] - weights["exact_mean"]) / weights["exact_sd"]
    if not scenario.is_gaussian:
        weights = with_natural_scale(weights, stacked, scenario, prep.world)

    scales = ([("noise", scenario.noise_sd, prep.exact.noise_mean, prep.exact.noise_sd)]
              if scenario.is_gaussian else [])
    if scenario.learn_spread:
        scales.append(("spread", scenario.child_spread, prep.exact.spread_mean, prep.exact.spread_sd))
    table = []
    for name, true, exact_mean, exact_sd in scales:
        d = draws_of(posterior, name)
        qlo, qhi = np.quantile(d, [lo, hi])
        table.append(
            {"name": name, "true": true, "mean": d.mean(), "sd": d.std(ddof=1),
             "ci_low": qlo, "ci_high": qhi, "exact_mean": exact_mean, "exact_sd": exact_sd}
        )
    return weights, pd.DataFrame(table)


def natural_scale_names(outcome: str, n_features: int, intercept: bool) -> list[str]:
    """What each weight means once its link is undone: an intercept becomes a
    ``probability`` (logit link) or a ``rate`` (log link); a slope becomes an ``odds
    ratio`` or a ``rate ratio`` (the factor one unit of its feature multiplies by)."""
    logit = outcome in ("bernoulli", "binomial")
    names = []
    for feature in range(n_features):
        if intercept and feature == 0:
            names.append("probability" if logit else "rate")
        else:
            names.append("odds ratio" if logit else "rate ratio")
    return names


def with_natural_scale(weights: pd.DataFrame, stacked: np.ndarray, scenario: Scenario,
                       world) -> pd.DataFrame:
    """``weights`` with columns on the probability or rate scale: ``natural_scale`` (what
    it is), ``natural_true``, ``natural_mean`` (the posterior mean of the transformed
    draws, not the transform of the mean) and the ``CI_PROB`` interval
    ``natural_low``/``natural_high`` (quantiles carry over exactly)."""
    from scipy.special import expit

    k, rows = scenario.n_features, stacked.shape[1]
    names = natural_scale_names(scenario.outcome, k, scenario.intercept)
    is_probability = np.array([n == "probability" for n in names])
    lo, hi = (1 - CI_PROB) / 2, 1 - (1 - CI_PROB) / 2

    def undo(values: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.where(is_probability, expit(values), np.exp(values))

    natural = undo(stacked)
    out = weights.copy()
    out["natural_scale"] = np.tile(names, rows)
    out["natural_true"] = undo(np.vstack([world.parent, world.child])).ravel()
    out["natural_mean"] = natural.mean(axis=0).ravel()
    qlo, qhi = np.quantile(natural, [lo, hi], axis=0)
    out["natural_low"] = qlo.ravel()
    out["natural_high"] = qhi.ravel()
    return out
