"""Re-encrypting every stored secret under the first key of ``CALPROXY_SECRET_KEY``.

:data:`ENCRYPTED` names each column that holds Fernet blobs (provider credentials and
webhook signing secrets). :meth:`RotationOps.rotate_secrets`
walks each in key order, one transaction per batch, and rewrites a blob only if it is
still the one it read (a compare-and-set on the old blob): a server that refreshed a token
meanwhile keeps its newer blob, so rotating while servers run loses nothing. A blob that no
key opens is left exactly as it is and counted, never dropped.

The safe order for operators: deploy ``new,old`` to every server (they then read both and
write under ``new``), run ``calproxy secret rotate``, and only then remove ``old``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.store.crypto import SecretKeyError
from proxy.store.schema import credentials, webhooks
from proxy.store.sql_base import StoreBase

#: (table, key column, blob column) of every column holding encrypted secrets
ENCRYPTED: list[tuple[Table, str, str]] = [
    (credentials, "integration_id", "blob"),
    (webhooks, "id", "secret"),
]


@dataclass(frozen=True, slots=True)
class Rotation:
    rewritten: int  # re-encrypted under the first key
    current: int  # already under the first key: left as they were
    unreadable: int  # no key opens them: left as they were


class RotationOps(StoreBase):
    async def rotate_secrets(self, batch_size: int = 200) -> Rotation:
        """Re-encrypt every stored secret under the first key (see the module doc)."""
        totals = [0, 0, 0]
        for table, key_name, blob_name in ENCRYPTED:
            key, blob = table.c[key_name], table.c[blob_name]
            after: str | None = None
            while True:
                async with self._write() as conn:
                    after, counts = await self._rotate_batch(conn, key, blob, after,
                                                             batch_size)
                totals = [t + c for t, c in zip(totals, counts, strict=True)]
                if after is None:
                    break
        return Rotation(*totals)

    async def _rotate_batch(self, conn: AsyncConnection, key: Column[str], blob: Column[str],
                            after: str | None, size: int) -> tuple[str | None, list[int]]:
        """One batch after key ``after``; returns the last key seen (``None`` when done)
        and the (rewritten, current, unreadable) counts."""
        query = select(key, blob).order_by(key).limit(size)
        if after is not None:
            query = query.where(key > after)
        rows = (await conn.execute(query)).all()
        counts = [0, 0, 0]
        for row_key, old in rows:
            try:
                new = self._cipher.rotate(old)
            except SecretKeyError:
                counts[2] += 1
                continue
            if new is None:
                counts[1] += 1
                continue
            done = await conn.execute(update(key.table).where(key == row_key, blob == old)
                                      .values({blob.name: new}))
            counts[0 if done.rowcount else 1] += 1  # lost the race: a newer blob is there
        return (rows[-1][0] if len(rows) == size else None), counts
