"""The Neural tasks page in a real browser: served by ``streamlit run``, opened in
headless Debian Chromium (never a downloaded browser; skipped without it).

A link opens its world unfitted; then *Fit* runs the three fits on a small world
(3 tasks, 2 hidden units): 23 s for the module here, most of it the network's compile
in the fresh server (a minute when PyTensor's and numba's caches are cold, hence the
generous wait).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from hierdash.neural.settings import NeuralSettings
from testkit.browser import open_page, screenshot, wait_for_app_idle, wait_for_charts

pytestmark = pytest.mark.browser

LINKED = NeuralSettings(samples=(30, 10, 3), rotation_spread=45.0, hidden=3, seed=8)
SMALL = NeuralSettings(samples=(30, 10, 3), hidden=2, seed=8)
N_FITTED_CHARTS = 4  # scores, surfaces, parent, spreads


def test_the_page_draws_its_tasks_from_a_link(browser, app_url):
    page = open_page(browser, f"{app_url}/neural?{urlencode(LINKED.to_query())}")
    assert wait_for_charts(page, 1) >= 1  # the tasks' points
    assert page.locator("[data-testid='stException']").count() == 0
    body = page.inner_text("body")
    assert "Neural tasks" in body and "Traceback" not in body
    assert page.get_by_role("button", name="Fit").count() >= 1
    assert page.get_by_label("Training points per task", exact=True).input_value() == "30,10,3"
    assert "nn_seed=8" in page.url and "nn_hidden=3" in page.url  # the link stays shareable
    screenshot(page, "neural_link.png")
    page.close()


def test_a_bad_link_value_warns_and_the_page_still_draws(browser, app_url):
    page = open_page(browser, f"{app_url}/neural?nn_hidden=banana&nn_seed=4")
    text = page.inner_text("body")
    assert "could not be used" in text and "hidden" in text
    assert page.locator("[data-testid='stException']").count() == 0
    assert wait_for_charts(page, 1) >= 1
    page.close()


def test_fit_draws_the_three_networks_charts(browser, app_url):
    page = open_page(browser, f"{app_url}/neural?{urlencode(SMALL.to_query())}")
    page.get_by_role("button", name="Fit").first.click()
    assert wait_for_charts(page, N_FITTED_CHARTS, timeout_ms=240_000) >= N_FITTED_CHARTS
    body = page.inner_text("body")
    assert "Did the samplers manage?" in body and "by task size" in body
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "neural_fitted.png")
    page.close()


def test_leaving_and_returning_keeps_the_settings(browser, app_url):
    # Streamlit forgets a control's value while another page is shown: the page refills
    # its controls from the last world, the one the student left.
    page = open_page(browser, f"{app_url}/neural?{urlencode(LINKED.to_query())}")
    seed = page.get_by_label("Seed", exact=True)
    seed.fill("21")
    seed.press("Enter")
    page.wait_for_url(re.compile(r"nn_seed=21"), timeout=30_000)
    page.get_by_role("link", name="Explore").first.click()
    page.wait_for_url(lambda url: "/neural" not in url, timeout=30_000)
    wait_for_app_idle(page)
    page.get_by_role("link", name="Neural tasks").first.click()
    page.wait_for_url(re.compile(r"/neural"), timeout=30_000)
    wait_for_app_idle(page)
    assert wait_for_charts(page, 1) >= 1
    assert page.get_by_label("Seed", exact=True).input_value() == "21"
    assert page.get_by_label("Training points per task", exact=True).input_value() == "30,10,3"
    assert "nn_seed=21" in page.url and "nn_hidden=3" in page.url
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()
