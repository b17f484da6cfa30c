"""Text report and files written by the command line (and offered by the app)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hierdash.summaries.tables import ALL_TASKS, comparable_errors

if TYPE_CHECKING:
    from hierdash.inference import FitResult

__all__ = [
    "format_report",
    "format_errors",
    "data_frame",
    "weights_csv",
    "data_csv",
    "posterior_netcdf",
    "write_outputs",
]


def data_frame(result: FitResult) -> pd.DataFrame:
    """The simulated data, real rows only: columns ``task, row, x1..xK, y`` and, for a
    binomial or Poisson outcome, ``trials`` or ``exposure``."""
    frames = []
    world = result.world
    size_name = {"binomial": "trials", "poisson": "exposure"}.get(result.scenario.outcome)
    for task, (X, y) in enumerate(zip(world.X, world.y, strict=True)):
        frame = pd.DataFrame(X, columns=[f"x{j + 1}" for j in range(X.shape[1])])
        frame.insert(0, "row", np.arange(len(y)))
        frame.insert(0, "task", task)
        frame["y"] = y
        if size_name and world.sizes is not None:
            frame[size_name] = world.sizes[task]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def weights_csv(result: FitResult) -> str:
    return result.weights.to_csv(index=False)


def data_csv(result: FitResult) -> str:
    return data_frame(result).to_csv(index=False)


def posterior_netcdf(result: FitResult) -> bytes:
    """The posterior DataTree as netCDF bytes (h5netcdf engine)."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "posterior.nc")
        result.posterior.to_netcdf(path, engine="h5netcdf")
        with open(path, "rb") as handle:
            return handle.read()


def write_outputs(result: FitResult, out: Path) -> list[Path]:
    """Write ``scenario.json``, ``data.csv``, ``weights.csv`` and ``posterior.nc``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "scenario.json": json.dumps(result.scenario.to_dict(), indent=2) + "\n",
        "data.csv": data_csv(result),
        "weights.csv": weights_csv(result),
    }
    written = []
    for name, text in paths.items():
        (out / name).write_text(text)
        written.append(out / name)
    (out / "posterior.nc").write_bytes(posterior_netcdf(result))
    written.append(out / "posterior.nc")
    return written


def format_report(result: FitResult) -> str:
    """True versus recovered weights, scales, pooling errors and diagnostics."""
    s = result.scenario
    d = result.diagnostics
    buf = io.StringIO()
    outcome = "" if s.is_gaussian else f"outcome {s.outcome} (weights on the link scale), "
    buf.write(
        f"{outcome}method {s.method}, {s.n_tasks} tasks with {', '.join(map(str, s.samples))} "
        f"rows, {s.n_features} features, padding {s.padding}, parameterization "
        f"{s.parameterization}\n\n"
    )
    columns = ["level", "task", "feature", "n", "true", "mean", "sd", "ci_low", "ci_high",
               "exact_mean", "no_pooling"]
    if "natural_mean" in result.weights:
        columns += ["natural_scale", "natural_mean"]
    table = result.weights[columns].copy()
    table["task"] = table["task"].map(lambda t: "-" if t < 0 else str(t))
    buf.write(table.to_string(index=False, float_format=lambda x: f"{x:8.3f}"))
    buf.write("\n\n")
    buf.write(result.scales.to_string(index=False, float_format=lambda x: f"{x:8.3f}"))
    buf.write("\n\n" + format_errors(comparable_errors(result.weights)) + "\n")
    parts = [f"compile {result.compile_s:.2f} s", f"sample {result.sample_s:.2f} s",
             f"total {result.total_s:.2f} s", f"divergences {d.divergences}"]
    if d.max_rhat is not None:
        parts.append(f"max R-hat {d.max_rhat:.3f}")
    if d.min_ess_bulk is not None:
        parts.append(f"min ESS bulk {d.min_ess_bulk:.0f}, tail {d.min_ess_tail:.0f}")
    if d.converged is not None:
        parts.append("ELBO converged" if d.converged else "ELBO NOT converged")
    buf.write("diagnostics: " + "; ".join(parts) + "\n")
    for warning in result.warnings():
        buf.write(f"warning: {warning}\n")
    return buf.getvalue()


def format_errors(errors: pd.DataFrame) -> str:
    """The pooling errors in one line, scored as the page's error chart scores them.

    Parameters
    ----------
    errors
        ``method, scope, rmse, tasks`` (:func:`hierdash.summaries.comparable_errors`).

    Returns
    -------
    str
        ``RMSE against the true child weights: no pooling 0.123, ...``, with one group
        per set of tasks scored when no pooling could not score them all.
    """
    groups = []
    for scope, part in errors.groupby("scope", sort=False):
        values = ", ".join(f"{m} {v:.3f}" for m, v in zip(part["method"], part["rmse"],
                                                           strict=True))
        groups.append(values if scope == ALL_TASKS else f"on the {scope}: {values}")
    return "RMSE against the true child weights: " + "; ".join(groups)
