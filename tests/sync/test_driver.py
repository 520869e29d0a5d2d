"""The sync driver against the memory provider and the real store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from proxy.config import Settings
from proxy.core.model import Event, Permissions, Service
from proxy.errors import UpstreamError
from proxy.providers.base import Connection
from proxy.providers.memory import MemoryBackend, MemoryProvider
from proxy.store.records import IntegrationStatus, Role
from proxy.store.sql import open_store
from proxy.sync.driver import Syncer

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


async def setup(tmp_path: Path, freshness: int = 60):  # type: ignore[no-untyped-def]
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 's.db'}",
                        secret_key="k", freshness_seconds=freshness)
    store = await open_store(settings)
    account = await store.create_account("A", {})
    user = await store.create_user(account.id, "u@a.example", Role.MEMBER)
    integration = await store.create_integration(
        user.id, Service.GRAPH, IntegrationStatus.CONNECTED, Permissions(), Permissions())
    backend = MemoryBackend()
    backend.page_size = 3
    return settings, store, integration, backend


def event(backend: MemoryBackend, title: str, hours: int = 0) -> Event:
    return Event(backend.new_id(), "primary", Service.GRAPH, START + timedelta(hours=hours),
                 START + timedelta(hours=hours + 1), title=title)


async def mirrored_titles(store, calendar_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    items = await store.events_in_range([calendar_id], START - timedelta(days=1),
                                        START + timedelta(days=30))
    return sorted(i.event.title for i in items)


async def test_pages_to_the_end_and_serves_fresh_reads_without_upstream_calls(
        tmp_path: Path) -> None:
    settings, store, integration, backend = await setup(tmp_path)
    async with aiohttp.ClientSession() as http:
        provider = MemoryProvider(backend, Connection(settings, http, mailbox_key=integration.id))
        for i in range(7):
            backend.put_event(integration.id, event(backend, f"e{i}", i))
        [calendar] = await store.upsert_calendars(integration.id,
                                                  await provider.list_calendars(), False)
        syncer = Syncer(store, settings)
        await syncer.ensure_fresh(integration, provider, [calendar])
        assert await mirrored_titles(store, calendar.id) == [f"e{i}" for i in range(7)]
        calls = backend.requests
        [calendar] = await store.list_calendars([integration.id])
        await syncer.ensure_fresh(integration, provider, [calendar])
        assert backend.requests == calls  # fresh: no upstream call
    await store.close()


async def test_expired_cursor_resyncs_and_reconciles_deletions(tmp_path: Path) -> None:
    settings, store, integration, backend = await setup(tmp_path, freshness=0)
    async with aiohttp.ClientSession() as http:
        provider = MemoryProvider(backend, Connection(settings, http, mailbox_key=integration.id))
        keep = backend.put_event(integration.id, event(backend, "keep"))
        gone = backend.put_event(integration.id, event(backend, "gone", 2))
        [calendar] = await store.upsert_calendars(integration.id,
                                                  await provider.list_calendars(), False)
        syncer = Syncer(store, settings)
        await syncer.sync_calendar(integration, provider, calendar)
        # deleted upstream while the cursor expired: no tombstone will ever arrive
        del backend.mailbox(integration.id).events["primary"][gone.provider_id]
        backend.put_event(integration.id, replace(keep, title="kept"))
        backend.expire_cursors(integration.id)
        [calendar] = await store.list_calendars([integration.id])
        await syncer.sync_calendar(integration, provider, calendar)
        assert await mirrored_titles(store, calendar.id) == ["kept"]
    await store.close()


async def test_failure_mid_round_leaves_the_previous_mirror(tmp_path: Path) -> None:
    settings, store, integration, backend = await setup(tmp_path, freshness=0)
    async with aiohttp.ClientSession() as http:
        provider = MemoryProvider(backend, Connection(settings, http, mailbox_key=integration.id))
        backend.put_event(integration.id, event(backend, "first"))
        [calendar] = await store.upsert_calendars(integration.id,
                                                  await provider.list_calendars(), False)
        syncer = Syncer(store, settings)
        await syncer.sync_calendar(integration, provider, calendar)
        for i in range(5):
            backend.put_event(integration.id, event(backend, f"new{i}", i + 1))
        backend.expire_cursors(integration.id)

        original = provider.sync_events
        pages = 0

        async def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal pages
            pages += 1
            if pages == 3:  # the expired answer, page one, then a failure
                raise UpstreamError("upstream fell over")
            return await original(*args, **kwargs)

        provider.sync_events = flaky  # type: ignore[method-assign]
        [calendar] = await store.list_calendars([integration.id])
        try:
            await syncer.sync_calendar(integration, provider, calendar)
        except UpstreamError:
            pass
        else:
            raise AssertionError("the failure must surface")
        assert await mirrored_titles(store, calendar.id) == ["first"]
        [after] = await store.list_calendars([integration.id])
        assert after.cursor == calendar.cursor
    await store.close()


async def test_concurrent_readers_share_one_round(tmp_path: Path) -> None:
    import asyncio

    settings, store, integration, backend = await setup(tmp_path, freshness=0)
    async with aiohttp.ClientSession() as http:
        provider = MemoryProvider(backend, Connection(settings, http, mailbox_key=integration.id))
        for i in range(7):
            backend.put_event(integration.id, event(backend, f"e{i}", i))
        [calendar] = await store.upsert_calendars(integration.id,
                                                  await provider.list_calendars(), False)
        syncer = Syncer(store, settings)
        before = backend.requests
        await asyncio.gather(*(syncer.sync_calendar(integration, provider, calendar)
                               for _ in range(5)))
        assert backend.requests - before == 3  # one round of three pages, not five
    await store.close()
