"""Google push channels end to end: calproxy (real store, real GoogleProvider, push on, a
plain-http public URL allowed) against the Google emulator, which calls calproxy's
``/hooks/google`` back over real HTTP on every change (:mod:`tests.push.google_world`).

The freshness window is an hour, so a read never syncs by itself: whatever an upstream
change brings into ``GET /events`` within seconds came by a push (or, where a test says
so, by the safety-net poll).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.push.google_world import EVENTS, EXEC, GoogleWorld, google_world, until


@pytest.fixture
async def pushed(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[GoogleWorld]:
    """Indirect parametrization replaces settings (``{"freshness_seconds": 2}``)."""
    async with google_world(f"sqlite+aiosqlite:///{tmp_path / 'calproxy.sqlite3'}",
                            **getattr(request, "param", {})) as world:
        yield world


async def test_connect_opens_a_channel_per_synced_calendar(pushed: GoogleWorld) -> None:
    await pushed.connect()
    assert len(await pushed.channels()) == len(await pushed.synced()) == 1  # the primary
    _, listed, _ = await pushed.live.call("exec", "GET", f"/v1/users/{EXEC}/calendars")
    team = next(c for c in listed["calendars"] if c["name"] == "Team")
    status, _, _ = await pushed.live.call(
        "exec", "PATCH", f"/v1/users/{EXEC}/calendars/{team['id']}", json={"synced": True})
    assert status == 200
    await until(pushed._channels_match, what="a channel for the calendar synced later")
    channels = await pushed.channels()
    assert len(channels) == len(await pushed.synced()) == 2
    assert len({c.resource_id for c in channels}) == 2  # one resource per calendar
    for record in channels:
        upstream = pushed.google.push.channels[record.upstream_id]
        assert upstream.address == pushed.hook
        assert upstream.token and len(upstream.token) >= 32
        assert record.secret_hash != upstream.token  # stored hashed, never as sent
        assert record.resource_id == upstream.resource_id
    # every sync message was answered 2xx, whether or not the channel was stored yet
    syncs = [d for d in pushed.google.push.deliveries if d.state == "sync"]
    assert syncs and all(d.status == 200 for d in syncs)


async def test_an_upstream_change_shows_within_ten_seconds(pushed: GoogleWorld) -> None:
    await pushed.connect()
    assert await pushed.titles() == []
    pushed.add("Board meeting")

    async def shown() -> bool:
        return await pushed.titles() == ["Board meeting"]

    took = await until(shown, timeout=10, what="the pushed change in GET /events")
    assert took < 10  # DESIGN §11
    assert pushed.google.push.counters["delivered"] >= 2


async def test_a_burst_of_changes_costs_one_round(pushed: GoogleWorld) -> None:
    await pushed.connect()
    await asyncio.sleep(1.0)  # the connect's own rounds are over
    before = pushed.google.requests[EVENTS]
    for n in range(6):
        pushed.add(f"Burst {n}")

    async def all_shown() -> bool:
        return len(await pushed.titles()) == 6

    await until(all_shown, what="the burst in GET /events")
    await pushed.google.push.settle()
    await asyncio.sleep(1.5)  # a second round would have started by now
    assert pushed.google.requests[EVENTS] - before == 1


@pytest.mark.parametrize("sync_first", [True, False], ids=["sync-first", "answer-first"])
async def test_the_sync_message_is_acknowledged_only(pushed: GoogleWorld, sync_first: bool) -> None:
    """With ``sync_first`` the sync message reaches calproxy while ``events.watch`` has
    not returned, so the store cannot know the channel yet; it is answered 200 all the
    same, and it starts no round."""
    pushed.google.push.sync_first = sync_first
    await pushed.connect()
    await pushed.google.push.settle()
    syncs = [d for d in pushed.google.push.deliveries if d.state == "sync"]
    assert syncs and all(d.status == 200 and d.attempt == 1 for d in syncs)
    assert await pushed.metric("sync") == len(syncs)
    assert await pushed.metric("ignored") == 0
    before = pushed.google.api_requests
    await asyncio.sleep(1.5)  # a nudged round would have run by now
    assert pushed.google.api_requests == before


async def test_forged_messages_are_answered_200_and_reach_no_upstream(pushed: GoogleWorld) -> None:
    await pushed.connect()
    await asyncio.sleep(1.0)
    record = (await pushed.channels())[0]
    channel = pushed.google.push.channels[record.upstream_id]
    headers = pushed.google.push.headers(channel, "exists", 99)
    before = pushed.google.api_requests
    forgeries = [
        {**headers, "X-Goog-Channel-Token": "not-the-secret"},
        {k: v for k, v in headers.items() if k != "X-Goog-Channel-Token"},
        {**headers, "X-Goog-Channel-ID": "an-unknown-channel"},
        {**headers, "X-Goog-Resource-ID": "another-resource"},
    ]
    for forged in forgeries:
        assert await pushed.google.push.push_raw(pushed.hook, forged) == 200
    await asyncio.sleep(1.5)  # past the nudge's settle time
    assert pushed.google.api_requests == before
    assert await pushed.metric("ignored") == len(forgeries)
    assert await pushed.google.push.push_raw(pushed.hook, headers) == 200  # the real one
    await until(lambda: _more(pushed, before), what="the genuine message's round")


async def _more(pushed: GoogleWorld, before: int) -> bool:
    return pushed.google.api_requests > before


async def test_a_message_missing_google_headers_is_a_400_error(pushed: GoogleWorld) -> None:
    async with pushed.live.http.post(pushed.hook, headers={"X-Goog-Channel-ID": "x"}) as resp:
        body = await resp.json()
    assert resp.status == 400 and body["error"]["code"] == "invalid_notification"
    assert await pushed.metric("malformed") == 1


async def test_channels_are_renewed_by_a_new_one_before_they_expire(pushed: GoogleWorld) -> None:
    pushed.google.push.max_ttl = timedelta(seconds=6)
    await pushed.connect()
    first = {c.upstream_id for c in await pushed.channels()}

    async def renewed() -> bool:
        now = {c.upstream_id for c in await pushed.channels()}
        return bool(now) and not now & first

    await until(renewed, what="the renewal")
    for old in first:
        assert pushed.google.push.channels[old].stopped  # stopped, not left to expire
    assert {c.id for c in pushed.google.push.active()} == {
        c.upstream_id for c in await pushed.channels()}
    pushed.add("After renewal")

    async def shown() -> bool:
        return await pushed.titles() == ["After renewal"]

    await until(shown, what="a change pushed on the renewed channel")


async def test_disconnect_stops_the_channels(pushed: GoogleWorld) -> None:
    integration = await pushed.connect()
    stopped = pushed.google.push.active()
    assert stopped
    status, _, _ = await pushed.live.call("exec", "DELETE",
                                          f"/v1/me/integrations/{integration}")
    assert status == 204
    assert pushed.google.push.active() == []
    assert pushed.google.push.counters["stop"] == len(stopped)
    assert await pushed.channels() == []
    before = pushed.google.api_requests
    for channel in stopped:  # a late message of a stopped channel, token and all
        late = pushed.google.push.headers(channel, "exists", 1000)
        assert await pushed.google.push.push_raw(pushed.hook, late) == 200
    await asyncio.sleep(1.5)
    assert pushed.google.api_requests == before


@pytest.mark.parametrize("pushed", [{"freshness_seconds": 2}], indirect=True)
async def test_a_dropped_push_is_caught_by_polling(pushed: GoogleWorld) -> None:
    await pushed.connect()
    delivered = pushed.google.push.counters["delivered"]
    pushed.google.push.drop(1)
    pushed.add("Quietly added")

    async def shown() -> bool:
        return await pushed.titles() == ["Quietly added"]

    await until(shown, what="the poll bringing the unannounced change")
    assert pushed.google.push.counters["dropped"] == 1
    assert pushed.google.push.counters["delivered"] == delivered  # no push told of it


async def test_unsyncing_a_calendar_stops_its_channel(pushed: GoogleWorld) -> None:
    await pushed.connect()
    calendar = (await pushed.synced())[0]
    before = {c.upstream_id: c.calendar_id for c in await pushed.channels()}
    status, answer, _ = await pushed.live.call(
        "exec", "PATCH", f"/v1/users/{EXEC}/calendars/{calendar['id']}",
        json={"synced": False})
    assert status == 200, answer
    gone = [u for u, cal in before.items() if cal == calendar["id"]]
    assert gone

    async def stopped() -> bool:  # upstream first, then calproxy forgets the row
        upstream = all(pushed.google.push.channels[u].stopped for u in gone)
        kept = {c.upstream_id for c in await pushed.channels()}
        return upstream and not kept & set(gone)

    await until(stopped, what="the unsynced calendar's channel stopped and forgotten")
