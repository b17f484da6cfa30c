"""Scenarios from loose strings: a link's query string, the command line's flags.

:func:`scenario_from_mapping` turns field names and raw text into a
:class:`~hierdash.scenario.Scenario`, or a :class:`~hierdash.scenario.ScenarioError`
naming the field, the value and the allowed range (or, not strict, every problem
found, the rest of the settings kept).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from hierdash.scenario.core import (
    BOUNDS,
    CHOICES,
    FIELD_NAMES,
    MAX_TASKS,
    SAMPLES_RULE,
    Bound,
    Scenario,
    ScenarioError,
    check_number,
    check_samples,
)

__all__ = ["MAX_TEXT", "parse_field", "parse_samples", "scenario_from_mapping"]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
MAX_TEXT = 2000


def parse_field(name: str, text: Any) -> Any:
    """Parse one field's value from text; raise :class:`ScenarioError` if it can't be.

    Parameters
    ----------
    name
        A field of :class:`Scenario`.
    text
        The raw value (usually a string; a list takes its last element, as a repeated
        query key does).
    """
    if name not in FIELD_NAMES:
        raise ScenarioError(name, text, f"is not a setting; known: {', '.join(FIELD_NAMES)}")
    if isinstance(text, (list, tuple)) and name != "samples":
        if not text:
            raise ScenarioError(name, text, "needs a value")
        text = text[-1]
    if not isinstance(text, str):
        return text
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise ScenarioError(name, text, f"is longer than {MAX_TEXT} characters")
    if name in BOUNDS:
        bound = BOUNDS[name]
        try:
            value = float(text)
        except ValueError:
            raise ScenarioError(name, text, bound.describe()) from None
        return check_number(name, value, bound)
    if name in CHOICES:
        value = text.lower()
        if value not in CHOICES[name]:
            raise ScenarioError(name, text, f"must be one of {', '.join(CHOICES[name])}")
        return value
    if name in ("learn_spread", "intercept"):
        value = text.lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ScenarioError(name, text, "must be true or false")
    if name == "samples":
        return parse_samples(text)
    raise AssertionError(name)  # every field is handled above


def parse_samples(text: str, n_tasks: int | None = None) -> tuple[int, ...]:
    """Parse ``"100,80,5"`` (or one number for all ``n_tasks``) into counts."""
    if len(text) > MAX_TEXT:
        raise ScenarioError("samples", text, f"is longer than {MAX_TEXT} characters")
    parts = [p.strip() for p in text.replace(";", ",").split(",")]
    if parts == [""]:
        raise ScenarioError("samples", text, SAMPLES_RULE)
    counts = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise ScenarioError("samples", text, SAMPLES_RULE) from None
        if not math.isfinite(value) or not value.is_integer():
            raise ScenarioError("samples", text, SAMPLES_RULE)
        counts.append(int(value))
    if n_tasks is not None:
        if len(counts) == 1:
            counts = counts * n_tasks
        elif len(counts) != n_tasks:
            raise ScenarioError(
                "samples", text, f"gives {len(counts)} counts for {n_tasks} tasks"
            )
    return check_samples(counts)


def scenario_from_mapping(
    values: Mapping[str, Any], *, base: Scenario | None = None, strict: bool = True
) -> tuple[Scenario, list[ScenarioError]]:
    """Build a scenario from loose values (query parameters, form fields).

    Parameters
    ----------
    values
        Field name to raw value. ``tasks`` is accepted as the number of tasks, with
        ``samples`` one count for all or one per task.
    base
        Scenario whose fields fill what ``values`` leaves out (default: defaults).
    strict
        If true, the first problem raises :class:`ScenarioError`. If false, each bad
        or unknown value is skipped (the base's value stays) and reported.

    Returns
    -------
    scenario, problems
        The scenario and the list of problems found (empty when ``strict``).
    """
    base = base or Scenario()
    problems: list[ScenarioError] = []
    changes: dict[str, Any] = {}

    def fail(err: ScenarioError) -> None:
        if strict:
            raise err
        problems.append(err)

    raw_tasks = values.get("tasks")
    n_tasks = None
    if raw_tasks is not None:
        try:
            text = raw_tasks[-1] if isinstance(raw_tasks, (list, tuple)) else raw_tasks
            text = str(text).strip()
            if len(text) > MAX_TEXT:
                raise ScenarioError("tasks", text, f"is longer than {MAX_TEXT} characters")
            n_tasks = check_number("tasks", float(text), Bound(1, MAX_TASKS, True))
        except (ValueError, TypeError, IndexError) as err:
            fail(err if isinstance(err, ScenarioError) else
                 ScenarioError("tasks", raw_tasks, Bound(1, MAX_TASKS, True).describe()))

    for name, raw in values.items():
        if name == "tasks":
            continue
        try:
            if name == "samples":
                text = raw[-1] if isinstance(raw, (list, tuple)) and raw else raw
                if isinstance(text, str):
                    changes[name] = parse_samples(text, n_tasks)
                else:
                    changes[name] = check_samples(text)
            else:
                changes[name] = parse_field(name, raw)
        except ScenarioError as err:
            fail(err)
    if n_tasks is not None and "samples" not in changes:
        counts = base.samples
        changes["samples"] = tuple(counts[i] if i < len(counts) else counts[-1]
                                   for i in range(n_tasks))
    while True:
        try:
            return dataclasses.replace(base, **changes), problems
        except ScenarioError as err:
            # A combination can fail even when each value passed (e.g. total rows, ADVI
            # for a count outcome). Drop the value named; if the base holds it, drop the
            # outcome that brought the rule.
            if strict:
                raise
            if err.field in changes:
                problems.append(err)
                changes.pop(err.field)
            elif "outcome" in changes:
                problems.append(ScenarioError("outcome", changes.pop("outcome"),
                                              f"does not go with the other settings: {err}"))
            else:
                raise
