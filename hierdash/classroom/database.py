"""The class board's tables and how to open its database.

Two tables, ``hierdash_classes`` and ``hierdash_results`` (prefixed: a hosted
PostgreSQL database is often shared with other apps). SQLite gets WAL mode (readers
never wait for the writer), a busy timeout, and ``BEGIN IMMEDIATE`` for transactions
that write; other databases get pre-ping and recycling of pooled connections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import URL, Connection

__all__ = ["metadata", "classes", "results", "make_engine", "WRITE_OPTION", "BUSY_TIMEOUT_S"]

BUSY_TIMEOUT_S = 15.0
# Writes through a connection with this execution option start with BEGIN IMMEDIATE on
# SQLite: a deferred transaction that reads and then writes can fail at once with
# "database is locked" when another writer got in between, without waiting.
WRITE_OPTION = "hierdash_write"

metadata = MetaData()
classes = Table(
    "hierdash_classes", metadata,
    Column("code", String(16), primary_key=True),
    Column("teacher_key_hash", String(200), nullable=False),
    Column("created", DateTime, nullable=False),
    Column("closed", Boolean, nullable=False, default=False),
)
results = Table(
    "hierdash_results", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("class_code", String(16), ForeignKey(classes.c.code, ondelete="CASCADE"),
           nullable=False, index=True),
    Column("created", DateTime, nullable=False),
    # A hash of the browser session's id, for the rate limit: nothing personal.
    Column("sender", String(64), nullable=False, index=True),
    Column("nickname", String(64), nullable=False, default=""),
    Column("scenario_query", Text, nullable=False),
    Column("rmse_no_pooling", Float, nullable=True),
    Column("rmse_complete_pooling", Float, nullable=False),
    Column("rmse_partial_pooling", Float, nullable=False),
    Column("prediction_score", Float, nullable=True),
    Column("winner", String(20), nullable=False),
)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise ValueError(
            f"url = {url} is not allowed: an in-memory SQLite database is lost with its "
            "connection; give a file, e.g. sqlite:///path/to/classroom.sqlite"
        )
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster
        cursor.close()
        # Let SQLAlchemy's "begin" event (below) issue BEGIN, not the driver.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engine(url: URL) -> Engine:
    """An engine for ``url``, set up for the board (see the module's notes).

    Raises
    ------
    ValueError
        If ``url`` is an in-memory SQLite database (lost with its connection).
    sqlalchemy.exc.SQLAlchemyError, ImportError, OSError
        If the driver is missing or the SQLite file's folder can't be made.
    """
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = 5  # fail fast with a message, not a hang
    # Hosted databases drop idle connections: check before use, recycle old ones.
    return create_engine(url, pool_pre_ping=True, pool_recycle=1800, connect_args=connect_args)
