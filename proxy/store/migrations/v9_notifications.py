"""Migration 9: webhooks, per-viewer change snapshots, the change log, watched owners."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, ForeignKey, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.store.schema import UtcDateTime

metadata = MetaData()  # this migration's own, frozen


def _user_ref(name: str, **kw: Any) -> Column[str]:
    return Column(name, String(64), ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                  **kw)


Table("users", metadata, Column("id", String(64), primary_key=True))  # referenced only

Table(
    "webhooks", metadata,
    Column("id", String(64), primary_key=True),
    _user_ref("subscriber_id", index=True),
    _user_ref("owner_id", index=True),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("delivered_seq", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failing_since", UtcDateTime),
    Column("next_attempt", UtcDateTime),
    Column("claimed_until", UtcDateTime),
)
Table(
    "change_snapshots", metadata,
    _user_ref("owner_id", primary_key=True),
    Column("viewer", String(20), primary_key=True),
    Column("calendar_id", String(64), primary_key=True),
    Column("digests", Text, nullable=False),
    Column("version", Integer, nullable=False),
)
Table(
    "change_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    _user_ref("owner_id"),
    Column("viewer", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_change_log_owner", "owner_id", "viewer", "seq"),
)
Table(
    "change_watch", metadata,
    _user_ref("owner_id", primary_key=True),
    Column("until", UtcDateTime, nullable=False),
)


async def apply(conn: AsyncConnection) -> None:
    def create(sync_conn: Connection) -> None:
        metadata.create_all(sync_conn, tables=[t for t in metadata.sorted_tables
                                               if t.name != "users"])

    await conn.run_sync(create)
