"""Migration 10: push channels, the providers' change notifications calproxy asked for.

A row is one channel on one calendar (a Graph subscription, a Google watch channel): the
provider's id for it, Google's resource id, the SHA-256 of the secret its notices carry,
and when it expires. Rows go with their calendar (``ON DELETE CASCADE``); during a Google
renewal a calendar briefly has two. Frozen.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, MetaData, String, Table, Text
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.store.schema import UtcDateTime

metadata = MetaData()  # this migration's own, frozen

Table("calendars", metadata, Column("id", String(64), primary_key=True))  # referenced only

Table(
    "push_channels", metadata,
    Column("id", String(64), primary_key=True),
    Column("calendar_id", String(64), ForeignKey("calendars.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("integration_id", String(64), nullable=False, index=True),
    Column("service", String(30), nullable=False),
    Column("upstream_id", String(300), nullable=False, unique=True),
    Column("resource_id", Text),
    Column("secret_hash", String(64), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


async def apply(conn: AsyncConnection) -> None:
    def create(sync_conn: Connection) -> None:
        metadata.create_all(sync_conn, tables=[t for t in metadata.sorted_tables
                                               if t.name != "calendars"])

    await conn.run_sync(create)
