"""The class board: start or join a class, watch the class's worlds arrive, manage the class.

Without a class, the page offers to start one (a teacher: a short code, the students'
link, and a private teacher key shown once with a link that carries it) or to join one
by its code. With a class, the board redraws itself every :data:`BOARD_REFRESH_S`
seconds in an ``st.fragment(run_every=...)``, without reloading the page: it asks the
database only for the class's count and last result, and reads the rows again only
when those changed. With the teacher key (typed, or from the teacher link) the class
can be cleared, closed and reopened; without it, nothing changes.

At each refresh the fragment also redraws the class banner's line above the page
(:func:`~hierdash.ui.classroom.show_banner_line`) with the count it shows: one read of
the database, one number, on the same refresh.

Nicknames appear only in a table and in chart tooltips, as text; the CSV download is
escaped against spreadsheet formulas. Each world's outcome (Gaussian, yes/no, trials,
counts) is in the table and the tooltips: a yes/no or count world's errors are on its
link scale (log-odds, log rate), and the board says so when it holds one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import pandas as pd
import streamlit as st

from hierdash.charts.classroom import board_worlds_chart, scores_chart
from hierdash.classroom import (
    BoardRow,
    ClassInfo,
    ClassroomError,
    UnknownClass,
    board_frame,
    safe_csv,
    summarise_board,
)
from hierdash.classroom.codes import normalise_class_code
from hierdash.ui.classroom import (
    class_code,
    class_links,
    classroom_store,
    join_class,
    show_banner_line,
    store_or_message,
    teacher_key,
)
from hierdash.ui.words import plain, say

__all__ = ["render"]

BOARD_REFRESH_S = 2.0
"""Seconds between two looks at the database while the board is open."""

_TABLE_COLUMNS = ["result_id", "created", "nickname", "seed", "samples", "rmse_no_pooling",
                  "rmse_complete_pooling", "rmse_partial_pooling", "winner",
                  "prediction_score"]
_OUTCOME = "outcome"  # added to the board's table by with_outcomes, shown after the seed


def with_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """The board table with each world's ``outcome``, read from its settings' link text
    (``gaussian`` when the link names none: results sent before outcomes existed)."""
    out = frame.copy()
    out[_OUTCOME] = [(parse_qs(str(query)).get("outcome") or ["gaussian"])[-1]
                     for query in out["scenario_query"]]
    return out


def _shown_columns() -> list[str]:
    at = _TABLE_COLUMNS.index("seed") + 1
    return [*_TABLE_COLUMNS[:at], _OUTCOME, *_TABLE_COLUMNS[at:]]


def _message(kind: str, text: str) -> None:
    """Keep a message for the next run (callbacks run before the page is drawn)."""
    st.session_state.board_message = (kind, text)


def _show_message() -> None:
    kind, text = st.session_state.pop("board_message", (None, None))
    if kind is not None:
        box = {"error": st.error, "success": st.success, "warning": st.warning}[kind]
        box(plain(text))


# -- no class yet ----------------------------------------------------------------------
def _start_class() -> None:
    try:
        new = classroom_store().create_class()
    except (ClassroomError, ValueError) as err:
        _message("error", str(err))
        return
    join_class(new.code, key=new.teacher_key)
    st.session_state.new_class = (new.code, new.teacher_key)


def _join() -> None:
    raw = (st.session_state.get("join_code") or "").strip()
    if not raw:
        _message("warning", say("classroom", "join_empty"))
        return
    code = normalise_class_code(raw[:200])
    try:
        if code is None:
            raise UnknownClass(raw[:200])
        classroom_store().class_info(code)
    except (ClassroomError, ValueError) as err:
        _message("error", str(err))
        return
    join_class(code)


def _start_or_join() -> None:
    start, join = st.columns(2, gap="large")
    with start:
        st.subheader(say("classroom", "start_title"))
        st.markdown(say("classroom", "start_intro"))
        st.button(say("classroom", "start_button"), key="start_class", type="primary",
                  icon=":material/school:", on_click=_start_class)
    with join:
        st.subheader(say("classroom", "join_title"))
        st.text_input(say("classroom", "join_label"), key="join_code", max_chars=40,
                      help=say("classroom", "join_help"))
        st.button(say("classroom", "join_button"), key="join_class", icon=":material/login:",
                  on_click=_join)


def _new_class_notice() -> None:
    """The links and the teacher key of a class just started (until the teacher hides it)."""
    new = st.session_state.get("new_class")
    if new is None:
        return
    code, key = new
    links = class_links(code, key)
    with st.container(border=True, key="new_class_box"):
        st.success(say("classroom", "started", code=code), icon=":material/school:")
        st.markdown(say("classroom", "students_link", code=code))
        st.code(links["student"], language=None)
        st.markdown(say("classroom", "teacher_key_once"))
        st.code(key, language=None)
        st.markdown(say("classroom", "teacher_link"))
        st.code(links["teacher"], language=None, wrap_lines=True)
        st.button(say("classroom", "hide_key"), key="hide_key",
                  on_click=lambda: st.session_state.pop("new_class", None))


# -- the live board ----------------------------------------------------------------------
def _read_board(code: str) -> tuple[ClassInfo, list[BoardRow]] | None:
    """The class's facts and rows; the rows are read again only when its count or last
    result changed. None after saying why the board can't be read."""
    try:
        store = classroom_store()
        info = store.class_info(code)
        cached = st.session_state.get("board_rows")
        mark = (code, info.results, info.last_result_id)
        if cached is None or cached[0] != mark:
            cached = (mark, store.board(code))
            st.session_state.board_rows = cached
    except (ClassroomError, ValueError) as err:
        show_banner_line(code, err)
        st.error(plain(err), icon=":material/cloud_off:")
        return None
    if info.closed:
        st.info(say("classroom", "closed_done"), icon=":material/lock:")
    return info, cached[1]


def board_csv_text(frame: pd.DataFrame) -> str:
    """The board table as CSV whose cells a spreadsheet can't run as formulas."""
    csv = frame.copy()
    csv["created"] = [moment.isoformat(timespec="seconds") for moment in csv["created"]]
    return safe_csv(csv)


@st.fragment(run_every=BOARD_REFRESH_S)
def live_board() -> None:
    """The board: summary, charts, table and CSV; redrawn on its own every few seconds.

    Each run also redraws the class banner's line with the board's count.
    """
    code = class_code()
    if code is None:
        return
    board = _read_board(code)
    if board is None:
        return
    info, rows = board
    summary = summarise_board(rows)
    show_banner_line(code, info, results=summary.results)
    frame = with_outcomes(board_frame(rows))
    cols = st.columns(4)
    cols[0].metric(say("classroom", "summary_results"), summary.results)
    cols[1].metric(say("classroom", "summary_partial_won"),
                   f"{summary.wins['partial pooling']} of {summary.results}")
    cols[2].metric(say("classroom", "summary_mean_score"),
                   "–" if summary.mean_score is None else f"{summary.mean_score:.0f}")
    cols[3].metric(say("classroom", "summary_median_score"),
                   "–" if summary.median_score is None else f"{summary.median_score:.0f}")
    if not rows:
        st.info(say("classroom", "empty_board"), icon=":material/hourglass_empty:")
    else:
        st.markdown(say("classroom", "wins_line", partial=summary.wins["partial pooling"],
                        results=summary.results, no=summary.wins["no pooling"],
                        complete=summary.wins["complete pooling"]))
        left, right = st.columns([3, 2], gap="medium")
        with left:
            st.markdown(say("classroom", "worlds_title"))
            st.altair_chart(board_worlds_chart(frame), width="stretch")
            st.caption(say("classroom", "worlds"))
            if (frame[_OUTCOME] != "gaussian").any():
                st.caption(say("classroom", "worlds_link"))
        with right:
            st.markdown(say("classroom", "scores_title"))
            st.altair_chart(scores_chart(frame), width="stretch")
        st.markdown(say("classroom", "table_title"))
        st.dataframe(frame[_shown_columns()], hide_index=True, width="stretch",
                     key="board_table")
    st.download_button(say("classroom", "download_button"), board_csv_text(frame),
                       file_name=f"class_{code}.csv", mime="text/csv",
                       icon=":material/download:", key="download_board", on_click="ignore",
                       disabled=not rows)
    st.caption(say("classroom", "updated", time=datetime.now(UTC).strftime("%H:%M:%S"),
                   seconds=BOARD_REFRESH_S))


# -- the teacher's controls ----------------------------------------------------------------
def _manage(action: str) -> None:
    code = class_code()
    key = (st.session_state.get("teacher_key_input") or "").strip()
    if not key:
        _message("warning", say("classroom", "need_key"))
        return
    try:
        store = classroom_store()
        if action == "clear":
            count = store.clear_class(code, key)
            _message("success", say("classroom", "cleared", count=count))
        else:
            store.close_class(code, key, closed=action == "close")
            _message("success", say("classroom", "closed_done") if action == "close"
                     else say("classroom", "reopened_done"))
    except (ClassroomError, ValueError) as err:
        _message("error", str(err))
        return
    join_class(code, key=key)  # a key that worked is kept for this session
    st.session_state.pop("board_rows", None)


def _teacher_panel(code: str) -> None:
    with st.expander(say("classroom", "teacher_title"), expanded=teacher_key(code) is not None):
        if "teacher_key_input" not in st.session_state:
            st.session_state.teacher_key_input = teacher_key(code) or ""
        st.text_input(say("classroom", "teacher_key_label"), key="teacher_key_input",
                      type="password", max_chars=200, help=say("classroom", "teacher_key_help"))
        clear, close, reopen = st.columns(3)
        clear.button(say("classroom", "clear_button"), key="clear_board",
                     icon=":material/delete_sweep:", on_click=_manage, args=("clear",),
                     width="stretch")
        close.button(say("classroom", "close_button"), key="close_class", icon=":material/lock:",
                     on_click=_manage, args=("close",), width="stretch")
        reopen.button(say("classroom", "reopen_button"), key="reopen_class",
                      icon=":material/lock_open:", on_click=_manage, args=("reopen",),
                      width="stretch")


def render() -> None:
    """Draw the class board page."""
    st.title(say("classroom", "board_title"))
    st.markdown(say("classroom", "board_intro"))
    _show_message()
    if store_or_message() is None:
        return
    _new_class_notice()
    code = class_code()
    if code is None:
        _start_or_join()
        return
    live_board()
    _teacher_panel(code)

