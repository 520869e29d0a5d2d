"""Push channels: the provider channels calproxy holds (DESIGN §11 "In").

One row per channel; the keeper (:mod:`proxy.notifications.push.channels`) writes them
after the provider granted the channel and deletes them once it is stopped. The hooks look
a notice's channel up by the provider's id and compare the secret's SHA-256. Channels are
coordination state, held by no cache, so they announce nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from proxy.core.model import Service
from proxy.store.records import PushChannelRecord
from proxy.store.schema import push_channels
from proxy.store.sql_base import StoreBase


def _record(row: Row[Any]) -> PushChannelRecord:
    return PushChannelRecord(
        id=row.id, calendar_id=row.calendar_id, integration_id=row.integration_id,
        service=Service(row.service), upstream_id=row.upstream_id,
        resource_id=row.resource_id, secret_hash=row.secret_hash,
        expires_at=row.expires_at, created_at=row.created_at)


class PushOps(StoreBase):
    async def put_push_channel(self, record: PushChannelRecord) -> PushChannelRecord:
        """Insert the channel, or replace the row with its ``id`` (a renewal). A calendar
        that is gone raises ``IntegrityError`` on PostgreSQL; the keeper stops the channel
        then."""
        values = {"id": record.id, "calendar_id": record.calendar_id,
                  "integration_id": record.integration_id, "service": record.service.value,
                  "upstream_id": record.upstream_id, "resource_id": record.resource_id,
                  "secret_hash": record.secret_hash, "expires_at": record.expires_at,
                  "created_at": record.created_at}
        async with self._write() as conn:
            found = await conn.execute(update(push_channels)
                                       .where(push_channels.c.id == record.id).values(**values))
            if not found.rowcount:
                await conn.execute(insert(push_channels).values(**values))
        return record

    async def push_channel_by_upstream(self, upstream_id: str) -> PushChannelRecord | None:
        async with self._read() as conn:
            row = (await conn.execute(select(push_channels).where(
                push_channels.c.upstream_id == upstream_id))).first()
        return None if row is None else _record(row)

    async def list_push_channels(self, integration_id: str | None = None
                                 ) -> list[PushChannelRecord]:
        """Every channel, or those of one integration, oldest first."""
        query = select(push_channels).order_by(push_channels.c.created_at, push_channels.c.id)
        if integration_id is not None:
            query = query.where(push_channels.c.integration_id == integration_id)
        async with self._read() as conn:
            return [_record(r) for r in await conn.execute(query)]

    async def delete_push_channel(self, channel_id: str) -> bool:
        async with self._write() as conn:
            result = await conn.execute(delete(push_channels)
                                        .where(push_channels.c.id == channel_id))
        return bool(result.rowcount)
