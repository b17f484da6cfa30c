"""NUTS through nutpie on a shared compiled model: the dashboard's default sampler."""

from __future__ import annotations

import os
import time

import numpy as np

from hierdash.inference.diagnostics import mcmc_diagnostics
from hierdash.inference.models.compiled import KEPT_VARIABLES, NUTPIE_CACHE, start_from
from hierdash.inference.prepare import Prepared
from hierdash.inference.results import FitStopped
from hierdash.inference.samplers.common import (
    centered_tasks,
    model_inputs,
    resolve_parameterization,
    with_weights,
)
from hierdash.inference.summarise import posterior_tree
from hierdash.scenario import Scenario

__all__ = ["run_nutpie"]


def run_nutpie(scenario: Scenario, prep: Prepared, report, stopper):
    """Sample with nutpie; returns (posterior, diagnostics, compile s, sample s)."""
    import nutpie

    parameterization = resolve_parameterization(scenario)
    key, data, start = model_inputs(scenario, prep, parameterization)
    compiled, compile_s = NUTPIE_CACHE.get(
        key, data, on_compile=lambda: report("compile", None, "Compiling the model (once per server)")
    )
    compiled = start_from(compiled, start)
    total = scenario.chains * (scenario.draws + scenario.tune)
    report("sample", 0.0, "Sampling with NUTS (nutpie)")
    stopper.start()
    t0 = time.perf_counter()
    latest: list = []  # written by nutpie's progress thread, read here

    def on_progress(chains):
        latest[:] = [sum(c.finished_draws for c in chains)]

    sampler = nutpie.sample(
        compiled,
        draws=scenario.draws,
        tune=scenario.tune,
        chains=scenario.chains,
        cores=min(scenario.chains, os.cpu_count() or 1),  # threads, not processes
        seed=scenario.seed,
        target_accept=scenario.target_accept,
        progress_bar=False,
        progress_callback=on_progress,
        progress_rate=100,
        save_warmup=False,
        blocking=False,
        # Our own conversion of nutpie's Arrow tables (see _from_arrow): its generic
        # one, to an ArviZ tree of every variable and statistic, took as long as the
        # sampling itself on the default world (measured 0.135 s with it, 0.069 s without).
        return_raw_trace=True,
    )
    try:
        while not _finished(sampler):
            reason = stopper.check()
            if reason:
                raise FitStopped(reason)
            done = latest[0] if latest else 0
            report("sample", min(done / total, 1.0), "Sampling with NUTS (nutpie)")
            # Asking nutpie whether it is done costs about 1 ms (it takes the sampler's
            # lock): 40 times a second is quick enough for Stop and the progress bar.
            time.sleep(0.025)
    except BaseException:
        # Stop the sampler threads whatever ended us (a stop, a rerun of the page).
        sampler.cancel()
        raise
    shapes = {"parent": (key.features,), "child": (key.tasks, key.features), "noise": (),
              "spread": ()}
    draws, divergences = _from_arrow(
        sampler.wait(), {name: shapes[name] for name in KEPT_VARIABLES[key.kind]}
    )
    draws = with_weights(draws, scenario, prep, parameterization)
    sample_s = time.perf_counter() - t0
    report("sample", 1.0, "Sampling done")
    posterior = posterior_tree(draws, scenario)
    diag = mcmc_diagnostics(
        posterior, divergences, scenario, parameterization=parameterization,
        centered_tasks=centered_tasks(scenario, prep, parameterization),
    )
    return posterior, diag, compile_s, sample_s


def _from_arrow(results, shapes: dict[str, tuple[int, ...]]) -> tuple[dict[str, np.ndarray], int]:
    """Each variable's draws after tuning, (chain, draw, *shape), and the number of
    divergent transitions, from nutpie's raw (Arrow) trace."""
    import pyarrow as pa

    draw_batches, stat_batches = results.get_arrow_trace()
    chains: dict[str, list[np.ndarray]] = {name: [] for name in shapes}
    divergences = 0
    for draw, stat in zip(draw_batches, stat_batches, strict=True):
        # nutpie hands out arro3 arrays; pyarrow reads them through Arrow's C interface.
        kept = ~pa.array(stat.column("tuning")).to_numpy(zero_copy_only=False).astype(bool)
        diverging = pa.array(stat.column("diverging")).to_numpy(zero_copy_only=False)
        divergences += int(diverging.astype(bool)[kept].sum())
        for name in shapes:
            column = pa.array(draw.column(name))
            values = column.flatten() if hasattr(column, "flatten") else column
            values = values.to_numpy(zero_copy_only=False)
            # Vector-valued columns are lists of fixed size, row-major per draw.
            values = values.reshape((draw.num_rows, -1))[kept]
            chains[name].append(values)
    out = {}
    for name, parts in chains.items():
        n = min(len(p) for p in parts)
        stacked = np.stack([p[:n] for p in parts])  # (chain, draw, size)
        out[name] = stacked.reshape(stacked.shape[:2] + shapes[name])
    return out, divergences


def _finished(sampler) -> bool:
    # nutpie raises TimeoutError when its state lock is busy: that means "not yet".
    try:
        return sampler.is_finished
    except TimeoutError:
        return False
