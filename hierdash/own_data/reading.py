"""Reading a table a student uploads: odd encodings, delimiters and decimal commas.

Everything that can go wrong with the file itself raises :class:`DataError` with a
message in plain words (what is wrong, what to do), never a parser's traceback.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from pathlib import Path

import pandas as pd

__all__ = ["DataError", "MAX_BYTES", "read_table"]

MAX_BYTES = 10 * 1024 * 1024

# Opening bytes of files that are often uploaded by mistake.
_SIGNATURES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls) or another Office file"),
    (b"\x1f\x8b", "a gzip archive"),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}
# A number written with a decimal comma (as the ';' files of many locales are).
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?$")
_SNIFF_LINES = 50
# Markers of a missing value (pandas' own list, also matched after stripping spaces).
_MISSING = frozenset({"", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "NULL", "null",
                      "None", "#N/A", "#NA", "<NA>", "-1.#IND", "1.#QNAN", "1.#IND",
                      "-1.#QNAN", "#N/A N/A"})


class DataError(ValueError):
    """The data can't be used as given; the message says why and what to do."""


def _not_csv(what: str) -> DataError:
    return DataError(
        f"This file is not a CSV table: it looks like {what}. Save your table as CSV "
        "(comma-separated values, e.g. File > Save As > CSV in a spreadsheet) and upload that."
    )


def _size_text(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.3g} kB"
    return f"{n / (1024 * 1024):.3g} MB"


def _too_big(size: int, limit: int) -> DataError:
    return DataError(f"The file is {_size_text(size)}, over the limit of {_size_text(limit)}. "
                     "Upload a smaller table (fewer rows or columns).")


def _raw_bytes(source: bytes | str | Path, max_bytes: int) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"There is no file {str(path)!r}.")
        size = path.stat().st_size
        if size > max_bytes:  # refuse before reading a huge file into memory
            raise _too_big(size, max_bytes)
        raw = path.read_bytes()
    else:
        raise ValueError(
            f"source = {type(source).__name__} is not allowed: must be bytes or a file path"
        )
    if len(raw) > max_bytes:
        raise _too_big(len(raw), max_bytes)
    return raw


def _utf16_without_bom(raw: bytes) -> str | None:
    """The encoding of BOM-less UTF-16 text (mostly ASCII), if it looks like that."""
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd > 0.4 and zeros_even < 0.05:
        return "utf-16-le"
    if zeros_even > 0.4 and zeros_odd < 0.05:
        return "utf-16-be"
    return None


def _decode(raw: bytes) -> str:
    """Text of the file: a BOM's encoding, else UTF-8, else Windows-1252, else Latin-1."""
    for signature, what in _SIGNATURES:
        if raw.startswith(signature):
            raise _not_csv(what)
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return raw[len(bom):].decode(encoding, errors="replace")
    if b"\x00" in raw:
        encoding = _utf16_without_bom(raw)
        if encoding is None:
            raise _not_csv("a binary file (it holds bytes that are not text)")
        return raw.decode(encoding, errors="replace")
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # never fails: every byte is a character


def _check_text(text: str) -> None:
    sample = text[:100_000]
    controls = sum(1 for ch in sample
                   if ch not in "\t\r\n\f" and unicodedata.category(ch) == "Cc")
    if controls > max(2, len(sample) // 100):
        raise _not_csv("a binary file (it holds bytes that are not text)")


def _sniff(lines: list[str]) -> str:
    """The delimiter whose header splits into the most columns that the rows repeat."""
    best, best_score = None, (0.0, 0)
    for delimiter in _DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        header = counts[0]
        if header < 2:
            continue
        rows = counts[1:] or [header]
        score = (sum(c == header for c in rows) / len(rows), header)
        if score > best_score:  # ties keep the earlier delimiter (commas first)
            best, best_score = delimiter, score
    if best is None:
        first = lines[0].strip()
        if len(first) > 60:
            first = first[:57] + "..."
        raise DataError(
            f"The table has only one column (its first line reads {first!r}). A table needs "
            "a group column, an outcome and features, separated by commas, semicolons or tabs."
        )
    return best


def _parse_error(err: Exception, delimiter: str) -> DataError:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
    sep = _DELIMITER_NAMES[delimiter]
    if found:
        expected, line, saw = found.groups()
        return DataError(
            f"Line {line} has {saw} values but the header has {expected} columns (the "
            f"values are separated by {sep}). Check that line for an extra separator "
            "or a missing quote."
        )
    return DataError(f"The file could not be read as a table separated by {sep}. Check "
                     "that it is a CSV file with one header line.")


def _as_numbers(column: pd.Series, decimal_comma: bool) -> pd.Series:
    """The column as numbers if every value present is one, else unchanged (text)."""
    present = column.dropna()
    if present.empty:
        return column
    if decimal_comma:
        present = present.where(~present.str.match(_DECIMAL_COMMA),
                                present.str.replace(",", ".", regex=False))
    parsed = pd.to_numeric(present, errors="coerce")
    if parsed.isna().any():
        return column
    return pd.to_numeric(present).reindex(column.index)


def read_table(source: bytes | str | Path, *, max_bytes: int = MAX_BYTES) -> pd.DataFrame:
    """Read a CSV table, whatever its encoding, delimiter and decimal mark.

    Parameters
    ----------
    source
        The file's bytes (an upload), or the path of a file (``str`` or ``Path``).
    max_bytes
        Refuse larger files (10 MB by default).

    Returns
    -------
    pandas.DataFrame
        One column per header field (names stripped of surrounding spaces). Every cell
        is stripped of surrounding spaces; empty cells and the usual markers (``NA``,
        ``NaN``, ``null``...) are missing; a column whose values are all numbers is
        numeric, the others hold text.

    Raises
    ------
    DataError
        If the file is too large, empty, not text (an image, a workbook...), has one
        column only, no data rows, or rows with more values than the header.

    Notes
    -----
    Encodings: a byte-order mark decides (UTF-8, UTF-16, UTF-32); else UTF-16 without a
    mark is recognised by its zero bytes; else UTF-8, else Windows-1252 (a superset of
    Latin-1's printable characters), else Latin-1. Delimiters: comma, semicolon, tab or
    bar, whichever splits the header into the most columns that the first rows repeat.
    In semicolon-separated files a decimal comma (``1,5``) is read as ``1.5``.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"max_bytes = {max_bytes!r} is not allowed: must be a whole number >= 1")
    raw = _raw_bytes(source, max_bytes)
    if not raw.strip():
        raise DataError("The file is empty.")
    text = _decode(raw)
    _check_text(text)
    lines = [line for line in text.splitlines() if line.strip()][:_SNIFF_LINES]
    if not lines:
        raise DataError("The file is empty.")
    delimiter = _sniff(lines)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, engine="c",
                            skip_blank_lines=True, keep_default_na=True)
    except (pd.errors.ParserError, ValueError) as err:
        raise _parse_error(err, delimiter) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    repeated = frame.columns[frame.columns.duplicated()]
    if len(repeated):
        raise DataError(f"Two columns are both named {str(repeated[0])!r}: rename one.")
    # A separator at the end of every line makes an unnamed, empty last column.
    trailing = [c for c in frame.columns if c.startswith("Unnamed:") and frame[c].isna().all()]
    frame = frame.drop(columns=trailing)
    if frame.shape[1] < 2:
        raise DataError("The table has only one column. A table needs a group column, an "
                        "outcome and features, separated by commas, semicolons or tabs.")
    if len(frame) == 0:
        raise DataError("The file has a header line but no rows of data.")
    decimal_comma = delimiter == ";"
    for name in frame.columns:
        cells = frame[name].str.strip()
        cells = cells.mask(cells.isin(_MISSING))
        frame[name] = _as_numbers(cells, decimal_comma)
    return frame
