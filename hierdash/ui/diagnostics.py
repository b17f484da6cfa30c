"""A fit's diagnostics on the page: R-hat, ESS, divergences, the ELBO, in plain words.

The verdicts use the engine's limits (:mod:`hierdash.settings`); the explanations are in
``words/diagnostics.md``.
"""

from __future__ import annotations

import streamlit as st

from hierdash import charts
from hierdash.inference import FitResult
from hierdash.settings import RHAT_LIMIT
from hierdash.ui.labels import MCMC_METHODS, parameterization_label
from hierdash.ui.words import say

__all__ = ["diagnostics_section", "diagnostics_words"]



def diagnostics_section(result: FitResult) -> None:
    """The numbers as metrics, the verdict in words, and ADVI's ELBO when there is one."""
    d = result.diagnostics
    cols = st.columns(6)
    cols[0].metric("max R-hat", "—" if d.max_rhat is None else f"{d.max_rhat:.3f}",
                   help=say("diagnostics", "rhat_help"))
    cols[1].metric("min ESS bulk", "—" if d.min_ess_bulk is None else f"{d.min_ess_bulk:.0f}",
                   help=say("diagnostics", "ess_bulk_help"))
    cols[2].metric("min ESS tail", "—" if d.min_ess_tail is None else f"{d.min_ess_tail:.0f}",
                   help=say("diagnostics", "ess_tail_help"))
    cols[3].metric("divergences", f"{d.divergences}", help=say("diagnostics", "divergences_help"))
    cols[4].metric("compile", f"{result.compile_s:.1f} s", help=say("diagnostics", "compile_help"))
    cols[5].metric("sample", f"{result.sample_s:.2f} s", help=say("diagnostics", "sample_help"))

    text = "\n\n".join(diagnostics_words(result))
    if d.elbo is None or not len(d.elbo):
        st.markdown(text)
        return
    left, right = st.columns([3, 1], gap="medium")
    with left:
        st.markdown(say("diagnostics", "elbo_title"))
        st.altair_chart(charts.elbo_chart(d.elbo, limit=d.elbo_limit), width="stretch")
        if d.converged:
            st.success(d.convergence_message, icon=":material/check_circle:")
        else:
            st.warning(d.convergence_message, icon=":material/warning:")
    with right:
        st.markdown(text)


def diagnostics_words(result: FitResult) -> list[str]:
    """The diagnostics' verdict in paragraphs: what each number says about this fit."""
    d, s = result.diagnostics, result.scenario
    out = []
    link = "" if s.is_gaussian else "_link"  # a yes/no or count world: quadrature, no marginal
    if s.method == "exact":
        out.append(say("diagnostics", f"exact{link}"))
    elif s.method in MCMC_METHODS:
        if d.max_rhat is None:
            out.append(say("diagnostics", "rhat_needs_chains"))
        elif d.max_rhat <= RHAT_LIMIT:
            out.append(say("diagnostics", "rhat_agrees", rhat=d.max_rhat))
        else:
            out.append(say("diagnostics", "rhat_disagrees", rhat=d.max_rhat))
        if d.divergences == 0:
            out.append(say("diagnostics", "no_divergences"))
        else:
            out.append(say("diagnostics", "divergences", count=d.divergences))
        out.append(_parameterization_words(result))
    else:
        out.append(say("diagnostics", "advi"))
        out.append(say("diagnostics", "advi_parameterization",
                       chosen=_chosen(s.parameterization, d.parameterization)))
    out.append(say("diagnostics", "time", compile_s=result.compile_s, sample_s=result.sample_s,
                   total_s=result.total_s))
    out.append(say("diagnostics", f"try{link}"))
    return out


def _parameterization_words(result: FitResult) -> str:
    """How the fit parameterized the tasks, in words."""
    d, s = result.diagnostics, result.scenario
    used = d.parameterization  # the one the fit used: auto resolved
    chosen = _chosen(s.parameterization, used)
    if used == "marginal":
        return say("diagnostics", "parameterization_marginal", chosen=chosen)

    def listed(tasks: tuple[int, ...]) -> str:
        return ", ".join(str(t) for t in tasks) or "none"

    text = say("diagnostics", "parameterization_tasks", chosen=chosen,
               centered=listed(tuple(d.centered_tasks)))
    return text + say("diagnostics", "parameterization_rest")


def _chosen(asked: str, used: str | None) -> str:
    """The parameterization asked for, in italics, and what ``auto`` resolved to."""
    if used is None or used == asked:
        return f"*{parameterization_label(asked)}*"
    return f"*{parameterization_label(asked)}* (here *{parameterization_label(used)}*)"
