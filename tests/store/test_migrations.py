"""Migrations: idempotent, safe when two processes start at once, and the schema they
build is the one ``schema.py`` declares."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from proxy.config import Settings
from proxy.store import migrations
from proxy.store.engine import write_transaction
from proxy.store.migrations import MIGRATIONS, SchemaTooNew, current_version
from proxy.store.schema import metadata
from proxy.store.sql import SqlStore, open_store
from tests.store.conftest import SECRET_KEY, Backend, drop_pg_schema, new_pg_schema
from tests.store.helpers import T0, calendar_of, user_with_integration


@pytest.fixture
async def empty(backend: Backend) -> AsyncIterator[Backend]:
    """An empty database of the parametrized kind (a fresh PostgreSQL schema)."""
    if backend.name == "sqlite":
        yield replace(backend, url=f"sqlite+aiosqlite:///{backend.tmp / 'fresh.sqlite3'}")
        return
    name = await asyncio.to_thread(new_pg_schema)
    try:
        yield replace(backend, search_path=name)
    finally:
        await asyncio.to_thread(drop_pg_schema, name)


async def _versions(store: SqlStore) -> list[int]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(text("SELECT version FROM schema_version ORDER BY version"))
        return [r[0] for r in rows]


async def test_migrating_twice_changes_nothing(empty: Backend) -> None:
    store = empty.store()
    try:
        assert await current_version(store.engine) == 0
        applied = await migrations.migrate(store.engine)
        assert applied == [m.version for m in MIGRATIONS]
        assert await migrations.migrate(store.engine) == []
        await store.migrate()
        assert await _versions(store) == [m.version for m in MIGRATIONS]
        assert await current_version(store.engine) == MIGRATIONS[-1].version
    finally:
        await store.close()


async def test_concurrent_starts_apply_each_migration_once(empty: Backend) -> None:
    stores = [empty.store() for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrations.migrate(s.engine) for s in stores))
        assert sorted(map(len, results)) == [0, 0, 0, len(MIGRATIONS)]
        assert await _versions(stores[0]) == [m.version for m in MIGRATIONS]
    finally:
        for store in stores:
            await store.close()


async def test_the_migrated_schema_matches_the_declared_one(empty: Backend) -> None:
    store = empty.store()
    try:
        await store.migrate()
        async with store.engine.connect() as conn:
            found = await conn.run_sync(lambda c: {
                t: {col["name"] for col in inspect(c).get_columns(t)}
                for t in inspect(c).get_table_names()})
        assert found == {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
    finally:
        await store.close()


async def test_a_newer_schema_is_refused(empty: Backend) -> None:
    store = empty.store()
    try:
        await store.migrate()
        async with store.engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO schema_version (version, name, applied_at) "
                "VALUES (999, 'from the future', CURRENT_TIMESTAMP)"))
        with pytest.raises(SchemaTooNew, match="999"):
            await store.migrate()
    finally:
        await store.close()


async def test_open_store_migrates(empty: Backend) -> None:
    settings = Settings(database_url=empty.url, secret_key=SECRET_KEY)
    store = await open_store(settings, search_path=empty.search_path)
    try:
        assert await _versions(store) == [m.version for m in MIGRATIONS]
        account = await store.create_account("Acme", {})
        assert await store.get_account(account.id) == account
    finally:
        await store.close()


async def test_sqlite_file_pragmas(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"
    store = await open_store(Settings(database_url=url, secret_key="k"))
    try:
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await store.close()


async def test_sqlite_in_memory_keeps_its_tables() -> None:
    store = await open_store(Settings(database_url="sqlite+aiosqlite://", secret_key="k"))
    try:
        account = await store.create_account("Acme", {})  # tables survive across
        assert await store.get_account(account.id) == account  # checkouts (StaticPool)
    finally:
        await store.close()


async def test_migration_2_makes_every_next_round_a_full_one(backend: Backend) -> None:
    """Mirrored before ids were re-derived: after migration 2 no cursor is left, so each
    calendar's and each contact mirror's next round replaces the mirror in full."""
    store = backend.store()
    try:
        await store.migrate()
        _, integration = await user_with_integration(store)
        calendar = await calendar_of(store, integration)
        await store.apply_event_sync(calendar.id, [], [], "delta-1", T0, full=True)
        await store.apply_contact_sync(integration.id, [], [], "people-1", T0, full=True)
        async with write_transaction(store.engine) as conn:
            await conn.execute(text("DELETE FROM schema_version WHERE version = 2"))
        assert await migrations.migrate(store.engine) == [2]
        again = await store.get_calendar(calendar.id)
        got = await store.get_integration(integration.id)
        assert again is not None and (again.cursor, again.synced_at) == (None, None)
        assert got is not None and (got.contacts_cursor, got.contacts_synced_at) == (None, None)
    finally:
        await store.close()


async def test_migration_13_keeps_the_change_log_and_never_reuses_its_numbers(
        empty: Backend) -> None:
    """A database at the versions before 13 with change-log entries: after migration 13
    the entries are all there, and a number pruned away is not handed out again (SQLite's
    table is rebuilt with AUTOINCREMENT)."""
    store = empty.store()
    try:
        async with write_transaction(store.engine) as conn:
            await conn.run_sync(lambda c: metadata.tables["schema_version"].create(c))
            for migration in (m for m in MIGRATIONS if m.version < 13):
                await migration.apply(conn)
                await conn.execute(text(
                    "INSERT INTO schema_version (version, name, applied_at) "
                    "VALUES (:v, :n, CURRENT_TIMESTAMP)"), {"v": migration.version,
                                                           "n": migration.name})
        user, _ = await user_with_integration(store, email="log-v13@example.com")
        await store.record_change(user.id, "full", "cal", None, {}, None)
        seqs = [await store.record_change(user.id, "full", "cal", n + 1, {"e": str(n)},
                                          {"n": n}) for n in range(3)]
        assert await migrations.migrate(store.engine) == [13]
        assert await store.changes_after(user.id, "full", 0) == [
            (seq, {"n": n}) for n, seq in enumerate(seqs)]
        assert await store.prune_changes(T0.replace(year=2100)) == 3
        fresh = await store.record_change(user.id, "full", "cal", 4, {"e": "x"}, {"n": 9})
        assert fresh is not None and fresh > max(s or 0 for s in seqs)
    finally:
        await store.close()
