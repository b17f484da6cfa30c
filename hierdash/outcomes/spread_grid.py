"""The grid over the spread ``tau`` that the reference posterior integrates on.

Every point of the grid costs a full nested quadrature (the parent's nodes, each task's
nodes), so the grid must hold few points. Uniform in ``log tau`` (as
:mod:`hierdash.exact.grid`) it would not: when the data allow a spread near zero, the
density of ``log tau`` falls by only one nat per unit below its top, and a tail of 12
nats takes 12 units of grid. So the grid is uniform in

    u = asinh(tau / tau0),     tau = tau0 sinh(u),     u >= 0,

which is ``log tau`` (shifted) above ``tau0`` and ``tau`` itself (scaled) below it: the
tail towards zero is folded into about one unit of ``u``. The density of ``u`` is even
once extended to ``u < 0`` (the HalfNormal prior and the likelihood depend on ``tau^2``,
and ``cosh u`` is even), so the trapezoid rule from ``u = 0`` (half weight there) keeps
the fast convergence it has on the whole line.

1. **A pilot** on a coarse grid in ``log tau``, with one node per rule (Laplace's method,
   far cheaper and good enough to locate the mass), finds the top of the spread's
   density; ``tau0`` is ``e^-2`` times it.
2. **The box**, on a coarse grid in ``u``: an edge still within ``_DROP`` nats of the top
   of the density (or of the density times ``tau^2``, whose tail is the heavier) is
   pushed out; one point beyond the cut is kept each side.
3. **Halving**: the spacing is halved until the core (within ``_CORE`` nats of the top)
   holds ``grid_size`` points and dropping every other point changes neither the mean
   and sd of the spread nor those of the parent by more than ``_RESOLVED`` of their sd.
   Each grid holds the previous one, so halving costs only the new points, and the
   error of the grid kept is far smaller than that check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hierdash.outcomes.data import Rows
from hierdash.outcomes.nested import GivenSpread, Rule, given_spread

__all__ = ["SpreadGrid", "Grid", "adapt_grid"]

_DROP = 12.0  # the box holds every spread within this many nats of the top (mass ~1e-5)
_CORE = 6.0  # the core: within this many nats of the top
_RESOLVED = 0.05  # change of the moments (in sd) when the spacing is doubled
_SHIFT = 2.0  # tau0 = e^-_SHIFT times the pilot's top
_PILOT = 1.0  # the pilot's spacing in log tau
_COARSE = 0.5  # the first spacing in u
_MAX_HALVINGS = 8  # the finest spacing is _COARSE / 2^8
_MAX_PASSES = 60
_BELOW, _ABOVE = 40.0, 8.0  # the pilot stays in [log scale - 40, log scale + 8]


@dataclass(frozen=True, eq=False)
class Grid:
    """The final grid: spreads, their posterior weights and cells, and the quadrature.

    Attributes
    ----------
    tau : ndarray (G,)
        The spreads, increasing.
    u : ndarray (G,)
        The same points in ``u = asinh(tau / tau0)`` (uniform).
    log_density : ndarray (G,)
        ``log p(u | y)`` up to a constant (the HalfNormal's own constant left out).
    weights : ndarray (G,)
        Posterior mass of each point: density times trapezoid cell, summing to 1.
    log_mass : float
        ``log`` of the trapezoid sum of the density (for the evidence).
    found : GivenSpread
        The nested quadrature at each spread.
    tau0 : float
        Where ``u`` turns from linear to logarithmic.
    """

    tau: np.ndarray
    u: np.ndarray
    log_density: np.ndarray
    weights: np.ndarray
    log_mass: float
    found: GivenSpread
    tau0: float


def adapt_grid(rows: Rows, *, prior_mean: float, prior_scale: float, spread_scale: float,
               parent_rule: Rule, child_rule: Rule, grid_size: int) -> Grid:
    """The grid over the spread (see the module's docstring)."""
    k = rows.X.shape[1]
    laplace = Rule.product(1, k)
    pilot = SpreadGrid(rows, prior_mean, prior_scale, spread_scale, laplace, laplace)
    anchor = math.log(spread_scale)
    lo, hi = pilot.box(anchor - 6.0, anchor + 2.0, _PILOT, limits=(anchor - _BELOW,
                                                                    anchor + _ABOVE))
    v = np.arange(lo, hi + 0.5 * _PILOT, _PILOT)
    top = float(v[np.argmax(pilot.log_density(v, pilot.evaluate(v)))])
    tau0 = math.exp(top - _SHIFT)
    grid = SpreadGrid(rows, prior_mean, prior_scale, spread_scale, parent_rule, child_rule,
                      tau0=tau0, start=pilot)
    u_top = math.asinh(math.exp(top) / tau0)
    ceiling = math.asinh(math.exp(anchor + _ABOVE) / tau0)
    lo, hi = grid.box(0.0, _COARSE * math.ceil((u_top + 2.0) / _COARSE), _COARSE,
                      limits=(0.0, ceiling))
    u, lp, found = grid.refine(lo, hi, grid_size)
    mass = _cells(u) * np.exp(lp - lp.max())
    return Grid(tau=tau0 * np.sinh(u), u=u, log_density=lp, weights=mass / mass.sum(),
                log_mass=float(lp.max() + math.log(mass.sum())), found=found, tau0=tau0)


class SpreadGrid:
    """The spreads evaluated so far (each once) on one variable, and grids made of them.

    The variable is ``v = log tau`` (``tau0`` None, the pilot) or ``u = asinh(tau /
    tau0)``. Points lie on a lattice of the finest spacing, so a finer grid reuses every
    point of a coarser one.
    """

    def __init__(self, rows: Rows, prior_mean: float, prior_scale: float, spread_scale: float,
                 parent_rule: Rule, child_rule: Rule, *, tau0: float | None = None,
                 start: SpreadGrid | None = None):
        self.rows, self.m, self.s, self.scale = rows, prior_mean, prior_scale, spread_scale
        self.parent_rule, self.child_rule = parent_rule, child_rule
        self.tau0 = tau0
        self.anchor = 0.0 if tau0 is not None else math.log(spread_scale)
        coarse = _COARSE if tau0 is not None else _PILOT
        self.fine = coarse / 2**_MAX_HALVINGS
        self.done: dict[int, tuple[GivenSpread, int]] = {}
        self.start = start  # a grid whose modes are Newton's first starting points

    def tau(self, x: np.ndarray) -> np.ndarray:
        return np.exp(x) if self.tau0 is None else self.tau0 * np.sinh(x)

    def log_density(self, x: np.ndarray, found: GivenSpread) -> np.ndarray:
        """The log density of the variable, up to a constant: HalfNormal prior, Jacobian
        (``tau`` or ``tau0 cosh u``) and the likelihood."""
        jacobian = x if self.tau0 is None else np.log(self.tau0 * np.cosh(x))
        return -0.5 * (self.tau(x) / self.scale) ** 2 + jacobian + found.log_likelihood

    # -- evaluations ---------------------------------------------------------------------
    def _key(self, x: float) -> int:
        return int(round((x - self.anchor) / self.fine))

    def _x(self, keys) -> np.ndarray:
        return self.anchor + self.fine * np.asarray(keys, dtype=float)

    def evaluate(self, x: np.ndarray) -> GivenSpread:
        """The nested quadrature at each ``x``, computing only the spreads not yet done."""
        keys = [self._key(value) for value in x]
        new = sorted({key for key in keys if key not in self.done})
        if new:
            tau = self.tau(self._x(new))
            p0, c0 = self._starts(tau)
            out = given_spread(self.rows, tau, prior_mean=self.m, prior_scale=self.s,
                               parent_rule=self.parent_rule, child_rule=self.child_rule,
                               start_parent=p0, start_child=c0)
            for i, key in enumerate(new):
                self.done[key] = (out, i)
        return GivenSpread.concatenate([out.take(slice(i, i + 1))
                                        for out, i in (self.done[key] for key in keys)])

    def _starts(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Newton's starting points: the modes at the nearest spread already done (here,
        or else on the pilot), or the prior mean."""
        source = self if self.done else self.start
        if source is None or not source.done:
            k, t = self.rows.X.shape[1], self.rows.n_tasks
            return np.full((len(tau), k), self.m), np.full((len(tau), t, k), self.m)
        keys = np.array(sorted(source.done))
        known = np.log(np.maximum(source.tau(source._x(keys)), 1e-300))
        here = np.log(np.maximum(tau, 1e-300))
        nearest = keys[np.abs(here[:, None] - known[None, :]).argmin(axis=1)]
        items = [source.done[int(key)] for key in nearest]
        return (np.stack([out.parent_mode[i] for out, i in items]),
                np.stack([out.child_mode[i] for out, i in items]))

    # -- grids ---------------------------------------------------------------------------
    def _on(self, lo: float, hi: float, h: float):
        x = lo + h * np.arange(int(round((hi - lo) / h)) + 1)
        found = self.evaluate(x)
        return x, self.log_density(x, found), found

    def box(self, lo: float, hi: float, h: float, *, limits: tuple[float, float]
            ) -> tuple[float, float]:
        """Push the edges of ``[lo, hi]`` (spacing ``h``) out until the cut lies inside;
        return the box that keeps one point beyond the cut each side."""
        for _ in range(_MAX_PASSES):
            x, lp, _ = self._on(lo, hi, h)
            first, last = _inside(self.tau(x), lp)
            push = h * math.ceil(max(2.0, 0.5 * (hi - lo)) / h)
            moved = False
            if first == 0 and lo > limits[0]:
                lo, moved = max(lo - push, limits[0]), True
            if last == len(x) - 1 and hi < limits[1]:
                hi, moved = min(hi + push, limits[1]), True
            if not moved:
                return float(x[max(first - 1, 0)]), float(x[min(last + 1, len(x) - 1)])
        return lo, hi

    def refine(self, lo: float, hi: float, grid_size: int):
        """Halve the spacing of ``[lo, hi]`` until resolved: (x, log density, quadrature)."""
        h = _COARSE
        for _ in range(_MAX_PASSES):
            x, lp, found = self._on(lo, hi, h)
            first, last = _inside(self.tau(x), lp)
            if (first == 0 and lo > 0.0) or last == len(x) - 1:  # the top rose: push out
                lo = max(lo - 4.0 * h, 0.0) if first == 0 else lo
                hi = hi + 4.0 * h if last == len(x) - 1 else hi
                continue
            keep = slice(max(first - 1, 0), last + 2)
            x, lp, found = x[keep], lp[keep], found.take(keep)
            lo, hi = float(x[0]), float(x[-1])
            core = int(np.sum(lp > lp.max() - _CORE))
            if h <= self.fine or (core >= grid_size and len(x) >= 5 and _close(
                    _moments(self.tau(x[::2]), x[::2], lp[::2],
                             found.take(slice(None, None, 2))),
                    _moments(self.tau(x), x, lp, found))):
                return x, lp, found
            h /= 2.0
        return x, lp, found


def _cells(x: np.ndarray) -> np.ndarray:
    """Trapezoid weights of a uniform grid: its spacing, half at the two ends (at
    ``u = 0`` that half is exact: the other half lies at ``u < 0``, the mirror image)."""
    if len(x) < 2:
        return np.ones(len(x))
    gaps = np.diff(x)
    return 0.5 * (np.concatenate([[0.0], gaps]) + np.concatenate([gaps, [0.0]]))


def _inside(tau: np.ndarray, lp: np.ndarray) -> tuple[int, int]:
    """The first and last points within ``_DROP`` nats of the top of the density, or of
    the density times ``tau^2`` (the second moment's tail is the heavier)."""
    weighted = lp + 2.0 * np.log(np.maximum(tau, 1e-300))
    keep = np.flatnonzero((lp > lp.max() - _DROP) | (weighted > weighted.max() - _DROP))
    return int(keep[0]), int(keep[-1])


def _moments(tau: np.ndarray, x: np.ndarray, lp: np.ndarray, found: GivenSpread):
    """Mean and sd of the spread and of each parent weight on the grid."""
    w = _cells(x) * np.exp(lp - lp.max())
    w /= w.sum()
    mt = w @ tau
    pw = (w[:, None] * found.node_weight)[..., None]
    pm = (pw * found.parent).sum(axis=(0, 1))
    pv = (pw * (found.parent_var + (found.parent - pm) ** 2)).sum(axis=(0, 1))
    mean = np.concatenate([[mt], pm])
    sd = np.sqrt(np.maximum(np.concatenate([[w @ (tau - mt) ** 2], pv]), 0.0))
    return mean, sd


def _close(before, now) -> bool:
    """Whether the moments moved by at most ``_RESOLVED`` of their sd."""
    scale = np.maximum(now[1], 1e-12)
    return bool(np.all(np.abs(before[0] - now[0]) <= _RESOLVED * scale)
                and np.all(np.abs(before[1] - now[1]) <= _RESOLVED * scale))
