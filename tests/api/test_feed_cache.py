"""Feeds through the principal cache: a repeated feed request asks the store nothing, and
a revocation, a policy change or a new event is seen in the very next request here and
within ``CALPROXY_TOKEN_CACHE_SECONDS`` when another instance without a relay made it; the
renderings stay within their bound in bytes, and a write still shows at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

import proxy.http.feeds
from proxy.http.feeds import FEED_CACHE
from proxy.store.sql import open_store
from tests.api.conftest import Live, running, seed_world
from tests.api.helpers import NOW, seed
from tests.api.test_read_cache import queries


@pytest.fixture
async def feeds(tmp_path: Path) -> AsyncIterator[Live]:
    """The cast, a mirror fresh for an hour, principal lookups kept for 1 second."""
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'f.sqlite3'}",
                       freshness_seconds=3600, token_cache_seconds=1) as live:
        yield await seed_world(live)


@pytest.fixture
async def steady(tmp_path: Path) -> AsyncIterator[Live]:
    """As ``feeds``, with principal TTLs no slow machine outlives (for counting queries)."""
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'f.sqlite3'}",
                       freshness_seconds=3600, token_cache_seconds=600) as live:
        yield await seed_world(live)


async def feed_url(live: Live, detail: str = "limited") -> str:
    status, feed, _ = await live.call("exec", "POST", "/v1/me/feeds", json={"detail": detail})
    assert status == 201, feed
    return str(feed["url"])


async def fetch(live: Live, url: str) -> tuple[int, bytes]:
    async with live.http.get(url) as response:
        return response.status, await response.read()


async def test_a_repeated_feed_request_asks_the_store_nothing(steady: Live) -> None:
    seed(steady, title="Board meeting")
    url = await feed_url(steady)
    first = await fetch(steady, url)
    assert first[0] == 200 and b"Board meeting" in first[1]
    with queries(steady) as seen:
        again = await fetch(steady, url)
    assert again == first
    assert seen == [], seen  # feed, owner, account, calendars: all from the caches


async def test_a_feed_revoked_here_stops_at_once(feeds: Live) -> None:
    url = await feed_url(feeds)
    assert (await fetch(feeds, url))[0] == 200
    feed_id = (await feeds.call("exec", "GET", "/v1/me/feeds"))[1]["feeds"][0]["id"]
    assert (await feeds.call("exec", "DELETE", f"/v1/me/feeds/{feed_id}"))[0] == 204
    assert (await fetch(feeds, url))[0] == 404


async def test_a_feed_revoked_elsewhere_stops_within_the_cache_time(feeds: Live) -> None:
    """Another instance without a relay: its revocation is not announced here, so the
    cached feed lives out its ``CALPROXY_TOKEN_CACHE_SECONDS`` (1 s here), no longer."""
    url = await feed_url(feeds)
    assert (await fetch(feeds, url))[0] == 200
    feed_id = (await feeds.call("exec", "GET", "/v1/me/feeds"))[1]["feeds"][0]["id"]
    other = await open_store(feeds.settings)
    try:
        assert await other.revoke_feed(feeds.ids["exec"], feed_id)
        revoked = time.monotonic()
        while (await fetch(feeds, url))[0] == 200:
            assert time.monotonic() - revoked < feeds.settings.token_cache_seconds + 2
            await asyncio.sleep(0.05)
    finally:
        await other.close()
    assert (await fetch(feeds, url))[0] == 404


async def test_a_policy_change_applies_to_the_very_next_feed_request(feeds: Live) -> None:
    url = await feed_url(feeds, "busy")
    assert (await fetch(feeds, url))[0] == 200  # owner, account and policy now cached
    status, _, _ = await feeds.call("admin", "PATCH", "/v1/account/settings",
                                    json={"permissions": {"value": {"calendar": "none"}}})
    assert status == 200
    assert (await fetch(feeds, url))[0] == 403
    status, _, _ = await feeds.call("admin", "PATCH", "/v1/account/settings",
                                    json={"permissions": {"value": {"calendar": "read"}}})
    assert status == 200
    assert (await fetch(feeds, url))[0] == 200


async def test_a_write_shows_in_the_very_next_feed_request(feeds: Live) -> None:
    url = await feed_url(feeds, "full")
    assert b"Offsite" not in (await fetch(feeds, url))[1]
    start = NOW + timedelta(days=2)
    status, _, _ = await feeds.call("exec", "POST", "/v1/users/me/events", json={
        "title": "Offsite", "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat()})
    assert status == 201
    assert b"Offsite" in (await fetch(feeds, url))[1]


#: the renderings' bound in ``bounded``: a few of these small feeds, not all five
SMALL_BOUND = 6_000


@pytest.fixture
async def bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Live]:
    """As ``feeds``, with room for a few feed renderings only."""
    monkeypatch.setattr(proxy.http.feeds, "MAX_FEED_BYTES", SMALL_BOUND)
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'f.sqlite3'}",
                       freshness_seconds=3600, token_cache_seconds=600) as live:
        yield await seed_world(live)


async def test_feed_renderings_stay_within_their_bound(bounded: Live) -> None:
    assert bounded.app is not None
    cache = bounded.app[FEED_CACHE]
    assert cache.maxsize == SMALL_BOUND
    for n in range(4):
        seed(bounded, title=f"Review {n}", start=NOW + timedelta(days=n + 1),
             description="Notes " * 40)
    urls = [await feed_url(bounded, detail) for detail in
            ("busy", "limited", "full", "limited", "full")]
    first = [await fetch(bounded, url) for url in urls]
    assert all(status == 200 for status, _ in first)
    assert 0 < len(cache) < len(urls)  # some were evicted ...
    assert cache.currsize <= SMALL_BOUND
    assert [await fetch(bounded, url) for url in urls] == first  # ... and render again
    assert cache.currsize <= SMALL_BOUND
    feed_id = (await bounded.call("exec", "GET", "/v1/me/feeds"))[1]["feeds"][-1]["id"]
    assert feed_id in cache  # the last one served is kept: the write must pass it by
    start = NOW + timedelta(days=3)
    status, _, _ = await bounded.call("exec", "POST", "/v1/users/me/events", json={
        "title": "Offsite", "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat()})
    assert status == 201
    after = [await fetch(bounded, url) for url in urls[2::2]]  # both "full" feeds
    assert all(b"Offsite" in body for _, body in after)


async def test_a_feed_larger_than_the_bound_is_served_and_not_kept(bounded: Live) -> None:
    assert bounded.app is not None
    cache = bounded.app[FEED_CACHE]
    for n in range(30):
        seed(bounded, title=f"Long {n}", start=NOW + timedelta(days=1, hours=n),
             description=f"Minutes {n} " * 80)
    url = await feed_url(bounded, "full")
    status, body = await fetch(bounded, url)
    assert status == 200 and b"Long 29" in body and len(body) > SMALL_BOUND
    assert len(cache) == 0
    assert await fetch(bounded, url) == (status, body)
