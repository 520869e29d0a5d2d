"""What operating calproxy asks of the store: how stale the mirrors are (for metrics), and
the audit trail (appended in batches, read by owner or account, pruned by age)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, func, insert, select

from proxy.store.records import AuditRecord
from proxy.store.schema import audit, calendars, integrations
from proxy.store.sql_base import StoreBase


class OperationsOps(StoreBase):
    async def stalest_syncs(self) -> dict[str, datetime]:
        """Per service, the oldest ``synced_at`` among synced calendars that have synced
        (``min`` keeps the column's type, so the values come back aware UTC)."""
        query = (select(integrations.c.service, func.min(calendars.c.synced_at))
                 .join(integrations, integrations.c.id == calendars.c.integration_id)
                 .where(calendars.c.synced.is_(True), calendars.c.synced_at.is_not(None))
                 .group_by(integrations.c.service))
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return {str(service): oldest for service, oldest in rows}

    async def append_audit(self, records: Sequence[AuditRecord]) -> None:
        """Write a batch of audit records in one transaction (one multi-row insert)."""
        if not records:
            return
        async with self._write() as conn:
            await conn.execute(insert(audit), [asdict(r) for r in records])

    async def list_audit(self, since: datetime, *, owner_id: str | None = None,
                         account_id: str | None = None, limit: int = 1000) -> list[AuditRecord]:
        """Records at or after ``since``, oldest first, of one owner or one account."""
        query = select(audit).where(audit.c.at >= since)
        if owner_id is not None:
            query = query.where(audit.c.owner_id == owner_id)
        if account_id is not None:
            query = query.where(audit.c.account_id == account_id)
        async with self._read() as conn:
            rows = await conn.execute(query.order_by(audit.c.at, audit.c.id).limit(limit))
            return [AuditRecord(**row._mapping) for row in rows]

    async def prune_audit(self, before: datetime) -> int:
        """Forget records older than ``before``; the number forgotten."""
        async with self._write() as conn:
            done = await conn.execute(delete(audit).where(audit.c.at < before))
        return int(done.rowcount or 0)
