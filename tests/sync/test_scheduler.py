"""The background scheduler and cross-instance single-flight, in one process over the
memory provider: two stores on one SQLite file stand for two instances (no relay, so
waiting instances fall back to polling)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from proxy.config import Settings
from proxy.core.model import Calendar, Event, Permissions, Service
from proxy.providers.memory import MemoryBackend
from proxy.store.records import Integration, IntegrationStatus, Role
from proxy.store.sql import SqlStore, open_store
from proxy.sync.calendars import CalendarService
from proxy.sync.connections import Connections
from proxy.sync.driver import Syncer
from proxy.sync.scheduler import Scheduler, sync_lag
from tests.api.conftest import memory_registry

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


@dataclass
class Instance:
    store: SqlStore
    service: CalendarService


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Settings, MemoryBackend, list[Instance],
                                                       Integration]]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 's.db'}",
                        secret_key="k", freshness_seconds=1, sync_concurrency=3)
    backend = MemoryBackend()
    stores = [await open_store(settings) for _ in range(2)]
    account = await stores[0].create_account("A", {})
    user = await stores[0].create_user(account.id, "u@a.example", Role.MEMBER)
    integration = await stores[0].create_integration(
        user.id, Service.EXCHANGE_EWS, IntegrationStatus.CONNECTED, Permissions(),
        Permissions())
    for n in range(4):
        backend.add_calendar(integration.id, Calendar(f"cal{n}", f"Calendar {n}"))
        backend.put_event(integration.id, Event(backend.new_id(), f"cal{n}", Service.GRAPH,
                                                START, START + timedelta(hours=1), title="x"))
    async with aiohttp.ClientSession() as http:
        instances = []
        for store in stores:
            connections = Connections(store, settings, http, memory_registry(backend))
            instances.append(Instance(store, CalendarService(
                store, settings, connections, Syncer(store, settings, poll_seconds=0.02))))
        yield settings, backend, instances, integration
    for store in stores:
        await store.close()


async def test_one_round_across_instances_for_concurrent_readers(world) -> None:  # type: ignore[no-untyped-def]
    _settings, backend, instances, integration = world
    owner = integration.user_id
    pairs = await instances[0].service.calendars(owner)
    for pair in pairs:
        await instances[0].store.set_calendar_synced(pair[1].id, True)
    before = backend.requests
    await asyncio.gather(*(instances[n % 2].service.fresh_calendars(owner) for n in range(20)))
    synced = len(pairs)
    assert backend.requests - before == synced  # one page per calendar, not 20 or 2
    assert sum(i.service.syncer.rounds for i in instances) == synced


async def test_the_scheduler_keeps_mirrors_fresh_without_reads(world) -> None:  # type: ignore[no-untyped-def]
    settings, _backend, instances, integration = world
    schedulers = [Scheduler(i.store, settings, i.service) for i in instances]
    for scheduler in schedulers:
        await scheduler.start()
    try:
        for _ in range(200):  # discovered, then synced: no read asked for it
            records = await instances[0].store.list_calendars([integration.id])
            if records and all(r.synced_at is not None for r in records if r.synced):
                break
            await asyncio.sleep(0.05)
        assert records and all(r.synced_at is not None for r in records if r.synced)
        rounds_after_start = sum(i.service.syncer.rounds for i in instances)
        await asyncio.sleep(3.2)  # three freshness periods
        rounds = sum(i.service.syncer.rounds for i in instances) - rounds_after_start
        targets = len([r for r in records if r.synced]) + 1  # + the contacts
        assert targets * 2 <= rounds <= targets * 3  # about one per period, not one each
        assert max(s.sync_lag() for s in schedulers) < 1.9
        assert await sync_lag(instances[0].store) < 1.9
    finally:
        for scheduler in schedulers:
            await scheduler.stop()
