"""What a student sends to the class board, what the board holds, and its summary.

Pure data: no database here (see :mod:`hierdash.classroom.store`).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args
from urllib.parse import parse_qs, urlencode

import pandas as pd

from hierdash.classroom.errors import NicknameTooLong
from hierdash.scenario import Scenario

__all__ = [
    "MAX_NICKNAME",
    "Pooling",
    "POOLINGS",
    "clean_nickname",
    "StudentResult",
    "BoardRow",
    "BoardSummary",
    "summarise_board",
    "board_frame",
]

MAX_NICKNAME = 30
Pooling = Literal["no pooling", "complete pooling", "partial pooling"]
POOLINGS: tuple[str, ...] = get_args(Pooling)
# FitResult.errors' keys, in the order ties are broken (the simpler estimate wins).
_ERROR_KEYS = {"no pooling": "no_pooling", "complete pooling": "complete_pooling",
               "partial pooling": "partial_pooling"}
MAX_QUERY_TEXT = 4000


def clean_nickname(text: str | None) -> str:
    """A nickname fit to show: control and format characters gone, spaces collapsed.

    Removes every Unicode "other" character (controls, zero-width and direction
    overrides, which can disguise text), normalises to NFC and collapses runs of
    whitespace. The board shows it as plain text; this only keeps it short and honest.

    Parameters
    ----------
    text
        What the student typed (None or empty: no nickname).

    Returns
    -------
    str
        The cleaned nickname, possibly empty.

    Raises
    ------
    NicknameTooLong
        If more than :data:`MAX_NICKNAME` characters remain.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        raise ValueError(f"nickname = {type(text).__name__} is not allowed: must be text")
    text = unicodedata.normalize("NFC", text)
    kept = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or not unicodedata.category(ch).startswith("C"))
    cleaned = " ".join(kept.split())
    if len(cleaned) > MAX_NICKNAME:
        raise NicknameTooLong(len(cleaned), MAX_NICKNAME)
    return cleaned


def _error_value(name: str, value: float | None, *, optional: bool) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if optional:
            return None
        raise ValueError(f"{name} = {value!r} is not allowed: must be a number >= 0")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r} is not allowed: must be a number >= 0") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} = {value!r} is not allowed: must be a finite number >= 0")
    return number


@dataclass(frozen=True, kw_only=True)
class StudentResult:
    """One student's world and how each estimate did, as sent to the board.

    Parameters
    ----------
    scenario
        The world (every setting, the seed too).
    rmse_no_pooling
        RMSE of no pooling against the true child weights, over the tasks that have an
        estimate of their own; None (or NaN) when no task has one.
    rmse_complete_pooling, rmse_partial_pooling
        RMSE of complete and partial pooling against the true child weights.
    prediction_score
        The student's score on the prediction exercise (0-100), if they did it.
    nickname
        Optional; cleaned by :func:`clean_nickname` (may raise
        :class:`~hierdash.classroom.errors.NicknameTooLong`).
    """

    scenario: Scenario
    rmse_no_pooling: float | None
    rmse_complete_pooling: float
    rmse_partial_pooling: float
    prediction_score: float | None = None
    nickname: str = ""
    winner: Pooling = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.scenario, Scenario):
            raise ValueError(
                f"scenario = {type(self.scenario).__name__} is not allowed: must be a Scenario"
            )
        for name in ("rmse_no_pooling", "rmse_complete_pooling", "rmse_partial_pooling"):
            value = _error_value(name, getattr(self, name), optional=name == "rmse_no_pooling")
            object.__setattr__(self, name, value)
        score = self.prediction_score
        if score is not None:
            if isinstance(score, float) and math.isnan(score):
                score = None
            elif (isinstance(score, bool) or not isinstance(score, int | float)
                  or not 0 <= score <= 100):
                raise ValueError(
                    f"prediction_score = {score!r} is not allowed: must be from 0 to 100 or None"
                )
            object.__setattr__(self, "prediction_score", None if score is None else float(score))
        object.__setattr__(self, "nickname", clean_nickname(self.nickname))
        object.__setattr__(self, "winner", self._winner())

    def _winner(self) -> Pooling:
        # Smallest error wins; no pooling only competes when it has one. Note that its
        # error covers only the tasks with an estimate of their own.
        errors = {"complete pooling": self.rmse_complete_pooling,
                  "partial pooling": self.rmse_partial_pooling}
        if self.rmse_no_pooling is not None:
            errors["no pooling"] = self.rmse_no_pooling
        return min(POOLINGS, key=lambda name: errors.get(name, math.inf))

    @classmethod
    def from_errors(
        cls,
        scenario: Scenario,
        errors: Mapping[str, float],
        *,
        prediction_score: float | None = None,
        nickname: str = "",
    ) -> StudentResult:
        """Build from a fit's ``FitResult.errors`` (keys ``no_pooling``, ...)."""
        missing = [key for key in _ERROR_KEYS.values() if key not in errors]
        if missing:
            raise ValueError(
                f"errors = {sorted(errors)} is not allowed: must have {list(_ERROR_KEYS.values())}"
            )
        return cls(
            scenario=scenario,
            rmse_no_pooling=errors["no_pooling"],
            rmse_complete_pooling=errors["complete_pooling"],
            rmse_partial_pooling=errors["partial_pooling"],
            prediction_score=prediction_score,
            nickname=nickname,
        )

    def scenario_query(self) -> str:
        """The world as a URL query string (``parent_mean=10.0&...``)."""
        return urlencode(self.scenario.to_query())


@dataclass(frozen=True, kw_only=True)
class BoardRow:
    """One result on a class board, as stored."""

    class_code: str
    result_id: int
    created: datetime
    nickname: str
    scenario_query: str
    rmse_no_pooling: float | None
    rmse_complete_pooling: float
    rmse_partial_pooling: float
    prediction_score: float | None
    winner: Pooling

    def scenario_fields(self) -> dict[str, str]:
        """The world's settings as field name to text (for a link or a tooltip)."""
        if len(self.scenario_query) > MAX_QUERY_TEXT:
            return {}
        return {key: values[-1] for key, values in parse_qs(self.scenario_query).items()}


@dataclass(frozen=True, kw_only=True)
class BoardSummary:
    """The class at a glance."""

    results: int
    wins: Mapping[str, int]
    scored: int
    mean_score: float | None
    median_score: float | None


def summarise_board(rows: Sequence[BoardRow]) -> BoardSummary:
    """How many worlds each pooling won, and the class's prediction scores."""
    wins = {name: sum(row.winner == name for row in rows) for name in POOLINGS}
    scores = pd.Series([row.prediction_score for row in rows if row.prediction_score is not None],
                       dtype=float)
    return BoardSummary(
        results=len(rows),
        wins=wins,
        scored=len(scores),
        mean_score=float(scores.mean()) if len(scores) else None,
        median_score=float(scores.median()) if len(scores) else None,
    )


BOARD_COLUMNS = ["result_id", "created", "nickname", "seed", "tasks", "samples",
                 "rmse_no_pooling", "rmse_complete_pooling", "rmse_partial_pooling",
                 "winner", "prediction_score", "scenario_query"]


def board_frame(rows: Sequence[BoardRow]) -> pd.DataFrame:
    """The board as a table, one row per result, oldest first.

    Columns: :data:`BOARD_COLUMNS` (``seed``, ``tasks``, ``samples`` read from the
    world's query; ``created`` in UTC).
    """
    records = []
    for row in rows:
        fields_ = row.scenario_fields()
        samples = fields_.get("samples", "")
        records.append({
            "result_id": row.result_id,
            "created": row.created,
            "nickname": row.nickname,
            "seed": fields_.get("seed", ""),
            "tasks": len(samples.split(",")) if samples else None,
            "samples": samples,
            "rmse_no_pooling": row.rmse_no_pooling,
            "rmse_complete_pooling": row.rmse_complete_pooling,
            "rmse_partial_pooling": row.rmse_partial_pooling,
            "winner": row.winner,
            "prediction_score": row.prediction_score,
            "scenario_query": row.scenario_query,
        })
    frame = pd.DataFrame(records, columns=BOARD_COLUMNS)
    for column in ("rmse_no_pooling", "rmse_complete_pooling", "rmse_partial_pooling",
                   "prediction_score"):
        frame[column] = frame[column].astype(float)
    return frame
