"""The class board: start or join a class, watch the class's worlds arrive, manage the class.

Without a class, the page offers to start one (a teacher: a short code, the students'
link, and a private teacher key shown once with a link that carries it) or to join one
by its code. With a class, the board redraws itself every :data:`BOARD_REFRESH_S`
seconds in an ``st.fragment(run_every=...)``, without reloading the page: it asks the
database only for the class's count and last result, and reads the rows again only
when those changed. With the teacher key (typed, or from the teacher link) the class
can be cleared, closed and reopened; without it, nothing changes.

Nicknames appear only in a table and in chart tooltips, as text; the CSV download is
escaped against spreadsheet formulas.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from hierdash.charts.classroom import board_worlds_chart, scores_chart
from hierdash.classroom import (
    BoardRow,
    ClassroomError,
    UnknownClass,
    board_frame,
    safe_csv,
    summarise_board,
)
from hierdash.classroom.codes import normalise_class_code
from hierdash.ui.classroom import (
    class_banner,
    class_code,
    class_links,
    classroom_store,
    join_class,
    keep_class_in_url,
    plain,
    say,
    store_or_message,
    teacher_key,
)
from hierdash.ui.pages import PageSpec

BOARD_REFRESH_S = 2.0
"""Seconds between two looks at the database while the board is open."""

_TABLE_COLUMNS = ["result_id", "created", "nickname", "seed", "samples", "rmse_no_pooling",
                  "rmse_complete_pooling", "rmse_partial_pooling", "winner",
                  "prediction_score"]


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
        _message("warning", say("join_empty"))
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
        st.subheader(say("start_title"))
        st.markdown(say("start_intro"))
        st.button(say("start_button"), key="start_class", type="primary",
                  icon=":material/school:", on_click=_start_class)
    with join:
        st.subheader(say("join_title"))
        st.text_input(say("join_label"), key="join_code", max_chars=40, help=say("join_help"))
        st.button(say("join_button"), key="join_class", icon=":material/login:", on_click=_join)


def _new_class_notice() -> None:
    """The links and the teacher key of a class just started (until the teacher hides it)."""
    new = st.session_state.get("new_class")
    if new is None:
        return
    code, key = new
    links = class_links(code, key)
    with st.container(border=True, key="new_class_box"):
        st.success(say("started", code=code), icon=":material/school:")
        st.markdown(say("students_link", code=code))
        st.code(links["student"], language=None)
        st.markdown(say("teacher_key_once"))
        st.code(key, language=None)
        st.markdown(say("teacher_link"))
        st.code(links["teacher"], language=None, wrap_lines=True)
        st.button(say("hide_key"), key="hide_key",
                  on_click=lambda: st.session_state.pop("new_class", None))


# -- the live board ----------------------------------------------------------------------
def _rows(code: str) -> list[BoardRow] | None:
    """The class's rows, read again only when its count or last result changed."""
    try:
        store = classroom_store()
        info = store.class_info(code)
        cached = st.session_state.get("board_rows")
        mark = (code, info.results, info.last_result_id)
        if cached is None or cached[0] != mark:
            cached = (mark, store.board(code))
            st.session_state.board_rows = cached
    except (ClassroomError, ValueError) as err:
        st.error(plain(err), icon=":material/cloud_off:")
        return None
    if info.closed:
        st.info(say("closed_done"), icon=":material/lock:")
    return cached[1]


def board_csv_text(frame: pd.DataFrame) -> str:
    """The board table as CSV whose cells a spreadsheet can't run as formulas."""
    csv = frame.copy()
    csv["created"] = [moment.isoformat(timespec="seconds") for moment in csv["created"]]
    return safe_csv(csv)


@st.fragment(run_every=BOARD_REFRESH_S)
def live_board() -> None:
    """The board: summary, charts, table and CSV; redrawn on its own every few seconds."""
    code = class_code()
    if code is None:
        return
    rows = _rows(code)
    if rows is None:
        return
    summary = summarise_board(rows)
    frame = board_frame(rows)
    cols = st.columns(4)
    cols[0].metric(say("summary_results"), summary.results)
    cols[1].metric(say("summary_partial_won"),
                   f"{summary.wins['partial pooling']} of {summary.results}")
    cols[2].metric(say("summary_mean_score"),
                   "–" if summary.mean_score is None else f"{summary.mean_score:.0f}")
    cols[3].metric(say("summary_median_score"),
                   "–" if summary.median_score is None else f"{summary.median_score:.0f}")
    if not rows:
        st.info(say("empty_board"), icon=":material/hourglass_empty:")
    else:
        st.markdown(say("wins_line", partial=summary.wins["partial pooling"],
                        results=summary.results, no=summary.wins["no pooling"],
                        complete=summary.wins["complete pooling"]))
        left, right = st.columns([3, 2], gap="medium")
        with left:
            st.markdown(say("worlds_title"))
            st.altair_chart(board_worlds_chart(frame), width="stretch")
            st.caption(say("worlds"))
        with right:
            st.markdown(say("scores_title"))
            st.altair_chart(scores_chart(frame), width="stretch")
        st.markdown(say("table_title"))
        st.dataframe(frame[_TABLE_COLUMNS], hide_index=True, width="stretch", key="board_table")
    st.download_button(say("download_button"), board_csv_text(frame), file_name=f"class_{code}.csv",
                       mime="text/csv", icon=":material/download:", key="download_board",
                       on_click="ignore", disabled=not rows)
    st.caption(say("updated", time=datetime.now(UTC).strftime("%H:%M:%S"),
                   seconds=BOARD_REFRESH_S))


# -- the teacher's controls ----------------------------------------------------------------
def _manage(action: str) -> None:
    code = class_code()
    key = (st.session_state.get("teacher_key_input") or "").strip()
    if not key:
        _message("warning", say("need_key"))
        return
    try:
        store = classroom_store()
        if action == "clear":
            count = store.clear_class(code, key)
            _message("success", say("cleared", count=count))
        else:
            store.close_class(code, key, closed=action == "close")
            _message("success", say("closed_done" if action == "close" else "reopened_done"))
    except (ClassroomError, ValueError) as err:
        _message("error", str(err))
        return
    join_class(code, key=key)  # a key that worked is kept for this session
    st.session_state.pop("board_rows", None)


def _teacher_panel(code: str) -> None:
    with st.expander(say("teacher_title"), expanded=teacher_key(code) is not None):
        if "teacher_key_input" not in st.session_state:
            st.session_state.teacher_key_input = teacher_key(code) or ""
        st.text_input(say("teacher_key_label"), key="teacher_key_input", type="password",
                      max_chars=200, help=say("teacher_key_help"))
        clear, close, reopen = st.columns(3)
        clear.button(say("clear_button"), key="clear_board", icon=":material/delete_sweep:",
                     on_click=_manage, args=("clear",), width="stretch")
        close.button(say("close_button"), key="close_class", icon=":material/lock:",
                     on_click=_manage, args=("close",), width="stretch")
        reopen.button(say("reopen_button"), key="reopen_class", icon=":material/lock_open:",
                      on_click=_manage, args=("reopen",), width="stretch")


def render() -> None:
    """Draw the class board page."""
    class_banner()
    st.title(say("board_title"))
    st.markdown(say("board_intro"))
    _show_message()
    if store_or_message() is None:
        return
    _new_class_notice()
    code = class_code()
    if code is None:
        _start_or_join()
        return
    keep_class_in_url()
    live_board()
    _teacher_panel(code)


PAGE = PageSpec(render=render, title="Class board", icon=":material/leaderboard:",
                url_path="board")
