"""The class board's storage: SQLAlchemy 2 Core over SQLite (default) or any database.

One :class:`ClassroomStore` per process is enough (it is thread-safe: each call takes
its own pooled connection). Tables are created on first use (``create_all``), so a new
database needs no setting up, and a new store on the same URL (a restarted server)
sees everything the old one wrote.

Sending is checked and written in one transaction that serialises sends to a class:
the class row is locked (``SELECT ... FOR UPDATE`` where the database has it) and
SQLite transactions that write start with ``BEGIN IMMEDIATE``, so thirty students
pressing *Send* at once lose nothing and a class never goes over its limit.

Every database failure becomes :class:`~hierdash.classroom.errors.DatabaseUnavailable`
with words for students (the reason goes to the log), so the rest of the app keeps
working when the board's database is down.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from hierdash.classroom.codes import (
    hash_teacher_key,
    new_class_code,
    new_teacher_key,
    normalise_class_code,
    verify_teacher_key,
)
from hierdash.classroom.csv_safe import safe_csv
from hierdash.classroom.database import WRITE_OPTION, classes, make_engine, metadata, results
from hierdash.classroom.errors import (
    ClassClosed,
    ClassFull,
    DatabaseUnavailable,
    RateLimited,
    UnknownClass,
    WrongTeacherKey,
)
from hierdash.classroom.records import BoardRow, StudentResult, board_frame
from hierdash.classroom.settings import resolve_db_url

__all__ = ["ClassroomStore", "NewClass", "ClassInfo", "MAX_RESULTS", "SENDS_PER_MINUTE"]

log = logging.getLogger(__name__)

MAX_RESULTS = 200
SENDS_PER_MINUTE = 3
RATE_WINDOW = timedelta(minutes=1)
MAX_SESSION_ID = 200
MAX_VERIFIED = 10_000


class NewClass(NamedTuple):
    """A class just created: its public code and the teacher's private key (shown once)."""

    code: str
    teacher_key: str


@dataclass(frozen=True, kw_only=True)
class ClassInfo:
    """A class's banner: when it started, whether it is closed, how many results."""

    code: str
    created: datetime
    closed: bool
    results: int
    last_result_id: int | None


def _utc_naive(moment: datetime) -> datetime:
    # Stored naive in UTC: SQLite has no time zones, and one convention for all.
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _sender(session_id: str) -> str:
    if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_SESSION_ID:
        raise ValueError(
            f"session_id = {session_id!r:.60} is not allowed: must be a non-empty string of "
            f"at most {MAX_SESSION_ID} characters"
        )
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


class ClassroomStore:
    """The class board's storage.

    Parameters
    ----------
    url
        SQLAlchemy URL (default: :func:`~hierdash.classroom.settings.resolve_db_url`).
    max_results
        Most results one class may hold.
    sends_per_minute
        Most results one browser session may send in any minute.
    now
        Clock (aware datetimes); injected by tests.

    Raises
    ------
    DatabaseUnavailable
        If the URL names a driver that isn't installed or can't be used.
    ValueError
        If an option is out of range, or the URL is an in-memory SQLite database.
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        max_results: int = MAX_RESULTS,
        sends_per_minute: int = SENDS_PER_MINUTE,
        now: Callable[[], datetime] | None = None,
    ):
        if not isinstance(max_results, int) or not 1 <= max_results <= 100_000:
            raise ValueError(f"max_results = {max_results!r} is not allowed: must be 1 to 100000")
        if not isinstance(sends_per_minute, int) or not 1 <= sends_per_minute <= 1000:
            raise ValueError(
                f"sends_per_minute = {sends_per_minute!r} is not allowed: must be 1 to 1000"
            )
        self.url = resolve_db_url() if url is None else make_url(url)
        self.max_results = max_results
        self.sends_per_minute = sends_per_minute
        self._now = now or (lambda: datetime.now(UTC))
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        # (code, sha256 of key) pairs already checked: a teacher's page re-checks its key
        # on every refresh, and scrypt is slow on purpose. Keys never change.
        self._verified: set[tuple[str, str]] = set()
        try:
            self._engine = make_engine(self.url)
        except (SQLAlchemyError, ImportError, OSError) as err:
            raise self._unavailable(err) from None

    # -- plumbing ----------------------------------------------------------------------
    def _unavailable(self, err: BaseException) -> DatabaseUnavailable:
        where = self.url.render_as_string(hide_password=True)
        detail = f"{type(err).__name__} on {where}: {str(err).splitlines()[0] if str(err) else ''}"
        log.warning("class board database unavailable: %s", detail)
        return DatabaseUnavailable(detail)

    @contextmanager
    def _connection(self, *, write: bool, pass_integrity: bool = False) -> Iterator[Connection]:
        """A connection in a transaction; database errors become DatabaseUnavailable.

        With ``pass_integrity`` an IntegrityError (a duplicate key) is raised as it is,
        for the caller to handle.
        """
        try:
            self._ensure_schema()
            with self._engine.connect() as conn:
                if write:
                    conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    yield conn
        except IntegrityError as err:
            if pass_integrity:
                raise
            raise self._unavailable(err) from None
        except (SQLAlchemyError, OSError) as err:
            raise self._unavailable(err) from None

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            try:
                metadata.create_all(self._engine)
            except SQLAlchemyError:
                # Another server may have created the tables between our check and
                # CREATE; the second try sees them.
                metadata.create_all(self._engine)
            self._schema_ready = True

    def ensure_ready(self) -> None:
        """Connect and create the tables if needed; raise DatabaseUnavailable if that fails."""
        with self._connection(write=False) as conn:
            conn.execute(select(func.count()).select_from(classes))

    def dispose(self) -> None:
        """Close every pooled connection (the store can still be used afterwards)."""
        self._engine.dispose()

    @staticmethod
    def _code(code: str) -> str:
        normal = normalise_class_code(code)
        if normal is None:
            raise UnknownClass(str(code))
        return normal

    def _class_row(self, conn: Connection, code: str, *, lock: bool = False):
        query = select(classes).where(classes.c.code == code)
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise UnknownClass(code)
        return row

    def _check_key(self, code: str, teacher_key: str) -> None:
        with self._connection(write=False) as conn:
            stored = self._class_row(conn, code).teacher_key_hash
        if not isinstance(teacher_key, str):
            raise WrongTeacherKey(code)
        seen = (code, hashlib.sha256(teacher_key.encode()).hexdigest())
        if seen in self._verified:
            return
        # scrypt outside the transaction: it takes tens of milliseconds.
        if not verify_teacher_key(teacher_key, stored):
            raise WrongTeacherKey(code)
        if len(self._verified) > MAX_VERIFIED:
            self._verified.clear()
        self._verified.add(seen)

    # -- teacher -----------------------------------------------------------------------
    def create_class(self) -> NewClass:
        """Start a class: a fresh unguessable code and a teacher key (only its hash is kept)."""
        teacher_key = new_teacher_key()
        key_hash = hash_teacher_key(teacher_key)
        for _ in range(5):
            code = new_class_code()
            try:
                with self._connection(write=True, pass_integrity=True) as conn:
                    conn.execute(insert(classes).values(
                        code=code, teacher_key_hash=key_hash,
                        created=_utc_naive(self._now()), closed=False))
                return NewClass(code, teacher_key)
            except IntegrityError:
                continue  # a code already taken (1 in ~1e9): draw another
        raise DatabaseUnavailable("IntegrityError: five class codes in a row were taken")

    def is_teacher(self, code: str, teacher_key: str) -> bool:
        """Whether ``teacher_key`` is the key of class ``code`` (UnknownClass if none)."""
        code = self._code(code)
        try:
            self._check_key(code, teacher_key)
        except WrongTeacherKey:
            return False
        return True

    def clear_class(self, code: str, teacher_key: str) -> int:
        """Delete every result of the class; returns how many. Needs the teacher key."""
        code = self._code(code)
        self._check_key(code, teacher_key)
        with self._connection(write=True) as conn:
            self._class_row(conn, code, lock=True)
            return conn.execute(delete(results).where(results.c.class_code == code)).rowcount

    def close_class(self, code: str, teacher_key: str, *, closed: bool = True) -> None:
        """Stop the class taking results (``closed=False`` opens it again). Needs the key."""
        code = self._code(code)
        self._check_key(code, teacher_key)
        with self._connection(write=True) as conn:
            conn.execute(update(classes).where(classes.c.code == code).values(closed=closed))

    # -- students ----------------------------------------------------------------------
    def send_result(self, code: str, result: StudentResult, *, session_id: str) -> BoardRow:
        """Put one student's result on the class board.

        Parameters
        ----------
        code
            The class code (case, spaces and dashes don't matter).
        result
            The student's world, errors, score and nickname.
        session_id
            The browser session's id, for the rate limit (stored only as a hash).

        Returns
        -------
        BoardRow
            The row as stored.

        Raises
        ------
        UnknownClass, ClassClosed, ClassFull, RateLimited, DatabaseUnavailable
        """
        if not isinstance(result, StudentResult):
            raise ValueError(
                f"result = {type(result).__name__} is not allowed: must be a StudentResult"
            )
        sender = _sender(session_id)
        code = self._code(code)
        query_text = result.scenario_query()
        with self._connection(write=True) as conn:
            now = _utc_naive(self._now())
            if self._class_row(conn, code, lock=True).closed:
                raise ClassClosed(code)
            count = conn.execute(select(func.count()).select_from(results)
                                 .where(results.c.class_code == code)).scalar_one()
            if count >= self.max_results:
                raise ClassFull(code, self.max_results)
            recent = conn.execute(
                select(results.c.created)
                .where(results.c.sender == sender, results.c.created > now - RATE_WINDOW)
                .order_by(results.c.created)
            ).scalars().all()
            if len(recent) >= self.sends_per_minute:
                oldest = recent[-self.sends_per_minute]
                raise RateLimited(self.sends_per_minute,
                                  (oldest + RATE_WINDOW - now).total_seconds())
            values = {
                "class_code": code, "created": now, "sender": sender,
                "nickname": result.nickname, "scenario_query": query_text,
                "rmse_no_pooling": result.rmse_no_pooling,
                "rmse_complete_pooling": result.rmse_complete_pooling,
                "rmse_partial_pooling": result.rmse_partial_pooling,
                "prediction_score": result.prediction_score, "winner": result.winner,
            }
            result_id = conn.execute(insert(results).values(**values)).inserted_primary_key[0]
        return self._row(code, {**values, "id": result_id})

    # -- the board ---------------------------------------------------------------------
    @staticmethod
    def _row(code: str, values: Mapping[str, Any]) -> BoardRow:
        return BoardRow(
            class_code=code,
            result_id=int(values["id"]),
            created=values["created"].replace(tzinfo=UTC),
            nickname=values["nickname"],
            scenario_query=values["scenario_query"],
            rmse_no_pooling=values["rmse_no_pooling"],
            rmse_complete_pooling=values["rmse_complete_pooling"],
            rmse_partial_pooling=values["rmse_partial_pooling"],
            prediction_score=values["prediction_score"],
            winner=values["winner"],
        )

    def class_info(self, code: str) -> ClassInfo:
        """The class's banner facts (UnknownClass if there is no such class)."""
        code = self._code(code)
        with self._connection(write=False) as conn:
            row = self._class_row(conn, code)
            count, last = conn.execute(
                select(func.count(), func.max(results.c.id)).where(results.c.class_code == code)
            ).one()
        return ClassInfo(code=code, created=row.created.replace(tzinfo=UTC),
                         closed=bool(row.closed), results=int(count),
                         last_result_id=None if last is None else int(last))

    def board(self, code: str) -> list[BoardRow]:
        """Every result of the class, oldest first (UnknownClass if there is no such class)."""
        code = self._code(code)
        with self._connection(write=False) as conn:
            self._class_row(conn, code)
            rows = conn.execute(
                select(results).where(results.c.class_code == code).order_by(results.c.id)
            ).mappings().all()
        return [self._row(code, row) for row in rows]

    def board_frame(self, code: str) -> pd.DataFrame:
        """The board as a table (see :func:`hierdash.classroom.records.board_frame`)."""
        return board_frame(self.board(code))

    def board_csv(self, code: str) -> str:
        """The board as CSV text that spreadsheets can't run as formulas."""
        frame = self.board_frame(code)
        frame["created"] = [moment.isoformat(timespec="seconds") for moment in frame["created"]]
        return safe_csv(frame)
