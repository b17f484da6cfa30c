"""Families of worlds whose truth is drawn from the model's own prior.

A :class:`WorldFamily` says how worlds vary (tasks, sample counts, features, the
features' distribution) and which priors the model fits them with; :func:`draw_world`
draws one world's truth from those very priors. Fitting many such worlds and asking
whether the posterior's intervals contain the truth as often as they claim is
simulation-based calibration (Talts et al. 2018).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from hierdash.scenario import (
    BOUNDS,
    MAX_SAMPLES_PER_TASK,
    MAX_SEED,
    MAX_TASKS,
    MAX_TOTAL_ROWS,
    OUTCOME_DEFAULTS,
    Scenario,
)

__all__ = ["WorldFamily", "FAMILIES", "get_family", "draw_world", "world_scenarios"]

# A half-normal prior with scale s puts mass 1e-3 beyond 3.29 s. Truths drawn beyond
# the scenario's bound are redrawn (a truncation the fit does not know about), so the
# family must keep that mass negligible for the calibration to stay honest.
_TAIL_SDS = 3.29


@dataclass(frozen=True, kw_only=True)
class WorldFamily:
    """How the worlds of a calibration run vary, and the priors they are fitted with.

    Parameters
    ----------
    name
        Short identifier (used in results and file names).
    n_features
        Weights per task.
    tasks
        ``(fewest, most)`` tasks, inclusive; each world draws its count uniformly.
    sample_counts
        The sample counts each task draws from, uniformly.
    samples
        Fixed sample counts for every world (overrides ``tasks`` and
        ``sample_counts``), e.g. the notebook's ``(100, 80)``.
    x_mean, x_sd
        Features are drawn ``Normal(x_mean, x_sd)``.
    prior_parent_mean, prior_parent_scale, prior_spread_scale, prior_noise_scale
        The model's priors, which are also where each world's truth comes from.
    floor
        Smallest true spread and noise: a draw below it is raised to it (the data
        cannot tell such tiny scales apart, and the scenario's bounds need > 0.01).
    learn_spread
        Fit the child spread (true) or fix it at its true value.
    draws, tune, chains
        Sampler settings of every world's fit.
    description
        One sentence for tables and pages.
    outcome, intercept, trials, exposure
        What each row's ``y`` is (see :class:`~hierdash.scenario.Scenario`): a yes/no
        or count family has no noise (``prior_noise_scale`` is then unused), an
        intercept column and its own ``target_accept``.
    """

    name: str
    n_features: int
    tasks: tuple[int, int] = (2, 6)
    sample_counts: tuple[int, ...] = (0, 1, 2, 3, 5, 8, 13, 30, 60)
    samples: tuple[int, ...] | None = None
    x_mean: float = 0.0
    x_sd: float = 1.0
    prior_parent_mean: float = 0.0
    prior_parent_scale: float = 3.0
    prior_spread_scale: float = 1.0
    prior_noise_scale: float = 2.0
    floor: float = 0.02
    learn_spread: bool = True
    draws: int = 500
    tune: int = Scenario.tune  # the dashboard's default
    chains: int = 2
    description: str = ""
    outcome: str = "gaussian"
    intercept: bool = False
    trials: int = 10
    exposure: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name = {self.name!r} is not allowed: must be a non-empty string")
        for field_name in ("n_features", "x_mean", "x_sd", "prior_parent_mean",
                           "prior_spread_scale", "prior_noise_scale", "draws", "tune", "chains"):
            _check_bound(field_name, getattr(self, field_name), field_name)
        # The truth's parent scale is the prior's, so both bounds apply.
        _check_bound("prior_parent_scale", self.prior_parent_scale, "prior_parent_scale")
        _check_bound("prior_parent_scale", self.prior_parent_scale, "parent_scale")
        for field_name, bound_name in (("prior_spread_scale", "child_spread"),
                                       ("prior_noise_scale", "noise_sd")):
            scale, high = getattr(self, field_name), BOUNDS[bound_name].high
            if scale * _TAIL_SDS > high:
                raise ValueError(
                    f"{field_name} = {scale!r} is not allowed: must be at most "
                    f"{high / _TAIL_SDS:.3g} so that truths beyond {bound_name}'s bound "
                    f"{high:g} stay rarer than 1 in 1000"
                )
        low = max(BOUNDS["child_spread"].low, BOUNDS["noise_sd"].low)
        if not isinstance(self.floor, (int, float)) or not low <= self.floor <= 1.0:
            raise ValueError(f"floor = {self.floor!r} is not allowed: must be a number "
                             f"from {low:g} to 1")
        if not isinstance(self.learn_spread, bool):
            raise ValueError(f"learn_spread = {self.learn_spread!r} is not allowed: "
                             "must be true or false")
        if self.samples is not None:
            object.__setattr__(self, "samples", tuple(self.samples))
            Scenario(samples=self.samples)  # the scenario's own rule for counts
            return
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "sample_counts", tuple(self.sample_counts))
        fewest, most = self.tasks if len(self.tasks) == 2 else (0, -1)
        if not (_whole(fewest) and _whole(most) and 1 <= fewest <= most <= MAX_TASKS):
            raise ValueError(f"tasks = {self.tasks!r} is not allowed: must be (fewest, most) "
                             f"with 1 <= fewest <= most <= {MAX_TASKS}")
        counts = self.sample_counts
        if not counts or not all(_whole(n) and 0 <= n <= MAX_SAMPLES_PER_TASK for n in counts):
            raise ValueError(f"sample_counts = {counts!r} is not allowed: must be one or more "
                             f"whole numbers from 0 to {MAX_SAMPLES_PER_TASK}")
        if most * max(counts) > MAX_TOTAL_ROWS:
            raise ValueError(f"sample_counts = {counts!r} is not allowed: {most} tasks of "
                             f"{max(counts)} rows exceed {MAX_TOTAL_ROWS} rows in all")

    @classmethod
    def from_scenario(cls, scenario: Scenario, *, name: str = "current") -> WorldFamily:
        """The family of ``scenario``'s worlds: its tasks, features and priors, with the
        truth redrawn from the priors for each world.

        Raises ``ValueError`` when a prior is too wide to draw truths from within the
        scenario's bounds (never clipped: a clipped truth would no longer come from
        the prior the model is fitted with)."""
        return cls(
            name=name, n_features=scenario.n_features, samples=scenario.samples,
            x_mean=scenario.x_mean, x_sd=scenario.x_sd,
            prior_parent_mean=scenario.prior_parent_mean,
            prior_parent_scale=scenario.prior_parent_scale,
            prior_spread_scale=scenario.prior_spread_scale,
            prior_noise_scale=scenario.prior_noise_scale,
            learn_spread=scenario.learn_spread,
            draws=scenario.draws, tune=scenario.tune, chains=scenario.chains,
            description="The current settings, the truth redrawn from the priors.",
        )

    def replace(self, **changes: object) -> WorldFamily:
        """A validated copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


def _whole(n: object) -> bool:
    return isinstance(n, (int, np.integer)) and not isinstance(n, bool)


def _check_bound(field_name: str, value: object, bound_name: str) -> None:
    bound = BOUNDS[bound_name]
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and bound.low <= value <= bound.high
    if ok and bound.integer:
        ok = float(value).is_integer()
    if not ok:
        raise ValueError(f"{field_name} = {value!r} is not allowed: {bound.describe()}")


FAMILIES: dict[str, WorldFamily] = {
    "issue9": WorldFamily(
        name="issue9", n_features=2,
        description="Issue 9's ordinary worlds: 2-6 tasks of 0-60 rows, 2 features.",
    ),
    "wide": WorldFamily(
        name="wide", n_features=4, tasks=(3, 12), sample_counts=tuple(range(41)),
        description="4 features, 3-12 tasks of 0-40 rows.",
    ),
    "eight": WorldFamily(
        name="eight", n_features=8, tasks=(2, 8), sample_counts=(0, 2, 5, 10, 20, 50),
        x_mean=1.0, x_sd=2.0, prior_parent_mean=2.0, prior_parent_scale=1.0,
        prior_spread_scale=0.5, prior_noise_scale=1.0,
        description="8 features, 2-8 tasks of 0-50 rows, tighter priors off zero.",
    ),
    "notebook": WorldFamily(
        name="notebook", n_features=4, samples=(100, 80), x_mean=3.0, x_sd=4.0,
        prior_parent_mean=0.0, prior_parent_scale=10.0, prior_spread_scale=5.0,
        prior_noise_scale=5.0, draws=1000,
        description="The notebook's world: 2 tasks of 100 and 80 rows, 4 features, "
                    "default priors.",
    ),
    # Yes/no and count outcomes: issue 21's prior worlds (2 to 8 tasks of 0 to 60 rows,
    # an intercept and one feature, parent Normal(0, 1), spread HalfNormal(1)).
    **{name: WorldFamily(
        name=name, n_features=2, tasks=(2, 8), sample_counts=(0, 1, 2, 3, 5, 8, 13, 30, 60),
        prior_parent_scale=1.0, prior_spread_scale=1.0, outcome=name, intercept=True,
        description=f"{words}: 2-8 tasks of 0-60 rows, an intercept and one feature.")
       for name, words in (("bernoulli", "Yes/no outcomes"),
                           ("binomial", "Successes of 10 trials"),
                           ("poisson", "Counts"))},
}


def get_family(name: str) -> WorldFamily:
    """The named family; a ``ValueError`` lists the names when ``name`` is unknown."""
    if name not in FAMILIES:
        raise ValueError(f"family = {name!r} is not allowed: must be one of "
                         f"{', '.join(FAMILIES)}")
    return FAMILIES[name]


def _half_normal(rng: np.random.Generator, scale: float, floor: float, high: float) -> float:
    while True:  # the family's check keeps redraws below 1 in 1000
        value = abs(float(rng.normal(0.0, scale)))
        if value <= high:
            return max(value, floor)


def draw_world(family: WorldFamily, rng: np.random.Generator) -> Scenario:
    """One world of ``family``: its shape and its truth drawn from the family's priors.

    The parent's distribution is the prior's (``parent_mean``, ``parent_scale``), so
    :func:`hierdash.world.simulate` draws the true parent from the prior; the child
    spread and the noise are drawn ``HalfNormal`` from their priors and raised to
    ``family.floor``. The seed (of the data and of the sampler) comes from ``rng``.

    Parameters
    ----------
    family
        The family of worlds.
    rng
        Source of every random choice.

    Returns
    -------
    Scenario
        Method and parameterization at the scenario's defaults.
    """
    outcome = {} if family.outcome == "gaussian" else {
        "outcome": family.outcome, "intercept": family.intercept, "trials": family.trials,
        "exposure": family.exposure,
        "target_accept": OUTCOME_DEFAULTS[family.outcome].get("target_accept",
                                                              Scenario.target_accept)}
    if family.samples is not None:
        samples = family.samples
    else:
        fewest, most = family.tasks
        n_tasks = int(rng.integers(fewest, most + 1))
        samples = tuple(int(n) for n in rng.choice(family.sample_counts, size=n_tasks))
    spread = _half_normal(rng, family.prior_spread_scale, family.floor,
                          BOUNDS["child_spread"].high)
    noise = _half_normal(rng, family.prior_noise_scale, family.floor, BOUNDS["noise_sd"].high)
    return Scenario(
        parent_mean=family.prior_parent_mean, parent_scale=family.prior_parent_scale,
        child_spread=spread, noise_sd=noise, n_features=family.n_features, samples=samples,
        x_mean=family.x_mean, x_sd=family.x_sd, seed=int(rng.integers(0, MAX_SEED + 1)),
        draws=family.draws, tune=family.tune, chains=family.chains,
        learn_spread=family.learn_spread,
        prior_parent_mean=family.prior_parent_mean,
        prior_parent_scale=family.prior_parent_scale,
        prior_spread_scale=family.prior_spread_scale,
        prior_noise_scale=family.prior_noise_scale,
        **outcome,
    )


def world_scenarios(family: WorldFamily, *, n_worlds: int, seed: int) -> list[Scenario]:
    """The first ``n_worlds`` worlds of ``family`` for ``seed``.

    World ``i`` depends on ``seed`` and ``i`` only (its own spawned stream), so runs of
    different lengths or methods see the same worlds: comparisons are paired.
    """
    if not _whole(n_worlds) or n_worlds < 1:
        raise ValueError(f"n_worlds = {n_worlds!r} is not allowed: must be a whole number >= 1")
    if not _whole(seed) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed = {seed!r} is not allowed: must be a whole number "
                         f"from 0 to {MAX_SEED}")
    return [
        draw_world(family, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,))))
        for i in range(n_worlds)
    ]
