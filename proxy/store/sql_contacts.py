"""The contacts mirror: one row per contact (public id, integration, provider id, JSON);
the sync cursor sits on the integration row. Rounds land in one transaction, as events do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.core.mirror import contact_public_id
from proxy.core.model import Contact
from proxy.errors import NotFound
from proxy.store.changes import Topic
from proxy.store.codec import contact_from_json, contact_to_json
from proxy.store.records import LeaseFence
from proxy.store.schema import contacts, integrations
from proxy.store.sql_base import StoreBase, chunks, fence, id_scope


def contact_row(scope: str, integration_id: str, contact: Contact) -> dict[str, Any]:
    """The row of ``contact``; ``scope`` is the integration's id scope (see
    :func:`proxy.store.sql_base.id_scope`)."""
    return {"id": contact_public_id(scope, contact.provider_id),
            "integration_id": integration_id, "provider_id": contact.provider_id,
            "doc": contact_to_json(contact)}


def _entry(row: Row[Any]) -> tuple[str, str, Contact]:
    return row.id, row.integration_id, contact_from_json(row.doc)


async def _lock_integration(conn: AsyncConnection, integration_id: str) -> str:
    """Lock the integration row; return its id scope. ``NotFound`` if unknown."""
    found = await conn.scalar(select(integrations.c.id).where(
        integrations.c.id == integration_id).with_for_update())
    scope = None if found is None else await id_scope(conn, integration_id)
    if scope is None:
        raise NotFound("unknown integration", code="integration_not_found")
    return scope


async def _replace_contacts(conn: AsyncConnection, integration_id: str,
                            rows: Sequence[dict[str, Any]], removed: Sequence[str],
                            full: bool) -> None:
    mine = contacts.c.integration_id == integration_id
    if full:
        await conn.execute(delete(contacts).where(mine))
    else:
        doomed = sorted({*removed, *(r["provider_id"] for r in rows)})
        for part in chunks(doomed):
            await conn.execute(delete(contacts).where(mine & contacts.c.provider_id.in_(part)))
    if rows:
        await conn.execute(insert(contacts), list(rows))


class ContactOps(StoreBase):
    async def apply_contact_sync(
        self, integration_id: str, changed: Sequence[Contact], removed: Sequence[str],
        cursor: str | None, synced_at: datetime, full: bool, *,
        lease: LeaseFence | None = None,
    ) -> None:
        """Write one contacts round in one transaction: ``removed`` are provider ids,
        ``full=True`` replaces the whole mirror; the cursor moves with the data. With a
        ``lease``, the round commits only while that lease is still held (and releases
        it), else :class:`~proxy.store.records.LeaseLost` and nothing is written."""
        async with self._write() as conn:
            await fence(conn, lease)
            scope = await _lock_integration(conn, integration_id)
            rows = list({c.provider_id: contact_row(scope, integration_id, c)
                         for c in changed}.values())
            await _replace_contacts(conn, integration_id, rows, removed, full)
            await conn.execute(update(integrations).where(integrations.c.id == integration_id)
                               .values(contacts_cursor=cursor, contacts_synced_at=synced_at))
        self._announce(Topic.CONTACTS, integration_id)

    async def list_contacts(self, integration_ids: Sequence[str]) -> list[tuple[str, str, Contact]]:
        """(public id, integration id, contact) for every mirrored contact, by name."""
        if not integration_ids:
            return []
        async with self._read() as conn:
            rows = (await conn.execute(select(contacts).where(
                contacts.c.integration_id.in_(list(integration_ids))))).all()
        found = [_entry(r) for r in rows]
        return sorted(found, key=lambda e: (e[2].display_name.casefold(), e[0]))

    async def get_contact(self, contact_id: str) -> tuple[str, str, Contact] | None:
        async with self._read() as conn:
            row = (await conn.execute(select(contacts).where(contacts.c.id == contact_id))).first()
        return _entry(row) if row else None

    async def put_contact(self, integration_id: str, contact: Contact) -> str:
        """Write-through of a created (or changed) contact; return its public id."""
        async with self._write() as conn:
            row = contact_row(await _lock_integration(conn, integration_id), integration_id,
                              contact)
            await _replace_contacts(conn, integration_id, [row], (), full=False)
        self._announce(Topic.CONTACTS, integration_id)
        return str(row["id"])
