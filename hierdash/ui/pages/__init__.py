"""The app's pages: one module each, listed in :data:`PAGES` in menu order.

A page module defines ``PAGE = PageSpec(render=..., title=..., icon=..., url_path=...)``,
where ``render()`` draws the page from the shared UI pieces of :mod:`hierdash.ui`.
Adding a page is writing its module and adding it to :data:`PAGES`; the first page is
the one a bare link opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

__all__ = ["PageSpec", "PAGES", "navigation_pages"]


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


def _specs() -> tuple[PageSpec, ...]:
    from hierdash.ui.pages import board, calibration, explore, predict, your_data

    return (explore.PAGE, predict.PAGE, board.PAGE, your_data.PAGE, calibration.PAGE)


PAGES: tuple[PageSpec, ...] = _specs()


def navigation_pages() -> list[st.Page]:
    """The pages as ``st.Page`` objects for ``st.navigation``; the first is the default."""
    return [st.Page(spec.render, title=spec.title, icon=spec.icon, url_path=spec.url_path,
                    default=(i == 0)) for i, spec in enumerate(PAGES)]
