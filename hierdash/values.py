"""Checks of single values that every layer shares: one wording for every refusal.

Each check returns the value in its plain Python type, or raises a :class:`ValueError`
that names the field, shows the value and says what is allowed:
``"hidden = 99 is not allowed: must be a whole number from 2 to 8"``.

Import rule: the standard library only (numpy's scalars are recognised through the
:mod:`numbers` classes they register with), so that any layer may use these.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from numbers import Integral, Real

__all__ = ["bad_value", "finite_number", "whole_number", "one_of"]

_SHOWN = 60  # characters of a value shown in a message at most


def bad_value(name: str, value: object, allowed: str) -> ValueError:
    """The error for ``name = value``: ``"<name> = <value> is not allowed: <allowed>"``."""
    shown = repr(value)
    if len(shown) > _SHOWN:
        shown = shown[:_SHOWN - 3] + "..."
    return ValueError(f"{name} = {shown} is not allowed: {allowed}")


def finite_number(name: str, value: object, *, low: float | None = None,
                  high: float | None = None, strict: bool = False) -> float:
    """``value`` as a float, if it is a finite number within the bounds given.

    With ``low`` and ``high``: from ``low`` to ``high``. With ``low`` only: at least
    ``low``, or above it if ``strict``.
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise bad_value(name, value, "must be a finite number" if high is None or low is None
                        else f"must be a number from {low:g} to {high:g}")
    if low is not None and high is not None:
        if not low <= value <= high:
            raise bad_value(name, value, f"must be a number from {low:g} to {high:g}")
    elif low is not None and (value < low or (strict and value == low)):
        raise bad_value(name, value, f"must be {'>' if strict else '>='} {low:g}")
    elif high is not None and value > high:
        raise bad_value(name, value, f"must be <= {high:g}")
    return float(value)


def whole_number(name: str, value: object, low: int, high: int) -> int:
    """``value`` as an int, if it is a whole number from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
        raise bad_value(name, value, f"must be a whole number from {low} to {high}")
    return int(value)


def one_of(name: str, value: object, choices: Collection[str]) -> str:
    """``value``, if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise bad_value(name, value, f"must be one of {', '.join(choices)}")
    return value
