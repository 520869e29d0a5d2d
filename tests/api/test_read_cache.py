"""The read path's caches over real HTTP: no store query for a repeated read of a fresh
mirror, ETags and 304, writes, syncs and delegation changes visible in the very next read,
freshness still decided (on cached records), and revoked tokens refused in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from proxy.core.model import Sensitivity
from proxy.store.sql import open_store
from tests.api.conftest import Live, running, seed_world
from tests.api.helpers import WINDOW, at, seed

OWNER = "/v1/users/exec@acme.example"


@pytest.fixture
async def cached(tmp_path: Path) -> AsyncIterator[Live]:
    """The cast, with a mirror that stays fresh for an hour and 1-second principal TTLs."""
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'c.sqlite3'}",
                       freshness_seconds=3600, token_cache_seconds=1) as live:
        yield await seed_world(live)


@pytest.fixture
async def steady(tmp_path: Path) -> AsyncIterator[Live]:
    """As ``cached``, with principal TTLs long enough that a slow machine's reads never
    outlive them (the no-query test must not count a TTL lapse as a cache miss)."""
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'c.sqlite3'}",
                       freshness_seconds=3600, token_cache_seconds=600) as live:
        yield await seed_world(live)


@contextmanager
def queries(live: Live) -> Iterator[list[str]]:
    """Every SQL statement the server sends while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    engine = live.store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def calendar(live: Live) -> None:
    seed(live, title="Planning", start=at(2))
    seed(live, title="Standup", start=at(3), rrule=("FREQ=DAILY;COUNT=5",))
    seed(live, title="Dentist", start=at(4), sensitivity=Sensitivity.PRIVATE)


async def reads(live: Live) -> list[tuple[int, Any]]:
    answers = []
    for who, path in (("exec", f"{OWNER}/events?{WINDOW}"),
                      ("assistant", f"{OWNER}/events?{WINDOW}"),
                      ("chief", f"{OWNER}/events?{WINDOW}"),
                      ("colleague", f"{OWNER}/freebusy?{WINDOW}"),
                      ("assistant", f"{OWNER}/freebusy?{WINDOW}")):
        status, body, _ = await live.call(who, "GET", path)
        answers.append((status, body))
    return answers


async def test_a_repeated_read_of_a_fresh_mirror_asks_the_store_nothing(steady: Live) -> None:
    calendar(steady)
    first = await reads(steady)
    assert all(status == 200 for status, _ in first)
    one = first[0][1]["events"][0]["id"]
    await steady.call("exec", "GET", f"{OWNER}/events/{one}")
    with queries(steady) as seen:
        again = await reads(steady)
        status, _, _ = await steady.call("exec", "GET", f"{OWNER}/events/{one}")
    assert again == first and status == 200
    assert seen == []


async def test_etags_and_not_modified(cached: Live) -> None:
    calendar(cached)
    for path in (f"{OWNER}/events?{WINDOW}", f"{OWNER}/freebusy?{WINDOW}"):
        status, body, response = await cached.call("exec", "GET", path)
        etag = response.headers["ETag"]
        assert status == 200 and etag.startswith('"') and "private" in response.headers[
            "Cache-Control"]
        status, again, response = await cached.call("exec", "GET", path,
                                                     headers={"If-None-Match": etag})
        assert status == 304 and again is None and response.headers["ETag"] == etag
        status, _, _ = await cached.call("exec", "GET", path,
                                         headers={"If-None-Match": '"other"'})
        assert status == 200
    _, body, _ = await cached.call("exec", "GET", f"{OWNER}/events?{WINDOW}")
    one = body["events"][0]["id"]
    _, _, response = await cached.call("exec", "GET", f"{OWNER}/events/{one}")
    status, _, _ = await cached.call("exec", "GET", f"{OWNER}/events/{one}",
                                     headers={"If-None-Match": response.headers["ETag"]})
    assert status == 304


async def test_writes_show_in_the_very_next_read(cached: Live) -> None:
    calendar(cached)
    _, before, response = await cached.call("assistant", "GET", f"{OWNER}/events?{WINDOW}")
    planning = next(e for e in before["events"] if e["title"] == "Planning")
    status, _, _ = await cached.call("assistant", "PATCH", f"{OWNER}/events/{planning['id']}",
                                     json={"title": "Planning, moved"})
    assert status == 200
    _, after, moved = await cached.call("assistant", "GET", f"{OWNER}/events?{WINDOW}")
    assert "Planning, moved" in {e["title"] for e in after["events"]}
    assert moved.headers["ETag"] != response.headers["ETag"]
    status, _, _ = await cached.call("exec", "DELETE", f"{OWNER}/events/{planning['id']}")
    assert status == 204
    _, gone, _ = await cached.call("assistant", "GET", f"{OWNER}/events?{WINDOW}")
    assert planning["id"] not in {e["id"] for e in gone["events"]}
    status, _, _ = await cached.call("exec", "GET", f"{OWNER}/events/{planning['id']}")
    assert status == 404


async def test_a_sync_shows_in_the_very_next_read(world: Live) -> None:
    first = seed(world, title="Before")
    _, body, response = await world.call("assistant", "GET", f"{OWNER}/events?{WINDOW}")
    assert [e["title"] for e in body["events"]] == ["Before"]
    world.backend.put_event(world.mailbox("exec"), replace(first, title="After"))
    _, body, again = await world.call("assistant", "GET", f"{OWNER}/events?{WINDOW}")
    assert [e["title"] for e in body["events"]] == ["After"]
    assert again.headers["ETag"] != response.headers["ETag"]


async def test_a_stale_calendar_still_syncs_first(tmp_path: Path) -> None:
    """Principal entries live for a minute here, so freshness is judged on the cached
    ``synced_at``: a calendar older than the freshness window syncs before it is read."""
    async with running(f"sqlite+aiosqlite:///{tmp_path / 's.sqlite3'}",
                       freshness_seconds=1, token_cache_seconds=60) as live:
        await seed_world(live)
        first = seed(live, title="Before")
        await live.call("exec", "GET", f"{OWNER}/events?{WINDOW}")
        live.backend.put_event(live.mailbox("exec"), replace(first, title="After"))
        await asyncio.sleep(1.2)
        _, body, _ = await live.call("exec", "GET", f"{OWNER}/events?{WINDOW}")
        assert [e["title"] for e in body["events"]] == ["After"]


async def test_delegation_changes_apply_to_the_very_next_read(cached: Live) -> None:
    calendar(cached)
    _, body, _ = await cached.call("chief", "GET", f"{OWNER}/events?{WINDOW}")
    assert "Dentist" in {e["title"] for e in body["events"]}
    await cached.call("exec", "PUT", "/v1/me/delegates/chief@acme.example",
                      json={"can_schedule": True, "can_view_private": False})
    _, body, _ = await cached.call("chief", "GET", f"{OWNER}/events?{WINDOW}")
    assert "Dentist" not in {e["title"] for e in body["events"]}
    await cached.call("exec", "DELETE", "/v1/me/delegates/chief@acme.example")
    status, _, _ = await cached.call("chief", "GET", f"{OWNER}/events?{WINDOW}")
    assert status == 403


async def test_a_revoked_token_stops_at_once_here(cached: Live) -> None:
    assert (await cached.call("assistant", "GET", "/v1/me"))[0] == 200
    assert await cached.store.revoke_token(cached.tokens["assistant"])
    status, body, _ = await cached.call("assistant", "GET", "/v1/me")
    assert status == 401 and body["error"]["code"] == "invalid_token"
    assert not await cached.store.revoke_token(cached.tokens["assistant"])


async def test_a_token_revoked_elsewhere_stops_within_the_cache_time(cached: Live) -> None:
    """Another instance without a relay: its revocation is not announced here, so the
    cached lookup lives out its ``CALPROXY_TOKEN_CACHE_SECONDS`` (1 s here)."""
    assert (await cached.call("assistant", "GET", "/v1/me"))[0] == 200
    other = await open_store(cached.settings)
    try:
        assert await other.revoke_token(cached.tokens["assistant"])
        revoked = time.monotonic()
        while (await cached.call("assistant", "GET", "/v1/me"))[0] == 200:
            assert time.monotonic() - revoked < cached.settings.token_cache_seconds + 2
            await asyncio.sleep(0.05)
    finally:
        await other.close()
    assert (await cached.call("exec", "GET", "/v1/me"))[0] == 200
