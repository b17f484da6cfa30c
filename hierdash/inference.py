"""One entry point, :func:`fit`, for every inference method, and one result type."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hierdash.data import (
    PaddedData,
    SufficientStats,
    World,
    capacity_for,
    pad,
    simulate,
    sufficient_stats,
)
from hierdash.exact import ExactPosterior, exact_posterior
from hierdash.model import (
    NUTPIE_CACHE,
    Centering,
    build_model,
    centering_weights,
    model_data,
    model_key,
    start_from,
)
from hierdash.pooling import NoPooling, complete_pooling, no_pooling, pooling_errors
from hierdash.scenario import Scenario

__all__ = ["fit", "warm_up", "FitResult", "Diagnostics", "FitStopped", "Progress", "prepare", "Prepared"]

# progress(stage, fraction or None, message): stages are simulate, compile, sample,
# summarise. fraction is the share of the stage done, when known.
Progress = Callable[[str, float | None, str], None]

RHAT_LIMIT = 1.01
ESS_LIMIT = 400
CI_PROB = 0.94


class FitStopped(RuntimeError):
    """A fit was stopped by the user or ran past its time budget."""


@dataclass(frozen=True)
class Diagnostics:
    """How far a fit can be trusted.

    ``max_rhat``, ``min_ess_bulk`` and ``min_ess_tail`` cover the parent and real
    tasks' child weights (and the scales); they are ``None`` for methods that draw
    independent samples (``exact``, the ADVI methods). ``elbo`` is the ELBO per
    iteration for the ADVI methods and ``converged`` their verdict.
    ``centered_tasks`` are the tasks parameterized centered in every direction,
    ``partly_centered_tasks`` those centered along some directions only (``auto``).
    """

    max_rhat: float | None = None
    min_ess_bulk: float | None = None
    min_ess_tail: float | None = None
    divergences: int = 0
    elbo: np.ndarray | None = None
    converged: bool | None = None
    convergence_message: str = ""
    centered_tasks: tuple[int, ...] = ()
    partly_centered_tasks: tuple[int, ...] = ()

    def warnings(self) -> list[str]:
        """Plain-words warnings, each with what to try."""
        out = []
        if self.divergences:
            out.append(
                f"{self.divergences} divergent transitions: the sampler met curvature it "
                "could not follow (often the funnel between the child spread and the "
                "weights of tasks with little data). Try the other parameterization "
                "or auto, or raise target_accept to 0.99: where every task has almost "
                "no data both forms can diverge, and a smaller step is what helps."
            )
        if self.max_rhat is not None and self.max_rhat > RHAT_LIMIT:
            out.append(
                f"R-hat up to {self.max_rhat:.3f} (above {RHAT_LIMIT}): the chains disagree. "
                "Draw more (draws, tune) or try another parameterization."
            )
        ess = [e for e in (self.min_ess_bulk, self.min_ess_tail) if e is not None]
        if ess and min(ess) < ESS_LIMIT:
            out.append(
                f"Effective sample size as low as {min(ess):.0f} (below {ESS_LIMIT}): "
                "intervals are rough. Draw more or use more chains."
            )
        if self.converged is False:
            out.append(self.convergence_message)
        return out


@dataclass(frozen=True, eq=False)
class FitResult:
    """Everything a fit produced.

    Attributes
    ----------
    posterior : xarray.DataTree
        ArviZ DataTree with a ``posterior`` group: ``parent`` (feature), ``child``
        (task, feature), ``noise`` and, when learned, ``spread``.
    weights : pandas.DataFrame
        The tidy table, one row per weight (see :func:`tidy_weights`).
    errors : dict
        RMSE against the true child weights of no, complete and partial pooling.
    exact : ExactPosterior
        The closed-form posterior, the reference every method is checked against.
    """

    scenario: Scenario
    world: World
    padded: PaddedData
    posterior: object
    diagnostics: Diagnostics
    weights: pd.DataFrame
    scales: pd.DataFrame
    errors: dict[str, float]
    no_pool: NoPooling
    exact: ExactPosterior
    compile_s: float
    sample_s: float
    total_s: float
    notes: tuple[str, ...] = field(default=())

    def warnings(self) -> list[str]:
        """Everything the user should know, in plain words."""
        return self.diagnostics.warnings() + [r for r in self.no_pool.reason if r] + list(
            self.notes
        )


@dataclass(frozen=True, eq=False)
class Prepared:
    """The cheap, deterministic part of a fit: data, padding, statistics, exact."""

    world: World
    padded: PaddedData
    stats: SufficientStats
    exact: ExactPosterior
    no_pool: NoPooling
    complete: np.ndarray


def prepare(scenario: Scenario) -> Prepared:
    """Simulate, pad to the capacity bucket, and compute the closed-form pieces."""
    world = simulate(scenario)
    capacity = capacity_for(scenario.n_tasks, int(max(scenario.samples)))
    padded = pad(world, mode=scenario.padding, capacity=capacity)
    stats = sufficient_stats(padded)
    exact = exact_posterior(
        stats,
        prior_parent_mean=scenario.prior_parent_mean,
        prior_parent_scale=scenario.prior_parent_scale,
        prior_spread_scale=scenario.prior_spread_scale,
        prior_noise_scale=scenario.prior_noise_scale,
        fixed_spread=None if scenario.learn_spread else scenario.child_spread,
    )
    # No pooling always uses the real rows: it is the per-task estimate the
    # hierarchical model is compared with, whatever the padding mode.
    real = stats if scenario.padding == "masked" else sufficient_stats(pad(world))
    return Prepared(world, padded, stats, exact, no_pooling(real), complete_pooling(real))


def warm_up(scenario: Scenario | None = None) -> float:
    """Compile (or find in the cache) the nutpie model that ``scenario`` needs.

    The app calls this at start-up in a background thread so that its first user does
    not pay the compile. Returns the seconds spent compiling (0.0 if already cached).
    """
    scenario = scenario or Scenario()
    prep = prepare(scenario)
    data = _model_data(scenario, prep, _centering(scenario, prep))
    return NUTPIE_CACHE.get(model_key(scenario, prep.padded), data)[1]


def fit(
    scenario: Scenario,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    time_budget: float | None = None,
) -> FitResult:
    """Simulate ``scenario``'s world and fit it with ``scenario.method``.

    Parameters
    ----------
    scenario
        What to simulate and how to fit it.
    progress
        Called as ``progress(stage, fraction, message)`` through the stages
        ``simulate``, ``compile``, ``sample``, ``summarise``.
    should_stop
        Polled while sampling; when it returns true the fit stops and
        :class:`FitStopped` is raised.
    time_budget
        Seconds of sampling after which the fit stops with :class:`FitStopped`.

    Returns
    -------
    FitResult
    """
    report = progress or (lambda stage, fraction, message: None)
    stopper = _Stopper(should_stop, time_budget)
    start = time.perf_counter()
    report("simulate", None, "Simulating the world and padding the data")
    prep = prepare(scenario)
    runner = _RUNNERS[scenario.method]
    posterior, diag, compile_s, sample_s = runner(scenario, prep, report, stopper)
    report("summarise", None, "Summarising the posterior")
    weights, scales = summarise(scenario, prep, posterior)
    partial = posterior_mean(posterior, "child")
    errors = pooling_errors(
        prep.world.child, no_pool=prep.no_pool, complete=prep.complete, partial=partial
    )
    return FitResult(
        scenario=scenario,
        world=prep.world,
        padded=prep.padded,
        posterior=posterior,
        diagnostics=diag,
        weights=weights,
        scales=scales,
        errors=errors,
        no_pool=prep.no_pool,
        exact=prep.exact,
        compile_s=compile_s,
        sample_s=sample_s,
        total_s=time.perf_counter() - start,
    )


class _Stopper:
    def __init__(self, should_stop, time_budget):
        self.should_stop = should_stop
        self.time_budget = time_budget
        self.started = None

    def start(self):
        self.started = time.perf_counter()

    def check(self) -> str | None:
        """The reason to stop now, or None."""
        if self.should_stop is not None and self.should_stop():
            return "The fit was stopped."
        if self.time_budget is not None and self.started is not None:
            if time.perf_counter() - self.started > self.time_budget:
                return (
                    f"The fit ran past its time budget of {self.time_budget:g} s and was "
                    "stopped. Try fewer draws, fewer tasks or the exact method."
                )
        return None


# ---------------------------------------------------------------------------
# Runners: (scenario, prepared, report, stopper) -> (posterior, diagnostics,
# compile seconds, sample seconds)
# ---------------------------------------------------------------------------
def _model_data(scenario: Scenario, prep: Prepared, centering: Centering) -> dict:
    return model_data(scenario, prep.stats, prep.padded.capacity[0], centering)


def _centering(scenario: Scenario, prep: Prepared) -> Centering:
    spread = prep.exact.spread_mean if scenario.learn_spread else scenario.child_spread
    return centering_weights(
        scenario,
        prep.stats,
        prep.padded.capacity[0],
        noise_estimate=max(prep.exact.noise_mean, 1e-6),
        spread_estimate=max(spread, 1e-6),
    )


def _run_nutpie(scenario, prep, report, stopper):
    import nutpie

    centered = _centering(scenario, prep)
    key = model_key(scenario, prep.padded)
    data = _model_data(scenario, prep, centered)
    compiled, compile_s = NUTPIE_CACHE.get(
        key, data, on_compile=lambda: report("compile", None, "Compiling the model (once per shape)")
    )
    compiled = start_from(compiled, _one_exact_draw(prep.exact), centered)
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
            time.sleep(0.02)
    except BaseException:
        # Stop the sampler threads whatever ended us (a stop, a rerun of the page).
        sampler.cancel()
        raise
    draws, divergences = _from_arrow(sampler.wait(), scenario)
    sample_s = time.perf_counter() - t0
    report("sample", 1.0, "Sampling done")
    posterior = _posterior_tree(draws, scenario)
    diag = _mcmc_diagnostics(posterior, divergences, centered, scenario)
    return posterior, diag, compile_s, sample_s


def _from_arrow(results, scenario: Scenario) -> tuple[dict[str, np.ndarray], int]:
    """The real tasks' draws, shaped (chain, draw, ...), and the number of divergent
    transitions, from nutpie's raw (Arrow) trace."""
    import pyarrow as pa

    names = ["parent", "child", "noise"] + (["spread"] if scenario.learn_spread else [])
    draw_batches, stat_batches = results.get_arrow_trace()
    chains: dict[str, list[np.ndarray]] = {name: [] for name in names}
    divergences = 0
    for draw, stat in zip(draw_batches, stat_batches, strict=True):
        # nutpie hands out arro3 arrays; pyarrow reads them through Arrow's C interface.
        kept = ~pa.array(stat.column("tuning")).to_numpy(zero_copy_only=False).astype(bool)
        diverging = pa.array(stat.column("diverging")).to_numpy(zero_copy_only=False)
        divergences += int(diverging.astype(bool)[kept].sum())
        for name in names:
            column = pa.array(draw.column(name))
            values = column.flatten() if hasattr(column, "flatten") else column
            values = values.to_numpy(zero_copy_only=False)
            # Vector-valued columns are lists of fixed size, row-major per draw.
            values = values.reshape((draw.num_rows, -1))[kept]
            chains[name].append(values)
    k, t = scenario.n_features, scenario.n_tasks
    out = {}
    for name, parts in chains.items():
        n = min(len(p) for p in parts)
        stacked = np.stack([p[:n] for p in parts])  # (chain, draw, size)
        if name == "parent":
            out[name] = stacked
        elif name == "child":
            out[name] = stacked.reshape(stacked.shape[:2] + (-1, k))[:, :, :t]
        else:
            out[name] = stacked[:, :, 0]
    return out, divergences


def _one_exact_draw(exact: ExactPosterior):
    def draw(rng: np.random.Generator) -> dict:
        return {name: value[0, 0] for name, value in exact.sample(1, 1, rng).items()}

    return draw


def _finished(sampler) -> bool:
    # nutpie raises TimeoutError when its state lock is busy: that means "not yet".
    try:
        return sampler.is_finished
    except TimeoutError:
        return False


class _Ticker:
    """Callback state for PyMC's sampler and optimiser: when the first step came,
    progress every ``every`` steps, and a stop raised as KeyboardInterrupt (which
    PyMC catches to end early) when ``stopper`` says so."""

    def __init__(self, report, stopper, *, every: int, total: int, message: str):
        self.report, self.stopper = report, stopper
        self.every, self.total, self.message = every, total, message
        self.steps = 0
        self.first: float | None = None
        self.stopped: str | None = None

    def __call__(self, *_args, **_kwargs) -> None:
        if self.first is None:
            self.first = time.perf_counter()
        self.steps += 1
        if self.steps % self.every == 0:
            self.report("sample", min(self.steps / self.total, 1.0), self.message)
            self.stopped = self.stopper.check()
            if self.stopped:
                raise KeyboardInterrupt

    def raise_if_stopped(self) -> None:
        if self.stopped:
            raise FitStopped(self.stopped)


def _run_pymc_nuts(scenario, prep, report, stopper):
    import pymc as pm

    centered = _centering(scenario, prep)
    model = build_model(model_key(scenario, prep.padded), _model_data(scenario, prep, centered))
    total = scenario.chains * (scenario.draws + scenario.tune)
    ticker = _Ticker(report, stopper, every=50, total=total, message="Sampling with PyMC's NUTS")
    report("compile", None, "Compiling PyMC's sampler")
    stopper.start()
    t0 = time.perf_counter()
    try:
        with model, _quiet():
            trace = pm.sample(
                draws=scenario.draws,
                tune=scenario.tune,
                chains=scenario.chains,
                cores=1,  # no fork-based multiprocessing: this also runs inside the server
                random_seed=scenario.seed,
                target_accept=scenario.target_accept,
                nuts_sampler="pymc",
                progressbar=False,
                callback=ticker,
                compute_convergence_checks=False,
                var_names=["parent", "child", "noise"] + (["spread"] if scenario.learn_spread else []),
            )
    except Exception:
        # A stop during tuning leaves PyMC no draws to build a trace from.
        ticker.raise_if_stopped()
        raise
    ticker.raise_if_stopped()
    end = time.perf_counter()
    first = ticker.first or end
    report("sample", 1.0, "Sampling done")
    posterior = _trim(trace, scenario)
    divergences = int(trace.sample_stats["diverging"].sum())
    diag = _mcmc_diagnostics(posterior, divergences, centered, scenario)
    # Time to the first draw is compilation and set-up; the rest is sampling.
    return posterior, diag, first - t0, end - first


def _run_advi(scenario, prep, report, stopper):
    import pymc as pm

    method = "advi" if scenario.method == "advi" else "fullrank_advi"
    # The parameterization matters to VI too: mean-field cannot represent the strong
    # parent-child correlation of a non-centered data-rich task.
    centered = _centering(scenario, prep)
    model = build_model(model_key(scenario, prep.padded), _model_data(scenario, prep, centered))
    n = scenario.advi_iterations
    ticker = _Ticker(report, stopper, every=500, total=n, message=f"Optimising the ELBO ({method})")
    report("compile", None, "Compiling the variational objective")
    stopper.start()
    t0 = time.perf_counter()
    with model, _quiet():
        approx = pm.fit(
            n=n,
            method=method,
            random_seed=scenario.seed,
            obj_optimizer=pm.adam(learning_rate=scenario.advi_learning_rate),
            callbacks=[ticker],
            progressbar=False,
        )
        ticker.raise_if_stopped()
        trace = approx.sample(
            scenario.draws * scenario.chains, random_seed=scenario.seed, return_inferencedata=True
        )
    end = time.perf_counter()
    first = ticker.first or end
    report("sample", 1.0, "Optimisation done")
    posterior = _trim(trace, scenario)
    elbo = -np.asarray(approx.hist, dtype=float)
    converged, message = elbo_converged(elbo)
    diag = Diagnostics(
        elbo=elbo,
        converged=converged,
        convergence_message=message,
        centered_tasks=centered.centered_tasks(scenario.n_tasks),
        partly_centered_tasks=centered.partly_centered_tasks(scenario.n_tasks),
    )
    return posterior, diag, first - t0, end - first


MIN_ELBO_ITERATIONS = 2000


def elbo_converged(elbo: np.ndarray, *, window_share: float = 0.1) -> tuple[bool, str]:
    """Has the ELBO stopped improving?

    Compares the last ``window_share`` of iterations with the window ending half-way
    through: a converged fit is flat over its second half. Three checks, all needed:

    - the median ELBO gained no more than the ELBO's own scatter allows for medians
      of that many iterations (3 standard errors, counting one independent value per
      50 autocorrelated Adam steps), or 0.01 % of its size;
    - the second half brought at most 2 % of the ELBO's whole rise since the first
      window (the noise far from the optimum can hide a large rise from the first check);
    - the scatter itself has settled: far from the optimum the Monte Carlo ELBO is
      far noisier, so a scatter that still fell by more than 3x means the fit is
      still travelling.

    Fewer than ``MIN_ELBO_ITERATIONS`` iterations are too few to judge.

    Returns
    -------
    converged, message
    """
    elbo = np.asarray(elbo, dtype=float)
    elbo = elbo[np.isfinite(elbo)]
    n = len(elbo)
    if n < MIN_ELBO_ITERATIONS:
        return False, (
            f"ADVI has not converged: {n} iterations are too few to judge "
            f"(at least {MIN_ELBO_ITERATIONS}). Give it more iterations."
        )
    w = int(n * window_share)
    last, middle = elbo[-w:], elbo[n // 2 - w : n // 2]

    def scatter(x):
        return 1.4826 * np.median(np.abs(x - np.median(x)))

    gain = np.median(last) - np.median(middle)
    travelled = np.median(last) - np.median(elbo[:w])
    tolerance = 3 * scatter(last) * np.sqrt(2.0 / max(w / 50, 1)) + 1e-4 * abs(np.median(last))
    advice = (
        "Its estimates are not to be trusted: give it more iterations or a larger "
        "learning rate."
    )
    if gain > tolerance:
        return False, (
            f"ADVI has not converged: the ELBO still rose by {gain:.3g} over the second "
            f"half of its {n} iterations (its noise allows {tolerance:.3g}). {advice}"
        )
    if travelled > tolerance and gain > 0.02 * travelled:
        return False, (
            f"ADVI has not converged: the second half of its {n} iterations still brought "
            f"{gain / travelled:.0%} of the ELBO's total rise. {advice}"
        )
    if scatter(middle) > 3 * scatter(last):
        return False, (
            f"ADVI has not converged: the ELBO's scatter fell from {scatter(middle):.3g} "
            f"to {scatter(last):.3g} over the second half of its {n} iterations, so it is "
            f"still moving. {advice}"
        )
    return True, f"The ELBO is flat over the second half of its {n} iterations: converged."


def _run_exact(scenario, prep, report, stopper):
    report("sample", 0.0, "Drawing from the closed-form posterior")
    t0 = time.perf_counter()
    rng = np.random.default_rng(scenario.seed)
    draws = prep.exact.sample(scenario.draws, scenario.chains, rng)
    posterior = _posterior_tree(draws, scenario)
    report("sample", 1.0, "Done")
    return posterior, Diagnostics(), 0.0, time.perf_counter() - t0


def _posterior_tree(draws: dict[str, np.ndarray], scenario: Scenario):
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


_RUNNERS = {
    "nuts": _run_nutpie,
    "pymc_nuts": _run_pymc_nuts,
    "advi": _run_advi,
    "fullrank_advi": _run_advi,
    "exact": _run_exact,
}


class _quiet:
    """Silence PyMC's and PyTensor's chatter inside a fit (the UI shows progress)."""

    def __enter__(self):
        self._levels = {}
        for name in ("pymc", "pytensor"):
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.ERROR)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        return self

    def __exit__(self, *exc):
        self._warnings.__exit__(*exc)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
        return False


def _trim(trace, scenario: Scenario):
    """Keep the posterior group of the real tasks only (drop capacity padding)."""
    import xarray as xr

    post = trace["posterior"].to_dataset()
    keep = [v for v in ("parent", "child", "noise", "spread") if v in post]
    post = post[keep].isel(task=slice(0, scenario.n_tasks))
    post = post.assign_coords(
        task=np.arange(scenario.n_tasks), feature=np.arange(scenario.n_features)
    )
    return xr.DataTree.from_dict({"posterior": post})


def _mcmc_diagnostics(posterior, divergences, centered, scenario) -> Diagnostics:
    import arviz as az
    import xarray as xr

    draws = posterior["posterior"].to_dataset()

    def extreme(stat: xr.Dataset, fn) -> float:
        return float(fn([fn(stat[v].values) for v in stat.data_vars]))

    rhat = az.rhat(draws)
    ess_bulk = az.ess(draws, method="bulk")
    ess_tail = az.ess(draws, method="tail")

    return Diagnostics(
        max_rhat=extreme(rhat, np.nanmax) if scenario.chains > 1 else None,
        min_ess_bulk=extreme(ess_bulk, np.nanmin),
        min_ess_tail=extreme(ess_tail, np.nanmin),
        divergences=divergences,
        centered_tasks=centered.centered_tasks(scenario.n_tasks),
        partly_centered_tasks=centered.partly_centered_tasks(scenario.n_tasks),
    )


# ---------------------------------------------------------------------------
# Tidy tables
# ---------------------------------------------------------------------------
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

    scales = [("noise", scenario.noise_sd, prep.exact.noise_mean, prep.exact.noise_sd)]
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
