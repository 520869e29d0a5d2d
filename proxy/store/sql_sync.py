"""What keeps sync going across instances: leases and the background schedule.

A lease is one row (``sync_leases``) naming what is held, by which instance, until when.
Taking it is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at < now``: the
statement either creates the row, takes over an expired one, or changes nothing, and the
database serialises concurrent attempts on the key, so exactly one instance wins. It works
the same on SQLite and PostgreSQL. A holder that dies stops renewing, and its lease simply
expires; nothing needs cleaning up.

Leases are coordination, not data: no cache holds them, so they announce nothing to
:mod:`proxy.store.changes` (a round's result announces itself when it commits).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite

from proxy.store.records import SyncSchedule, SyncTarget
from proxy.store.schema import calendars, integrations, sync_leases
from proxy.store.sql_base import StoreBase, utcnow

_CONNECTED = "connected"
_NONE = "none"


class SyncOps(StoreBase):
    async def acquire_lease(self, key: str, holder: str, seconds: float) -> bool:
        """Take ``key`` for ``seconds`` unless another holder's lease is still live."""
        now = utcnow()
        values = {"key": key, "holder": holder, "expires_at": now + timedelta(seconds=seconds)}
        async with self._write() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            statement: Any = dialect.insert(sync_leases).values(**values)
            statement = statement.on_conflict_do_update(
                index_elements=[sync_leases.c.key],
                set_={"holder": holder, "expires_at": values["expires_at"]},
                where=sync_leases.c.expires_at < now,
            ).returning(sync_leases.c.holder)
            return (await conn.execute(statement)).first() is not None

    async def renew_lease(self, key: str, holder: str, seconds: float) -> bool:
        """Extend a lease ``holder`` still has; False when it lapsed and was taken."""
        until = utcnow() + timedelta(seconds=seconds)
        async with self._write() as conn:
            result = await conn.execute(
                update(sync_leases)
                .where(sync_leases.c.key == key, sync_leases.c.holder == holder)
                .values(expires_at=until).returning(sync_leases.c.key))
            return result.first() is not None

    async def release_lease(self, key: str, holder: str) -> None:
        async with self._write() as conn:
            await conn.execute(delete(sync_leases).where(
                sync_leases.c.key == key, sync_leases.c.holder == holder))

    async def lease_holder(self, key: str) -> str | None:
        """Who holds ``key`` now (None when free or expired)."""
        async with self._read() as conn:
            return (await conn.execute(select(sync_leases.c.holder).where(
                sync_leases.c.key == key, sync_leases.c.expires_at >= utcnow()))).scalar()

    async def sync_schedule(self) -> SyncSchedule:
        """Synced calendars and contacts of connected integrations granted access."""
        i, c = integrations.c, calendars.c
        live_calendar = and_(i.status == _CONNECTED, i.granted_calendar != _NONE)
        async with self._read() as conn:
            rows = await conn.execute(
                select(c.id, c.integration_id, c.synced_at)
                .join(integrations, i.id == c.integration_id)
                .where(c.synced.is_(True), live_calendar))
            found = [SyncTarget(r.id, r.integration_id, r.synced_at) for r in rows]
            rows = await conn.execute(
                select(i.id, i.contacts_synced_at)
                .where(i.status == _CONNECTED, i.granted_contacts != _NONE))
            contacts = [SyncTarget(r.id, r.id, r.contacts_synced_at) for r in rows]
            rows = await conn.execute(select(i.id).where(
                live_calendar, ~exists().where(c.integration_id == i.id)))
            undiscovered = [r.id for r in rows]
        return SyncSchedule(found, contacts, undiscovered)

