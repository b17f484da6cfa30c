"""The page's teaching words, kept as Markdown files a teacher can edit without code.

Each ``*.md`` file here is a *book* of entries. An entry starts at a level-two heading
(``## key``) and runs to the next one; the text before the first heading is a note for
the editor and is never shown. Entries are Markdown, with ``{placeholders}`` filled in by
the page (write ``{{`` and ``}}`` for literal braces). Every entry may use ``{ci}`` (the
credible interval's probability as a percentage, from :mod:`hierdash.settings`),
``{rhat_limit}`` and ``{ess_limit}``.

Two functions serve the whole UI: :func:`say` reads an entry (the one way a page gets
its words: ``say("explore", "title")``), and :func:`plain` escapes text that is not
ours (an error message, what a user typed, a column name) before it goes into Markdown.

This module reads files only; it never imports Streamlit.
"""

from __future__ import annotations

import re
import string
from functools import cache
from importlib.resources import files

from hierdash.settings import CI_LABEL, ESS_LIMIT, RHAT_LIMIT

__all__ = ["say", "keys", "plain"]

_SHARED = {"ci": CI_LABEL, "rhat_limit": RHAT_LIMIT, "ess_limit": ESS_LIMIT}

# CommonMark lets every ASCII punctuation character, and no other, be escaped with a
# backslash, and an escaped character is always literal: no emphasis, link, image,
# code, heading, list, table, entity (``&lt;``), HTML, LaTeX (``$``) or Streamlit
# directive (``:red[...]``) can start from it.
_PUNCTUATION = re.compile(f"([{re.escape(string.punctuation)}])")
# Line breaks and runs of spaces become one space (as HTML shows them anyway): text on
# one line can't open a block of its own (a paragraph, a four-space code block).
_SPACES = re.compile(r"\s+")
# Streamlit rewrites some text *after* the Markdown is read, escapes or not: bare
# addresses (``http://…``, ``www.…``, ``a@b.c``) become links, ``:name:`` an icon or
# emoji, and ``->``, ``<=``, ``--``... arrows and dashes. An invisible word joiner
# (U+2060, no line break) breaks each pattern where it could start: after a ``:`` that
# a ``//`` or a name follows, after ``@``, in ``www.``, between two arrow characters.
# (Elsewhere, "y: 2" say, the text keeps no joiner: it is copied as it reads.)
_REWRITTEN = re.compile(r":(?=//|[\w+-])|@|(?i:www)(?=\.)|[-<>~](?=[-<>=])")
_WORD_JOINER = "\u2060"


@cache
def _book(name: str) -> dict[str, str]:
    """Entries of ``<name>.md``: heading key to its text, stripped."""
    path = files(__package__).joinpath(f"{name}.md")
    if not path.is_file():
        raise ValueError(f"book = {name!r} is not allowed: no file {name}.md in {__package__}")
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            key = line[3:].strip()
            if key in entries:
                raise ValueError(f"{name}.md: the entry '## {key}' appears twice")
            current = entries[key] = []
        elif current is not None:
            current.append(line)
    return {key: "\n".join(lines).strip() for key, lines in entries.items()}


def keys(book: str) -> tuple[str, ...]:
    """The entry keys of ``book``, in file order."""
    return tuple(_book(book))


def say(book: str, key: str, **values: object) -> str:
    """Entry ``key`` of ``book``, its placeholders filled in.

    Parameters
    ----------
    book
        File name without ``.md`` (``explore``, ``diagnostics``, ``controls``,
        ``classroom``, ``your_data``, ``calibration``).
    key
        The entry's heading.
    **values
        Values of the entry's placeholders, besides the shared ``ci``,
        ``rhat_limit`` and ``ess_limit``. Text that is not ours goes through
        :func:`plain` first.

    Returns
    -------
    str
        Markdown.

    Raises
    ------
    ValueError
        If the book or entry does not exist, or a placeholder has no value.
    """
    entries = _book(book)
    if key not in entries:
        raise ValueError(f"key = {key!r} is not allowed: {book}.md has {', '.join(entries)}")
    try:
        return string.Formatter().vformat(entries[key], (), {**_SHARED, **values})
    except (KeyError, IndexError) as err:
        raise ValueError(f"{book}.md entry '{key}' needs a value for {err}") from None


def plain(text: object) -> str:
    """``text`` for a Markdown box (``st.markdown``, ``st.error``, ...), shown as typed.

    Every ASCII punctuation character is escaped, line breaks become spaces, and the
    patterns Streamlit rewrites after reading the Markdown (bare links, ``:icons:``,
    arrows) are broken by an invisible word joiner. So a class code, a column name or
    an error message can never become a link, an image, formatting or a new block.

    Parameters
    ----------
    text
        Anything; shown as ``str(text)`` on one line.

    Returns
    -------
    str
        Markdown that renders as ``text`` (with runs of white space as one space).
    """
    one_line = _SPACES.sub(" ", str(text))
    joined = _REWRITTEN.sub(lambda match: match.group(0) + _WORD_JOINER, one_line)
    return _PUNCTUATION.sub(r"\\\1", joined)
