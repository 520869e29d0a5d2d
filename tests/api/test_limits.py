"""Rate limits over real HTTP: the 429 shape, one noisy token not slowing another, feeds,
the unlimited paths, and a Redis-backed bucket shared by two instances."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from proxy.config import Rate, load_settings
from tests.api.conftest import Live, running, seed_world

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_the_default_limits_are_designs() -> None:
    settings = load_settings({"CALPROXY_SECRET_KEY": "k"})
    assert (settings.rate_limit, settings.feed_rate_limit) == (Rate(20, 40), Rate(1, 10))
    custom = load_settings({"CALPROXY_SECRET_KEY": "k", "CALPROXY_RATE_LIMIT": "5:7",
                            "CALPROXY_FEED_RATE_LIMIT": "off"})
    assert (custom.rate_limit, custom.feed_rate_limit) == (Rate(5, 7), None)


async def _statuses(live: Live, who: str, path: str, count: int) -> list[int]:
    return [(await live.call(who, "GET", path))[0] for _ in range(count)]


async def test_beyond_the_burst_429_with_retry_after(tmp_path: Path) -> None:
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'l.sqlite3'}",
                       rate_limit=Rate(0.5, 3)) as live:
        await seed_world(live)
        statuses = await _statuses(live, "colleague", "/v1/me", 4)
        assert statuses == [200, 200, 200, 429]
        status, body, response = await live.call("colleague", "GET", "/v1/me")
        assert status == 429 and body["error"]["code"] == "rate_limited"
        assert set(body) == {"error"} and body["error"]["message"]
        assert 1 <= int(response.headers["Retry-After"]) <= 2
        assert (await live.call("admin", "GET", "/v1/me"))[0] == 200  # another token
        for path in ("/healthz", "/readyz", "/oauth/callback?state=x&code=y"):
            assert 429 not in [(await live.call("colleague", "GET", path))[0]
                               for _ in range(5)], path


async def test_a_limited_caller_does_not_slow_others(tmp_path: Path) -> None:
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'l.sqlite3'}",
                       rate_limit=Rate(2, 4)) as live:
        await seed_world(live)

        async def hammer() -> list[int]:
            return list(await asyncio.gather(*(live.call("assistant", "GET", "/v1/me")
                                                for _ in range(60))))

        async def others() -> list[tuple[int, float]]:
            timings = []
            for _ in range(4):
                started = time.monotonic()
                status, _, _ = await live.call("chief", "GET", "/v1/me")
                timings.append((status, time.monotonic() - started))
            return timings

        noisy, calm = await asyncio.gather(hammer(), others())
        assert [s for s, *_ in noisy].count(429) >= 50
        assert all(status == 200 for status, _ in calm)
        assert max(took for _, took in calm) < 5  # generous: the machine is shared


async def test_feeds_are_limited_per_secret(tmp_path: Path) -> None:
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'l.sqlite3'}",
                       feed_rate_limit=Rate(0.5, 2)) as live:
        await seed_world(live)
        urls = []
        for _ in range(2):
            _, feed, _ = await live.call("exec", "POST", "/v1/me/feeds", json={"detail": "busy"})
            urls.append(feed["url"].removeprefix(live.url))
        assert await _statuses(live, None, urls[0], 3) == [200, 200, 429]  # type: ignore[arg-type]
        assert (await live.call(None, "GET", urls[1]))[0] == 200


async def test_redis_shares_one_bucket_between_instances(tmp_path: Path) -> None:
    import redis.asyncio as redis

    probe = redis.from_url(REDIS_URL)
    try:
        await probe.ping()
    finally:
        await probe.aclose()
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    async with running(url, rate_limit=Rate(0.2, 4), redis_url=REDIS_URL) as one, \
            running(url, rate_limit=Rate(0.2, 4), redis_url=REDIS_URL) as two:
        await seed_world(one)
        two.tokens = one.tokens
        statuses = []
        for live in (one, two, one, two, one, two):
            statuses.append((await live.call("colleague", "GET", "/v1/me"))[0])
        assert statuses == [200, 200, 200, 200, 429, 429]
