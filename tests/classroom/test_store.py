"""The class board's storage: codes, keys, every refusal, safe CSV, restarts, concurrency.

Each storage test runs on SQLite (a temporary file) and on PostgreSQL when
``HIERDASH_TEST_PG_URL`` names one (``.ci/run`` starts a throwaway server and sets
``HIERDASH_REQUIRE_PG=1``, which turns the skip into a failure).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from hierdash.classroom import (
    ClassClosed,
    ClassFull,
    ClassroomStore,
    DatabaseUnavailable,
    NicknameTooLong,
    RateLimited,
    StudentResult,
    UnknownClass,
    WrongTeacherKey,
    clean_nickname,
    resolve_db_url,
    summarise_board,
)
from hierdash.classroom.codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    hash_teacher_key,
    new_class_code,
    normalise_class_code,
    verify_teacher_key,
)
from hierdash.classroom.csv_safe import escape_cell, safe_csv
from hierdash.scenario import Scenario

PG_URL = os.environ.get("HIERDASH_TEST_PG_URL", "")
REQUIRE_PG = os.environ.get("HIERDASH_REQUIRE_PG") == "1"


class Clock:
    """A settable clock for the rate limit."""

    def __init__(self):
        self.moment = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def result(seed: int = 1, *, nickname: str = "", score: float | None = 75.0,
           errors=(0.9, 1.2, 0.5)) -> StudentResult:
    no, complete, partial = errors
    return StudentResult(scenario=Scenario(seed=seed, samples=(50, 5, 0)), rmse_no_pooling=no,
                         rmse_complete_pooling=complete, rmse_partial_pooling=partial,
                         prediction_score=score, nickname=nickname)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'board' / 'classroom.sqlite'}"
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("HIERDASH_REQUIRE_PG=1 but HIERDASH_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL: set HIERDASH_TEST_PG_URL (.ci/run does)")
    return PG_URL


_session_prefix = ""


@pytest.fixture(autouse=True)
def _fresh_sessions():
    """Session ids of each test unique, even in a PostgreSQL database kept between runs."""
    global _session_prefix
    _session_prefix = uuid.uuid4().hex


def tab(name: str) -> str:
    """A browser session's id, unique to the running test."""
    return f"{_session_prefix}:{name}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_url, clock):
    board = ClassroomStore(db_url, now=clock)
    yield board
    board.dispose()


# ---------------------------------------------------------------------------
# Codes and keys
# ---------------------------------------------------------------------------
def test_class_codes_are_random_short_and_unambiguous():
    codes = {new_class_code() for _ in range(2000)}
    assert len(codes) == 2000  # 29**8 codes: a repeat here would mean a broken source
    for code in codes:
        assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    assert not set("01OILUV") & set(CODE_ALPHABET)
    # not sequential: consecutive codes share few positions
    a, b = new_class_code(), new_class_code()
    assert sum(x == y for x, y in zip(a, b, strict=True)) < CODE_LENGTH


def test_codes_typed_loosely_still_find_the_class():
    assert normalise_class_code("k7qm-x2pa") == "K7QMX2PA"
    assert normalise_class_code(" K7QM X2PA ") == "K7QMX2PA"
    for bad in ("", "K7QMX2P", "K7QMX2PA9", "K7QMX2P0", "<script>", "x" * 1000, None, 42):
        assert normalise_class_code(bad) is None


def test_teacher_keys_are_hashed_with_salt_and_checked():
    stored = hash_teacher_key("secret-key")
    assert "secret-key" not in stored and stored.startswith("scrypt$")
    assert stored != hash_teacher_key("secret-key")  # a fresh salt each time
    assert verify_teacher_key("secret-key", stored)
    assert not verify_teacher_key("secret-kez", stored)
    for bad_key in ("", None, "x" * 10_000):
        assert not verify_teacher_key(bad_key, stored)
    assert not verify_teacher_key("secret-key", "garbage")
    with pytest.raises(ValueError, match="key"):
        hash_teacher_key("")


# ---------------------------------------------------------------------------
# Results and nicknames
# ---------------------------------------------------------------------------
def test_nicknames_lose_control_characters_and_have_a_limit():
    assert clean_nickname("  Ada\x00\x07 \u202eLovelace\u200b\n ") == "Ada Lovelace"
    assert clean_nickname(None) == "" and clean_nickname("") == ""
    assert clean_nickname("é" * 30) == "é" * 30
    with pytest.raises(NicknameTooLong, match="31 characters; the limit is 30"):
        clean_nickname("x" * 31)
    with pytest.raises(NicknameTooLong):
        result(nickname="a" * 40)
    assert result(nickname="<b>**Bo**</b>").nickname == "<b>**Bo**</b>"  # shown as text


def test_the_winner_is_the_smallest_error_and_no_pooling_may_be_missing():
    assert result(errors=(0.9, 1.2, 0.5)).winner == "partial pooling"
    assert result(errors=(0.3, 1.2, 0.5)).winner == "no pooling"
    assert result(errors=(0.9, 0.2, 0.5)).winner == "complete pooling"
    assert result(errors=(float("nan"), 1.2, 0.5)).rmse_no_pooling is None
    assert result(errors=(None, 0.4, 0.5)).winner == "complete pooling"
    made = StudentResult.from_errors(
        Scenario(), {"no_pooling": 1.0, "complete_pooling": 2.0, "partial_pooling": 0.5})
    assert made.winner == "partial pooling" and made.prediction_score is None


@pytest.mark.parametrize("field, value", [
    ("rmse_partial_pooling", -1.0), ("rmse_partial_pooling", float("inf")),
    ("rmse_complete_pooling", None), ("prediction_score", 101.0),
    ("prediction_score", -0.1), ("prediction_score", True), ("scenario", {"seed": 1}),
])
def test_bad_results_are_refused_with_the_field_named(field, value):
    fields = dict(scenario=Scenario(), rmse_no_pooling=1.0, rmse_complete_pooling=1.0,
                  rmse_partial_pooling=1.0)
    fields[field] = value
    with pytest.raises(ValueError, match=field):
        StudentResult(**fields)


# ---------------------------------------------------------------------------
# Where the database is
# ---------------------------------------------------------------------------
def test_the_url_comes_from_the_environment_then_secrets_then_a_default_file(tmp_path):
    env = {"HIERDASH_DB_URL": "postgresql+psycopg://u:pw@db.example/board"}
    secrets = {"url": "sqlite:////tmp/from-secrets.sqlite"}
    assert resolve_db_url(secrets, env=env).host == "db.example"
    assert resolve_db_url(secrets, env={}).database == "/tmp/from-secrets.sqlite"
    fields = {"dialect": "postgresql", "driver": "psycopg", "username": "u", "password": "p@ss",
              "host": "h", "port": "5433", "database": "d"}
    url = resolve_db_url(fields, env={})
    assert (url.drivername, url.port, url.password) == ("postgresql+psycopg", 5433, "p@ss")
    default = resolve_db_url(None, env={"HIERDASH_DATA_DIR": str(tmp_path)})
    assert default.drivername == "sqlite"
    assert default.database == str(tmp_path / "classroom.sqlite")
    assert resolve_db_url(None, env={}).database.endswith(".hierdash/classroom.sqlite")


def test_bad_settings_are_named_without_the_password():
    with pytest.raises(ValueError, match="HIERDASH_DB_URL") as err:
        resolve_db_url(env={"HIERDASH_DB_URL": "not a url with secret"})
    assert "secret" not in str(err.value)
    with pytest.raises(ValueError, match="url"):
        resolve_db_url({"host": "h"}, env={})
    with pytest.raises(ValueError, match="port"):
        resolve_db_url({"dialect": "postgresql", "port": "x"}, env={})
    with pytest.raises(ValueError, match="in-memory"):
        ClassroomStore("sqlite://")


# ---------------------------------------------------------------------------
# The store: each refusal
# ---------------------------------------------------------------------------
def test_a_class_takes_results_and_shows_them_in_order(store):
    code, key = store.create_class()
    assert normalise_class_code(code) == code and len(key) >= 40
    sent = [store.send_result(code, result(seed, nickname=f"s{seed}"), session_id=tab(f"tab{seed}"))
            for seed in range(3)]
    rows = store.board(code.lower())
    assert [row.nickname for row in rows] == ["s0", "s1", "s2"]
    assert rows == sent
    assert rows[0].scenario_fields()["seed"] == "0"
    assert rows[0].created == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    info = store.class_info(code)
    assert (info.results, info.closed, info.last_result_id) == (3, False, rows[-1].result_id)
    frame = store.board_frame(code)
    assert frame["tasks"].tolist() == [3, 3, 3] and frame["samples"].iloc[0] == "50,5,0"
    summary = summarise_board(rows)
    assert summary.wins["partial pooling"] == 3 and summary.mean_score == 75.0


def test_the_teacher_key_is_never_stored_in_clear(tmp_path):
    path = tmp_path / "board.sqlite"
    store = ClassroomStore(f"sqlite:///{path}")
    code, key = store.create_class()
    store.dispose()
    dump = "\n".join(sqlite3.connect(path).iterdump())
    assert code in dump and key not in dump


def test_unknown_classes_are_refused_everywhere(store):
    for code in ("ZZZZZZZZ", "nonsense!", ""):
        with pytest.raises(UnknownClass, match="no class with the code"):
            store.board(code)
        with pytest.raises(UnknownClass):
            store.send_result(code, result(), session_id=tab("tab"))
        with pytest.raises(UnknownClass):
            store.class_info(code)
        with pytest.raises(UnknownClass):
            store.clear_class(code, "key")


def test_a_closed_class_refuses_results_but_still_shows_its_board(store):
    code, key = store.create_class()
    store.send_result(code, result(), session_id=tab("tab1"))
    store.close_class(code, key)
    with pytest.raises(ClassClosed, match="closed"):
        store.send_result(code, result(), session_id=tab("tab2"))
    assert len(store.board(code)) == 1 and store.class_info(code).closed
    store.close_class(code, key, closed=False)
    store.send_result(code, result(), session_id=tab("tab2"))
    assert len(store.board(code)) == 2


def test_a_full_class_says_so(db_url, clock):
    store = ClassroomStore(db_url, now=clock, max_results=4)
    code, _ = store.create_class()
    for i in range(4):
        store.send_result(code, result(i), session_id=tab(f"tab{i}"))
    with pytest.raises(ClassFull, match="already has 4 results"):
        store.send_result(code, result(), session_id=tab("another"))
    assert len(store.board(code)) == 4
    store.dispose()


def test_a_session_sends_at_most_three_results_a_minute(store, clock):
    code, _ = store.create_class()
    for _ in range(3):
        store.send_result(code, result(), session_id=tab("eager"))
        clock.advance(10)
    with pytest.raises(RateLimited, match="at most 3 results a minute") as err:
        store.send_result(code, result(), session_id=tab("eager"))
    assert err.value.retry_after_s == pytest.approx(30.0)  # first send was 30 s ago
    store.send_result(code, result(), session_id=tab("someone else"))  # others unaffected
    clock.advance(31)
    store.send_result(code, result(), session_id=tab("eager"))  # the window moved on
    assert len(store.board(code)) == 5


def test_a_wrong_teacher_key_changes_nothing(store):
    code, key = store.create_class()
    other_code, other_key = store.create_class()
    store.send_result(code, result(), session_id=tab("tab"))
    for wrong in ("", "guess", key[:-1], other_key):
        with pytest.raises(WrongTeacherKey, match="nothing was changed"):
            store.clear_class(code, wrong)
        with pytest.raises(WrongTeacherKey):
            store.close_class(code, wrong)
        assert not store.is_teacher(code, wrong)
    assert len(store.board(code)) == 1 and not store.class_info(code).closed
    assert store.is_teacher(code, key) and store.is_teacher(other_code, other_key)
    # a key checked once (and remembered) opens its own class only
    assert not store.is_teacher(other_code, key) and not store.is_teacher(code, other_key)
    assert store.clear_class(code, key) == 1
    assert store.board(code) == []


def test_bad_session_ids_and_results_are_refused(store):
    code, _ = store.create_class()
    for session_id in ("", None, "x" * 201):
        with pytest.raises(ValueError, match="session_id"):
            store.send_result(code, result(), session_id=session_id)
    with pytest.raises(ValueError, match="StudentResult"):
        store.send_result(code, {"rmse": 1}, session_id=tab("tab"))


def test_csv_downloads_carry_no_formulas(store):
    code, _ = store.create_class()
    for i, nick in enumerate(["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "  =1", "Bo"]):
        store.send_result(code, result(i, nickname=nick), session_id=tab(f"tab{i}"))
    text = store.board_csv(code)
    frame = pd.read_csv(__import__("io").StringIO(text), keep_default_na=False)
    assert frame["nickname"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2+3",
                                          "'@SUM(A1)", "'=1", "Bo"]
    for line in text.splitlines():
        for cell in line.split(","):
            assert not cell.lstrip(' "').startswith(("=", "+", "@")), cell


def test_csv_escaping_touches_text_only():
    assert escape_cell(-0.5) == -0.5 and escape_cell(3) == 3 and escape_cell(True) is True
    assert escape_cell(float("nan")) == "" and escape_cell(None) is None
    assert escape_cell("\t=1") == "'\t=1" and escape_cell("a=1") == "a=1"
    frame = pd.DataFrame({"=bad header": ["-x"], "n": [-1.5]})
    assert safe_csv(frame) == "'=bad header,n\n'-x,-1.5\n"
    with pytest.raises(ValueError, match="DataFrame"):
        safe_csv([["=1"]])


# ---------------------------------------------------------------------------
# Broken databases, restarts, concurrency
# ---------------------------------------------------------------------------
def test_a_missing_driver_or_unwritable_place_is_a_clear_unavailable(tmp_path):
    with pytest.raises(DatabaseUnavailable, match="database can't be reached"):
        ClassroomStore("mysql+nosuchdriver://u@h/db")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DatabaseUnavailable):
        ClassroomStore(f"sqlite:///{blocker / 'sub' / 'board.sqlite'}")


def test_a_broken_database_file_is_unavailable_and_says_so(tmp_path):
    path = tmp_path / "board.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = ClassroomStore(f"sqlite:///{path}")
    for call in (store.create_class, lambda: store.board("K7QMX2PA"), store.ensure_ready):
        with pytest.raises(DatabaseUnavailable) as err:
            call()
        assert "Everything else in the app still works" in str(err.value)
        assert "DatabaseError" in err.value.detail


def test_an_unreachable_server_is_unavailable_quickly(tmp_path):
    url = f"postgresql+psycopg://u:hunter2@/db?host={tmp_path}"  # no server on that socket
    store = ClassroomStore(url)
    with pytest.raises(DatabaseUnavailable) as err:
        store.board("K7QMX2PA")
    assert "hunter2" not in err.value.detail and "OperationalError" in err.value.detail


def test_a_restarted_server_sees_everything(db_url, clock):
    first = ClassroomStore(db_url, now=clock)
    code, key = first.create_class()
    first.send_result(code, result(nickname="before"), session_id=tab("tab"))
    first.dispose()
    del first
    second = ClassroomStore(db_url, now=clock)
    assert [row.nickname for row in second.board(code)] == ["before"]
    assert second.is_teacher(code, key)
    second.dispose()


def test_thirty_sends_at_once_are_all_kept(store):
    code, _ = store.create_class()
    start = threading.Barrier(30)
    failures: list[BaseException] = []

    def send(i: int) -> None:
        try:
            start.wait(timeout=30)
            store.send_result(code, result(i, nickname=f"student {i}"), session_id=tab(f"tab {i}"))
        except BaseException as err:  # reported below
            failures.append(err)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    rows = store.board(code)
    assert sorted(row.nickname for row in rows) == sorted(f"student {i}" for i in range(30))
    assert len({row.result_id for row in rows}) == 30


def test_the_class_limit_holds_under_concurrent_sends(db_url, clock):
    store = ClassroomStore(db_url, now=clock, max_results=10)
    code, _ = store.create_class()
    start = threading.Barrier(20)
    outcomes: list[str] = []

    def send(i: int) -> None:
        start.wait(timeout=30)
        try:
            store.send_result(code, result(i), session_id=tab(f"tab {i}"))
            outcomes.append("kept")
        except ClassFull:
            outcomes.append("full")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["full"] * 10 + ["kept"] * 10
    assert len(store.board(code)) == 10
    store.dispose()



def test_with_no_setting_the_store_uses_a_file_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("HIERDASH_DB_URL", raising=False)
    monkeypatch.setenv("HIERDASH_DATA_DIR", str(tmp_path / "data"))
    store = ClassroomStore()
    code, _ = store.create_class()
    assert (tmp_path / "data" / "classroom.sqlite").exists()
    monkeypatch.setenv("HIERDASH_DB_URL", f"sqlite:///{tmp_path / 'data' / 'classroom.sqlite'}")
    assert ClassroomStore().class_info(code).results == 0  # the same file, by URL
    store.dispose()
