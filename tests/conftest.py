"""Fixtures shared by the test files."""

from __future__ import annotations

import os

import numpy as np
import pytest

from hierdash.world import SufficientStats


def _direct_stats(Xs, ys) -> SufficientStats:
    """Sufficient statistics computed straight from each task's rows."""
    return SufficientStats(
        XtX=np.stack([X.T @ X for X in Xs]),
        Xty=np.stack([X.T @ y for X, y in zip(Xs, ys, strict=True)]),
        yty=np.array([y @ y for y in ys]),
        n=np.array([len(y) for y in ys], dtype=float),
    )


@pytest.fixture(scope="session")
def stats_of():
    """``stats_of(Xs, ys)``: sufficient statistics of ragged per-task rows, computed
    directly (an independent check of :func:`hierdash.world.sufficient_stats`)."""
    return _direct_stats


# -- the board's database and the browser, for the page tests ------------------------------
@pytest.fixture
def board_database(tmp_path, monkeypatch):
    """A fresh SQLite class board for one test."""
    monkeypatch.delenv("HIERDASH_DB_URL", raising=False)
    monkeypatch.setenv("HIERDASH_DATA_DIR", str(tmp_path))
    return tmp_path


def require_chromium() -> None:
    """Skip without Debian's Chromium and Playwright; fail instead where CI requires them."""
    from testkit.browser import chromium_path

    if chromium_path() is None:
        if os.environ.get("HIERDASH_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (apt-get install -y chromium)")
        pytest.skip("no chromium: apt-get install -y chromium")
    pytest.importorskip("playwright")


@pytest.fixture(scope="module")
def app_url():
    """The app served by ``streamlit run`` on localhost, for one test module."""
    from testkit.browser import served_app

    require_chromium()
    with served_app() as (url, _proc):
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, for one test module."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    from testkit.browser import launch

    with sync_playwright() as pw:
        chromium = launch(pw)
        yield chromium
        chromium.close()
