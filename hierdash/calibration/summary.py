"""Many worlds' checks summarised: coverage with Monte Carlo error, rank uniformity.

Worlds are the independent units. Quantities inside one world share its data and its
fit (a world whose noise is underestimated has every child interval too narrow), so
every standard error here is a cluster (per-world) one and the rank-uniformity test
corrects its chi-square for that clustering (Rao and Scott 1981, first order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from hierdash.calibration.world_check import INTERVALS, LEVELS, WorldCheck
from hierdash.settings import RHAT_LIMIT

__all__ = ["CalibrationSummary", "summarise_checks", "coverage_table", "uniformity_table"]


@dataclass(frozen=True, eq=False)
class CalibrationSummary:
    """How well calibrated a method was over a run's worlds.

    Attributes
    ----------
    n_worlds
        Worlds checked.
    coverage : pandas.DataFrame
        One row per level and interval: ``level``, ``interval`` (nominal probability),
        ``coverage`` (share of quantities whose truth was inside), ``se`` (its cluster
        Monte Carlo standard error), ``z`` (``(coverage - interval) / se``),
        ``worlds``, ``quantities``.
    uniformity : pandas.DataFrame
        One row per level: ``level``, ``bins``, ``chi2`` (Pearson's, on the pooled
        rank histogram), ``design_effect`` (how much clustering inflates it),
        ``statistic`` (``chi2 / design_effect``), ``dof``, ``p_value``, ``quantities``.
    worlds_with_divergences, divergences
        Worlds with at least one divergent transition, and divergences in all.
    divergent_share
        ``worlds_with_divergences / n_worlds``.
    unconverged_share
        Share of the worlds with an R-hat whose R-hat exceeded
        :data:`hierdash.settings.RHAT_LIMIT`;
        ``None`` when the method reports none (independent draws).
    median_seconds, p90_seconds
        Fit time per world.
    """

    n_worlds: int
    coverage: pd.DataFrame
    uniformity: pd.DataFrame
    worlds_with_divergences: int
    divergences: int
    divergent_share: float
    unconverged_share: float | None
    median_seconds: float
    p90_seconds: float

    def coverage_of(self, level: str, interval: float) -> tuple[float, float]:
        """``(coverage, se)`` of one level and interval."""
        rows = self.coverage[(self.coverage["level"] == level)
                             & np.isclose(self.coverage["interval"], interval)]
        if rows.empty:
            raise ValueError(f"level, interval = {level!r}, {interval!r} is not allowed: "
                             f"levels here are {sorted(set(self.coverage['level']))}, "
                             f"intervals {INTERVALS}")
        return float(rows["coverage"].iloc[0]), float(rows["se"].iloc[0])

    def p_value_of(self, level: str) -> float:
        """The rank-uniformity p-value of one level."""
        rows = self.uniformity[self.uniformity["level"] == level]
        if rows.empty:
            raise ValueError(f"level = {level!r} is not allowed: levels here are "
                             f"{list(self.uniformity['level'])}")
        return float(rows["p_value"].iloc[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes ``None``)."""
        def clean(records):
            return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                     for k, v in r.items()} for r in records]

        return {
            "n_worlds": self.n_worlds,
            "worlds_with_divergences": self.worlds_with_divergences,
            "divergences": self.divergences,
            "divergent_share": self.divergent_share,
            "unconverged_share": self.unconverged_share,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
            "coverage": clean(self.coverage.to_dict("records")),
            "uniformity": clean(self.uniformity.to_dict("records")),
        }


def summarise_checks(checks: Sequence[WorldCheck], *, bins: int | None = None) -> CalibrationSummary:
    """Summarise the checks of independent worlds.

    Parameters
    ----------
    checks
        One :class:`WorldCheck` per world, all drawn from the same family's prior.
    bins
        Bins of the rank histogram; by default about one per ten worlds, from 5 to 20,
        so that each bin expects enough worlds for the clustering correction.

    Returns
    -------
    CalibrationSummary
    """
    if not checks:
        raise ValueError("checks = [] is not allowed: must hold at least one world")
    n_worlds = len(checks)
    if bins is None:
        bins = int(np.clip(n_worlds // 10, 5, 20))
    if not isinstance(bins, int) or not 2 <= bins <= 1000:
        raise ValueError(f"bins = {bins!r} is not allowed: must be a whole number from 2 to 1000")
    divergences = np.array([c.divergences for c in checks])
    rhats = [c.max_rhat for c in checks if c.max_rhat is not None]
    seconds = np.array([c.seconds for c in checks])
    return CalibrationSummary(
        n_worlds=n_worlds,
        coverage=coverage_table(checks),
        uniformity=uniformity_table(checks, bins=bins),
        worlds_with_divergences=int((divergences > 0).sum()),
        divergences=int(divergences.sum()),
        divergent_share=float((divergences > 0).mean()),
        unconverged_share=float(np.mean(np.array(rhats) > RHAT_LIMIT)) if rhats else None,
        median_seconds=float(np.median(seconds)),
        p90_seconds=float(np.quantile(seconds, 0.9)),
    )


def _levels_present(checks: Sequence[WorldCheck]) -> list[str]:
    present = set().union(*(set(c.level) for c in checks))
    return [level for level in LEVELS if level in present]


def coverage_table(checks: Sequence[WorldCheck]) -> pd.DataFrame:
    """Coverage per level and interval with its cluster Monte Carlo standard error.

    Coverage is the ratio ``K / M`` of the quantities inside to all quantities; its
    variance is the ratio estimator's, from each world's residual
    ``k_w - coverage * m_w`` (worlds independent, quantities within one not).
    """
    rows = []
    for level in _levels_present(checks):
        per_world = [c.inside[c.level == level] for c in checks]
        m = np.array([len(x) for x in per_world], dtype=float)
        used = m > 0
        k = np.array([x.sum(axis=0) for x, u in zip(per_world, used, strict=True) if u])
        m = m[used]
        n = len(m)
        for j, prob in enumerate(INTERVALS):
            coverage = k[:, j].sum() / m.sum()
            se = _cluster_se(k[:, j], m, coverage)
            rows.append({
                "level": level, "interval": prob, "coverage": float(coverage), "se": se,
                "z": (coverage - prob) / se if se > 0 else float("nan"),
                "worlds": n, "quantities": int(m.sum()),
            })
    return pd.DataFrame(rows, columns=["level", "interval", "coverage", "se", "z",
                                       "worlds", "quantities"])


def _cluster_se(k: np.ndarray, m: np.ndarray, ratio: float) -> float:
    n = len(m)
    if n < 2:
        return float("nan")
    residual = k - ratio * m
    return float(np.sqrt(n / (n - 1) * np.sum(residual**2)) / m.sum())


def _bin_probabilities(n_draws: int, bins: int) -> np.ndarray:
    """Exact bin probabilities of a rank uniform on {0, 1/n, ..., 1}.

    With independent draws from the right posterior the count below the truth is
    uniform on 0..n; its n + 1 values do not split evenly into bins, so the expected
    histogram is not quite flat (it matters only for huge runs, but costs nothing).
    """
    counts = np.arange(n_draws + 1)
    return np.bincount(_bin_of(counts / n_draws, bins), minlength=bins) / (n_draws + 1)


def _bin_of(rank: np.ndarray, bins: int) -> np.ndarray:
    return np.minimum((np.asarray(rank) * bins).astype(int), bins - 1)


def uniformity_table(checks: Sequence[WorldCheck], *, bins: int = 10) -> pd.DataFrame:
    """A chi-square test of rank uniformity per level, corrected for clustering.

    Pearson's statistic on the pooled histogram of ranks assumes independent ranks;
    ranks of one world are not. Dividing it by the mean design effect of the bins
    (each bin count's cluster variance over its multinomial variance) gives a
    statistic that is again about chi-square with ``bins - 1`` degrees of freedom
    (Rao and Scott's first-order correction).
    """
    rows = []
    for level in _levels_present(checks):
        observed, expected = [], []
        for c in checks:
            rank = c.rank[c.level == level]
            if len(rank) == 0:
                continue
            observed.append(np.bincount(_bin_of(rank, bins), minlength=bins))
            expected.append(len(rank) * _bin_probabilities(c.n_draws, bins))
        observed, expected = np.array(observed, dtype=float), np.array(expected)
        total_obs, total_exp = observed.sum(axis=0), expected.sum(axis=0)
        chi2 = float(np.sum((total_obs - total_exp) ** 2 / total_exp))
        n, total = len(observed), total_exp.sum()
        share = total_obs / total
        if n > 1:
            # Residuals around the estimated shares: the ratio estimator's variance.
            residual = observed - np.outer(observed.sum(axis=1), share)
            cluster_var = n / (n - 1) * np.sum(residual**2, axis=0)
            p = total_exp / total
            effect = float(np.mean(cluster_var / (total * p * (1 - p))))
        else:
            effect = float("nan")
        statistic = chi2 / effect if effect > 0 else float("nan")
        p_value = float(stats.chi2.sf(statistic, bins - 1)) if np.isfinite(statistic) else float("nan")
        if chi2 == 0.0:
            p_value = 1.0
        rows.append({"level": level, "bins": bins, "chi2": chi2, "design_effect": effect,
                     "statistic": statistic, "dof": bins - 1, "p_value": p_value,
                     "quantities": int(round(total))})
    return pd.DataFrame(rows, columns=["level", "bins", "chi2", "design_effect", "statistic",
                                       "dof", "p_value", "quantities"])
