"""Migration 6: ``calendars.incarnation``, a random id given to each calendar row.

A calendar's public id is derived from its provider ids, so a calendar removed upstream
(or with its integration) and added again comes back under the same id with its
``version`` counting from zero again. Read caches key on ``(id, incarnation, version)``,
which never repeats. Rows that exist already keep the empty incarnation: each of them is
the only incarnation its id has had in this database.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def apply(conn: AsyncConnection) -> None:
    await conn.execute(text(
        "ALTER TABLE calendars ADD COLUMN incarnation VARCHAR(64) NOT NULL DEFAULT ''"))
