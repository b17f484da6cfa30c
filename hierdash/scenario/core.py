"""The scenario: one frozen, validated description of a world and of how to fit it.

Every input path (the app's controls, the URL's query string, the command line) ends
here: a :class:`Scenario` checks every field on creation and raises a
:class:`ScenarioError` that names the field, the value and the allowed range.
:mod:`hierdash.scenario.text` turns loose strings (links, flags) into one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from hierdash.scenario.outcome_defaults import OUTCOME_DEFAULTS

Method = Literal["nuts", "pymc_nuts", "advi", "fullrank_advi", "exact"]
Parameterization = Literal["auto", "marginal", "centered", "noncentered"]
Padding = Literal["masked", "naive"]
Source = Literal["simulated", "data"]
# The outcome families (hierdash.outcomes names the same, a lower layer cannot import it;
# a test checks the two lists agree).
Outcome = Literal["gaussian", "bernoulli", "binomial", "poisson"]

METHODS: tuple[str, ...] = get_args(Method)
PARAMETERIZATIONS: tuple[str, ...] = get_args(Parameterization)
PADDINGS: tuple[str, ...] = get_args(Padding)
SOURCES: tuple[str, ...] = get_args(Source)
OUTCOMES: tuple[str, ...] = get_args(Outcome)

MAX_TASKS = 50
MAX_SAMPLES_PER_TASK = 1000
MAX_TOTAL_ROWS = 20_000
# A student's own data (``source = "data"``) may have more groups and rows than a
# simulated world: the Minnesota radon data have 85 counties, a class survey more.
DATA_MAX_TASKS = 200
DATA_MAX_ROWS = 100_000
MAX_SEED = 2**32 - 1


class ScenarioError(ValueError):
    """A scenario field is out of its allowed range or of the wrong kind."""

    def __init__(self, field_name: str, value: Any, allowed: str):
        self.field = field_name
        self.value = value
        self.allowed = allowed
        try:
            shown = repr(value)
        except Exception:  # e.g. an int too large to print
            shown = f"<{type(value).__name__} too large to show>"
        if len(shown) > 60:
            shown = shown[:57] + "..."
        name = str(field_name)
        if len(name) > 40:  # an unknown key from a URL can be any length
            name = name[:37] + "..."
        super().__init__(f"{name} = {shown} is not allowed: {allowed}")


@dataclass(frozen=True)
class Bound:
    """Allowed range of one numeric field (inclusive)."""

    low: float
    high: float
    integer: bool = False

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        return f"must be {kind} from {_fmt(self.low)} to {_fmt(self.high)}"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


# One table of bounds: the single source for validation, the app's widgets and the CLI.
BOUNDS: dict[str, Bound] = {
    "parent_mean": Bound(-100.0, 100.0),
    "parent_scale": Bound(0.0, 50.0),
    "child_spread": Bound(0.01, 20.0),
    "noise_sd": Bound(0.01, 100.0),
    "n_features": Bound(1, 8, integer=True),
    "x_mean": Bound(-100.0, 100.0),
    "x_sd": Bound(0.01, 100.0),
    "seed": Bound(0, MAX_SEED, integer=True),
    "draws": Bound(100, 5000, integer=True),
    "tune": Bound(100, 5000, integer=True),
    "chains": Bound(1, 4, integer=True),
    "target_accept": Bound(0.6, 0.999),
    "advi_iterations": Bound(1000, 200_000, integer=True),
    "advi_learning_rate": Bound(1e-4, 0.5),
    "prior_parent_mean": Bound(-100.0, 100.0),
    "prior_parent_scale": Bound(0.01, 1000.0),
    "prior_spread_scale": Bound(0.01, 1000.0),
    "prior_noise_scale": Bound(0.01, 1000.0),
    "outlier_task": Bound(-1, DATA_MAX_TASKS - 1, integer=True),
    "outlier_shift": Bound(-20.0, 20.0),
    "outlier_noise": Bound(0.1, 10.0),
    "trials": Bound(1, 1000, integer=True),
    "exposure": Bound(0.01, 1000.0),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "method": METHODS,
    "parameterization": PARAMETERIZATIONS,
    "padding": PADDINGS,
    "source": SOURCES,
    "outcome": OUTCOMES,
}


@dataclass(frozen=True)
class Scenario:
    """A world to simulate and the way to fit it.

    Frozen and hashable, so it serves as a cache key and as the content of a URL.

    Parameters
    ----------
    parent_mean, parent_scale
        The true parent weights are drawn ``Normal(parent_mean, parent_scale)`` per
        feature.
    child_spread
        Standard deviation of each task's weights around the parent.
    noise_sd
        Standard deviation of the noise on ``y``.
    n_features
        Number of features (weights per task).
    samples
        Sample count per task; its length is the number of tasks. Zero is allowed.
    x_mean, x_sd
        Features are drawn ``Normal(x_mean, x_sd)``.
    seed
        Seed of the simulation and of the sampler.
    method
        Inference method.
    draws, tune, chains, target_accept
        Sampler settings (NUTS methods); ``draws`` is also the number of draws taken
        from the variational and exact posteriors.
    advi_iterations, advi_learning_rate
        Variational settings (Adam optimizer).
    parameterization
        ``marginal`` integrates the child weights out (the sampler explores the
        scales only and each draw's weights come from their exact conditional);
        ``centered`` and ``noncentered`` sample every child weight (the funnel
        lesson); ``auto`` picks for the method (see
        :func:`hierdash.inference.models.latent.resolve_parameterization`).
    padding
        ``masked`` keeps padded rows out of the likelihood; ``naive`` lets them in
        with ``y = 0`` (to show the bias that causes).
    learn_spread
        Learn the child spread (default) or fix it at its true value.
    prior_parent_mean, prior_parent_scale, prior_spread_scale, prior_noise_scale
        Priors: parent ``Normal(mean, scale)``, spread and noise ``HalfNormal(scale)``.
    outlier_task
        A task whose true weights sit ``outlier_shift`` child spreads off the parent
        (every feature), with noise ``outlier_noise`` times ``noise_sd``; -1 for none
        (a task past the last one has no effect either: see :attr:`outlier`).
        The lesson: partial pooling pulls an outlier with little data wrongly. Only
        Gaussian worlds without an intercept column draw it.
    source
        ``simulated`` (the default) or ``data``: a student's own table, fitted with
        ``fit(scenario, world=...)``, which may have up to ``DATA_MAX_TASKS`` groups
        and ``DATA_MAX_ROWS`` rows.
    outcome
        What each row's ``y`` is: ``gaussian`` (a number, ``y = X c + noise``),
        ``bernoulli`` (yes/no, logit link), ``binomial`` (successes of ``trials``,
        logit link) or ``poisson`` (a count over ``exposure``, log link). The weights
        live on the link scale. :meth:`for_outcome` gives each outcome's own defaults.
    trials
        Trials per row of a simulated binomial world.
    exposure
        Exposure per row of a simulated Poisson world (its rate is ``exposure *
        exp(x . c)``).
    intercept
        Whether the first feature is a column of ones; ``n_features`` counts it (with
        ``n_features = 1`` the model is intercept only: one probability or rate per task).
    """

    parent_mean: float = 10.0
    parent_scale: float = 3.0
    child_spread: float = 1.0
    noise_sd: float = 1.0
    n_features: int = 4
    samples: tuple[int, ...] = (100, 80)
    x_mean: float = 3.0
    x_sd: float = 4.0
    seed: int = 42
    method: Method = "nuts"
    draws: int = 1000
    # nutpie's own default. On 200 issue-9 worlds (auto, 2 x 1000 draws; `python -m
    # hierdash calibrate --family issue9 --tune 300 --draws 1000 --workers 0`), 300
    # tuning steps gave 0 divergent worlds and 1 unconverged (R-hat > 1.01), 1000 gave
    # 2 and 2, with the same coverage; the fit's CPU fell by about 40%.
    tune: int = 300
    chains: int = 2
    target_accept: float = 0.95
    # The most ADVI runs: it stops sooner once its ELBO settles. The seed notebook's own
    # pm.fit(100000). On 50 prior-drawn worlds of each calibration family (seed 1), a
    # 30,000 cap left 13 of 200 mean-field and 75 of 200 full-rank fits unconverged (49
    # of 50 notebook worlds full-rank), 100,000 none; the optimisation took a median of
    # 0.03 s mean-field and 0.13 s full-rank, at most 1.2 s (python -m
    # benchmarks.advi_limit).
    advi_iterations: int = 100_000
    advi_learning_rate: float = 0.01
    parameterization: Parameterization = "auto"
    padding: Padding = "masked"
    learn_spread: bool = True
    prior_parent_mean: float = 0.0
    prior_parent_scale: float = 10.0
    prior_spread_scale: float = 5.0
    prior_noise_scale: float = 5.0
    outlier_task: int = -1
    outlier_shift: float = 3.0
    outlier_noise: float = 1.0
    source: Source = "simulated"
    outcome: Outcome = "gaussian"
    trials: int = 10
    exposure: float = 1.0
    intercept: bool = False
    _checked: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Normalise first (so 3.0 tasks or numpy ints compare equal), then check.
        for name, bound in BOUNDS.items():
            object.__setattr__(self, name, check_number(name, getattr(self, name), bound))
        for name, choices in CHOICES.items():
            value = getattr(self, name)
            if not isinstance(value, str) or value not in choices:
                raise ScenarioError(name, value, f"must be one of {', '.join(choices)}")
            object.__setattr__(self, name, str(value))  # a plain str, hashable
        for name in ("learn_spread", "intercept"):
            if not isinstance(getattr(self, name), bool):
                raise ScenarioError(name, getattr(self, name), "must be true or false")
        self._check_outcome()
        object.__setattr__(self, "samples", check_samples(self.samples, self.source))

    def _check_outcome(self) -> None:
        """The settings a yes/no or count outcome cannot take, named in plain words."""
        if self.outcome == "gaussian":
            return
        if self.method in ("advi", "fullrank_advi"):
            raise ScenarioError(
                "method", self.method,
                f"ADVI is built for Gaussian outcomes only; for a {self.outcome} outcome "
                "use nuts, pymc_nuts or exact (the quadrature reference)")
        if self.parameterization == "marginal":
            raise ScenarioError(
                "parameterization", self.parameterization,
                f"a {self.outcome} outcome has no marginal form (its weights cannot be "
                "integrated out in closed form): use auto, centered or noncentered")

    @classmethod
    def for_outcome(cls, outcome: str, **changes: Any) -> Scenario:
        """A scenario of ``outcome`` with that outcome's own defaults, then ``changes``.

        A yes/no or count world lives on the link scale, where the Gaussian defaults
        (parent weights near 10, features near 3) would make every probability 0 or 1.
        """
        if not isinstance(outcome, str) or outcome not in OUTCOMES:
            raise ScenarioError("outcome", outcome, f"must be one of {', '.join(OUTCOMES)}")
        return cls(**{**OUTCOME_DEFAULTS.get(outcome, {}), "outcome": outcome, **changes})

    @property
    def is_gaussian(self) -> bool:
        """Whether ``y`` is a number with Gaussian noise (the closed-form world)."""
        return self.outcome == "gaussian"

    @property
    def n_tasks(self) -> int:
        """Number of tasks (the length of ``samples``)."""
        return len(self.samples)

    @property
    def outlier(self) -> int | None:
        """The outlier task, or None: ``outlier_task`` past the last task is kept (so
        that taking tasks away and back restores it) but has no effect."""
        return self.outlier_task if 0 <= self.outlier_task < self.n_tasks else None

    @property
    def total_rows(self) -> int:
        """Number of real rows over all tasks."""
        return sum(self.samples)

    def replace(self, **changes: Any) -> Scenario:
        """Return a validated copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON-ready values (``samples`` as a list)."""
        out = {f.name: getattr(self, f.name) for f in fields_of()}
        out["samples"] = list(self.samples)
        return out

    def to_query(self) -> dict[str, str]:
        """Every field as strings, for a URL's query parameters."""
        out = {}
        for name, value in self.to_dict().items():
            if name == "samples":
                out[name] = ",".join(str(n) for n in value)
            elif isinstance(value, bool):
                out[name] = "true" if value else "false"
            else:
                out[name] = str(value)
        return out


def fields_of() -> list[dataclasses.Field]:
    """The public fields of :class:`Scenario`, in order."""
    return [f for f in dataclasses.fields(Scenario) if not f.name.startswith("_")]


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields_of())


def check_number(name: str, value: Any, bound: Bound) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        # numpy scalars are not int/float subclasses in all cases; accept them via item()
        item = getattr(value, "item", None)
        if item is None or isinstance(value, bool):
            raise ScenarioError(name, value, bound.describe())
        try:
            value = item()
        except (TypeError, ValueError):  # an array of several values
            raise ScenarioError(name, value, bound.describe()) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(name, value, bound.describe())
    # ints compare exactly with float bounds; float(int) could overflow
    if isinstance(value, int) and not bound.low <= value <= bound.high:
        raise ScenarioError(name, value, bound.describe())
    if not math.isfinite(value):
        raise ScenarioError(name, value, bound.describe())
    if bound.integer:
        if not float(value).is_integer():
            raise ScenarioError(name, value, bound.describe())
        value = int(value)
    else:
        value = float(value)
    if not bound.low <= value <= bound.high:
        raise ScenarioError(name, value, bound.describe())
    return value


SAMPLES_RULE = (
    f"must be 1 to {MAX_TASKS} whole numbers from 0 to {MAX_SAMPLES_PER_TASK}, "
    f"at most {MAX_TOTAL_ROWS} rows in all"
)
DATA_SAMPLES_RULE = (
    f"must be 1 to {DATA_MAX_TASKS} groups of 0 to {DATA_MAX_ROWS} rows, "
    f"at most {DATA_MAX_ROWS} rows in all"
)


def check_samples(samples: Any, source: str = "simulated") -> tuple[int, ...]:
    if source == "data":
        return _check_counts(samples, DATA_MAX_TASKS, DATA_MAX_ROWS, DATA_MAX_ROWS,
                             DATA_SAMPLES_RULE)
    return _check_counts(samples, MAX_TASKS, MAX_SAMPLES_PER_TASK, MAX_TOTAL_ROWS, SAMPLES_RULE)


def _check_counts(samples: Any, max_tasks: int, max_per_task: int, max_total: int,
                  rule: str) -> tuple[int, ...]:
    if isinstance(samples, (str, bytes, Mapping, set, frozenset)) or not hasattr(
        samples, "__iter__"
    ):
        raise ScenarioError("samples", samples, rule)
    try:
        items = list(samples)
    except TypeError:  # e.g. a 0-d array
        raise ScenarioError("samples", samples, rule) from None
    if not 1 <= len(items) <= max_tasks:
        raise ScenarioError("samples", samples, rule)
    counts = []
    for n in items:
        try:
            counts.append(check_number("samples", n, Bound(0, max_per_task, True)))
        except ScenarioError:
            raise ScenarioError("samples", samples, rule) from None
    if sum(counts) > max_total:
        raise ScenarioError("samples", samples, rule)
    return tuple(counts)
