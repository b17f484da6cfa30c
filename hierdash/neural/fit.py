"""Fit the three networks on the same tasks: separate, pooled and hierarchical.

All three share one compiled nutpie model (:data:`~hierdash.neural.model.NEURAL_SHAPE`,
compiled once per process in :data:`NEURAL_CACHE`); each fit swaps its data and flags in
with ``with_data``. Progress goes to ``progress(stage, fraction, message)`` through the
stages ``simulate``, ``compile``, ``sample`` and ``summarise`` (the fraction covers the
three fits), and ``should_stop()`` is polled while sampling, as in
:func:`hierdash.inference.fit`.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from hierdash.inference.models.compiled import CompiledModelCache
from hierdash.inference.results import FitStopped
from hierdash.inference.samplers.common import Stopper
from hierdash.neural.model import (
    FIT_KINDS,
    KEPT,
    NEURAL_SHAPE,
    FitKind,
    NeuralShape,
    build_neural_model,
    neural_data,
    task_weights,
)
from hierdash.neural.results import ADVI_WARNING, ModelFit, NeuralResult
from hierdash.neural.scores import (
    max_rhat,
    parent_surface,
    spreads_frame,
    surfaces,
    task_scores,
)
from hierdash.neural.settings import NeuralSettings
from hierdash.neural.tasks import MoonTasks, simulate_tasks

__all__ = ["ModelFit", "NeuralResult", "NEURAL_CACHE", "fit_neural", "warm_up_neural",
           "sample_kind", "ADVI_WARNING"]

Progress = Callable[[str, float | None, str], None]

def _compile(shape: NeuralShape, data: dict[str, Any]):
    import nutpie

    model = build_neural_model(shape, data)
    return nutpie.compile_pymc_model(model, var_names=list(KEPT), freeze_model=False)


NEURAL_CACHE = CompiledModelCache(max_entries=2, compile=_compile)
"""The compiled network (one shape serves every world and all three fits)."""


def warm_up_neural() -> float:
    """Compile the network once (the app's warm-up calls this last); the seconds spent
    (0.0 if it was ready)."""
    settings = NeuralSettings()
    data = neural_data(simulate_tasks(settings), NEURAL_SHAPE, hidden=settings.hidden,
                       bias=settings.bias, padding=settings.padding, kind="hierarchical")
    return NEURAL_CACHE.get(NEURAL_SHAPE, data)[1]


def fit_neural(settings: NeuralSettings, *, tasks: MoonTasks | None = None,
               progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
               time_budget: float | None = None) -> NeuralResult:
    """Simulate ``settings``' tasks (or take ``tasks``) and fit the three networks.

    Parameters
    ----------
    settings
        The world and the fits.
    tasks
        Data to fit instead of simulating them (their counts are used as given).
    progress
        ``progress(stage, fraction, message)``.
    should_stop
        Polled while sampling: true stops the run with :class:`FitStopped`.
    time_budget
        Seconds of sampling (all three fits together) after which the run stops.

    Returns
    -------
    NeuralResult
    """
    report = progress or (lambda stage, fraction, message: None)
    start = time.perf_counter()
    report("simulate", None, "Simulating the tasks")
    tasks = simulate_tasks(settings) if tasks is None else tasks
    stopper = Stopper(should_stop, time_budget)
    stopper.start()
    draws: dict[FitKind, dict[str, np.ndarray]] = {}
    fits, compile_s = [], 0.0
    for i, kind in enumerate(FIT_KINDS):
        def step(fraction: float, message: str, i=i) -> None:
            report("sample", (i + fraction) / len(FIT_KINDS), message)

        sampled, fit, seconds = sample_kind(settings, tasks, kind, report=report, step=step,
                                            stopper=stopper, seed=settings.seed + i)
        draws[kind], compile_s = sampled, compile_s + seconds
        fits.append(fit)
    report("summarise", None, "Scoring the networks on the test points")
    return _summarise(settings, tasks, draws, fits, compile_s, start)


def _summarise(settings, tasks, draws, fits, compile_s, start: float) -> NeuralResult:
    accuracy, task_surfaces, parent, done = [], [], [], []
    for fit in fits:
        weights = task_weights(draws[fit.model], fit.model, n_tasks=tasks.n_tasks,
                               hidden=settings.hidden, bias=settings.bias)
        accuracy.append(task_scores(weights, tasks, fit.model))
        task_surfaces.append(surfaces(weights, tasks.n_tasks, fit.model))
        if fit.model != "separate":  # separate networks have no parent
            parent.append(parent_surface(weights, fit.model))
        rhat = None if fit.divergences is None else max_rhat(weights, tasks, settings.chains)
        done.append(ModelFit(fit.model, fit.divergences, rhat, fit.sample_s, fit.steps_per_draw))
    return NeuralResult(
        settings=settings, tasks=tasks,
        accuracy=pd.concat(accuracy, ignore_index=True),
        spreads=spreads_frame(draws["hierarchical"], bias=settings.bias),
        surfaces=pd.concat(task_surfaces, ignore_index=True),
        parent=pd.concat(parent, ignore_index=True), fits=tuple(done),
        compile_s=compile_s, total_s=time.perf_counter() - start,
        warnings=(ADVI_WARNING,) if settings.method == "advi" else ())


def sample_kind(settings: NeuralSettings, tasks: MoonTasks, kind: FitKind, *, report: Progress,
                step: Callable[[float, str], None], stopper: Stopper, seed: int,
                ) -> tuple[dict[str, np.ndarray], ModelFit, float]:
    """One fit: its draws of :data:`KEPT` (sample, ...), how it went (R-hat not yet
    computed) and the seconds spent compiling."""
    data = neural_data(tasks, NEURAL_SHAPE, hidden=settings.hidden, bias=settings.bias,
                       padding=settings.padding, kind=kind)
    if settings.method == "advi":
        from hierdash.neural.advi import run_advi

        return run_advi(settings, data, kind, step=step, stopper=stopper, seed=seed)
    compiled, compile_s = NEURAL_CACHE.get(
        NEURAL_SHAPE, data,
        on_compile=lambda: report("compile", None, "Compiling the network (once per server)"))
    t0 = time.perf_counter()
    words = f"Sampling the {kind} network{'s' if kind == 'separate' else ''} (NUTS)"
    results = _run_nutpie(compiled, settings, seed, lambda f: step(f, words), stopper)
    draws, divergences, steps = _from_arrow(results, _shapes(NEURAL_SHAPE))
    fit = ModelFit(kind, divergences, None, time.perf_counter() - t0, steps)
    return draws, fit, compile_s


def _run_nutpie(compiled, settings: NeuralSettings, seed: int, step, stopper: Stopper):
    import nutpie

    total = settings.chains * (settings.draws + settings.tune)
    latest: list[int] = []  # written by nutpie's progress thread, read here

    def on_progress(chains) -> None:
        latest[:] = [sum(c.finished_draws for c in chains)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sampler = nutpie.sample(
            compiled, draws=settings.draws, tune=settings.tune, chains=settings.chains,
            cores=min(settings.chains, os.cpu_count() or 1), seed=seed,
            target_accept=settings.target_accept, progress_bar=False,
            progress_callback=on_progress, progress_rate=100, save_warmup=False,
            blocking=False, return_raw_trace=True)
    try:
        while not _finished(sampler):
            reason = stopper.check()
            if reason:
                raise FitStopped(reason)
            step(min((latest[0] if latest else 0) / total, 1.0))
            time.sleep(0.025)
    except BaseException:
        sampler.cancel()  # whatever ended us: stop the sampler's threads
        raise
    return sampler.wait()


def _finished(sampler) -> bool:
    try:  # nutpie raises TimeoutError while its state lock is busy: "not yet"
        return sampler.is_finished
    except TimeoutError:
        return False


def _shapes(shape: NeuralShape) -> dict[str, tuple[int, ...]]:
    out = {}
    for name, block in shape.block_shapes().items():
        out[f"parent_{name}"] = block
        out[f"raw_{name}"] = (shape.tasks, *block)
        out[f"spread_{name}"] = ()
    return out


def _from_arrow(results, shapes: dict[str, tuple[int, ...]]):
    """Draws after tuning, (chain * draw, *shape) chain-major; divergences; mean steps."""
    import pyarrow as pa

    draw_batches, stat_batches = results.get_arrow_trace()
    chains: dict[str, list[np.ndarray]] = {name: [] for name in shapes}
    divergences, steps = 0, []
    for draw, stat in zip(draw_batches, stat_batches, strict=True):
        kept = ~pa.array(stat.column("tuning")).to_numpy(zero_copy_only=False).astype(bool)
        diverging = pa.array(stat.column("diverging")).to_numpy(zero_copy_only=False)
        divergences += int(diverging.astype(bool)[kept].sum())
        n_steps = pa.array(stat.column("n_steps")).to_numpy(zero_copy_only=False)
        steps.append(np.asarray(n_steps, dtype=float)[kept])
        for name in shapes:
            column = pa.array(draw.column(name))
            values = column.flatten() if hasattr(column, "flatten") else column
            values = values.to_numpy(zero_copy_only=False).reshape((draw.num_rows, -1))[kept]
            chains[name].append(values)
    n = min(len(p) for p in chains[next(iter(shapes))])  # equal chains, for R-hat
    out = {name: np.concatenate([p[:n] for p in parts]).reshape((-1, *shapes[name]))
           for name, parts in chains.items()}
    return out, divergences, float(np.mean(np.concatenate(steps)))
