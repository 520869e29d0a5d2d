"""Migration 4: leases, so that several instances run one sync round per calendar.

A lease is a row naming what is held (``calendar:<id>``, ``slot:<mailbox>:<n>``, ...),
which instance holds it and until when. Holders renew it while they work; a dead
holder's lease simply expires, so nothing needs cleaning up after a crash. Frozen.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.store.schema import UtcDateTime

metadata = MetaData()  # this migration's own, frozen

sync_leases = Table(
    "sync_leases", metadata,
    Column("key", String(300), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)


async def apply(conn: AsyncConnection) -> None:
    def create(sync_conn: Connection) -> None:
        metadata.create_all(sync_conn)

    await conn.run_sync(create)
