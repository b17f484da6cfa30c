"""The class board in real browsers: one teacher, five students, a restart.

A teacher context starts a class on the board page; five student contexts open the
class link on different seeds, fit (exact by default, NUTS with
``HIERDASH_CLASS_BROWSER_FIT=nuts``) and press **Send to the class board**; the
teacher's board shows five results without a reload (the time from each send to the
teacher's screen is measured and printed); a wrong teacher key can't clear the board;
the server restarts on the same SQLite file and the board still has five results.
Then a student predicts and reveals (the reveal and the board are photographed for
the README: ``artifacts/browser/reveal.png`` and ``board.png``).
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from testkit.browser import SHOTS, screenshot, served_app, wait_for_app_idle

pytestmark = pytest.mark.browser

STUDENT_SEEDS = (11, 12, 13, 14, 15)
# Exact fits by default (instant: the page can send them); HIERDASH_CLASS_BROWSER_FIT=nuts
# makes every student sample with NUTS first (a minute or more on a loaded machine).
SAMPLED = os.environ.get("HIERDASH_CLASS_BROWSER_FIT", "exact") == "nuts"
FIT = "method=nuts&draws=300&tune=300&chains=2" if SAMPLED else "method=exact"
SEND_TO_SCREEN_LIMIT_S = 30.0  # the board refreshes every 2 s; a shared, loaded machine is slower


def _context_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(180_000)  # a shared machine can be very slow
    return context, context.new_page()


def _results_on_board(page) -> int | None:
    """The board's "results" number as the teacher sees it (None before it is drawn)."""
    values = page.get_by_test_id("stMetricValue").all_inner_texts()
    return int(values[0]) if values and values[0].strip().isdigit() else None


def _wait_for_results(page, count: int, timeout_s: float) -> float:
    """Seconds until the board shows ``count`` results (fails after ``timeout_s``)."""
    start = time.monotonic()
    while _results_on_board(page) != count:
        assert time.monotonic() - start < timeout_s, (
            f"the board shows {_results_on_board(page)} results, not {count}")
        page.wait_for_timeout(100)
    return time.monotonic() - start


def _start_class(browser, url: str):
    context, teacher = _context_page(browser)
    teacher.goto(f"{url}/board", timeout=120_000)
    teacher.get_by_role("button", name="Start a class").click(timeout=180_000)
    teacher.get_by_text("is started").wait_for(timeout=180_000)
    teacher.get_by_test_id("stCode").nth(2).wait_for(timeout=120_000)  # both links and the key
    codes = teacher.get_by_test_id("stCode").all_inner_texts()
    student_link = next(c.strip() for c in codes if "?class=" in c and "teacher=" not in c)
    teacher_link = next(re.sub(r"\s+", "", c) for c in codes if "teacher=" in c)
    code = student_link.split("?class=")[1]
    key = teacher_link.split("teacher=")[1]
    assert key in [c.strip() for c in codes]  # the key itself, shown once
    teacher.get_by_role("button", name="I have kept it: hide the key").click()
    teacher.get_by_text("No results yet").wait_for(timeout=180_000)
    # Hidden for good: the key is nowhere on the page once the teacher has kept it.
    teacher.wait_for_function("(key) => !document.body.innerText.includes(key)", arg=key,
                              timeout=180_000)
    return context, teacher, code, key


def _student_sends(browser, url: str, code: str, seed: int, teacher) -> float:
    """One student: open the class link, fit, send; seconds from Send to the teacher's screen."""
    context, student = _context_page(browser)
    try:
        student.goto(f"{url}/?class={code}&seed={seed}&{FIT}", timeout=120_000)
        wait_for_app_idle(student)
        student.get_by_text(f"Class {code}").first.wait_for(timeout=120_000)
        if SAMPLED:
            student.get_by_role("button", name="Fit with NUTS (nutpie)").click(timeout=120_000)
            student.get_by_text("Charts show NUTS (nutpie)").wait_for(timeout=600_000)
        else:
            student.get_by_text("Charts show the exact posterior").wait_for(timeout=180_000)
        wait_for_app_idle(student)
        nickname = student.get_by_role("textbox", name="Nickname (optional)")
        nickname.fill(f"seed {seed}")
        nickname.press("Enter")
        wait_for_app_idle(student)
        before = _results_on_board(teacher) or 0
        student.get_by_role("button", name="Send to the class board").click()
        sent = time.monotonic()
        student.get_by_text(f"Sent to class {code}").wait_for(timeout=120_000)
        _wait_for_results(teacher, before + 1, timeout_s=120)
        return time.monotonic() - sent
    finally:
        context.close()


def test_five_students_a_wrong_key_and_a_restart(browser, tmp_path, monkeypatch):
    browser = browser
    monkeypatch.delenv("HIERDASH_DB_URL", raising=False)
    monkeypatch.setenv("HIERDASH_DATA_DIR", str(tmp_path))  # served_app passes the environment
    timings: list[float] = []
    with served_app() as (url, _proc):
        context, teacher, code, key = _start_class(browser, url)
        assert f"class={code}" in teacher.url and "teacher=" not in teacher.url
        teacher.evaluate("window.__sameBoard = true")  # gone if the page ever reloads
        for seed in STUDENT_SEEDS:
            timings.append(_student_sends(browser, url, code, seed, teacher))
        assert _results_on_board(teacher) == 5
        assert teacher.evaluate("window.__sameBoard === true")  # never reloaded
        teacher.get_by_text("partial pooling won", exact=True).wait_for()

        # A wrong key (typed into a teacher link) clears nothing.
        other, intruder = _context_page(browser)
        intruder.goto(f"{url}/board?class={code}&teacher=not-the-key", timeout=120_000)
        intruder.get_by_role("button", name="Clear the board").click()
        intruder.get_by_text("not the key of class").wait_for(timeout=120_000)
        other.close()
        teacher.wait_for_timeout(2_500)  # a refresh of the board
        assert _results_on_board(teacher) == 5
        context.close()

    with served_app() as (url, _proc):  # a new server on the same SQLite file
        context, teacher = _context_page(browser)
        teacher.goto(f"{url}/board?class={code}&teacher={key}", timeout=120_000)
        _wait_for_results(teacher, 5, timeout_s=120)
        teacher.get_by_text("Manage the class").wait_for()

        # A student predicts and reveals, and sends the score.
        student_context, student = _context_page(browser)
        student.goto(f"{url}/predict?class={code}&samples=300,6,6,6,6,6,6,6,6,6&seed=3",
                     timeout=120_000)
        wait_for_app_idle(student)
        sliders = student.get_by_role("slider")
        for i in range(sliders.count()):
            sliders.nth(i).focus()
            for _ in range(2 + i % 4):
                student.keyboard.press("ArrowRight")
        student.get_by_role("button", name="Reveal").click()
        student.get_by_text("Your score").wait_for(timeout=180_000)
        wait_for_app_idle(student)
        student.get_by_text("The same world, after partial pooling").scroll_into_view_if_needed()
        screenshot(student, "reveal.png")
        student.get_by_role("textbox", name="Nickname (optional)").fill("predictor")
        student.get_by_role("textbox", name="Nickname (optional)").press("Enter")
        wait_for_app_idle(student)
        student.get_by_role("button", name="Send to the class board").click()
        sent = time.monotonic()
        student.get_by_text(f"Sent to class {code}").wait_for(timeout=120_000)
        _wait_for_results(teacher, 6, timeout_s=120)
        timings.append(time.monotonic() - sent)
        student_context.close()
        teacher.wait_for_timeout(1_000)
        screenshot(teacher, "board.png")
        context.close()

    report = {"send_to_screen_s": [round(t, 2) for t in timings],
              "median_s": round(sorted(timings)[len(timings) // 2], 2),
              "max_s": round(max(timings), 2)}
    print("\nclass board, send to the teacher's screen:", json.dumps(report))
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "board_latency.json").write_text(json.dumps(report))
    assert max(timings) < SEND_TO_SCREEN_LIMIT_S, report
