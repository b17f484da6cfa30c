"""The "Your data" page in a real browser: the radon example, then a CSV uploaded
through the file input, columns chosen, charts drawn."""

from __future__ import annotations

import pytest

from testkit.browser import screenshot, wait_for_charts

pytestmark = pytest.mark.browser

N_CHARTS = 5  # by size, shrinkage, parent and spread, PPC (the visible tab), LOO


def _idle(page, timeout_ms: int = 240_000) -> None:
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=timeout_ms)


def test_radon_example(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/your-data", timeout=120_000)
    assert wait_for_charts(page, N_CHARTS, timeout_ms=240_000) >= N_CHARTS
    _idle(page)
    body = page.inner_text("body")
    assert "85 groups" in body and "predicts left-out rows best" in body
    assert "Traceback" not in body
    screenshot(page, "your_data_radon.png")
    page.close()


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the multiselect whose label reads ``label``."""
    box = page.locator("[data-testid='stMultiSelect']").filter(has_text=label)
    box.locator("input").click()
    box.locator("input").fill(option)  # type to filter the options, Enter picks the first
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def test_upload_choose_columns_see_charts(browser, app_url, tmp_path):
    table = tmp_path / "schools.csv"
    lines = ["school;hours;score"]
    for g, name in enumerate(["Nord", "Süd", "=cmd()", "<b>West</b>"]):
        for i in range(4 + 2 * g):
            # Semicolons, decimal commas and Windows-1252, as a European spreadsheet saves.
            score = f"{50 + 3 * g + 1.5 * i + (i % 3):.1f}".replace(".", ",")
            lines.append(f"{name};{i};{score}")
    table.write_text("\n".join(lines) + "\n", encoding="cp1252")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/your-data", timeout=120_000)
    wait_for_charts(page, N_CHARTS, timeout_ms=240_000)
    page.get_by_text("Upload a CSV", exact=True).click()
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(table))
    page.wait_for_function("() => document.body.innerText.includes('4 groups')",
                           timeout=120_000)
    _idle(page)
    _choose(page, "Features (x)", "hours")
    page.wait_for_function("() => document.body.innerText.includes('hours per group')",
                           timeout=120_000)
    _idle(page)
    assert wait_for_charts(page, N_CHARTS, timeout_ms=240_000) >= N_CHARTS
    body = page.inner_text("body")
    assert "4 groups" in body and "Traceback" not in body
    # The names are text: no <b> element was made from a group name.
    assert page.locator("b", has_text="West").count() == 0
    screenshot(page, "your_data_upload.png")
    page.close()
