"""Rounds across instances on PostgreSQL: two Manners and Syncers on one database (two
engines, two lease holders) in one process stand for two instances. A throttled mailbox
is paused for every instance (what one learns from a Retry-After, the other obeys before
sending a single request), and a round costs the database two transactions."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import event

from proxy.config import Settings
from proxy.core.model import Event, Permissions, Service
from proxy.errors import UpstreamThrottled
from proxy.providers.base import Connection, Provider
from proxy.providers.memory import MemoryBackend, MemoryProvider
from proxy.store.crypto import CredentialCipher
from proxy.store.engine import make_engine
from proxy.store.records import Integration, IntegrationStatus, Role
from proxy.store.sql import SqlStore
from proxy.sync.driver import Syncer
from proxy.sync.leases import Leases
from proxy.sync.manners import Manners
from tests.store.conftest import PG_URL, SECRET_KEY, drop_pg_schema, new_pg_schema

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


@dataclass
class Instance:
    store: SqlStore
    manners: Manners
    syncer: Syncer

    def provider(self, backend: MemoryBackend, http: aiohttp.ClientSession, settings: Settings,
                 mailbox: str) -> Provider:
        inner = MemoryProvider(backend, Connection(settings, http, mailbox_key=mailbox))
        return self.manners.polite(inner, Service.GRAPH, mailbox)


@dataclass
class World:
    settings: Settings
    backend: MemoryBackend
    http: aiohttp.ClientSession
    one: Instance
    two: Instance
    integration: Integration
    other: Integration


@pytest.fixture
def schema() -> Iterator[str]:
    name = new_pg_schema()
    yield name
    drop_pg_schema(name)


@pytest.fixture
async def world(schema: str) -> AsyncIterator[World]:
    settings = Settings(database_url=PG_URL, secret_key="k", freshness_seconds=0)
    stores = [SqlStore(make_engine(PG_URL, search_path=schema), CredentialCipher(SECRET_KEY))
              for _ in range(2)]
    await stores[0].migrate()
    account = await stores[0].create_account("A", {})
    made = []
    for email in ("exec@a.example", "colleague@a.example"):
        user = await stores[0].create_user(account.id, email, Role.MEMBER)
        made.append(await stores[0].create_integration(
            user.id, Service.GRAPH, IntegrationStatus.CONNECTED, Permissions(), Permissions()))
    instances = []
    for n, store in enumerate(stores):
        leases = Leases(store, f"instance-{n}")
        manners = Manners(leases)
        instances.append(Instance(store, manners, Syncer(store, settings, leases,
                                                         manners=manners)))
    backend = MemoryBackend()
    try:
        async with aiohttp.ClientSession() as http:
            yield World(settings, backend, http, instances[0], instances[1], *made)
    finally:
        for store in stores:
            await store.close()


async def test_a_retry_after_on_one_instance_pauses_the_mailbox_on_the_other(
        world: World) -> None:
    mailbox = world.integration.id
    one = world.one.provider(world.backend, world.http, world.settings, mailbox)
    two = world.two.provider(world.backend, world.http, world.settings, mailbox)
    world.backend.fail_next = UpstreamThrottled("slow down", retry_after=40)
    with pytest.raises(UpstreamThrottled):
        await one.list_calendars()
    sent = world.backend.requests
    with pytest.raises(UpstreamThrottled) as caught:
        await two.list_calendars()  # the other instance never saw a 429 itself
    assert 30 <= caught.value.retry_after <= 40
    assert world.backend.requests == sent  # not a single request was sent
    assert world.two.manners.paused_for(Service.GRAPH, mailbox) > 30  # learned, kept here
    colleague = world.two.provider(world.backend, world.http, world.settings,
                                   world.other.id)
    await colleague.list_calendars()  # another mailbox carries on
    assert world.backend.requests == sent + 1


async def test_a_round_on_the_other_instance_waits_for_the_shared_pause(world: World) -> None:
    integration, backend = world.integration, world.backend
    backend.put_event(integration.id, Event(backend.new_id(), "primary", Service.GRAPH, START,
                                            START + timedelta(hours=1), title="x"))
    one = world.one.provider(backend, world.http, world.settings, integration.id)
    two = world.two.provider(backend, world.http, world.settings, integration.id)
    [calendar] = await world.two.store.upsert_calendars(integration.id,
                                                        await two.list_calendars(), False)
    backend.fail_next = UpstreamThrottled("slow down", retry_after=40)
    with pytest.raises(UpstreamThrottled):
        await world.one.syncer.sync_calendar(integration, one, calendar)
    sent = backend.requests
    with pytest.raises(UpstreamThrottled):  # a long pause: answered at once
        await world.two.syncer.sync_calendar(integration, two, calendar)
    assert backend.requests == sent
    assert await world.two.store.lease_holder(f"calendar:{calendar.id}") is None


async def test_a_short_shared_pause_is_waited_out(world: World) -> None:
    mailbox = world.integration.id
    one = world.one.provider(world.backend, world.http, world.settings, mailbox)
    two = world.two.provider(world.backend, world.http, world.settings, mailbox)
    world.backend.fail_next = UpstreamThrottled("slow down", retry_after=2)
    with pytest.raises(UpstreamThrottled):
        await one.list_calendars()
    began = time.monotonic()
    await two.list_calendars()  # waits the pause out, then asks
    assert time.monotonic() - began >= 1.5


class Statements:
    """What one engine is asked: transactions begun and statements sent."""

    def __init__(self, store: SqlStore) -> None:
        self.transactions, self.statements = 0, []  # type: ignore[var-annotated]
        engine = store.engine.sync_engine
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "before_cursor_execute", self._statement)

    def _begin(self, _conn: Any) -> None:
        self.transactions += 1

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(" ".join(statement.split()[:3]))


async def test_a_round_costs_two_transactions_and_its_pages_none(world: World) -> None:
    integration, backend = world.integration, world.backend
    backend.page_size = 2
    for n in range(5):  # three pages
        backend.put_event(integration.id, Event(backend.new_id(), "primary", Service.GRAPH,
                                                START, START + timedelta(hours=n + 1),
                                                title=f"e{n}"))
    provider = world.one.provider(backend, world.http, world.settings, integration.id)
    [calendar] = await world.one.store.upsert_calendars(integration.id,
                                                        await provider.list_calendars(), False)
    counted = Statements(world.one.store)
    record = await world.one.syncer.refresh_calendar(integration, provider, calendar.id, None)
    assert record is not None and record.synced_at is not None
    assert counted.transactions == 2, counted.statements  # its start, its commit
    assert len(counted.statements) == 7, counted.statements  # 3 to start, 4 to commit
    before = counted.transactions, len(counted.statements)
    await world.one.syncer.refresh_calendar(integration, provider, calendar.id,
                                            record.synced_at)  # nothing new upstream
    assert counted.transactions - before[0] == 2
    assert len(counted.statements) - before[1] == 5, counted.statements[before[1]:]
    assert await world.one.store.lease_holder(f"calendar:{calendar.id}") is None  # released
