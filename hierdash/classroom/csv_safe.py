"""CSV that a spreadsheet opens as data, never as formulas (CSV injection).

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-``
or ``@`` (and some also after a leading tab or carriage return) as a formula, which can
fetch URLs or run commands. Any text cell starting that way gets a leading apostrophe,
which spreadsheets show as text. Numbers are written as numbers: ``-0.5`` is data.
"""

from __future__ import annotations

import io
import math
import numbers
from typing import Any

import pandas as pd

__all__ = ["FORMULA_STARTS", "escape_cell", "safe_csv"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def escape_cell(value: Any) -> Any:
    """``value`` made safe for a CSV cell.

    Text that starts (after any leading spaces, which some spreadsheets skip) with one
    of :data:`FORMULA_STARTS` gets a leading ``'``. Numbers, booleans and missing
    values pass unchanged; anything else is written as its text and checked as text.

    Parameters
    ----------
    value
        One cell.

    Returns
    -------
    The value to write.
    """
    if value is None or isinstance(value, bool | numbers.Number):
        if isinstance(value, float) and math.isnan(value):
            return ""
        return value
    if value is pd.NA or value is pd.NaT:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def safe_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text with every text cell and header escaped by :func:`escape_cell`.

    Parameters
    ----------
    frame
        The table to write (its index is left out).

    Returns
    -------
    str
        The CSV, with ``\\n`` line ends.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame = {type(frame).__name__} is not allowed: must be a DataFrame")
    safe = frame.copy()
    safe.columns = [escape_cell(str(c)) for c in frame.columns]
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]) or pd.api.types.is_bool_dtype(
            safe[column]
        ):
            safe[column] = safe[column].map(escape_cell).astype(object)
    out = io.StringIO()
    safe.to_csv(out, index=False, lineterminator="\n")
    return out.getvalue()
