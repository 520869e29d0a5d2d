"""What operating calproxy asks of the store: how stale the mirrors are (for metrics)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from proxy.store.schema import calendars, integrations
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
