"""The page's teaching words, kept as Markdown files a teacher can edit without code.

Each ``*.md`` file here is a *book* of entries. An entry starts at a level-two heading
(``## key``) and runs to the next one; the text before the first heading is a note for
the editor and is never shown. Entries are Markdown, with ``{placeholders}`` filled in by
the page (write ``{{`` and ``}}`` for literal braces). Every entry may use ``{ci}`` (the
credible interval's probability as a percentage, from :mod:`hierdash.settings`),
``{rhat_limit}`` and ``{ess_limit}``.

This module reads files only; it never imports Streamlit.
"""

from __future__ import annotations

import string
from functools import cache
from importlib.resources import files

from hierdash.settings import CI_LABEL, ESS_LIMIT, RHAT_LIMIT

__all__ = ["words", "keys"]

_SHARED = {"ci": CI_LABEL, "rhat_limit": RHAT_LIMIT, "ess_limit": ESS_LIMIT}


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


def words(book: str, key: str, **values: object) -> str:
    """Entry ``key`` of ``book``, its placeholders filled in.

    Parameters
    ----------
    book
        File name without ``.md`` (``explore``, ``diagnostics``, ``controls``).
    key
        The entry's heading.
    **values
        Values of the entry's placeholders, besides the shared ``ci``,
        ``rhat_limit`` and ``ess_limit``.

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
