"""The page table, the menu and the frame drawn around every page (``ui/navigation.py``).

The frame's class banner is checked on every page, and at the class board's own
refresh: it must count what the board below it counts, on that same refresh.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.testing.v1 import AppTest, local_script_runner

import hierdash
from hierdash.classroom import ClassroomStore, StudentResult, resolve_db_url
from hierdash.scenario import Scenario
from hierdash.ui.navigation import PAGES, navigation_pages, page
from testkit.apptest import ok, open_named_page, query, texts

pytestmark = pytest.mark.usefixtures("board_database")

PAGES_DIR = Path(hierdash.__file__).parent / "ui" / "pages"


def open_page(want: str, params: dict[str, str] | None = None) -> AppTest:
    return open_named_page(want, params, timeout=180)


def store() -> ClassroomStore:
    return ClassroomStore(resolve_db_url(), sends_per_minute=1000)


def rerun_fragments(at: AppTest, monkeypatch) -> AppTest:
    """``at`` after one timed rerun of its fragments alone, as the browser's timer asks
    for it (``run_every``). AppTest itself only runs whole pages: here its runner gets
    the fragments' ids, as a browser's request carries them. The elements of the result
    are only those that run drew.
    """
    ids = list(at._fragment_storage._fragments)
    assert ids, "no fragment on the page"
    with monkeypatch.context() as patched:
        patched.setattr(local_script_runner, "RerunData", lambda **data: RerunData(
            **data, fragment_id_queue=ids, is_auto_rerun=True))
        return at.run()


# -- the page table --------------------------------------------------------------------
def test_the_page_table_lists_every_page_module_once():
    modules = {p.stem for p in PAGES_DIR.glob("*.py") if p.stem != "__init__"}
    listed = [spec.render.__module__.rsplit(".", 1)[-1] for spec in PAGES]
    assert sorted(listed) == sorted(modules)
    paths = [spec.url_path for spec in PAGES]
    assert len(set(paths)) == len(paths) and PAGES[0].url_path == "explore"
    for name in modules:  # a page exports render() only: its menu entry is the table's
        module = importlib.import_module(f"hierdash.ui.pages.{name}")
        assert module.__all__ == ["render"] and not hasattr(module, "PAGE")
    facade = ast.parse((PAGES_DIR / "__init__.py").read_text(encoding="utf-8"))
    assert len(facade.body) == 1 and isinstance(facade.body[0], ast.Expr)  # a docstring


def test_no_page_imports_the_table_or_another_page():
    for path in [*PAGES_DIR.glob("*.py"), PAGES_DIR.parent / "classroom.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith(
                    ("hierdash.ui.pages", "hierdash.ui.navigation")), (path.name, node.module)


def test_a_page_not_in_the_table_is_refused():
    with pytest.raises(ValueError, match="url_path = 'nowhere' is not allowed"):
        page("nowhere")
    with pytest.raises(ValueError, match="the pages are explore, predict, board"):
        navigation_pages(default="nowhere")


# -- the frame ---------------------------------------------------------------------------
@pytest.mark.app
def test_the_frame_shows_the_class_banner_and_keeps_the_class_in_the_link_on_every_page():
    code = store().create_class().code
    titles = []
    for spec in PAGES:
        at = open_page(spec.url_path, {"class": code})
        assert not at.exception, (spec.url_path, [e.value for e in at.exception])
        assert f"**Class {code}** · 0 results on the board · open" in texts(at.markdown)
        assert query(at)["class"] == code  # written back after the page wrote its own link
        titles.append(at.title[0].value)
    assert len(set(titles)) == len(PAGES)  # the menu opened on each page asked for


@pytest.mark.app
def test_the_banner_counts_what_the_board_counts_at_each_refresh(monkeypatch):
    new = store().create_class()
    code = new.code
    at = ok(open_page("board", {"class": code}))
    assert "0 results on the board" in texts(at.markdown)
    result = StudentResult.from_errors(Scenario(method="exact"), {
        "no_pooling": 0.5, "complete_pooling": 1.0, "partial_pooling": 0.3})
    for i in range(2):
        store().send_result(code, result, session_id=f"student-{i}")
    # The board's own refresh, nothing else: the banner above it says the board's count
    # (it said "0 results" for as long as the teacher stayed on the page).
    refreshed = ok(rerun_fragments(at, monkeypatch))
    assert [m.value for m in refreshed.metric][0] == "2"
    assert f"**Class {code}** · 2 results on the board · open" in texts(refreshed.markdown)
    store().close_class(code, new.teacher_key)
    closed = ok(rerun_fragments(at, monkeypatch))
    assert f"**Class {code}** · 2 results on the board · closed" in texts(closed.markdown)
