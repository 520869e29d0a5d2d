"""Migration 5: the audit trail (DESIGN §12), frozen as first released.

One row per recorded action: when, who (user id and email as they were), what, on whose
calendar (owner id and email, or none for account-level actions), which id or setting, and
whether it was allowed or refused; never content. No foreign keys: a record outlives the
user, integration or feed it names, until retention prunes it.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Index, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.store.schema import UtcDateTime

metadata = MetaData()

audit = Table(
    "audit", metadata,
    Column("id", String(64), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor", String(320), nullable=False),
    Column("action", String(40), nullable=False),
    Column("owner_id", String(64)),
    Column("owner", String(320)),
    Column("target", String(200)),
    Column("result", String(10), nullable=False),
    Index("ix_audit_owner_at", "owner_id", "at"),
    Index("ix_audit_account_at", "account_id", "at"),
    Index("ix_audit_at", "at"),
)


def _create(conn: Connection) -> None:
    audit.create(conn)


async def apply(conn: AsyncConnection) -> None:
    await conn.run_sync(_create)
