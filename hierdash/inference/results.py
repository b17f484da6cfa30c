"""What a fit returns: the result, its diagnostics, and how a fit reports and stops."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hierdash.exact import ExactPosterior
from hierdash.exact.pooling import NoPooling
from hierdash.scenario import Scenario
from hierdash.settings import ESS_LIMIT, RHAT_LIMIT
from hierdash.world import PaddedData, World

__all__ = ["Progress", "FitStopped", "Diagnostics", "FitResult"]

# progress(stage, fraction or None, message): stages are simulate, compile, sample,
# summarise. fraction is the share of the stage done, when known.
Progress = Callable[[str, float | None, str], None]



class FitStopped(RuntimeError):
    """A fit was stopped by the user or ran past its time budget."""


@dataclass(frozen=True)
class Diagnostics:
    """How far a fit can be trusted.

    ``max_rhat``, ``min_ess_bulk`` and ``min_ess_tail`` cover the parent and real
    tasks' child weights (and the scales); they are ``None`` for methods that draw
    independent samples (``exact``, the ADVI methods). ``elbo`` is the ELBO per
    iteration for the ADVI methods (one per iteration done), ``elbo_limit`` the most
    iterations the run could take (it stops sooner once the ELBO settles) and
    ``converged`` their verdict.
    ``parameterization`` is the one the fit used (``auto`` resolved: ``marginal``,
    ``centered``, ``noncentered`` or ``per_task``) and ``centered_tasks`` the real tasks
    it sampled in the centered form.
    """

    max_rhat: float | None = None
    min_ess_bulk: float | None = None
    min_ess_tail: float | None = None
    divergences: int = 0
    elbo: np.ndarray | None = None
    elbo_limit: int | None = None
    converged: bool | None = None
    convergence_message: str = ""
    parameterization: str = "marginal"
    centered_tasks: tuple[int, ...] = ()

    def warnings(self) -> list[str]:
        """Plain-words warnings, each with what to try."""
        out = []
        if self.divergences:
            out.append(
                f"{self.divergences} divergent transitions: the sampler met curvature it "
                "could not follow (often the funnel between the child spread and the "
                "weights of tasks with little data). Try the marginal parameterization "
                "(auto's choice for NUTS), which integrates the weights out and has no "
                "funnel, or raise target_accept to 0.99: where every task has almost no "
                "data both sampled forms can diverge, and a smaller step is what helps."
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
        The tidy table, one row per weight (see :func:`hierdash.inference.summarise.summarise`).
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
