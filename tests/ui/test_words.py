"""The page's words: every key the UI asks for exists, placeholders are filled, and text
that is not ours goes through the one escaper and shows as typed."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

import hierdash
from hierdash.settings import CI_LABEL
from hierdash.ui.words import keys, plain, say

PACKAGE = Path(hierdash.__file__).parent
UI = PACKAGE / "ui"
BOOKS = sorted(p.stem for p in (UI / "words").glob("*.md"))
WORD_JOINER = "\u2060"
# controls.py's widget helpers take a scenario field's name, which is also its help's key.
FIELD_HELPERS = {"_slider", "_int_slider", "_number"}


def sources(under: Path) -> list[Path]:
    return sorted(under.rglob("*.py"))


def _calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str | None:
    return getattr(call.func, "id", None)


def _words_asked_for(path: Path) -> set[tuple[str, str]]:
    """(book, key) of every ``say(book, key, ...)`` call with literal arguments, and of
    controls.py's field helpers (``_slider(label, field, ...)``: the help's key is the
    field)."""
    asked = set()
    for call in _calls(path):
        name = _name(call)
        literal = [a.value for a in call.args if isinstance(a, ast.Constant)]
        if name == "say" and len(call.args) >= 2 and len(literal) >= 2 and all(
                isinstance(a, ast.Constant) for a in call.args[:2]):
            asked.add((literal[0], literal[1]))
        elif name in FIELD_HELPERS and path.name == "controls.py" and len(call.args) >= 2:
            asked.add(("controls", call.args[1].value))
    return asked


def test_every_words_entry_the_ui_asks_for_exists():
    asked = set().union(*(_words_asked_for(p) for p in sources(UI)))
    assert len(asked) > 200  # of the books' 267 entries (the rest are asked for by a variable)
    missing = sorted((book, key) for book, key in asked if key not in keys(book))
    assert not missing, missing


def test_the_key_test_sees_every_page_and_every_book():
    asked_by = {p.relative_to(UI).as_posix(): _words_asked_for(p) for p in sources(UI)}
    for page in ("pages/explore.py", "pages/predict.py", "pages/board.py",
                 "pages/your_data.py", "pages/calibration.py", "classroom.py", "results.py",
                 "diagnostics.py", "controls.py"):
        assert asked_by[page], f"{page} asks for no words the test can see"
    books = {book for asked in asked_by.values() for book, _ in asked}
    assert books == set(BOOKS)
    calibration = {key for asked in asked_by.values() for book, key in asked
                   if book == "calibration"}
    assert len(calibration) > 25  # the calibration page's words: unseen before say()


def test_every_say_call_names_its_book():
    """A book given by a variable would hide its keys from the test above."""
    for path in sources(UI):
        for call in _calls(path):
            if _name(call) == "say":
                assert call.args and isinstance(call.args[0], ast.Constant), (
                    f"{path.name}:{call.lineno}")
                assert call.args[0].value in BOOKS, (path.name, call.lineno)


def _imports_from_words(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {alias.name for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "hierdash.ui.words"
            for alias in node.names}


@pytest.mark.parametrize("path", [pytest.param(p, id=p.relative_to(UI).as_posix())
                                  for p in sources(UI) if p.parent.name != "words"])
def test_the_ui_reads_words_only_through_say_and_escapes_only_through_plain(path):
    assert _imports_from_words(path) <= {"say", "plain", "keys"}
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"^def (plain|_say|_w|_help|_page_words|words)\b", text, re.M)
    assert "re.compile(r\"([\\\\`*_" not in text  # no escaper of its own


def test_one_markdown_escaper_in_the_package():
    defined = [p for p in sources(PACKAGE) if re.search(r"^def plain\b", p.read_text(), re.M)]
    assert defined == [UI / "words" / "__init__.py"]


def test_words_fill_their_placeholders_and_refuse_missing_ones():
    assert f"posterior mean and {CI_LABEL} interval" in say("explore", "parent")
    with pytest.raises(ValueError, match="needs a value"):
        say("explore", "world")
    with pytest.raises(ValueError, match="key = 'nothing'"):
        say("explore", "nothing")
    with pytest.raises(ValueError, match="book = 'nothing'"):
        say("nothing", "title")


# -- plain(): text that is not ours, shown as typed --------------------------------------
def shown(markdown: str) -> str:
    """What a reader's browser shows of ``markdown`` made by plain(): each backslash
    escape read as its character (the word joiners are invisible, and stay)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


NASTY = [
    "**x** [a](http://e) <b>", "see http://evil.com now", "see www.evil.com", "WWW.X.COM",
    "mail me@evil.com", ":material/home: :smile: :streamlit: :+1:", "a -> b <= c -- d",
    "<-> >= ~=", "&lt;b&gt; &#65; &amp;", "$x^2$ and $$y$$", ":red[red] :small[s]",
    "~~strike~~", "a_b_c *i* `code`", "1. item", "x\n# head", "x\n\n    code", "- list",
    "> quote", "| a | b |\n|---|---|", "![img](http://e/x.png)", "<https://e.com>",
    "a\\b\\\\c", "footnote[^1]", "[ ] task", "ünïcode café — ok", "x:y:z", "",
    "Error tokenizing data. C error: Expected 2 fields in line 3, saw 4\n",
]


def test_plain_escapes_every_markdown_character():
    assert plain("**x** [a](http://e) <b>") == (
        r"\*\*x\*\* \[a\]\(http\:" + WORD_JOINER + r"\/\/e\) \<b\>")
    for char in string.punctuation:  # CommonMark's escapable set: ASCII punctuation
        assert plain(char).replace(WORD_JOINER, "") == "\\" + char
    assert plain("abc XYZ 019 ünïcode é — ok") == "abc XYZ 019 ünïcode é — ok"
    # A joiner only where a rewrite could start: prose is copied as it reads.
    assert WORD_JOINER not in plain("Dropped 2 rows (y: 2); 3.5 - 1 = 2.5 > 2, a < b")


@pytest.mark.parametrize("text", NASTY)
def test_plain_shows_the_text_as_typed_on_one_line(text):
    out = plain(text)
    assert "\n" not in out and "\r" not in out  # no block of its own
    assert shown(out).replace(WORD_JOINER, "") == re.sub(r"\s+", " ", text)


# What Streamlit 1.67's Markdown (StreamlitMarkdown.tsx, remark plugins) rewrites in text
# *after* reading the escapes, so no escape stops it; each must not match what plain()
# leaves. Checked in Chromium on the served app, where all of NASTY render as typed.
STREAMLIT_REWRITES = {
    "link": re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.I),
    "email link": re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)"),
    "emoji": re.compile(r":[\w+-][\w_+-]*:"),
    "logo": re.compile(r":streamlit:"),
    "arrow or dash": re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
}


@pytest.mark.parametrize("text", NASTY)
def test_plain_leaves_nothing_streamlit_rewrites_after_the_markdown(text):
    out = plain(text)
    assert ":material/" not in out  # Streamlit's icon shortcut, read from the raw source
    for name, pattern in STREAMLIT_REWRITES.items():
        assert not pattern.search(shown(out)), (name, text)
