"""Relays carry change notices between two stores on one database (two instances): over
PostgreSQL LISTEN/NOTIFY, and over Redis pub/sub; never across schemas."""

from __future__ import annotations

import asyncio

import pytest

from proxy.store.changes import Change, Topic
from proxy.store.sql import SqlStore
from tests.store.conftest import Backend, drop_pg_schema, new_pg_schema

REDIS_URL = "redis://127.0.0.1:6379/0"


async def _heard(store: SqlStore, want: Change, seconds: float = 5.0) -> bool:
    heard = asyncio.Event()
    store.changes.subscribe(lambda change: heard.set() if change == want else None)
    try:
        await asyncio.wait_for(heard.wait(), seconds)
    except TimeoutError:
        return False
    return True


@pytest.mark.parametrize("redis_url", [None, REDIS_URL], ids=["notify", "redis"])
async def test_a_change_on_one_store_reaches_the_other(redis_url: str | None,
                                                       backend: Backend) -> None:
    if backend.name == "sqlite" and redis_url is None:
        pytest.skip("SQLite without Redis is one instance: no relay")
    other_schema = await asyncio.to_thread(new_pg_schema)
    stores = [backend.store() for _ in range(2)]
    stranger = Backend("postgresql", backend.url, other_schema, backend.tmp).store() \
        if backend.name == "postgresql" else None
    try:
        for store in stores:
            await store.migrate()
            await store.start_relay(redis_url, backend.search_path)
        if stranger is not None:
            await stranger.migrate()
            await stranger.start_relay(redis_url, other_schema)
        account = await stores[0].create_account("Acme", {})
        waiting = asyncio.create_task(_heard(stores[1], Change(Topic.ACCOUNT, account.id)))
        stranger_waits = (asyncio.create_task(_heard(stranger, Change(
            Topic.ACCOUNT, account.id), 1.5)) if stranger else None)
        await asyncio.sleep(0.2)
        await stores[0].save_account_settings(account.id, {})
        assert await waiting
        if stranger_waits is not None:
            assert not await stranger_waits  # another schema: another channel
    finally:
        for store in [*stores, stranger]:
            if store is not None:
                await store.close()
        await asyncio.to_thread(drop_pg_schema, other_schema)
