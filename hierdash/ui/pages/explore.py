"""The explore page: set up a world in the sidebar, see its exact posterior at once, fit
it with a sampler on demand, and watch partial pooling chart by chart.

The page reads top to bottom as it appears: controls, title, the world (and for a yes/no
or count outcome its model as a formula), then (one
fragment, :func:`fit_and_charts`) the fit bar, every chart of the best result there is
(the sampler's if this world has been fitted, else the exact posterior) and the
downloads; last the link.
"""

from __future__ import annotations

import streamlit as st

from hierdash.inference.results import FitResult
from hierdash.scenario import Scenario
from hierdash.ui.classroom import remember_scenario, send_to_board
from hierdash.ui.controls import scenario_sidebar
from hierdash.ui.fitting import (
    fit_bar,
    fit_in_progress,
    fit_outcome_notice,
    interruption_notice,
    sampled_result,
    settle_fit,
)
from hierdash.ui.labels import method_label
from hierdash.ui.results import (
    downloads,
    model_line,
    result_sections,
    share_link,
    world_line,
)
from hierdash.ui.shared import exact_fit
from hierdash.ui.state import init_session, link_problems, sync_url
from hierdash.ui.words import say

__all__ = ["render"]


def render() -> None:
    """Draw the explore page."""
    init_session()
    scenario = scenario_sidebar()
    st.title(say("explore", "title"))
    if scenario is None or scenario.is_gaussian:
        st.markdown(say("explore", "intro"))
    else:  # yes/no and counts: the same story on the link scale
        st.markdown(say("explore", "intro_link"))
    problems = link_problems(scenario)
    if problems:
        listed = "\n".join(f"- {p}" for p in problems)
        st.warning(say("explore", "link_problems", listed=listed), icon=":material/link_off:")
    settle_fit(scenario)
    if scenario is None:
        st.info(say("explore", "fix_the_setting"))
        return
    sync_url(scenario)
    remember_scenario(scenario)
    world_line(scenario)
    model_line(scenario)  # a yes/no or count world: its model as a Bambi / brms formula
    try:
        exact = exact_fit(scenario.replace(method="exact"))
    except Exception as err:  # noqa: BLE001 - never a traceback on the page
        st.error(say("explore", "world_unfit", error=f"{type(err).__name__}: {err}"),
                 icon=":material/error:")
        return
    fit_and_charts(scenario, exact)
    share_link(scenario)


@st.fragment
def fit_and_charts(scenario: Scenario, exact: FitResult) -> None:
    """The Fit bar and every chart of the best result there is.

    A fragment: a click on Fit, Stop or *Send* reruns only this part of the page, not
    the sidebar's thirty controls above it (a quick fit's charts come with that run).
    """
    interruption_notice()
    fit_bar(scenario)
    fit_outcome_notice()
    # While this session's fit runs, its charts wait for the progress fragment's rerun.
    sampled = (sampled_result(scenario)
               if scenario.method != "exact" and not fit_in_progress() else None)
    shown = sampled or exact
    result_sections(shown, scenario)
    send_to_board(shown.scenario, shown.errors, key="explore",
                  what=say("classroom", "send_what_fit",
                           method=method_label(shown.scenario.method)))
    st.subheader(say("explore", "downloads_title"))
    downloads(shown)

