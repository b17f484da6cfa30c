"""A session's class: the class link, the banner on every page, and *Send to the class board*.

A student joins a class by opening a link with ``?class=CODE`` on any page; a teacher's
link adds ``&teacher=KEY``. :func:`class_banner`, drawn above every page by the frame
(:func:`hierdash.ui.navigation.frame`), moves both out of the URL into session state
(the scenario's link reader never sees them), checks the code, and shows the banner.
The code goes back into the URL after the page wrote its settings
(:func:`keep_class_in_url`), so a reload stays in the class; the teacher key never does
(a shared screen must not show it).

The banner's line (the class, its number of results, open or closed) is one
``st.empty`` slot, kept for the page's run in session state: the class board's live
fragment redraws it with the board's own count at each refresh
(:func:`show_banner_line`), so the banner never lags the board below it.

The board's storage (:class:`~hierdash.classroom.ClassroomStore`) is cached once per
server and database URL with ``st.cache_resource``. Every call to it is wrapped: a
:class:`~hierdash.classroom.ClassroomError` becomes a message on the page, and the rest
of the page goes on. Messages and nicknames are shown as plain text, never Markdown.

Session state used here: ``class_code`` (the class joined), ``teacher_keys`` (code to
key, for the classes this session may manage), ``class_session_id`` (a random id for
the send limit), ``last_scenario`` (the explore page's last valid world, which the
predict page offers), ``class_sent`` (the last send's message, by button key),
``class_banner_line`` (the banner line's slot in the page's last full run).

This module imports no page: the frame hands :func:`class_banner` the board page to
link to.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from hierdash.classroom import (
    MAX_NICKNAME,
    ClassInfo,
    ClassroomError,
    ClassroomStore,
    StudentResult,
    UnknownClass,
    resolve_db_url,
)
from hierdash.classroom.codes import normalise_class_code
from hierdash.scenario import Scenario
from hierdash.ui.words import plain, say

__all__ = [
    "CLASS_PARAM",
    "TEACHER_PARAM",
    "session_id",
    "classroom_store",
    "store_or_message",
    "class_code",
    "teacher_key",
    "join_class",
    "leave_class",
    "class_banner",
    "show_banner_line",
    "keep_class_in_url",
    "class_links",
    "remember_scenario",
    "last_scenario",
    "send_to_board",
]

CLASS_PARAM = "class"
TEACHER_PARAM = "teacher"
_PAGE_PATHS = ("explore", "predict", "board")  # stripped from a page's URL to get the app's
_MAX_PARAM = 200  # longer class codes or keys in a link are not even looked at
_BANNER_LINE = "class_banner_line"  # session state: the banner line's slot


def session_id() -> str:
    """This browser session's random id (the class board's send limit counts per id)."""
    if "class_session_id" not in st.session_state:
        st.session_state.class_session_id = uuid.uuid4().hex
    return st.session_state.class_session_id


@st.cache_resource(show_spinner=False, max_entries=4)
def _store_for(url_text: str) -> ClassroomStore:
    store = ClassroomStore(url_text)
    store.ensure_ready()  # create the tables now: a broken database says so at once
    return store


def _secrets_connection() -> Mapping | None:
    """``[connections.hierdash]`` of the app's secrets, or None (no secrets file is fine)."""
    try:
        connections = st.secrets.get("connections", {})
        connection = connections.get("hierdash") if hasattr(connections, "get") else None
    except Exception:  # noqa: BLE001 - no or unreadable secrets: the default database
        return None
    return dict(connection) if connection else None


def classroom_store() -> ClassroomStore:
    """The class board's storage, one per server and database.

    Raises
    ------
    ClassroomError
        :class:`~hierdash.classroom.DatabaseUnavailable` if the database can't be used.
    ValueError
        If the configured database URL can't be read.
    """
    url = resolve_db_url(_secrets_connection())
    # Keyed by the URL: a changed setting (or a test's own directory) gets its own store.
    return _store_for(url.render_as_string(hide_password=False))


def store_or_message() -> ClassroomStore | None:
    """The store, or None after saying on the page why the board can't be reached."""
    try:
        return classroom_store()
    except ClassroomError as err:
        st.error(plain(err), icon=":material/cloud_off:")
    except ValueError as err:
        st.error(say("classroom", "db_setting_broken", problem=plain(err)),
                 icon=":material/cloud_off:")
    return None


def class_code() -> str | None:
    """The class this session joined, if any."""
    return st.session_state.get("class_code")


def teacher_key(code: str | None = None) -> str | None:
    """The teacher key this session holds for ``code`` (default: its class), if any."""
    code = code or class_code()
    return (st.session_state.get("teacher_keys") or {}).get(code) if code else None


def join_class(code: str, *, key: str | None = None) -> None:
    """Remember ``code`` as this session's class (and ``key`` as its teacher key)."""
    st.session_state.class_code = code
    if key:
        keys = dict(st.session_state.get("teacher_keys") or {})
        keys[code] = key
        st.session_state.teacher_keys = keys


def leave_class() -> None:
    """Widget callback: leave the class (the teacher key is forgotten too)."""
    code = st.session_state.pop("class_code", None)
    keys = dict(st.session_state.get("teacher_keys") or {})
    keys.pop(code, None)
    st.session_state.teacher_keys = keys
    st.session_state.pop("teacher_key_input", None)
    st.session_state.pop("board_rows", None)
    if CLASS_PARAM in st.query_params:
        del st.query_params[CLASS_PARAM]


def _one(value: object) -> str:
    text = value[-1] if isinstance(value, list) and value else value
    return str(text or "").strip()[:_MAX_PARAM]


def _read_class_link() -> None:
    """Move ``class`` and ``teacher`` out of the URL into the session; check the code."""
    params = st.query_params
    if CLASS_PARAM not in params and TEACHER_PARAM not in params:
        return
    raw_code = _one(params.get_all(CLASS_PARAM)) if CLASS_PARAM in params else ""
    raw_key = _one(params.get_all(TEACHER_PARAM)) if TEACHER_PARAM in params else ""
    for name in (CLASS_PARAM, TEACHER_PARAM):
        if name in params:
            del params[name]
    if not raw_code:
        if raw_key:
            st.warning(say("classroom", "key_without_class"), icon=":material/link_off:")
        return
    code = normalise_class_code(raw_code)
    if code is None:
        st.error(plain(UnknownClass(raw_code)), icon=":material/link_off:")
        return
    if code == class_code() and not raw_key:
        return
    store = store_or_message()
    if store is not None:
        try:
            store.class_info(code)
        except UnknownClass as err:
            st.error(plain(err), icon=":material/link_off:")
            return
        except ClassroomError as err:  # can't check now: join anyway, the banner says why
            st.warning(plain(err), icon=":material/cloud_off:")
    join_class(code, key=raw_key or None)


def _info(code: str) -> ClassInfo | ClassroomError:
    store = store_or_message()
    if store is None:
        return ClassroomError(say("classroom", "board_unreachable"))
    try:
        return store.class_info(code)
    except ClassroomError as err:
        return err


def class_banner(*, board: st.Page) -> ClassInfo | None:
    """Read a class link, then show the class banner if this session is in a class.

    Drawn first on every page (by :func:`hierdash.ui.navigation.frame`).

    Parameters
    ----------
    board
        The class board page, for the banner's link to it.

    Returns
    -------
    ClassInfo or None
        The class's facts, or None (no class, or the board can't be read: the banner
        then says why).
    """
    _read_class_link()
    code = class_code()
    if code is None:
        st.session_state.pop(_BANNER_LINE, None)
        return None
    info = _info(code)
    with st.container(border=True, key="class_banner"):
        text_col, link_col, leave_col = st.columns([6, 2, 1], vertical_alignment="center")
        st.session_state[_BANNER_LINE] = text_col.empty()
        show_banner_line(code, info)
        link_col.page_link(board, label=say("classroom", "banner_board_link"),
                           icon=":material/leaderboard:")
        leave_col.button(say("classroom", "leave_button"), key="leave_class",
                         on_click=leave_class, help=say("classroom", "leave_help"))
    return None if isinstance(info, ClassroomError) else info


def show_banner_line(code: str, info: ClassInfo | Exception, *,
                     results: int | None = None) -> None:
    """Draw the banner's line again: the class, its count of results, open or closed.

    The class board's fragment calls it at each of its refreshes with the count it
    shows, so banner and board say the same number on the same run. The line is a slot
    of the page's last full run (a fragment may write outside itself since Streamlit
    1.59); without a banner on the page this does nothing.

    Parameters
    ----------
    code
        The class.
    info
        Its facts, or why they can't be read (a
        :class:`~hierdash.classroom.ClassroomError`, or a ``ValueError`` of the
        database setting).
    results
        The number of results to show; ``info.results`` if None.
    """
    line = st.session_state.get(_BANNER_LINE)
    if line is None:
        return
    if isinstance(info, Exception):
        line.markdown(say("classroom", "banner_unreadable", code=code, problem=plain(info)))
        return
    state = say("classroom", "banner_closed") if info.closed else say("classroom", "banner_open")
    count = info.results if results is None else results
    line.markdown(say("classroom", "banner", code=code, state=state,
                      results=f"{count} result" if count == 1 else f"{count} results"))


def keep_class_in_url() -> None:
    """Put the class code back into the URL (after a page wrote its own parameters)."""
    code = class_code()
    if code and st.query_params.get(CLASS_PARAM) != code:
        st.query_params[CLASS_PARAM] = code


def _app_address() -> str:
    """The app's own address (no page, no query), from the browser's URL."""
    url = st.context.url or "http://localhost:8501"
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    for page in _PAGE_PATHS:
        if path.endswith("/" + page) or path == page:
            path = path[: -len(page)].rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path + "/", "", ""))


def class_links(code: str, key: str | None = None) -> dict[str, str]:
    """The students' link of a class and, with ``key``, the teacher's."""
    base = _app_address()
    links = {"student": f"{base}?{urlencode({CLASS_PARAM: code})}"}
    if key:
        links["teacher"] = f"{base}board?{urlencode({CLASS_PARAM: code, TEACHER_PARAM: key})}"
    return links


def remember_scenario(scenario: Scenario) -> None:
    """Keep the explore page's world for the other pages (the predict page offers it)."""
    st.session_state.last_scenario = scenario


def last_scenario() -> Scenario | None:
    """The explore page's last valid world in this session, if any."""
    return st.session_state.get("last_scenario")


def _send(scenario: Scenario, errors: Mapping[str, float], score: float | None,
          nickname_key: str, sent_key: str) -> None:
    """The Send button's callback: one result to the board, and what happened, in words."""
    code = class_code()
    nickname = st.session_state.get(nickname_key) or ""
    st.session_state.class_nickname = nickname
    store = store_or_message() if code else None
    if store is None:
        st.session_state[sent_key] = ("error", say("classroom", "send_no_board"))
        return
    try:
        result = StudentResult.from_errors(scenario, errors, prediction_score=score,
                                           nickname=nickname)
        row = store.send_result(code, result, session_id=session_id())
    except ClassroomError as err:
        st.session_state[sent_key] = ("error", str(err))
        return
    except ValueError as err:  # a result the board can't take (never expected)
        st.session_state[sent_key] = ("error", say("classroom", "send_unusable",
                                                   problem=str(err)))
        return
    st.session_state[sent_key] = ("success", say("classroom", "sent", code=code,
                                                 number=row.result_id, winner=row.winner))


def send_to_board(scenario: Scenario, errors: Mapping[str, float], *, key: str,
                  prediction_score: float | None = None, what: str = "") -> None:
    """*Send to the class board*, with an optional nickname: only when in a class.

    Parameters
    ----------
    scenario
        The world sent (every setting, the seed too).
    errors
        ``FitResult.errors`` of the fit shown: RMSE of no, complete and partial pooling.
    key
        Distinguishes this button from another page's.
    prediction_score
        The prediction exercise's score, if this is a reveal.
    what
        One line on what will be sent.
    """
    code = class_code()
    if code is None:
        return
    nickname_key, sent_key = f"nickname_{key}", f"class_sent_{key}"
    if nickname_key not in st.session_state:
        st.session_state[nickname_key] = st.session_state.get("class_nickname", "")
    with st.container(border=True, key=f"send_box_{key}"):
        st.markdown(say("classroom", "send_title", code=code))
        if what:
            st.caption(what)
        name_col, button_col = st.columns([3, 2], vertical_alignment="bottom")
        name_col.text_input(say("classroom", "nickname_label"), key=nickname_key,
                            max_chars=MAX_NICKNAME,
                            placeholder=say("classroom", "nickname_placeholder"),
                            help=say("classroom", "nickname_help"))
        button_col.button(say("classroom", "send_button"), key=f"send_{key}", type="primary",
                          icon=":material/send:", width="stretch", on_click=_send,
                          args=(scenario, dict(errors), prediction_score, nickname_key,
                                sent_key))
        outcome = st.session_state.pop(sent_key, None)
        if outcome is not None:
            kind, message = outcome
            box = st.success if kind == "success" else st.error
            box(plain(message), icon=":material/check_circle:" if kind == "success"
                else ":material/error:")
            if kind == "success":  # the banner above counts the result just sent
                show_banner_line(code, _info(code))
