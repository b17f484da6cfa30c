"""The classroom pages through ``AppTest``: predict and reveal, the class board, the
banner and *Send to the class board*, the outlier control, and every bad input.

Each test has its own board database (``HIERDASH_DATA_DIR`` in a temporary directory:
the UI caches one store per database URL). Worlds use the exact method (milliseconds).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from hierdash.classroom import (
    ClassroomStore,
    PullInputs,
    StudentResult,
    resolve_db_url,
    score_prediction,
    true_pulls,
)
from hierdash.inference import fit
from hierdash.scenario import Scenario
from hierdash.ui.words import keys
from testkit.apptest import chart_data, ok, open_named_page, query, texts

pytestmark = [pytest.mark.app, pytest.mark.usefixtures("board_database")]

ROOT = Path(__file__).resolve().parents[2]
OUTLIER_WORLD = {"samples": "60,60,60,60,3", "outlier_task": "4", "method": "exact"}


def page(want: str, params: dict[str, str] | None = None) -> AppTest:
    return open_named_page(want, params, timeout=120)


def store() -> ClassroomStore:
    """A second store on the test's database (as another server process would be)."""
    return ClassroomStore(resolve_db_url(), sends_per_minute=1000)


def start_class() -> tuple[AppTest, str, str]:
    at = ok(page("board"))
    at.button(key="start_class").click().run()
    ok(at)
    code = at.session_state.class_code
    return at, code, at.session_state.teacher_keys[code]


def send(at: AppTest, key: str = "explore", nickname: str | None = None) -> AppTest:
    if nickname is not None:
        at.text_input(key=f"nickname_{key}").set_value(nickname)
    return at.button(key=f"send_{key}").click().run()


def errors(at: AppTest) -> str:
    return texts(at.error)


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


# -- the class board -----------------------------------------------------------------------
def test_starting_a_class_shows_code_links_and_the_key_once():
    at, code, key = start_class()
    shown = [c.value for c in at.code]
    assert shown[0].endswith(f"/?class={code}")
    assert key in shown
    assert any(f"board?class={code}&teacher={key}" in c for c in shown)
    assert f"Class {code}" in texts(at.markdown)  # the banner
    at.button(key="hide_key").click().run()
    assert key not in texts(at.code) and key not in texts(at.markdown)
    assert ok(at).query_params["class"] == [code] or query(at)["class"] == code
    assert "teacher" not in query(at)  # the key never stays in the address bar


def test_join_by_code_and_every_bad_code():
    _, code, _ = start_class()
    at = ok(page("board"))
    at.button(key="join_class").click().run()
    assert "Type the class code first" in texts(at.warning)
    at.text_input(key="join_code").set_value("ZZZZZZZZ").run()
    at.button(key="join_class").click().run()
    assert "no class with the code 'ZZZZZZZZ'" in unescape(errors(at))
    at.text_input(key="join_code").set_value("[x](http://evil)").run()
    at.button(key="join_class").click().run()
    assert "no class with the code" in unescape(errors(at))
    assert "](" not in errors(at).replace("\\](", "")  # shown as typed, never as a link
    at.text_input(key="join_code").set_value(code.lower()).run()
    at.button(key="join_class").click().run()
    assert ok(at).session_state.class_code == code


def test_bad_class_links_say_so_and_the_page_still_works():
    at = page("explore", {"class": "NOSUCH22", **OUTLIER_WORLD})
    assert "no class with the code" in unescape(errors(at))
    assert not at.exception and len(at.get("vega_lite_chart")) >= 6
    at = page("explore", {"class": "not a code!", "method": "exact"})
    assert "no class with the code" in unescape(errors(at))
    at = page("explore", {"teacher": "abc", "method": "exact"})
    assert "teacher key but no class code" in texts(at.warning)
    assert "class" not in query(at) and "teacher" not in query(at)
    assert not texts(at.warning).count("could not be used")  # no link problem reported


def test_students_send_and_the_board_shows_them():
    _, code, _ = start_class()
    at = ok(page("explore", {"class": code, **OUTLIER_WORLD}))
    assert f"Class {code}" in texts(at.markdown)
    assert query(at)["class"] == code and query(at)["outlier_task"] == "4"
    send(at, nickname="=HYPERLINK(\"http://x\")")
    assert f"Sent to class {code}" in unescape(texts(ok(at).success))
    assert f"**Class {code}** · 1 result on the board · open" in texts(at.markdown)
    rows = store().board(code)
    assert len(rows) == 1 and rows[0].nickname.startswith("=HYPERLINK")
    assert "outlier_task=4" in rows[0].scenario_query
    board = ok(page("board", {"class": code}))
    assert [m.value for m in board.metric][0] == "1"
    frame = board.dataframe[0].value
    assert frame["nickname"].tolist() == ['=HYPERLINK("http://x")']  # plain text in a table
    assert len(board.get("vega_lite_chart")) == 2


def test_board_csv_is_formula_escaped():
    from hierdash.ui.pages.board import board_csv_text

    _, code, _ = start_class()
    s = store()
    result = StudentResult.from_errors(Scenario(method="exact"), {
        "no_pooling": 0.5, "complete_pooling": 1.0, "partial_pooling": 0.3},
        nickname="@SUM(A1)")
    s.send_result(code, result, session_id="a")
    text = board_csv_text(s.board_frame(code))
    assert "'@SUM(A1)" in text and ",@SUM" not in text


def test_send_limits_nickname_closed_and_full():
    _, code, key = start_class()
    at = ok(page("explore", {"class": code, "method": "exact"}))
    for _ in range(3):
        send(at)
        assert "Sent to class" in unescape(texts(at.success))
    send(at)
    assert "at most 3 results a minute" in unescape(errors(at))
    # A nickname over the limit: the box takes at most 30 characters, and whatever
    # reaches the board is checked again (never more than 30 are stored).
    at2 = ok(page("explore", {"class": code, "method": "exact"}))
    assert at2.text_input(key="nickname_explore").max_chars == 30
    at2.session_state["nickname_explore"] = "x" * 31
    at2.button(key="send_explore").click().run()
    shown = unescape(errors(at2))
    assert "the limit is 30" in shown or all(len(r.nickname) <= 30 for r in store().board(code))
    # Closed: the teacher closes, a student can't send.
    store().close_class(code, key)
    at3 = ok(page("explore", {"class": code, "method": "exact"}))
    assert "closed" in texts(at3.markdown)
    send(at3)
    assert "is closed" in unescape(errors(at3))
    # Full: 200 results.
    s = store()
    s.close_class(code, key, closed=False)
    result = StudentResult.from_errors(Scenario(method="exact"), {
        "no_pooling": 0.5, "complete_pooling": 1.0, "partial_pooling": 0.3})
    have = len(s.board(code))
    for i in range(200 - have):
        s.send_result(code, result, session_id=f"filler-{i % 50}")
    send(at3)
    assert "is full" in unescape(errors(at3))


def test_teacher_key_clear_and_close():
    _, code, key = start_class()
    s = store()
    result = StudentResult.from_errors(Scenario(method="exact"), {
        "no_pooling": 0.5, "complete_pooling": 1.0, "partial_pooling": 0.3})
    for i in range(5):
        s.send_result(code, result, session_id=f"student-{i}")
    student = ok(page("board", {"class": code}))
    student.button(key="clear_board").click().run()
    assert "Type the teacher key first" in texts(student.warning)
    student.text_input(key="teacher_key_input").set_value("wrong-key").run()
    student.button(key="clear_board").click().run()
    assert "not the key of class" in unescape(errors(student))
    wrong_link = page("board", {"class": code, "teacher": "also-wrong"})
    wrong_link.button(key="close_class").click().run()
    assert "not the key of class" in unescape(errors(wrong_link))
    assert len(s.board(code)) == 5 and not s.class_info(code).closed
    teacher = ok(page("board", {"class": code, "teacher": key}))
    teacher.button(key="close_class").click().run()
    assert s.class_info(code).closed
    teacher.button(key="reopen_class").click().run()
    teacher.button(key="clear_board").click().run()
    assert "Cleared 5 results" in unescape(texts(ok(teacher).success))
    assert s.board(code) == []


@pytest.mark.parametrize("setting", ["under a file", "not a url"])
def test_a_broken_database_leaves_the_rest_of_the_app_working(monkeypatch, tmp_path, setting):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    url = f"sqlite:///{blocker}/board.sqlite" if setting == "under a file" else setting
    monkeypatch.setenv("HIERDASH_DB_URL", url)
    board = page("board")
    assert not board.exception
    assert "class board" in errors(board).lower() or "database" in errors(board).lower()
    explore = page("explore", {"class": "ABCD2345", **OUTLIER_WORLD})
    assert not explore.exception
    assert len(explore.get("vega_lite_chart")) >= 6
    predict = page("predict")
    assert not predict.exception and predict.slider


# -- predict, then reveal --------------------------------------------------------------------
def _reveal(at: AppTest, guess: float = 0.5) -> AppTest:
    for slider in at.slider:
        if slider.key and slider.key.startswith("guess_"):
            slider.set_value(guess)
    submit = [b for b in at.button if b.label == "Reveal"]
    return submit[0].click().run()


def test_predict_hides_the_answer_until_reveal_then_scores():
    at = ok(page("predict"))
    at.radio(key="predict_source").set_value("preset").run()
    at.selectbox(key="predict_preset").set_value("empty_task").run()
    ok(at)
    before = chart_data(at, "no_pooling")
    assert not {"mean", "exact_mean", "true", "shrinkage"} & set(before.columns)
    assert len(at.get("vega_lite_chart")) == 1  # the answer is nowhere yet
    guesses = [s for s in at.slider if s.key.startswith("guess_")]
    assert len(guesses) == 4  # the 0-row task is predicted too
    _reveal(at, 0.3)
    ok(at)
    score = float(at.metric[0].value.split("/")[0])
    assert 0 <= score <= 100
    assert at.success and at.warning  # what was right, what was wrong
    reveal = chart_data(at, "predicted")
    assert set(reveal["predicted"]) == {0.3} and len(reveal) == 4
    assert reveal.loc[reveal["n"] == 0, "true_pull"].tolist() == [1.0]
    assert not at.get("text_input")  # no class: nothing to send to
    at.button(key="change_guess").click().run()
    assert len(at.get("vega_lite_chart")) == 1


def test_predict_new_world_and_the_class_send():
    _, code, _ = start_class()
    at = ok(page("predict", {"class": code, **OUTLIER_WORLD}))
    at.radio(key="predict_source").set_value("link").run()
    assert "Task 4 is an **outlier**" in texts(at.caption)
    first = [s.key for s in at.slider][0]
    at.button(key="predict_new_world").click().run()
    assert [s.key for s in ok(at).slider][0] != first  # new world, fresh sliders
    _reveal(at, 0.0)
    ok(at)
    assert "task 4 · n=3 (outlier)" in set(chart_data(at, "no_pooling")["task_label"])
    send(at, key="predict", nickname="Ada")
    assert "Sent to class" in unescape(texts(ok(at).success))
    rows = store().board(code)
    assert len(rows) == 1 and rows[0].prediction_score is not None and rows[0].nickname == "Ada"


def test_predict_world_without_any_pull_to_predict():
    at = ok(page("predict", {"samples": "2,2", "n_features": "4", "method": "exact"}))
    at.radio(key="predict_source").set_value("link").run()
    assert not [s for s in at.slider if s.key.startswith("guess_")]
    _reveal(at)
    assert "No task in this world has a pull to predict" in texts(ok(at).info)


def _pulls_and_half_way(world: Scenario) -> tuple[np.ndarray, float]:
    """The true pulls of ``world`` (exact posterior) and what "half-way" everywhere scores."""
    inputs = PullInputs.from_weights(fit(world.replace(method="exact")).weights)
    pulls = true_pulls(inputs)
    half_way = np.where(np.isfinite(pulls), 0.5, np.nan)
    return pulls, score_prediction(inputs, half_way).score


def test_predict_opens_on_a_world_with_pulls_to_predict():
    from hierdash.ui.pages.predict import PREDICT_WORLD

    # The explore page's default world has nothing to predict: every pull is about 0,
    # and a guess of half-way everywhere scores about 50 without teaching anything.
    pulls, half_way = _pulls_and_half_way(Scenario())
    assert np.nanmax(pulls) < 0.01 and half_way == pytest.approx(50, abs=1)
    # The world Predict opens on: its pulls run from about 0 (the rich task) to nearly 1.
    pulls, half_way = _pulls_and_half_way(PREDICT_WORLD)
    assert np.isfinite(pulls).all() and pulls[0] < 0.02
    assert np.ptp(pulls) > 0.9 and np.std(pulls) > 0.25 and half_way < 75
    for seed in range(5):  # New world keeps pulls that differ
        assert np.ptp(_pulls_and_half_way(PREDICT_WORLD.replace(seed=seed))[0]) > 0.3

    at = ok(page("predict"))
    assert at.radio(key="predict_source").value == "made"
    assert "10 tasks with 300, 6, 6, 6" in texts(at.markdown)
    assert len([s for s in at.slider if s.key.startswith("guess_")]) == 10
    # The explore page's world stays a choice, and the choice outlives the widget: back
    # from another page (which drops a widget's state) the page opens on it again.
    at.radio(key="predict_source").set_value("explore").run()
    assert "2 tasks with 100, 80 samples" in texts(ok(at).markdown)
    chosen = at.session_state["predict_source_chosen"]
    back = open_named_page("predict", session={"predict_source_chosen": chosen}, timeout=120)
    assert ok(back).radio(key="predict_source").value == "explore"


def test_predict_opens_on_the_world_a_link_sets():
    at = ok(page("predict", {"samples": "40,10,3", "seed": "5", "method": "exact"}))
    assert at.radio(key="predict_source").value == "link"
    assert "3 tasks with 40, 10, 3 samples" in texts(at.markdown)
    at = ok(page("predict", {"method": "nuts"}))  # a link that only picks a method
    assert at.radio(key="predict_source").value == "made"


def test_predict_reveal_and_the_board_with_a_yes_no_world():
    _, code, _ = start_class()
    world = Scenario.for_outcome("bernoulli", samples=(40, 10, 3), seed=6, method="exact")
    at = ok(page("predict", {"class": code, **world.to_query()}))
    assert at.radio(key="predict_source").value == "link"
    assert "**yes / no**" in texts(at.info) and "**log-odds** scale" in texts(at.info)
    specs = json.dumps([json.loads(c.proto.spec) for c in at.get("vega_lite_chart")])
    assert "weight (log-odds)" in specs
    assert "share of the way in log-odds" in texts(at.caption)
    before = chart_data(at, "no_pooling")
    assert not {"mean", "exact_mean", "true", "natural_mean"} & set(before.columns)
    _reveal(at, 0.4)
    ok(at)
    assert 0 <= float(at.metric[0].value.split("/")[0]) <= 100
    assert len(chart_data(at, "predicted")) == 3
    specs = json.dumps([json.loads(c.proto.spec) for c in at.get("vega_lite_chart")])
    assert "pull toward the parent in log-odds" in specs and "child weight (log-odds)" in specs
    send(at, key="predict", nickname="Grace")
    assert "Sent to class" in unescape(texts(ok(at).success))
    # The explore page sends a count world too.
    explore = ok(page("explore", {"class": code, **Scenario.for_outcome(
        "poisson", seed=2, method="exact").to_query()}))
    send(explore)
    board = ok(page("board", {"class": code}))
    assert [m.value for m in board.metric][0] == "2"
    frame = board.dataframe[0].value
    assert sorted(frame["outcome"]) == ["bernoulli", "poisson"]
    assert "link scale" in texts(board.caption)
    assert len(board.get("vega_lite_chart")) == 2


def test_board_outcomes_of_results_sent_before_outcomes_existed():
    from hierdash.ui.pages.board import with_outcomes

    frame = pd.DataFrame({"scenario_query": ["seed=1&samples=3", "outcome=binomial&seed=2"]})
    assert with_outcomes(frame)["outcome"].tolist() == ["gaussian", "binomial"]
    assert with_outcomes(frame.iloc[:0])["outcome"].tolist() == []


# -- the outlier task ------------------------------------------------------------------------
def test_outlier_preset_and_control_show_on_the_charts():
    at = ok(page("explore", {"method": "exact"}))
    at.button(key="preset_outlier").click().run()
    ok(at)
    assert query(at)["outlier_task"] == "4" and query(at)["samples"] == "60,60,60,60,3"
    assert "An outlier with little data" in texts(at.markdown)
    specs = json.dumps([json.loads(c.proto.spec) for c in at.get("vega_lite_chart")])
    labels = " ".join(chart_data(at, "task_label")["task_label"])
    assert "task 4 · n=3 (outlier)" in labels or "(outlier)" in specs
    at.selectbox(key="outlier_task").set_value(-1).run()
    assert query(ok(at))["outlier_task"] == "-1"
    assert "(outlier)" not in " ".join(chart_data(at, "task_label")["task_label"])
    at.selectbox(key="outlier_task").set_value(1).run()
    at.slider(key="outlier_shift").set_value(-5.0).run()
    assert query(ok(at))["outlier_shift"] == "-5.0"
    assert "task 1" in " ".join(chart_data(at, "task_label")["task_label"])


# -- words -------------------------------------------------------------------------------
def test_every_classroom_words_entry_asked_for_exists():
    from hierdash.ui.pages.predict import SOURCES

    asked = set()
    for path in [ROOT / "hierdash/ui/classroom.py", *(ROOT / "hierdash/ui/pages").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "say"
                    and len(node.args) >= 2
                    and all(isinstance(a, ast.Constant) for a in node.args[:2])
                    and node.args[0].value == "classroom"):
                asked.add(node.args[1].value)
    assert len(asked) > 40
    assert asked <= set(keys("classroom"))
    # Asked for by name only at run time: the predict page's world sources.
    assert {f"source_{source}" for source in SOURCES} <= set(keys("classroom"))


def test_board_frame_columns_match_the_page_table():
    from hierdash.classroom.records import BOARD_COLUMNS
    from hierdash.ui.pages.board import _TABLE_COLUMNS

    assert set(_TABLE_COLUMNS) <= set(BOARD_COLUMNS)
    assert isinstance(pd.DataFrame(columns=BOARD_COLUMNS), pd.DataFrame)
