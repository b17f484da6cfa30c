"""The classroom: a class board (storage, codes, safe CSV) and the prediction exercise.

The pages in :mod:`hierdash.ui` call these functions.

Import rule: NumPy, pandas and SQLAlchemy; of the package only the layers before it
(settings to summaries: the scenario a result records, the pull the exercise scores).
Never own data, calibration, charts, the command line, the UI or Streamlit.
"""

from hierdash.classroom.csv_safe import escape_cell, safe_csv
from hierdash.classroom.errors import (
    ClassClosed,
    ClassFull,
    ClassroomError,
    DatabaseUnavailable,
    NicknameTooLong,
    RateLimited,
    UnknownClass,
    WrongTeacherKey,
)
from hierdash.classroom.predict import (
    FurthestTasks,
    PredictionScore,
    PullInputs,
    distances_moved,
    furthest_tasks,
    score_prediction,
    true_pulls,
)
from hierdash.classroom.records import (
    MAX_NICKNAME,
    BoardRow,
    BoardSummary,
    StudentResult,
    board_frame,
    clean_nickname,
    summarise_board,
)
from hierdash.classroom.settings import resolve_db_url
from hierdash.classroom.store import ClassInfo, ClassroomStore, NewClass

__all__ = [
    "BoardRow",
    "BoardSummary",
    "ClassClosed",
    "ClassFull",
    "ClassInfo",
    "ClassroomError",
    "ClassroomStore",
    "DatabaseUnavailable",
    "FurthestTasks",
    "MAX_NICKNAME",
    "NewClass",
    "NicknameTooLong",
    "PredictionScore",
    "PullInputs",
    "RateLimited",
    "StudentResult",
    "UnknownClass",
    "WrongTeacherKey",
    "board_frame",
    "clean_nickname",
    "distances_moved",
    "escape_cell",
    "furthest_tasks",
    "resolve_db_url",
    "safe_csv",
    "score_prediction",
    "summarise_board",
    "true_pulls",
]
