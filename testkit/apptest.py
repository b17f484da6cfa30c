"""Drive the page headless with ``streamlit.testing.v1.AppTest``: shared by the app tests.

A sampling fit runs in the background while a fragment redraws its progress every
fraction of a second; AppTest does not run fragments on a timer, so :func:`press_fit`
reruns the page the same way until the fit has ended.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
N_CHARTS = 7  # parent, child, shrinkage, pull, rmse, padding, scales (+ ELBO for ADVI)
POLL_S = 0.5  # as often as the page's progress fragment reruns


def open_page(query: Mapping[str, str] | None = None, *, timeout: float = 180) -> AppTest:
    """The page opened on a link with ``query`` as its query parameters, after one run."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


# The app as app.py assembles it, opened on the page ``want`` (AppTest can't switch to a
# page that is a function, so the page asked for is made the default).
_FRAMED_PAGE = """
from hierdash.ui.navigation import frame, menu
page = menu(default={want!r})
with frame():
    page.run()
"""


def open_named_page(want: str, query: Mapping[str, str] | None = None, *,
                    timeout: float = 180, session: Mapping[str, object] | None = None,
                    ) -> AppTest:
    """The page whose address is ``want``, in the app's frame, after one run (with
    ``session`` set in its session state first, as a returning student's would be)."""
    at = AppTest.from_string(_FRAMED_PAGE.format(want=want), default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in (session or {}).items():
        at.session_state[key] = value
    return at.run()


def ok(at: AppTest) -> AppTest:
    """``at`` after checking it shows neither an exception nor an error box."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def fit_running(at: AppTest) -> bool:
    """Whether the page is watching a sampling fit."""
    return "fit_job" in at.session_state


def press_fit(at: AppTest, *, timeout: float = 300) -> AppTest:
    """Press Fit, then rerun the page (as the progress fragment does) until the fit ends."""
    at.button(key="fit").click().run()
    deadline = time.monotonic() + timeout
    while fit_running(at):
        assert time.monotonic() < deadline, "the fit did not end in time"
        time.sleep(POLL_S)
        at.run()
    return at


def texts(elements) -> str:
    """The values of some elements, one per line."""
    return "\n".join(str(e.value) for e in elements)


def chart_data(at: AppTest, field: str) -> pd.DataFrame:
    """The data of the first chart whose data has a column ``field``."""
    from streamlit import dataframe_util

    for c in at.get("vega_lite_chart"):
        for data in c.proto.datasets:
            frame = dataframe_util.convert_arrow_bytes_to_pandas_df(data.data.data)
            if field in frame:
                return frame
    raise AssertionError(f"no chart with a {field!r} column")


def query(at: AppTest) -> dict[str, str]:
    """The page's query parameters, one value each."""
    return {k: at.query_params[k][-1] if isinstance(at.query_params[k], list)
            else at.query_params[k] for k in at.query_params}
