"""The classroom: a class board (storage, codes, safe CSV) and the prediction exercise.

No Streamlit here: the pages in ``hierdash.ui`` call these functions.
"""

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
    "MAX_NICKNAME",
    "NewClass",
    "NicknameTooLong",
    "RateLimited",
    "StudentResult",
    "UnknownClass",
    "WrongTeacherKey",
    "board_frame",
    "clean_nickname",
    "resolve_db_url",
    "summarise_board",
]
