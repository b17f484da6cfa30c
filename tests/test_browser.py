"""The app in a real browser: served by ``streamlit run``, opened in headless Chromium."""

import os
from pathlib import Path

import pytest

from tests.browser import (
    ROOT,
    chromium_path,
    launch,
    served_app,
    wait_for_app_idle,
    wait_for_charts,
)

pytestmark = pytest.mark.browser

SHOTS = ROOT / "artifacts" / "browser"


@pytest.fixture(scope="module")
def app_url():
    if chromium_path() is None:
        if os.environ.get("HIERDASH_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (apt-get install -y chromium)")
        pytest.skip("no chromium: apt-get install -y chromium")
    pytest.importorskip("playwright")
    with served_app() as (url, _proc):
        yield url


@pytest.fixture(scope="module")
def browser(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url, timeout=120_000)
    wait_for_app_idle(page)
    yield page
    page.close()


def _shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a real picture, not a blank page
    return path


def test_default_page_draws_every_chart(page):
    assert wait_for_charts(page) >= 6
    assert page.locator("[data-testid='stException']").count() == 0
    assert "exact posterior" in page.inner_text("body").lower() or "charts show" in page.inner_text("body").lower()
    _shot(page, "default.png")


def test_survives_a_control_change(page):
    before = page.url
    page.get_by_role("button", name="Many tiny tasks").click()
    page.wait_for_function(
        "(before) => window.location.href !== before", arg=before, timeout=60_000
    )
    wait_for_app_idle(page)
    assert wait_for_charts(page) >= 6
    assert page.locator("[data-testid='stException']").count() == 0
    assert "samples=" in page.url  # the new world is in the shareable link
    _shot(page, "many_tiny_tasks.png")


def test_a_broken_link_falls_back_with_a_warning(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/?noise_sd=banana&draws=-4", timeout=120_000)
    wait_for_app_idle(page)
    text = page.inner_text("body")
    assert "noise_sd" in text and "draws" in text
    assert page.locator("[data-testid='stException']").count() == 0
    assert wait_for_charts(page) >= 6
    _shot(page, "broken_link.png")
    page.close()
