"""The app in a real browser: served by ``streamlit run``, opened in headless Chromium."""

from urllib.parse import urlencode

import pytest

from hierdash.scenario import Scenario
from testkit.browser import (
    open_page,
    screenshot,
    wait_for_app_idle,
    wait_for_charts,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url, timeout=120_000)
    wait_for_app_idle(page)
    yield page
    page.close()


def test_default_page_draws_every_chart(page):
    assert wait_for_charts(page) >= 6
    assert page.locator("[data-testid='stException']").count() == 0
    assert "exact posterior" in page.inner_text("body").lower() or "charts show" in page.inner_text("body").lower()
    screenshot(page, "default.png")


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
    screenshot(page, "many_tiny_tasks.png")


def test_a_broken_link_falls_back_with_a_warning(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/?noise_sd=banana&draws=-4", timeout=120_000)
    wait_for_app_idle(page)
    text = page.inner_text("body")
    assert "noise_sd" in text and "draws" in text
    assert page.locator("[data-testid='stException']").count() == 0
    assert wait_for_charts(page) >= 6
    screenshot(page, "broken_link.png")
    page.close()


# A funnel (centered, tiny spread, 50 tasks of 3 rows) sampled long: about 30 s on a
# quiet machine, so it is still running when a test looks at its progress or stops it.
SLOW_WORLD = Scenario(draws=5000, tune=5000, chains=4, parameterization="centered",
                      child_spread=0.02, samples=(3,) * 50, n_features=8)


def test_a_fit_appears_without_a_reload(browser, app_url):
    # Long enough to show its progress (a quick fit's charts come with the click's run).
    link = urlencode(SLOW_WORLD.replace(draws=2000, tune=2000, seed=31).to_query())
    page = open_page(browser, f"{app_url}/?{link}")
    page.get_by_role("button", name="Fit with NUTS (nutpie)").click()
    page.get_by_text("Fitting with NUTS (nutpie)").wait_for(timeout=60_000)
    # The progress redraws itself and the charts change over when the fit ends.
    page.get_by_text("Charts show NUTS (nutpie)").wait_for(timeout=240_000)
    wait_for_app_idle(page)
    assert wait_for_charts(page, 7) >= 7
    # Streamlit removes the old Stop button at the end of the page's run, after the
    # fitted charts are drawn: wait for that rather than count at once.
    stop = page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop")
    stop.wait_for(state="detached", timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "nuts_fit.png")
    page.close()


def test_stop_stops_a_running_fit(browser, app_url):
    link = urlencode(SLOW_WORLD.replace(seed=32).to_query())
    page = open_page(browser, f"{app_url}/?{link}")
    page.get_by_role("button", name="Fit with NUTS (nutpie)").click()
    page.get_by_text("Fitting with NUTS (nutpie)").wait_for(timeout=60_000)
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").click()
    page.get_by_text("fit was stopped").wait_for(timeout=30_000)
    # The notice comes first in the page's run; the rest of the page follows it (the old
    # elements are replaced one by one), so wait for each rather than read the page once.
    page.get_by_text("Charts show the exact posterior").first.wait_for(timeout=60_000)
    page.get_by_text("Fitting with NUTS (nutpie)").wait_for(state="detached", timeout=60_000)
    wait_for_app_idle(page)
    assert wait_for_charts(page) >= 6
    page.close()
