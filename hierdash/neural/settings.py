"""The settings of a neural-tasks run: the world of rotated moons and the three fits.

Every field is keyword-only and checked on construction; a bad value raises
``ValueError`` naming the field, the value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from hierdash.values import finite_number, one_of, whole_number

__all__ = ["NeuralSettings", "MAX_TASKS", "MAX_ROWS", "MAX_HIDDEN", "MIN_HIDDEN", "PADDINGS",
           "NEURAL_METHODS", "MAX_SEED", "MAX_TEST", "MIN_TEST", "QUERY_PREFIX", "LINK_FIELDS",
           "MIN_DRAWS", "MAX_DRAWS", "MIN_TARGET_ACCEPT", "MAX_TARGET_ACCEPT"]

MAX_TASKS = 12
"""Most tasks in a world: the compiled model's task capacity."""
MAX_ROWS = 150
"""Most training points in one task: the compiled model's row capacity."""
MIN_HIDDEN, MAX_HIDDEN = 2, 8
"""Hidden units: fewer than 2 cannot bend a moon; the capacity is 8 (5.7 s a fit measured
in issue 22, against 3.5 s with 4)."""
MIN_TEST, MAX_TEST = 10, 500
"""Test points per task."""
MAX_SEED = 2**31 - 1
MIN_DRAWS, MAX_DRAWS = 20, 5000
"""Draws, and tuning steps, per chain."""
MIN_TARGET_ACCEPT, MAX_TARGET_ACCEPT = 0.6, 0.99
PADDINGS: tuple[str, ...] = ("masked", "naive")
NEURAL_METHODS: tuple[str, ...] = ("nuts", "advi")

QUERY_PREFIX = "nn_"
"""Starts every query parameter of a neural world: the Explore page's ``samples``,
``noise`` and ``seed`` mean other things, and both pages share the app's URL."""
LINK_FIELDS: tuple[str, ...] = ("samples", "rotation_spread", "noise", "test_per_task",
                                "hidden", "bias", "padding", "seed", "draws", "tune",
                                "target_accept")
"""The fields a link carries: the world, the network and NUTS's settings (the page fits
with NUTS and two chains only)."""
_MAX_QUERY_TEXT = 200  # characters of one query value read at most
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")

Padding = Literal["masked", "naive"]
NeuralMethod = Literal["nuts", "advi"]


@dataclass(frozen=True, kw_only=True)
class NeuralSettings:
    """A world of rotated two-moons tasks and how its three networks are fitted.

    Parameters
    ----------
    samples
        Training points per task, 1 to :data:`MAX_TASKS` tasks of 0 to :data:`MAX_ROWS`.
    rotation_spread
        Standard deviation of each task's rotation angle, in degrees (0 to 180): 0 makes
        every task the same problem, 90 makes them differ a lot.
    noise
        Standard deviation of the Gaussian noise added to each point (0 to 1).
    test_per_task
        Test points per task (10 to 500), never used for fitting.
    hidden
        Hidden tanh units (:data:`MIN_HIDDEN` to :data:`MAX_HIDDEN`).
    bias
        Whether both layers have biases.
    padding
        ``masked``: padded rows are excluded from the likelihood. ``naive``: every task
        is padded with zero rows to the largest task's count and they count, as fake
        class-0 points at the origin (the lesson).
    method
        ``nuts`` (nutpie) or ``advi`` (mean-field ADVI; can sit at chance, see
        :func:`hierdash.neural.fit.fit_neural`).
    seed
        Seeds the world and the fits.
    draws, tune, chains
        NUTS draws and tuning steps per chain, and chains.
    target_accept
        NUTS's target acceptance rate (0.6 to 0.99): higher takes smaller steps, which
        avoids divergences in the hierarchy's funnels at the cost of more steps.
    advi_steps
        ADVI's optimisation steps.
    """

    samples: tuple[int, ...] = (100, 60, 40, 25, 15, 10, 6, 3)
    rotation_spread: float = 90.0
    noise: float = 0.3
    test_per_task: int = 100
    hidden: int = 4
    bias: bool = True
    padding: Padding = "masked"
    method: NeuralMethod = "nuts"
    seed: int = 1
    draws: int = 400
    tune: int = 500
    chains: int = 2
    target_accept: float = 0.93
    advi_steps: int = 20_000

    def __post_init__(self) -> None:
        samples = self.samples
        if isinstance(samples, list):
            object.__setattr__(self, "samples", tuple(samples))
        if (not isinstance(self.samples, tuple) or not 1 <= len(self.samples) <= MAX_TASKS
                or any(isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_ROWS
                       for n in self.samples)):
            raise ValueError(f"samples = {samples!r} is not allowed: must be 1 to {MAX_TASKS} "
                             f"whole numbers from 0 to {MAX_ROWS}")
        finite_number("rotation_spread", self.rotation_spread, low=0.0, high=180.0)
        finite_number("noise", self.noise, low=0.0, high=1.0)
        whole_number("test_per_task", self.test_per_task, MIN_TEST, MAX_TEST)
        whole_number("hidden", self.hidden, MIN_HIDDEN, MAX_HIDDEN)
        if not isinstance(self.bias, bool):
            raise ValueError(f"bias = {self.bias!r} is not allowed: must be True or False")
        one_of("padding", self.padding, PADDINGS)
        one_of("method", self.method, NEURAL_METHODS)
        whole_number("seed", self.seed, 0, MAX_SEED)
        whole_number("draws", self.draws, MIN_DRAWS, MAX_DRAWS)
        whole_number("tune", self.tune, MIN_DRAWS, MAX_DRAWS)
        whole_number("chains", self.chains, 1, 4)
        finite_number("target_accept", self.target_accept, low=MIN_TARGET_ACCEPT,
                      high=MAX_TARGET_ACCEPT)
        whole_number("advi_steps", self.advi_steps, 500, 200_000)

    @property
    def n_tasks(self) -> int:
        return len(self.samples)

    @property
    def n_parameters(self) -> int:
        """Sampled parameters of the hierarchical network (parent, tasks, spreads)."""
        weights = 2 * self.hidden + self.hidden  # input -> hidden, hidden -> output
        biases = self.hidden + 1 if self.bias else 0
        per_network = weights + biases
        return per_network * (self.n_tasks + 1) + (4 if self.bias else 2)

    def replace(self, **changes: Any) -> NeuralSettings:
        """A copy with ``changes`` (checked like a new one)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready."""
        out = asdict(self)
        out["samples"] = list(self.samples)
        return out

    def to_query(self, names: Iterable[str] = LINK_FIELDS) -> dict[str, str]:
        """The fields ``names`` as a URL's query parameters, each named
        :data:`QUERY_PREFIX` + its field (``nn_samples=100,60,3``, ``nn_bias=true``)."""
        out = {}
        for name in names:
            value = getattr(self, name)
            if name == "samples":
                text = ",".join(str(n) for n in value)
            elif isinstance(value, bool):
                text = "true" if value else "false"
            else:
                text = str(value)
            out[QUERY_PREFIX + name] = text
        return out

    @classmethod
    def from_query(cls, mapping: Mapping[str, Any], *, strict: bool = False,
                   base: NeuralSettings | None = None,
                   names: Iterable[str] = LINK_FIELDS) -> tuple[NeuralSettings, list[str]]:
        """The settings a link's query parameters describe (the reverse of
        :meth:`to_query`).

        Parameters
        ----------
        mapping
            Query parameter to text (or to a list of texts, the last one counts).
            Parameters without :data:`QUERY_PREFIX` belong to other pages: ignored.
        strict
            If true, the first bad value raises ``ValueError``. If false, a bad or
            unknown value is skipped (``base``'s value stays) and described.
        base
            What the link leaves out (default: the defaults).
        names
            The fields a link may set.

        Returns
        -------
        settings, problems
            The settings, and one sentence per value skipped (empty when ``strict``).
        """
        settings, problems, names = base or cls(), [], tuple(names)
        for key, raw in mapping.items():
            if not key.startswith(QUERY_PREFIX):
                continue
            name = key.removeprefix(QUERY_PREFIX)
            try:
                if name not in names:
                    raise ValueError(f"{key} is not a setting a link can set: the settings "
                                     f"are {', '.join(QUERY_PREFIX + n for n in names)}")
                settings = settings.replace(**{name: _parse(name, _last(raw))})
            except ValueError as err:
                if strict:
                    raise
                problems.append(str(err))
        return settings, problems

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _last(raw: Any) -> str:
    """One query value as text (a repeated parameter: its last value), cut short."""
    if isinstance(raw, list | tuple):
        raw = raw[-1] if raw else ""
    return str(raw).strip()[:_MAX_QUERY_TEXT]


def _parse(name: str, text: str) -> Any:
    """``text`` as field ``name``'s type; the text itself when it is not one (so that
    the field's own check refuses it, saying what is allowed)."""
    kind = type(getattr(NeuralSettings(), name))
    try:
        if name == "samples":
            return tuple(int(part) for part in text.split(","))
        if kind is bool:
            low = text.lower()
            return True if low in _TRUE else False if low in _FALSE else text
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
    except ValueError:
        return text
    return text.lower()
