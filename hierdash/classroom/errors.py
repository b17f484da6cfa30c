"""Every way a class-board action can fail, as typed exceptions with student-level words.

The UI shows ``str(error)`` as it is: each message says what happened and what to do,
in words a student understands, without a stack trace or a database's jargon.
"""

from __future__ import annotations

__all__ = [
    "ClassroomError",
    "UnknownClass",
    "ClassClosed",
    "ClassFull",
    "RateLimited",
    "WrongTeacherKey",
    "NicknameTooLong",
    "DatabaseUnavailable",
]


class ClassroomError(Exception):
    """Base of every class-board error; ``str(error)`` is the message to show."""


class UnknownClass(ClassroomError):
    """No class has this code (mistyped, or never created)."""

    def __init__(self, code: str):
        self.code = code
        shown = code if len(code) <= 20 else code[:17] + "..."
        super().__init__(
            f"There is no class with the code {shown!r}. Check the code or the link "
            "your teacher gave you."
        )


class ClassClosed(ClassroomError):
    """The teacher closed the class: the board can be read, not sent to."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(
            f"Class {code} is closed: its board no longer takes new results. "
            "You can still look at it."
        )


class ClassFull(ClassroomError):
    """The class already holds the most results one class may have."""

    def __init__(self, code: str, limit: int):
        self.code = code
        self.limit = limit
        super().__init__(
            f"Class {code} is full: it already has {limit} results, the most one class "
            "can hold. Ask your teacher to clear the board or start a new class."
        )


class RateLimited(ClassroomError):
    """This session sent too many results in the last minute."""

    def __init__(self, limit: int, retry_after_s: float):
        self.limit = limit
        self.retry_after_s = retry_after_s
        wait = max(1, round(retry_after_s))
        super().__init__(
            f"You can send at most {limit} results a minute. Try again in {wait} s."
        )


class WrongTeacherKey(ClassroomError):
    """The teacher key does not match the class's key."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(
            f"That teacher key is not the key of class {code}: nothing was changed. "
            "Use the key (or the teacher link) shown when the class was started."
        )


class NicknameTooLong(ClassroomError, ValueError):
    """A nickname longer than the limit, after control characters are removed."""

    def __init__(self, length: int, limit: int):
        self.length = length
        self.limit = limit
        super().__init__(
            f"Your nickname has {length} characters; the limit is {limit}. "
            "Pick a shorter one (or leave it empty)."
        )


class DatabaseUnavailable(ClassroomError):
    """The board's database can't be reached or is broken.

    ``detail`` carries the underlying reason for the server log (never shown to
    students: it may name hosts).
    """

    def __init__(self, detail: str = ""):
        self.detail = detail
        super().__init__(
            "The class board is unavailable right now: its database can't be reached. "
            "Everything else in the app still works; try the board again in a minute."
        )
