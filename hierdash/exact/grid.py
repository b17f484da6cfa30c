"""The grid over (log sigma, log tau) the exact posterior integrates on, found adaptively.

The weights are Gaussian given the noise ``sigma`` and the spread ``tau``; only those two
are integrated numerically, on a grid uniform in ``(u, v) = (log sigma, log tau)``. The
grid must hold (nearly) all the posterior mass and be fine enough that the trapezoid rule
has converged. :func:`adapt_grid` finds it in two phases:

1. **Find the box** (:func:`_find_box`), on coarse ``_COARSE x _COARSE`` grids: an axis
   whose outermost points are still above the cut (within ``_DROP`` nats of the top) is
   pushed out; otherwise it zooms in to the neighbours of its outermost points above the
   cut. The box is found when no axis moved out and, on each, the points above the cut
   span at least half the grid.
2. **Refine** (:func:`_refine`), on grids of ``grid_size`` points per axis: an edge still
   above the cut is pushed out by a quarter of the width (:meth:`_Axis.grow`); an axis
   that never grew and is loose (more than 15% of its points below a slightly deeper cut)
   is tightened (:meth:`_Axis.tighten`); once the box stands still, an axis whose
   moments of ``sigma`` and ``tau`` still change when every other point is dropped gets
   twice the points (:func:`_unresolved`), up to ``_MAX_REFINE x grid_size``.

Each phase has a pass limit, so the search ends even on a pathological density: the
returned grid is always the last one evaluated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hierdash.exact.algebra import ReducedModel

__all__ = ["adapt_grid"]

# The box keeps every point whose log density is within _DROP nats of the highest point
# (a density ratio of 1e-7): the mass left outside is negligible.
_DROP = 16.0
_TIGHTEN_MARGIN = 3.0  # tighten to a cut this much deeper, so a shifting top can't undo it
_LOOSE = 0.15  # an axis is loose when this share of its points lies outside the deeper cut
_COARSE = 20  # points per axis while finding the box
# Passes of phase 1: each one doubles an axis outward (by at least 2 in log space) or
# zooms in, and the box starts within a few units of the mass, so a dozen passes are
# typical; the limit only guards against a density that never settles.
_MAX_COARSE_PASSES = 60
# Passes of phase 2: a few moves of the edges plus at most three doublings per axis.
_MAX_FINE_PASSES = 16
_RESOLVED = 2e-3  # relative change of the moments of sigma, tau on halving the grid
_MAX_REFINE = 8  # the final grid has at most this many times grid_size points per axis
_LIMIT_BELOW, _LIMIT_ABOVE = 250.0, 40.0  # no axis leaves [log scale - 250, log scale + 40]


@dataclass
class _Axis:
    """One axis of the grid, in log space: its interval, its points and its limits.

    ``grown`` is set once phase 2 pushes an edge out; from then on the axis is never
    tightened (else it could swing between the two forever).
    """

    lo: float
    hi: float
    limit_lo: float
    limit_hi: float
    points: int
    grown: bool = False

    def grid(self) -> np.ndarray:
        return np.linspace(self.lo, self.hi, self.points)

    def zoom(self, kept: np.ndarray) -> tuple[bool, int]:
        """Phase 1: push an edge still above the cut out, else zoom in on the kept points.

        Parameters
        ----------
        kept
            Whether each point of the current grid is above the cut.

        Returns
        -------
        pushed_out, span
            Whether an edge moved outward; how many steps the kept points span.
        """
        grid = self.grid()
        first, last = _first_last(kept)
        width = self.hi - self.lo
        pushed_out = False
        # Either edge moves out by the box's width (at least 2 in log space) or in to
        # the neighbour of the outermost kept point (the cut lies between the two).
        if first == 0 and self.lo > self.limit_lo:
            new_lo, pushed_out = max(self.lo - max(width, 2.0), self.limit_lo), True
        else:
            new_lo = float(grid[max(first - 1, 0)])
        if last == len(grid) - 1 and self.hi < self.limit_hi:
            new_hi, pushed_out = min(self.hi + max(width, 2.0), self.limit_hi), True
        else:
            new_hi = float(grid[min(last + 1, len(grid) - 1)])
        self.lo, self.hi = new_lo, new_hi
        return pushed_out, last - first

    def grow(self, kept: np.ndarray) -> bool:
        """Phase 2: push each edge still above the cut out by a quarter of the width."""
        first, last = _first_last(kept)
        width = self.hi - self.lo
        moved = False
        if first == 0 and self.lo > self.limit_lo:
            self.lo, moved = max(self.lo - 0.25 * width, self.limit_lo), True
        if last == self.points - 1 and self.hi < self.limit_hi:
            self.hi, moved = min(self.hi + 0.25 * width, self.limit_hi), True
        self.grown = self.grown or moved
        return moved

    def tighten(self, kept_deeper: np.ndarray) -> bool:
        """Phase 2: shrink a loose axis to the neighbours of the points above a deeper cut."""
        grid = self.grid()
        first, last = _first_last(kept_deeper)
        j0, j1 = max(first - 1, 0), min(last + 1, self.points - 1)
        if j0 + (self.points - 1 - j1) <= _LOOSE * self.points:
            return False
        self.lo, self.hi = float(grid[j0]), float(grid[j1])
        return True


def adapt_grid(model: ReducedModel, grid_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The final grid of ``(log sigma, log tau)`` and the log density on it.

    Parameters
    ----------
    model
        The reduced model (its priors' scales and data fix the starting box).
    grid_size
        The least number of points per free axis of the final grid.

    Returns
    -------
    u, v, log_density
        ``u`` (Gu,) and ``v`` (Gv,) grids (``v = [0]`` when the spread is fixed) and the
        log density (Gu, Gv), up to a constant.
    """
    noise, spread = _starting_axes(model)
    free = [noise] if spread is None else [noise, spread]
    _find_box(model, noise, spread, free)
    return _refine(model, noise, spread, free, grid_size)


def _starting_axes(model: ReducedModel) -> tuple[_Axis, _Axis | None]:
    """A wide box: the priors' scales, widened to the residual scale of the data."""
    ls = math.log(model.noise_scale)
    noise = _Axis(ls - 10.0, ls + 3.0, ls - _LIMIT_BELOW, ls + _LIMIT_ABOVE, _COARSE)
    if model.rss > 0 and model.n_rows > 0:
        guess = 0.5 * math.log(model.rss / model.n_rows)
        noise.lo, noise.hi = min(noise.lo, guess - 4.0), max(noise.hi, guess + 4.0)
    if model.fixed_spread is not None:
        return noise, None
    lt = math.log(model.spread_scale)
    return noise, _Axis(lt - 10.0, lt + 3.0, lt - _LIMIT_BELOW, lt + _LIMIT_ABOVE, _COARSE)


def _find_box(model: ReducedModel, noise: _Axis, spread: _Axis | None, free: list[_Axis]) -> None:
    """Phase 1: move the axes until the mass above the cut fills their box."""
    for _ in range(_MAX_COARSE_PASSES):
        u, v, lp = _evaluate(model, noise, spread)
        above = _level_set(u, v, lp, _DROP)
        found = True
        for axis, kept in zip(free, _along_axes(above), strict=False):
            pushed_out, span = axis.zoom(kept)
            found = found and not pushed_out and span >= _COARSE // 2
        if found:
            return


def _refine(model: ReducedModel, noise: _Axis, spread: _Axis | None, free: list[_Axis],
            grid_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phase 2: settle the edges at ``grid_size`` points, then add points until resolved."""
    cap = _MAX_REFINE * grid_size
    for axis in free:
        axis.points = grid_size
    for _ in range(_MAX_FINE_PASSES):
        u, v, lp = _evaluate(model, noise, spread)
        if _move_edges(free, u, v, lp):
            continue
        if not _add_points(free, u, v, lp, cap, fixed=spread is None):
            break
    return u, v, lp


def _move_edges(free: list[_Axis], u: np.ndarray, v: np.ndarray, lp: np.ndarray) -> bool:
    """Grow any axis with mass at an edge; tighten the first loose axis if none moved.

    One move per pass for tightening: an axis is tightened only when no axis before it
    moved in this pass, so the next evaluation sees every change made so far.
    """
    above = _along_axes(_level_set(u, v, lp, _DROP))
    deeper = _along_axes(_level_set(u, v, lp, _DROP + _TIGHTEN_MARGIN))
    moved = False
    for axis, kept, kept_deeper in zip(free, above, deeper, strict=False):
        if axis.grow(kept):
            moved = True
        elif not moved and not axis.grown and axis.tighten(kept_deeper):
            moved = True
    return moved


def _add_points(free: list[_Axis], u: np.ndarray, v: np.ndarray, lp: np.ndarray, cap: int,
                *, fixed: bool) -> bool:
    """Double the points of each axis the quadrature has not resolved (up to ``cap``)."""
    added = False
    for axis, unresolved in zip(free, _unresolved(u, v, lp, fixed), strict=False):
        if unresolved and axis.points < cap:
            axis.points, added = min(2 * axis.points, cap), True
    return added


def _evaluate(model: ReducedModel, noise: _Axis, spread: _Axis | None):
    """The log density on the axes' current grid: ``(u, v, log_density)``."""
    u = noise.grid()
    v = spread.grid() if spread is not None else np.zeros(1)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    # Far out in the tails tau^2 / sigma^2 may overflow: such points get density 0.
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        lp = model.log_density(uu.ravel(), vv.ravel()).reshape(uu.shape)
    lp = np.where(np.isfinite(lp), lp, -np.inf)
    if not np.isfinite(lp.max()):
        raise ValueError(
            "the posterior density could not be evaluated anywhere on the grid: "
            "the statistics or priors are out of numerical range"
        )
    return u, v, lp


def _along_axes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which grid lines hold a point: along u (rows), along v (columns)."""
    return points.any(axis=1), points.any(axis=0)


def _first_last(kept: np.ndarray) -> tuple[int, int]:
    idx = np.flatnonzero(kept)
    return int(idx[0]), int(idx[-1])


def _level_set(ug: np.ndarray, vg: np.ndarray, lp: np.ndarray, drop: float) -> np.ndarray:
    """Grid points within ``drop`` nats of the top of the density or of the density times
    ``sigma^2 tau^2`` (the second moments, whose tails are heavier: with few tasks the
    spread's posterior falls off slowly)."""
    weighted = lp + 2.0 * ug[:, None] + 2.0 * vg[None, :]
    return (lp > lp.max() - drop) | (weighted > weighted.max() - drop)


def _unresolved(ug: np.ndarray, vg: np.ndarray, lp: np.ndarray, fixed: bool) -> tuple[bool, bool]:
    """Whether the quadrature along each axis still depends on the spacing.

    The moments of sigma and tau on the grid are compared with those on every other
    point of one axis; the trapezoid rule converges fast on these smooth densities, so
    agreement to ``_RESOLVED`` (relative) means the full grid is far more accurate.
    """
    w = np.exp(lp - lp.max())
    sig, tau = np.exp(ug), np.exp(vg)

    def moments(w, sig, tau):
        w = w / w.sum()
        ws, wt = w.sum(axis=1), w.sum(axis=0)
        ms, mt = ws @ sig, wt @ tau
        return np.array([ms, math.sqrt(max(ws @ (sig - ms) ** 2, 0.0)),
                         mt, math.sqrt(max(wt @ (tau - mt) ** 2, 0.0))])

    full = moments(w, sig, tau)
    scale = np.where(full > 0, full, 1.0)
    half_u = moments(w[::2], sig[::2], tau)
    coarse_u = bool(np.any(np.abs(half_u - full) > _RESOLVED * scale))
    if fixed:
        return coarse_u, False
    half_v = moments(w[:, ::2], sig, tau[::2])
    return coarse_u, bool(np.any(np.abs(half_v - full) > _RESOLVED * scale))
