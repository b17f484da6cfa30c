"""What the three fits leave: how each went, and the tables the charts draw."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from hierdash.neural.model import FitKind
from hierdash.neural.settings import NeuralSettings
from hierdash.neural.tasks import MoonTasks

__all__ = ["ModelFit", "NeuralResult", "ADVI_WARNING"]

ADVI_WARNING = (
    "Mean-field ADVI treats every weight as independent, and a network's weights are "
    "anything but: it can settle at chance (issue 22 measured 48% test accuracy after "
    "5,000 steps) and its intervals are too narrow. Use NUTS to judge the models.")



@dataclass(frozen=True)
class ModelFit:
    """How one of the three fits went.

    Attributes
    ----------
    model
        ``separate``, ``pooled`` or ``hierarchical``.
    divergences
        Divergent transitions after tuning (None for ADVI).
    max_rhat
        Largest R-hat over predicted test probabilities (None: one chain, or ADVI).
    sample_s
        Seconds sampling (or optimising).
    steps_per_draw
        Mean leapfrog steps per draw (None for ADVI).
    """

    model: FitKind
    divergences: int | None
    max_rhat: float | None
    sample_s: float
    steps_per_draw: float | None


@dataclass(frozen=True)
class NeuralResult:
    """The three fits of one world, as tables the charts draw.

    Attributes
    ----------
    settings, tasks
        What was fitted.
    accuracy
        task, n, model, accuracy, log_score (one row per task and model).
    spreads
        The hierarchical fit's spreads: block, layer, kind, mean, low, high.
    surfaces
        model, task, x1, x2, mean, sd: every task's decision surface in every model.
    parent
        model, x1, x2, mean, sd: the parent network's surface (hierarchical and pooled).
    fits
        How each fit went, in the order separate, pooled, hierarchical.
    compile_s, total_s
        Seconds this call spent compiling (0 when the model was ready), and in all.
    warnings
        Words for the reader (ADVI's caveat).
    """

    settings: NeuralSettings
    tasks: MoonTasks
    accuracy: pd.DataFrame
    spreads: pd.DataFrame
    surfaces: pd.DataFrame
    parent: pd.DataFrame
    fits: tuple[ModelFit, ...]
    compile_s: float
    total_s: float
    warnings: tuple[str, ...] = field(default=())

    def fit_of(self, model: FitKind) -> ModelFit:
        return next(f for f in self.fits if f.model == model)

    @property
    def sample_s(self) -> float:
        return float(sum(f.sample_s for f in self.fits))

    def summary(self) -> dict[str, Any]:
        """Times, divergences and R-hat, JSON-ready (the CLI's ``summary.json``)."""
        rhats = [f.max_rhat for f in self.fits if f.max_rhat is not None]
        divergences = [f.divergences for f in self.fits if f.divergences is not None]
        mean_acc = self.accuracy.groupby("model")["accuracy"].mean()
        return {
            "settings": self.settings.to_dict(),
            "compile_seconds": self.compile_s,
            "sampling_seconds": self.sample_s,
            "total_seconds": self.total_s,
            "divergences": int(sum(divergences)) if divergences else None,
            "max_rhat_probabilities": max(rhats) if rhats else None,
            "mean_test_accuracy": {m: float(v) for m, v in mean_acc.items()},
            "fits": [f.__dict__ for f in self.fits],
            "warnings": list(self.warnings),
        }
