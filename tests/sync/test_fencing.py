"""Fencing: a holder that stalled mid-round until its lease lapsed and another holder
took it over can never commit its (older) round over the next holder's; it takes the
next holder's result instead. Two stores on one SQLite file stand for two instances."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from proxy.config import Settings
from proxy.core.mirror import MirroredEvent
from proxy.core.model import Event, Permissions, Service
from proxy.providers.base import Connection
from proxy.providers.memory import MemoryBackend, MemoryProvider
from proxy.store.records import IntegrationStatus, LeaseFence, Role
from proxy.store.sql import open_store
from proxy.sync.driver import Syncer, mirror_event
from proxy.sync.leases import Leases

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


class Stalling:
    """The memory provider, whose sync pages wait until ``go`` is set (a holder paused,
    say by a long garbage collection or a frozen VM, in the middle of its round)."""

    def __init__(self, inner: MemoryProvider) -> None:
        self.inner, self.go, self.waiting = inner, asyncio.Event(), asyncio.Event()

    async def sync_events(self, *args: Any) -> Any:
        page = await self.inner.sync_events(*args)  # read before the pause: now outdated
        self.waiting.set()
        await self.go.wait()
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def titles(store: Any, calendar_id: str) -> list[str]:
    items = await store.events_in_range([calendar_id], START - timedelta(days=1),
                                        START + timedelta(days=2))
    return sorted(i.event.title for i in items)


async def test_a_stalled_holder_whose_lease_was_taken_cannot_commit(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 's.db'}",
                        secret_key="k", freshness_seconds=0)
    paused_store, next_store = await open_store(settings), await open_store(settings)
    account = await paused_store.create_account("A", {})
    user = await paused_store.create_user(account.id, "u@a.example", Role.MEMBER)
    integration = await paused_store.create_integration(
        user.id, Service.GRAPH, IntegrationStatus.CONNECTED, Permissions(), Permissions())
    backend = MemoryBackend()
    backend.put_event(integration.id, Event(backend.new_id(), "primary", Service.GRAPH, START,
                                            START + timedelta(hours=1), title="old"))
    async with aiohttp.ClientSession() as http:
        provider = Stalling(MemoryProvider(backend, Connection(settings, http,
                                                               mailbox_key=integration.id)))
        [calendar] = await paused_store.upsert_calendars(
            integration.id, await provider.list_calendars(), False)
        # a short lease that is never renewed in time: the stall outlives it
        paused = Syncer(paused_store, settings, Leases(paused_store, "paused", 0.3, 60))
        round_ = asyncio.create_task(paused.sync_calendar(integration, provider, calendar,  # type: ignore[arg-type]
                                                          wait=False))
        await provider.waiting.wait()
        await asyncio.sleep(0.4)  # the lease lapsed meanwhile
        key = f"calendar:{calendar.id}"
        assert await next_store.acquire_lease(key, "next", 30)  # the next holder's round
        newer: MirroredEvent = mirror_event(integration.id, calendar, Event(
            "n1", "primary", Service.GRAPH, START, START + timedelta(hours=1), title="newer"))
        await next_store.apply_event_sync(calendar.id, [newer], [], "next-cursor",
                                          datetime.now(UTC), True,
                                          lease=LeaseFence(key, "next"))
        provider.go.set()
        record = await round_
    assert record is not None and record.cursor == "next-cursor"  # took the next result
    assert await titles(paused_store, calendar.id) == ["newer"]  # not overwritten by "old"
    current = await paused_store.get_calendar(calendar.id)
    assert current is not None and current.cursor == "next-cursor"
    assert paused.rounds == 1  # it ran its round upstream, and its commit was refused
    await paused_store.close()
    await next_store.close()
