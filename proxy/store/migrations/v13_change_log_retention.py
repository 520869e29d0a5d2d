"""Migration 13: the change log can be pruned (DESIGN §11: at least an hour kept).

Two things pruning needs. An index on ``change_log.at``, so that pruning by age reads only
what it deletes. And, on SQLite, sequence numbers that are never handed out twice: a plain
``INTEGER PRIMARY KEY`` takes the largest rowid *present* plus one, so once the newest
entries are pruned the next entry would reuse a number a webhook's cursor or a stream's
``Last-Event-ID`` already passed, and it would never be told. ``AUTOINCREMENT`` remembers
the largest ever given; the table is rebuilt with it, entries kept. (PostgreSQL's
sequence never goes back.)
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, Integer, MetaData, String, Table, Text, text
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.store.schema import UtcDateTime

metadata = MetaData()  # this migration's own, frozen
Table("users", metadata, Column("id", String(64), primary_key=True))  # referenced only
rebuilt = Table(
    "change_log_v13", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("owner_id", String(64), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("viewer", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    sqlite_autoincrement=True,
)


async def _rebuild_on_sqlite(conn: AsyncConnection) -> None:
    created = await conn.scalar(text(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'change_log'"))
    if created is None or "AUTOINCREMENT" in str(created).upper():
        return

    def create(sync_conn: Connection) -> None:
        rebuilt.create(sync_conn)

    await conn.run_sync(create)
    await conn.execute(text("INSERT INTO change_log_v13 (seq, owner_id, viewer, body, at) "
                            "SELECT seq, owner_id, viewer, body, at FROM change_log"))
    await conn.execute(text("DROP TABLE change_log"))
    await conn.execute(text("ALTER TABLE change_log_v13 RENAME TO change_log"))
    await conn.execute(text(
        "CREATE INDEX ix_change_log_owner ON change_log (owner_id, viewer, seq)"))


async def apply(conn: AsyncConnection) -> None:
    if conn.dialect.name == "sqlite":
        await _rebuild_on_sqlite(conn)
    await conn.execute(text("CREATE INDEX IF NOT EXISTS ix_change_log_at ON change_log (at)"))
