"""Async engines for the two supported backends, and the two kinds of transaction.

SQLite (``sqlite+aiosqlite:///path``) gets WAL (readers never block the writer), foreign
keys (the cascades depend on them), a busy timeout, and real transactions: the Python
driver would otherwise run DDL outside any transaction and open its own ones lazily, so
the driver's transaction handling is switched off and calproxy emits ``BEGIN`` itself,
``BEGIN IMMEDIATE`` for writes, which takes the write lock up front instead of failing
with "database is locked" when a read transaction later tries to write. An in-memory
database is one connection shared through a ``StaticPool`` (each new connection would
otherwise see its own empty database).

PostgreSQL (``postgresql+asyncpg://...``) needs nothing special; ``search_path`` lets tests
and benchmarks put the tables in a schema of their own.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from proxy.errors import DatabaseUnavailable

_WRITE = "calproxy_write"
SQLITE_BUSY_TIMEOUT_MS = 10_000
WAL_ATTEMPTS = 100


def make_engine(database_url: str, *, search_path: str | None = None) -> AsyncEngine:
    """An engine for ``database_url``; ``search_path`` applies to PostgreSQL only."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url, in_memory=url.database in (None, "", ":memory:"))
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if search_path:
        kwargs["connect_args"] = {"server_settings": {"search_path": search_path}}
    return create_async_engine(database_url, **kwargs)


async def check_reachable(engine: AsyncEngine) -> None:
    """Open one connection, so that an unreachable server, a refused login or a missing
    database becomes one :class:`DatabaseUnavailable` sentence (URL without its password,
    and the driver's reason) instead of a driver traceback at the first query."""
    try:
        async with engine.connect():
            return
    except (OSError, DBAPIError) as exc:
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        where = engine.url.render_as_string(hide_password=True)
        first_line = (str(reason).strip().splitlines() or [type(reason).__name__])[0]
        raise DatabaseUnavailable(
            f"cannot open the database {where} (CALPROXY_DATABASE_URL): {first_line}"
        ) from exc


def _sqlite_engine(database_url: str, *, in_memory: bool) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if in_memory:
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    engine = create_async_engine(database_url, **kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # calproxy emits BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _enable_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _enable_wal(cursor: Any) -> None:
    """WAL is a property of the database file, set once; but switching to it needs an
    exclusive lock that SQLite does not wait for (no busy handler), so processes opening a
    new database together retry for a moment."""
    for attempt in range(WAL_ATTEMPTS):
        try:
            cursor.execute("PRAGMA journal_mode")
            if str(cursor.fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:
            if "locked" not in str(exc) or attempt == WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.02)


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that will write: committed on success, rolled back on any error."""
    async with engine.connect() as conn:
        await conn.execution_options(**{_WRITE: True})
        async with conn.begin():
            yield conn


@asynccontextmanager
async def read_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that only reads (one consistent snapshot)."""
    async with engine.connect() as conn, conn.begin():
        yield conn
