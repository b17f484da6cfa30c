"""The page's words: every key the UI asks for exists, and placeholders are filled."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hierdash
from hierdash.settings import CI_LABEL
from hierdash.ui.words import keys, words

UI = Path(hierdash.__file__).parent / "ui"


def sources(under: Path) -> list[Path]:
    return sorted(under.rglob("*.py"))


def _words_asked_for(path: Path) -> set[tuple[str, str]]:
    """(book, key) of every call with literal arguments that reads the words."""
    books = {"words": None, "_say": {"results.py": "explore", "diagnostics.py": "diagnostics"},
             "_help": "controls", "_slider": "controls", "_int_slider": "controls",
             "_number": "controls"}
    asked = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        name = getattr(getattr(node, "func", None), "id", None)
        if not isinstance(node, ast.Call) or name not in books:
            continue
        args = [a.value for a in node.args if isinstance(a, ast.Constant)]
        if name == "words" and len(args) >= 2:
            asked.add((args[0], args[1]))
        elif name == "_say" and args:
            asked.add((books["_say"][path.name], args[0]))
        elif name == "_help" and args:
            asked.add(("controls", args[0]))
        elif name in {"_slider", "_int_slider", "_number"} and len(node.args) >= 2:
            asked.add(("controls", node.args[1].value))  # the field's name is its help's key
    return asked


def test_every_words_entry_the_ui_asks_for_exists():
    asked = set().union(*(_words_asked_for(p) for p in sources(UI)))
    assert len(asked) > 60
    for book, key in sorted(asked):
        assert key in keys(book), (book, key)


def test_words_fill_their_placeholders_and_refuse_missing_ones():
    assert f"posterior mean and {CI_LABEL} interval" in words("explore", "parent")
    with pytest.raises(ValueError, match="needs a value"):
        words("explore", "world")
    with pytest.raises(ValueError, match="key = 'nothing'"):
        words("explore", "nothing")
    with pytest.raises(ValueError, match="book = 'nothing'"):
        words("nothing", "title")
