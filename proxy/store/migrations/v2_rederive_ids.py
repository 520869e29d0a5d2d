"""Migration 2: re-derive every mirrored id once, consistently.

Public ids changed derivation (issue 9): they never begin with ``-`` and derive from the
mailbox, not the integration row. Rows mirrored before keep their old ids until their
event changes, which would leave a series' occurrences pointing at a master id that the
next round no longer produces. Clearing every sync cursor makes each calendar's and each
integration's contacts' next round a full one, which replaces the mirror with rows whose
ids are all derived the new way. Calendar ids themselves stay as they are (events derive
from them), so no reference to a calendar breaks. No schema change.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def apply(conn: AsyncConnection) -> None:
    await conn.execute(text("UPDATE calendars SET cursor = NULL, synced_at = NULL"))
    await conn.execute(text(
        "UPDATE integrations SET contacts_cursor = NULL, contacts_synced_at = NULL"))
