"""The app's pages and what is drawn around each: the menu and the class banner.

:data:`PAGES` lists the pages in menu order, each with its title, icon and address; a
page module only exports ``render()``. :func:`menu` hands them to ``st.navigation`` (the
menu at the top), and :func:`frame` draws what every page has around it: above, the
class banner of a session in a class (:func:`~hierdash.ui.classroom.class_banner`,
which first takes the class link out of the URL, before a page reads its settings);
after, the class code back into the URL the page has just written (a reload stays in
the class). ``app.py`` is these two calls.

Adding a page is writing its module in :mod:`hierdash.ui.pages` and adding a row to
:data:`PAGES`; the first row is the page a bare link opens.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from hierdash.ui.classroom import class_banner, keep_class_in_url
from hierdash.ui.pages import board, calibration, explore, neural, predict, your_data

__all__ = ["PageSpec", "PAGES", "navigation_pages", "page", "menu", "frame"]


@dataclass(frozen=True, kw_only=True)
class PageSpec:
    """One page of the app.

    Parameters
    ----------
    render
        Draws the page (called on every run of it).
    title
        Its name in the menu and the browser tab.
    icon
        A Material icon, e.g. ``":material/compress:"``.
    url_path
        Its address under the app's (the first page also answers the bare address).
    """

    render: Callable[[], None]
    title: str
    icon: str
    url_path: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec(render=explore.render, title="Explore", icon=":material/compress:",
             url_path="explore"),
    PageSpec(render=predict.render, title="Predict", icon=":material/psychology:",
             url_path="predict"),
    PageSpec(render=board.render, title="Class board", icon=":material/leaderboard:",
             url_path="board"),
    PageSpec(render=your_data.render, title="Your data", icon=":material/table_view:",
             url_path="your-data"),
    PageSpec(render=calibration.render, title="Calibration lab", icon=":material/target:",
             url_path="calibration"),
    PageSpec(render=neural.render, title="Neural tasks", icon=":material/hub:",
             url_path="neural"),
)


def _spec(url_path: str) -> PageSpec:
    for spec in PAGES:
        if spec.url_path == url_path:
            return spec
    known = ", ".join(spec.url_path for spec in PAGES)
    raise ValueError(f"url_path = {url_path!r} is not allowed: the pages are {known}")


def page(url_path: str, *, default: bool = False) -> StreamlitPage:
    """The page at ``url_path`` as an ``st.Page`` (for ``st.navigation`` or a link to it)."""
    spec = _spec(url_path)
    return st.Page(spec.render, title=spec.title, icon=spec.icon, url_path=spec.url_path,
                   default=default)


def navigation_pages(*, default: str | None = None) -> list[StreamlitPage]:
    """Every page as an ``st.Page``, in menu order.

    Parameters
    ----------
    default
        The ``url_path`` of the page a bare link opens; the first page's if None.
    """
    default = PAGES[0].url_path if default is None else _spec(default).url_path
    return [page(spec.url_path, default=spec.url_path == default) for spec in PAGES]


def menu(*, default: str | None = None) -> StreamlitPage:
    """The menu at the top of the app; returns the page this run shows (not run yet).

    Parameters
    ----------
    default
        As for :func:`navigation_pages`.
    """
    return st.navigation(navigation_pages(default=default), position="top")


@contextlib.contextmanager
def frame() -> Iterator[None]:
    """What surrounds every page: run the page inside it.

    Before the page: the class banner, with its link to the class board (it takes the
    class link out of the URL first, so the page's settings never see it). After the
    page, even one that stopped early: the class code back into the URL.
    """
    class_banner(board=page("board"))
    try:
        yield
    finally:
        keep_class_in_url()
