"""Graph change notifications end to end: calproxy (push on) ⇄ the Graph emulator over
real HTTP, with the real provider, keeper, hooks and nudger (DESIGN §11 "In").

The freshness window is an hour, so a change that shows in reads within seconds came by
push; the emulator's own request log proves which upstream calls calproxy made.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from .graph_world import EXEC, World, eventually, graph_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with graph_world(f"sqlite+aiosqlite:///{tmp_path / 'calproxy.sqlite3'}") as world:
        yield world


async def subscribed(world: World, calendar_id: str | None = None,
                     timeout: float = 10.0) -> str:
    """The id of a calendar's subscription (the default one's unless named), once the
    keeper has made it and stored it (Graph holds it a moment before its 201 reaches
    calproxy)."""
    calendar_id = calendar_id or world.graph.mailbox(EXEC).primary

    async def made() -> bool:
        subs = world.subs.for_calendar(EXEC, calendar_id)
        stored = {c.upstream_id for c in await world.live.store.list_push_channels()}
        return bool(subs) and subs[0].id in stored

    await eventually(made, timeout)
    return world.subs.for_calendar(EXEC, calendar_id)[0].id


async def shows(world: World, title: str, timeout: float = 10.0) -> float:
    async def there() -> bool:
        return title in await world.titles()

    return await eventually(there, timeout, step=0.2)


async def quiet(world: World, seconds: float = 1.0) -> int:
    """Wait until calproxy has made no upstream request for ``seconds``; the count."""
    seen = -1
    while seen != len(world.graph.requests):
        seen = len(world.graph.requests)
        await asyncio.sleep(seconds)
    return seen


def deltas(world: World, since: int) -> int:
    return sum("calendarView/delta" in path for _, path in world.graph.requests[since:])


async def test_connect_subscribes_after_the_handshake(world: World) -> None:
    await world.connect()
    sub_id = await subscribed(world)
    sub = world.subs.items[sub_id]
    assert sub.resource == "me/events"
    assert sub.notification_url == world.live.url + "/hooks/graph"
    assert sub.lifecycle_url == world.live.url + "/hooks/graph/lifecycle"
    assert sub.client_state and len(sub.client_state) <= 128
    counters = world.subs.notifier.counters
    assert counters.handshakes >= 2 and counters.handshake_failures == 0
    channels = await world.live.store.list_push_channels()
    assert [c.upstream_id for c in channels] == [sub_id]
    assert sub.client_state not in repr(channels)  # only its hash is stored


async def test_an_upstream_change_shows_within_ten_seconds(world: World) -> None:
    await world.connect()
    await subscribed(world)
    assert await world.titles() == []
    world.add("Board meeting")
    assert await shows(world, "Board meeting") < 10
    assert world.subs.notifier.counters.items_delivered >= 1


async def test_a_burst_of_changes_is_one_round(world: World) -> None:
    await world.connect()
    await subscribed(world)
    await world.titles()
    world.subs.notifier.batch_window = 0.0  # every change its own POST
    before = await quiet(world)
    for n in range(6):
        world.add(f"Burst {n}")
        await asyncio.sleep(0.02)
    await shows(world, "Burst 5")
    await asyncio.sleep(1.5)
    assert world.subs.notifier.counters.posts_ok >= 3
    assert deltas(world, before) == 1


async def test_a_second_calendar_and_one_batch_for_both(world: World) -> None:
    team = world.graph.add_calendar(EXEC, "Team")
    await world.connect()
    primary_sub = await subscribed(world)
    _, listed, _ = await world.live.call("exec", "GET", f"/v1/users/{EXEC}/calendars")
    ours = {c["name"]: c["id"] for c in listed["calendars"]}
    status, _, _ = await world.live.call("exec", "PATCH", f"/v1/users/{EXEC}/calendars/"
                                         f"{ours['Team']}", json={"synced": True})
    assert status == 200
    team_sub = world.subs.items[await subscribed(world, team)]
    assert team_sub.resource == f"me/calendars/{team}/events"
    before = await quiet(world)  # the new calendar's first round is done
    subs = world.subs.items
    item = {"changeType": "updated", "resource": "Users/x/Events/y", "tenantId": "t"}
    body = {"value": [
        {**item, "subscriptionId": primary_sub, "clientState": subs[primary_sub].client_state},
        {**item, "subscriptionId": primary_sub, "clientState": subs[primary_sub].client_state},
        {**item, "subscriptionId": team_sub.id, "clientState": team_sub.client_state},
        {"subscriptionId": team_sub.id, "clientState": team_sub.client_state,
         "lifecycleEvent": "missed"},
        {**item, "subscriptionId": team_sub.id, "clientState": "x" * 200},
        {"subscriptionId": 12, "changeType": "updated"},
    ]}
    status, _, _ = await world.live.call(None, "POST", "/hooks/graph", json=body)
    assert status == 202
    await asyncio.sleep(2.0)
    paths = [path for _, path in world.graph.requests[before:] if "calendarView/delta" in path]
    on_team = [p for p in paths if team.rstrip("=") in p]
    assert len(on_team) == 1 and len(paths) == 2, paths


async def test_forged_notifications_cause_no_upstream_request(world: World) -> None:
    await world.connect()
    sub_id = await subscribed(world)
    await world.titles()
    before = await quiet(world)
    forged = {"value": [
        {"subscriptionId": sub_id, "clientState": "not-the-secret", "changeType": "created",
         "resource": "Users/x/Events/y", "tenantId": "t"},
        {"subscriptionId": "00000000-0000-0000-0000-000000000000", "clientState": "x",
         "changeType": "updated", "resource": "Users/x/Events/y", "tenantId": "t"},
        {"subscriptionId": sub_id, "clientState": "x", "lifecycleEvent": "missed"},
    ]}
    for path in ("/hooks/graph", "/hooks/graph/lifecycle"):
        status, _, _ = await world.live.call(None, "POST", path, json=forged)
        assert status == 202
    await asyncio.sleep(2.0)
    assert world.graph.requests[before:] == []


async def test_reauthorization_required_renews(world: World) -> None:
    await world.connect()
    sub_id = await subscribed(world)
    assert world.subs.lifecycle(sub_id, "reauthorizationRequired")

    async def renewed() -> bool:
        return sub_id in world.subs.renewals or sub_id in world.subs.reauthorizations

    await eventually(renewed)
    assert world.subs.items[sub_id]  # renewed in place: the same subscription


async def test_a_subscription_is_renewed_before_it_expires(world: World) -> None:
    world.subs.grant_limit = timedelta(seconds=4)  # compressed: Graph grants days
    await world.connect()
    sub_id = await subscribed(world)

    async def twice() -> bool:
        return world.subs.renewals.count(sub_id) >= 2

    await eventually(twice, timeout=15)
    assert world.subs.expire_subscriptions() == [] and world.subs.removed == []
    channel = (await world.live.store.list_push_channels())[0]
    assert channel.upstream_id == sub_id
    assert channel.expires_at == world.subs.items[sub_id].expires
    world.add("After renewals")
    assert await shows(world, "After renewals") < 10


async def test_subscription_removed_subscribes_again_and_syncs(world: World) -> None:
    await world.connect()
    old = await subscribed(world)
    await world.titles()
    world.subs.lifecycle(old, "subscriptionRemoved")
    world.add("While removed")  # no subscription: no notification for this one
    new = await subscribed(world)
    assert new != old
    await shows(world, "While removed")
    assert [c.upstream_id for c in await world.live.store.list_push_channels()] == [new]


async def test_missed_syncs(world: World) -> None:
    await world.connect()
    sub_id = await subscribed(world)
    await world.titles()
    world.subs.notifier.drop_next()
    world.add("Missed one")
    await world.subs.notifier.idle()
    assert world.subs.notifier.counters.items_dropped == 1
    world.subs.lifecycle(sub_id, "missed")
    await shows(world, "Missed one")


async def test_disconnect_deletes_the_subscription(world: World) -> None:
    integration = (await world.connect())["id"]
    sub_id = await subscribed(world)
    status, _, _ = await world.live.call("exec", "DELETE", f"/v1/me/integrations/{integration}")
    assert status in (200, 204)
    assert ("DELETE", f"/v1.0/subscriptions/{sub_id}") in world.graph.requests
    assert world.subs.items == {}
    assert await world.live.store.list_push_channels() == []


async def test_a_dropped_notification_is_caught_by_polling(tmp_path: Path) -> None:
    async with graph_world(f"sqlite+aiosqlite:///{tmp_path / 'poll.sqlite3'}",
                           freshness_seconds=2) as world:
        await world.connect()
        await subscribed(world)
        await world.titles()
        world.subs.notifier.dropping = True
        world.add("Only by polling")
        assert await shows(world, "Only by polling", timeout=15)
        assert world.subs.notifier.counters.items_dropped >= 1
        assert world.subs.notifier.counters.items_delivered == 0
