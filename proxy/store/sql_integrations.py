"""Integrations and their credentials.

Credentials (OAuth tokens, the PKCE verifier, an EWS password) live only in the
``credentials`` table, as one Fernet blob per integration; ``details`` holds non-secret
connection data. Deleting an integration deletes its row and lets the foreign keys cascade
to its credentials, calendars, mirrored events and contacts, all in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import EllipsisType
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.core.model import Access, Permissions, Service
from proxy.errors import NotFound
from proxy.store.changes import Topic
from proxy.store.records import Integration, IntegrationStatus
from proxy.store.schema import credentials as credentials_table
from proxy.store.schema import integrations, users
from proxy.store.sql_base import StoreBase, new_id, utcnow


def integration_record(row: Row[Any]) -> Integration:
    return Integration(
        id=row.id, user_id=row.user_id, service=Service(row.service),
        status=IntegrationStatus(row.status), reason=row.reason,
        requested=Permissions(Access(row.requested_calendar), Access(row.requested_contacts)),
        granted=Permissions(Access(row.granted_calendar), Access(row.granted_contacts)),
        scopes=row.scopes, details=json.loads(row.details), oauth_state=row.oauth_state,
        created=row.created, updated=row.updated, contacts_cursor=row.contacts_cursor,
        contacts_synced_at=row.contacts_synced_at,
    )


def _permission_columns(prefix: str, permissions: Permissions) -> dict[str, str]:
    return {f"{prefix}_calendar": Access(permissions.calendar).value,
            f"{prefix}_contacts": Access(permissions.contacts).value}


def _not_found() -> NotFound:
    return NotFound("unknown integration", code="integration_not_found")


class IntegrationOps(StoreBase):
    async def create_integration(
        self, user_id: str, service: Service, status: IntegrationStatus,
        requested: Permissions, granted: Permissions, *, scopes: str = "",
        details: Mapping[str, str] | None = None, credentials: Mapping[str, str] | None = None,
        oauth_state: str | None = None, reason: str | None = None,
    ) -> Integration:
        """Insert an integration (and its encrypted credentials); ``NotFound`` for an
        unknown user."""
        now = utcnow()
        values: dict[str, Any] = {
            "id": new_id(), "user_id": user_id, "service": Service(service).value,
            "status": IntegrationStatus(status).value, "reason": reason, "scopes": scopes,
            "details": json.dumps(dict(details or {})), "oauth_state": oauth_state,
            "created": now, "updated": now,
            **_permission_columns("requested", requested),
            **_permission_columns("granted", granted),
        }
        blob = self._cipher.encrypt(credentials) if credentials else None
        async with self._write() as conn:
            if await conn.scalar(select(users.c.id).where(users.c.id == user_id)) is None:
                raise NotFound("unknown user", code="user_not_found")
            await conn.execute(insert(integrations).values(**values))
            if blob is not None:
                await conn.execute(insert(credentials_table).values(
                    integration_id=values["id"], blob=blob))
            row = await self._fetch(conn, values["id"])
        assert row is not None
        self._announce(Topic.INTEGRATION, user_id)
        return row

    async def _fetch(self, conn: AsyncConnection, integration_id: str) -> Integration | None:
        row = (await conn.execute(
            select(integrations).where(integrations.c.id == integration_id))).first()
        return integration_record(row) if row else None

    async def get_integration(self, integration_id: str) -> Integration | None:
        async with self._read() as conn:
            return await self._fetch(conn, integration_id)

    async def integration_for_state(self, oauth_state: str) -> Integration | None:
        async with self._read() as conn:
            row = (await conn.execute(
                select(integrations).where(integrations.c.oauth_state == oauth_state))).first()
        return integration_record(row) if row else None

    async def list_integrations(self, user_id: str) -> list[Integration]:
        return await self._list(select(integrations).where(integrations.c.user_id == user_id))

    async def list_account_integrations(self, account_id: str) -> list[Integration]:
        return await self._list(
            select(integrations).join(users, users.c.id == integrations.c.user_id)
            .where(users.c.account_id == account_id))

    async def _list(self, query: Any) -> list[Integration]:
        async with self._read() as conn:
            rows = await conn.execute(query.order_by(integrations.c.created, integrations.c.id))
            return [integration_record(r) for r in rows]

    async def update_integration(
        self, integration_id: str, *, status: IntegrationStatus | None = None,
        reason: str | EllipsisType | None = ..., granted: Permissions | None = None,
        scopes: str | None = None, oauth_state: str | EllipsisType | None = ...,
        details: Mapping[str, str] | None = None, requested: Permissions | None = None,
    ) -> Integration:
        """Change the given fields (``...`` = leave as is; ``None`` for reason/state clears);
        ``NotFound`` for an unknown integration."""
        values: dict[str, Any] = {"updated": utcnow()}
        if requested is not None:
            values.update(_permission_columns("requested", requested))
        if status is not None:
            values["status"] = IntegrationStatus(status).value
        if not isinstance(reason, EllipsisType):
            values["reason"] = reason
        if granted is not None:
            values.update(_permission_columns("granted", granted))
        if scopes is not None:
            values["scopes"] = scopes
        if not isinstance(oauth_state, EllipsisType):
            values["oauth_state"] = oauth_state
        if details is not None:
            values["details"] = json.dumps(dict(details))
        async with self._write() as conn:
            row = (await conn.execute(update(integrations).where(
                integrations.c.id == integration_id).values(**values)
                .returning(*integrations.c))).first()
        if row is None:
            raise _not_found()
        self._announce(Topic.INTEGRATION, row.user_id)
        return integration_record(row)

    async def get_credentials(self, integration_id: str) -> dict[str, str]:
        """Decrypted credentials (``{}`` if none were stored); ``NotFound`` for an unknown
        integration, :class:`~proxy.store.crypto.SecretKeyError` if the key does not fit."""
        async with self._read() as conn:
            row = (await conn.execute(
                select(integrations.c.id, credentials_table.c.blob)
                .outerjoin(credentials_table,
                           credentials_table.c.integration_id == integrations.c.id)
                .where(integrations.c.id == integration_id))).first()
        if row is None:
            raise _not_found()
        return self._cipher.decrypt(row.blob) if row.blob else {}

    async def set_credentials(self, integration_id: str, credentials: Mapping[str, str]) -> None:
        """Replace the integration's credentials with ``credentials`` (encrypted)."""
        blob = self._cipher.encrypt(credentials)
        async with self._write() as conn:
            found = await conn.execute(update(integrations).where(
                integrations.c.id == integration_id).values(updated=utcnow()))
            if not found.rowcount:
                raise _not_found()
            where = credentials_table.c.integration_id == integration_id
            if not (await conn.execute(update(credentials_table).where(where)
                                       .values(blob=blob))).rowcount:
                await conn.execute(insert(credentials_table).values(
                    integration_id=integration_id, blob=blob))

    async def delete_integration(self, integration_id: str) -> None:
        """Forget the integration, its credentials, calendars, mirrored events and
        contacts (one statement, cascading); a no-op for an unknown id."""
        async with self._write() as conn:
            owner = await conn.scalar(select(integrations.c.user_id)
                                      .where(integrations.c.id == integration_id))
            await conn.execute(delete(integrations).where(integrations.c.id == integration_id))
        if owner is not None:
            self._announce(Topic.INTEGRATION, owner)
            self._announce(Topic.CONTACTS, integration_id)
