"""Versioned schema migrations, applied in order at start-up and recorded in
``schema_version`` (one row per applied version).

Running them is idempotent: applied versions are skipped, so a second start (or a second
call) changes nothing. Two processes starting at once are serialized: on PostgreSQL the
whole run holds a transaction-scoped advisory lock (taken before anything else, even the
``CREATE TABLE IF NOT EXISTS schema_version``, which is not safe under concurrency by
itself), and its DDL is transactional, so the loser of the race waits, then finds
everything applied. On SQLite the run is one ``BEGIN IMMEDIATE`` transaction, which holds
the database's write lock for the same effect.

Adding a migration: a module ``vN_<what>.py`` beside this one with an ``apply(conn)``
that CREATEs or ALTERs with definitions of its own (frozen: never edited once released),
a row in :data:`MIGRATIONS`, and the new shape in :mod:`proxy.store.schema`, which the
queries use. Version 1 (:mod:`.v1_baseline`) is the frozen baseline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from proxy.store import schema
from proxy.store.engine import write_transaction
from proxy.store.migrations import (
    v1_baseline,
    v2_rederive_ids,
    v3_portal,
    v4_sync_leases,
    v5_audit,
    v6_calendar_incarnation,
    v9_notifications,
    v10_push_channels,
    v13_change_log_retention,
)

#: arbitrary constant naming calproxy's migration lock among PostgreSQL advisory locks
ADVISORY_LOCK_KEY = 0x63616C70726F7879 & 0x7FFFFFFFFFFFFFFF  # "calproxy"


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer calproxy than this one."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    apply: Callable[[AsyncConnection], Awaitable[None]]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "baseline: accounts, users, tokens, integrations, mirror", v1_baseline.apply),
    Migration(2, "full resync once: mirrored ids re-derived", v2_rederive_ids.apply),
    Migration(3, "portal: sessions, login links, sign-in flows, identities", v3_portal.apply),
    Migration(4, "sync leases: one round per calendar across instances", v4_sync_leases.apply),
    Migration(5, "audit trail", v5_audit.apply),
    Migration(6, "calendars.incarnation for read caches", v6_calendar_incarnation.apply),
    Migration(9, "change notifications: webhooks, snapshots, change log", v9_notifications.apply),
    Migration(10, "push channels: provider change notifications", v10_push_channels.apply),
    Migration(13, "change_log.at index for pruning", v13_change_log_retention.apply),
)


async def migrate(engine: AsyncEngine) -> list[int]:
    """Apply every pending migration in one locked transaction; return the versions applied."""
    async with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY},
            )
        await conn.run_sync(lambda c: schema.schema_version.create(c, checkfirst=True))
        done = set((await conn.execute(select(schema.schema_version.c.version))).scalars())
        newest = max((m.version for m in MIGRATIONS), default=0)
        if done and max(done) > newest:
            raise SchemaTooNew(
                f"the database schema is at version {max(done)}, newer than this calproxy "
                f"knows ({newest}); upgrade calproxy"
            )
        applied = []
        for migration in sorted(MIGRATIONS, key=lambda m: m.version):
            if migration.version in done:
                continue
            await migration.apply(conn)
            await conn.execute(insert(schema.schema_version).values(
                version=migration.version, name=migration.name, applied_at=datetime.now(UTC),
            ))
            applied.append(migration.version)
        return applied


async def pending(engine: AsyncEngine) -> list[int]:
    """Versions this calproxy knows that the database has not applied (one real read)."""
    async with engine.connect() as conn:
        exists = await conn.run_sync(
            lambda c: c.dialect.has_table(c, schema.schema_version.name)
        )
        done = set((await conn.execute(select(schema.schema_version.c.version))).scalars()) \
            if exists else set()
    return sorted(m.version for m in MIGRATIONS if m.version not in done)


async def current_version(engine: AsyncEngine) -> int:
    """The highest applied version (0 for an empty database)."""
    async with engine.connect() as conn:
        exists = await conn.run_sync(
            lambda c: c.dialect.has_table(c, schema.schema_version.name)
        )
        if not exists:
            return 0
        value = await conn.scalar(select(schema.schema_version.c.version)
                                  .order_by(schema.schema_version.c.version.desc()).limit(1))
        return int(value or 0)
