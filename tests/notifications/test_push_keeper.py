"""The push keeper over a real store and the memory provider (which records every push
call): channels opened for synced calendars, one per calendar across two keepers on one
PostgreSQL database, renewed before expiry (in place, and Google's way: a new channel,
then the old one stopped), stopped for unsynced calendars and suspended integrations,
and all stopped by a disconnect before the integration is deleted."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from proxy.config import Settings
from proxy.core.model import Calendar, Permissions, Service
from proxy.errors import UpstreamError
from proxy.notifications.push.channels import PushKeeper
from proxy.providers.memory import MemoryBackend
from proxy.store.records import Integration, IntegrationStatus, Role
from proxy.store.sql import SqlStore, open_store
from proxy.sync.calendars import CalendarService
from proxy.sync.connections import Connections
from proxy.sync.driver import Syncer
from proxy.sync.leases import Leases
from tests.api.conftest import memory_registry
from tests.store.conftest import PG_URL

PUSHING = {"push": "on", "push_allow_http": True, "freshness_seconds": 3600,
           "secret_key": "k"}


@dataclass
class Instance:
    store: SqlStore
    service: CalendarService
    keeper: PushKeeper
    nudged: list[str] = field(default_factory=list)


@dataclass
class World:
    backend: MemoryBackend
    instances: list[Instance]
    integration: Integration

    @property
    def one(self) -> Instance:
        return self.instances[0]

    def calls(self, kind: str) -> list[str]:
        return [target for call, target in self.backend.push_calls if call == kind]


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < seconds, "not within the time allowed"
        await asyncio.sleep(0.05)


async def _world(settings: Settings, instances: int,
                 search_path: str | None = None) -> AsyncIterator[World]:
    backend = MemoryBackend()
    stores = [await open_store(settings, search_path=search_path) for _ in range(instances)]
    account = await stores[0].create_account("A", {})
    user = await stores[0].create_user(account.id, "u@a.example", Role.MEMBER)
    integration = await stores[0].create_integration(
        user.id, Service.GRAPH, IntegrationStatus.CONNECTED, Permissions(), Permissions())
    backend.add_calendar(integration.id, Calendar("second", "Second"))
    async with aiohttp.ClientSession() as http:
        built = []
        for store in stores:
            connections = Connections(store, settings, http, memory_registry(backend))
            service = CalendarService(store, settings, connections, Syncer(store, settings))
            instance = Instance(store, service, PushKeeper(store, settings, service,
                                                           Leases(store), scan_seconds=0.2))
            instance.keeper.nudge = instance.nudged.append
            built.append(instance)
        await built[0].service.calendars(user.id)  # listed: the primary one is synced
        world = World(backend, built, integration)
        try:
            yield world
        finally:
            for instance in built:
                await instance.keeper.stop()
                await instance.service.connections.close()
    for store in stores:
        await store.close()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 's.db'}", **PUSHING)
    async for built in _world(settings, 1):
        yield built


@pytest.fixture
async def pg_world() -> AsyncIterator[World]:
    schema = f"push_test_{secrets.token_hex(6)}"
    plain = PG_URL.replace("+asyncpg", "")
    conn = await asyncpg.connect(plain)
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        async for built in _world(Settings(database_url=PG_URL, **PUSHING), 2, schema):
            yield built
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def calendar_ids(world: World) -> dict[str, str]:
    """provider id -> public id of the integration's calendars."""
    records = await world.one.store.list_calendars([world.integration.id])
    return {r.provider_id: r.id for r in records}


async def test_a_synced_calendar_gets_a_channel_and_loses_it_when_unsynced(
        world: World) -> None:
    keeper, store = world.one.keeper, world.one.store
    await keeper.reconcile()
    assert world.calls("watch") == ["primary"]  # "second" is not synced
    ((target, channel),) = world.backend.channels_on("primary")
    (record,) = await store.list_push_channels()
    assert record.upstream_id == channel.upstream_id and record.id == target.channel_id
    assert target.secret not in repr(record)  # only its hash is kept
    assert target.expires - channel.expires < timedelta(seconds=5)
    await keeper.reconcile()
    assert world.calls("watch") == ["primary"]  # nothing more to do

    ids = await calendar_ids(world)
    await store.set_calendar_synced(ids["second"], True)
    await keeper.reconcile()
    assert sorted(world.calls("watch")) == ["primary", "second"]
    await store.set_calendar_synced(ids["primary"], False)
    await keeper.reconcile()
    assert world.calls("unwatch") == [channel.upstream_id]
    assert world.backend.channels_on("primary") == []
    assert [c.calendar_id for c in await store.list_push_channels()] == [ids["second"]]


async def test_the_running_keeper_follows_changes_by_itself(world: World) -> None:
    keeper, store = world.one.keeper, world.one.store
    await keeper.start()

    async def watched(calendar: str) -> bool:
        return bool(world.backend.channels_on(calendar))

    await until(lambda: watched("primary"))
    ids = await calendar_ids(world)
    await store.set_calendar_synced(ids["second"], True)
    await until(lambda: watched("second"))
    await store.set_calendar_synced(ids["second"], False)

    async def dropped() -> bool:
        return not await watched("second")
    await until(dropped)


async def test_a_suspended_integration_loses_its_channels(world: World) -> None:
    keeper, store = world.one.keeper, world.one.store
    await keeper.reconcile()
    ((_, channel),) = world.backend.channels_on("primary")
    await store.update_integration(world.integration.id, status=IntegrationStatus.SUSPENDED,
                                   reason="policy_changed")
    await keeper.reconcile()
    assert world.calls("unwatch") == [channel.upstream_id]
    assert await store.list_push_channels() == []
    await keeper.reconcile()
    assert world.calls("watch") == ["primary"]  # not watched again while suspended


async def test_providers_without_push_are_left_alone(world: World) -> None:
    world.backend.push_lifetime = None
    await world.one.keeper.reconcile()
    await world.one.keeper.reconcile()
    assert world.backend.push_calls == []
    assert await world.one.store.list_push_channels() == []


async def test_a_failing_watch_is_retried_after_a_back_off(world: World) -> None:
    world.backend.fail_next = UpstreamError("refused")
    await world.one.keeper.reconcile()
    assert await world.one.store.list_push_channels() == []
    await world.one.keeper.reconcile()  # backing off: not asked again at once
    assert world.calls("watch") == ["primary"]


async def test_renewal_in_place_before_expiry(world: World) -> None:
    world.backend.push_lifetime = timedelta(seconds=2)
    keeper, store = world.one.keeper, world.one.store
    await keeper.reconcile()
    (first,) = await store.list_push_channels()
    await keeper.start()

    async def renewed() -> bool:
        return len(world.calls("renew")) >= 2
    await until(renewed)
    (now,) = await store.list_push_channels()
    assert (now.id, now.upstream_id, now.secret_hash) == (first.id, first.upstream_id,
                                                           first.secret_hash)
    assert now.expires_at > first.expires_at
    assert world.calls("watch") == ["primary"] and world.calls("unwatch") == []
    assert len(world.backend.channels) == 1


async def test_renewal_by_a_new_channel_then_the_old_one_stopped(world: World) -> None:
    world.backend.push_lifetime = timedelta(seconds=2)
    world.backend.push_renews_in_place = False  # Google's way
    keeper, store = world.one.keeper, world.one.store
    await keeper.reconcile()
    (first,) = await store.list_push_channels()
    await keeper.start()

    async def replaced() -> bool:
        return first.upstream_id in world.calls("unwatch")
    await until(replaced)
    assert world.calls("renew") == []
    assert world.calls("watch")[:2] == ["primary", "primary"]
    (now,) = await store.list_push_channels()
    assert now.id != first.id and now.secret_hash != first.secret_hash
    assert now.upstream_id == now.id  # Google's channel id is ours
    assert world.calls("watch").index("primary", 1) < len(world.backend.push_calls)
    order = [call for call, _ in world.backend.push_calls]
    assert order.index("unwatch") > 1  # the new channel came first (they overlap)


async def test_a_subscription_gone_upstream_is_opened_again_at_renewal(world: World) -> None:
    world.backend.push_lifetime = timedelta(seconds=60)
    keeper, store = world.one.keeper, world.one.store
    await keeper.reconcile()
    (first,) = await store.list_push_channels()
    world.backend.drop_channel(first.upstream_id)
    await keeper.renew_now(first)
    assert world.calls("renew") == [first.upstream_id]
    assert world.calls("watch") == ["primary", "primary"]
    (now,) = await store.list_push_channels()
    assert now.upstream_id != first.upstream_id
    assert list(world.backend.channels) == [now.upstream_id]


async def test_resubscribe_drops_the_row_watches_again_and_nudges(world: World) -> None:
    keeper, store = world.one.keeper, world.one.store
    await keeper.reconcile()
    (first,) = await store.list_push_channels()
    world.backend.drop_channel(first.upstream_id)  # Graph removed it
    await keeper.resubscribe(first)
    (now,) = await store.list_push_channels()
    assert now.id != first.id and world.calls("watch") == ["primary", "primary"]
    assert world.one.nudged == [first.calendar_id]


async def test_stop_all_stops_every_channel_and_keeps_them_closed(world: World) -> None:
    keeper, store = world.one.keeper, world.one.store
    ids = await calendar_ids(world)
    await store.set_calendar_synced(ids["second"], True)
    await keeper.reconcile()
    upstream = sorted(c.upstream_id for c in await store.list_push_channels())
    await keeper.stop_all(world.integration.id)
    assert sorted(world.calls("unwatch")) == upstream
    assert world.backend.channels == {} and await store.list_push_channels() == []
    await keeper.reconcile()  # still connected, but on its way out: not watched again
    assert len(world.calls("watch")) == 2


async def test_two_keepers_on_one_database_open_one_channel_per_calendar(
        pg_world: World) -> None:
    ids = await calendar_ids(pg_world)
    await pg_world.one.store.set_calendar_synced(ids["second"], True)
    for _ in range(3):
        await asyncio.gather(*(i.keeper.reconcile() for i in pg_world.instances))
    assert sorted(pg_world.calls("watch")) == ["primary", "second"]
    assert len(await pg_world.one.store.list_push_channels()) == 2
    assert len(pg_world.backend.channels) == 2
    for instance in pg_world.instances:
        await instance.keeper.start()
    await asyncio.sleep(1.0)
    assert sorted(pg_world.calls("watch")) == ["primary", "second"]


async def test_a_second_channel_left_on_a_calendar_is_stopped(world: World) -> None:
    """A Google-style renewal cut off between opening the new channel and stopping the old
    one leaves two: the older goes at the next reconcile."""
    from dataclasses import replace as changed

    keeper, store = world.one.keeper, world.one.store
    await keeper.reconcile()
    (first,) = await store.list_push_channels()
    await store.put_push_channel(changed(first, id="older", upstream_id="sub-older",
                                         created_at=first.created_at - timedelta(hours=1)))
    await keeper.reconcile()
    assert world.calls("unwatch") == ["sub-older"]
    assert [c.id for c in await store.list_push_channels()] == [first.id]


async def test_with_push_turned_off_the_channels_left_open_are_stopped(world: World) -> None:
    await world.one.keeper.reconcile()
    (left,) = await world.one.store.list_push_channels()
    off = Settings(database_url="sqlite+aiosqlite://", **{**PUSHING, "push": "off"})
    keeper = PushKeeper(world.one.store, off, world.one.service, Leases(world.one.store))
    await keeper.start()
    try:
        async def stopped() -> bool:
            return world.calls("unwatch") == [left.upstream_id]
        await until(stopped)
        assert await world.one.store.list_push_channels() == []
        assert world.calls("watch") == ["primary"]  # and nothing opened again
    finally:
        await keeper.stop()


async def test_a_channel_of_a_calendar_gone_upstream_is_stopped(world: World) -> None:
    keeper, store = world.one.keeper, world.one.store
    ids = await calendar_ids(world)
    await store.set_calendar_synced(ids["second"], True)
    await keeper.reconcile()
    ((_, second),) = world.backend.channels_on("second")
    del world.backend.mailbox(world.integration.id).calendars["second"]
    await world.one.service.calendars(world.integration.user_id, refresh=True)
    assert ids["second"] not in await calendar_ids(world)  # its channel row went with it
    await keeper.reconcile()
    assert world.calls("unwatch") == [second.upstream_id]
    assert len(world.backend.channels) == 1
    await keeper.reconcile()
    assert world.calls("unwatch") == [second.upstream_id]  # once
