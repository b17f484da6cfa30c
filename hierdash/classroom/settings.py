"""Where the class board lives: which SQLAlchemy URL to open.

In order: the environment variable ``HIERDASH_DB_URL``; then the app's
``[connections.hierdash]`` secrets (the UI reads ``st.secrets["connections"]["hierdash"]``
and passes that mapping in, so nothing here imports Streamlit), given either as
``url = "postgresql+psycopg://..."`` or, as Streamlit's ``st.connection("sql")``
accepts, as ``dialect``/``driver``/``username``/``password``/``host``/``port``/
``database``/``query`` fields; else an SQLite file, ``classroom.sqlite`` in
``HIERDASH_DATA_DIR`` (default ``~/.hierdash``), which needs no setting up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["DB_URL_ENV", "DATA_DIR_ENV", "default_sqlite_path", "resolve_db_url"]

DB_URL_ENV = "HIERDASH_DB_URL"
DATA_DIR_ENV = "HIERDASH_DATA_DIR"
_URL_FIELDS = ("username", "password", "host", "port", "database", "query")


def default_sqlite_path(env: Mapping[str, str] | None = None) -> Path:
    """The SQLite file used when no database is configured."""
    env = os.environ if env is None else env
    base = env.get(DATA_DIR_ENV) or "~/.hierdash"
    return Path(base).expanduser() / "classroom.sqlite"


def _url_from_connection(connection: Mapping[str, Any]) -> URL:
    if connection.get("url"):
        return make_url(str(connection["url"]))
    dialect = connection.get("dialect")
    if not dialect:
        raise ValueError(
            f"connection = {sorted(connection)} is not allowed: needs 'url' or 'dialect' "
            "(with host, database, ...), as in [connections.hierdash] of secrets.toml"
        )
    driver = connection.get("driver")
    name = f"{dialect}+{driver}" if driver else str(dialect)
    fields = {key: connection[key] for key in _URL_FIELDS if connection.get(key) is not None}
    if "port" in fields:
        if not str(fields["port"]).isdigit():
            raise ValueError(f"port = {fields['port']!r} is not allowed: must be a whole number")
        fields["port"] = int(fields["port"])
    if "query" in fields:
        fields["query"] = dict(fields["query"])
    return URL.create(name, **fields)


def resolve_db_url(
    connection: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> URL:
    """The SQLAlchemy URL of the class board's database.

    Parameters
    ----------
    connection
        The ``[connections.hierdash]`` table of the app's secrets, if any.
    env
        Environment to read (default ``os.environ``).

    Returns
    -------
    sqlalchemy.engine.URL

    Raises
    ------
    ValueError
        If the configured URL can't be parsed (the message names where it came from,
        never the password).
    """
    env = os.environ if env is None else env
    if env.get(DB_URL_ENV, "").strip():
        try:
            return make_url(env[DB_URL_ENV].strip())
        except ArgumentError:
            raise ValueError(
                f"{DB_URL_ENV} is not allowed: must be an SQLAlchemy URL such as "
                "postgresql+psycopg://user:password@host/db or sqlite:///path/board.sqlite"
            ) from None
    if connection:
        if not isinstance(connection, Mapping):
            raise ValueError(
                f"connection = {type(connection).__name__} is not allowed: must be a mapping"
            )
        try:
            return _url_from_connection(connection)
        except (ArgumentError, TypeError) as err:
            raise ValueError(
                "[connections.hierdash] is not allowed: must give 'url' as an SQLAlchemy "
                f"URL, or dialect, host, database... ({type(err).__name__})"
            ) from None
    return URL.create("sqlite", database=str(default_sqlite_path(env)))
