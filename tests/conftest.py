"""Fixtures shared by the test files."""

from __future__ import annotations

import numpy as np
import pytest

from hierdash.world import SufficientStats


def _direct_stats(Xs, ys) -> SufficientStats:
    """Sufficient statistics computed straight from each task's rows."""
    return SufficientStats(
        XtX=np.stack([X.T @ X for X in Xs]),
        Xty=np.stack([X.T @ y for X, y in zip(Xs, ys, strict=True)]),
        yty=np.array([y @ y for y in ys]),
        n=np.array([len(y) for y in ys], dtype=float),
    )


@pytest.fixture(scope="session")
def stats_of():
    """``stats_of(Xs, ys)``: sufficient statistics of ragged per-task rows, computed
    directly (an independent check of :func:`hierdash.world.sufficient_stats`)."""
    return _direct_stats
