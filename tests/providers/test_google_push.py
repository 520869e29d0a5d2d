"""GoogleProvider's push channels (events.watch, channels.stop) against the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from proxy.errors import UpstreamError, UpstreamNotFound
from proxy.providers.base import PushChannel, Pushes, PushTarget
from tests.fixtures.google_harness import GoogleEnv, start_google, stop_google


@pytest.fixture
async def env() -> AsyncIterator[GoogleEnv]:
    env = await start_google()
    env.emulator.push.allow_http = True
    try:
        yield env
    finally:
        await stop_google(env)


@pytest.fixture
async def hook() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hooks/google", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/hooks/google")), seen
    finally:
        await server.close()


def target(url: str, channel_id: str = "cp-1", days: float = 7.0) -> PushTarget:
    return PushTarget(notification_url=url, lifecycle_url=None, channel_id=channel_id,
                      secret="s" * 43, expires=datetime.now(UTC) + timedelta(days=days))


async def test_the_provider_pushes_with_a_week_and_no_renewal_in_place(env: GoogleEnv) -> None:
    assert isinstance(env.provider, Pushes)
    assert env.provider.push.lifetime == timedelta(days=7)
    assert env.provider.push.renews_in_place is False


async def test_watch_opens_a_channel_whose_messages_carry_the_secret(
        env: GoogleEnv, hook: tuple[str, list[dict[str, str]]]) -> None:
    url, seen = hook
    asked = target(url, days=2)
    before = env.provider.requests
    channel = await env.provider.watch(env.calendar_id, True, asked)
    assert env.provider.requests == before + 1
    assert channel.upstream_id == "cp-1" and channel.resource_id
    assert abs((channel.expires - asked.expires).total_seconds()) < 1
    assert seen[0]["X-Goog-Resource-State"] == "sync"
    env.emulator.add_simple_event(env.email, "Changed", asked.expires, asked.expires
                                  + timedelta(hours=1))
    for _ in range(200):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.01)
    assert seen[1]["X-Goog-Channel-Token"] == asked.secret
    assert seen[1]["X-Goog-Resource-ID"] == channel.resource_id


async def test_google_caps_a_longer_channel(env: GoogleEnv,
                                            hook: tuple[str, list[dict[str, str]]]) -> None:
    channel = await env.provider.watch(env.calendar_id, True, target(hook[0], days=30))
    week = datetime.now(UTC) + timedelta(days=7)
    assert abs((channel.expires - week).total_seconds()) < 5


async def test_unwatch_stops_and_a_gone_channel_is_not_an_error(
        env: GoogleEnv, hook: tuple[str, list[dict[str, str]]]) -> None:
    channel = await env.provider.watch(env.calendar_id, True, target(hook[0]))
    await env.provider.unwatch(channel)
    assert env.emulator.push.channels["cp-1"].stopped
    await env.provider.unwatch(channel)  # 404 now: already stopped
    await env.provider.unwatch(PushChannel("never-made", "rid", channel.expires))
    assert env.emulator.push.counters["stop"] == 1
    assert env.emulator.push.counters["stop_not_found"] == 2


async def test_unwatch_of_a_410_is_not_an_error(env: GoogleEnv) -> None:
    env.emulator.fail(410, {"error": {"errors": [{"domain": "global", "reason": "deleted",
                                                   "message": "Gone"}],
                                      "code": 410, "message": "Gone"}}, path="/channels/stop")
    await env.provider.unwatch(PushChannel("x", "rid", datetime.now(UTC)))


async def test_watch_refused_is_an_upstream_error_naming_the_reason(env: GoogleEnv) -> None:
    env.emulator.push.allow_http = False
    with pytest.raises(UpstreamError) as caught:
        await env.provider.watch(env.calendar_id, True, target("http://127.0.0.1:9/hooks"))
    assert "push.webhookUrlNotHttps" in str(caught.value)
    assert not isinstance(caught.value, UpstreamNotFound)


async def test_watch_refreshes_an_expired_token_once(
        env: GoogleEnv, hook: tuple[str, list[dict[str, str]]]) -> None:
    env.emulator.expire_access_tokens()
    channel = await env.provider.watch(env.calendar_id, True, target(hook[0]))
    assert channel.resource_id and env.tokens.refreshes == 1


async def test_watch_of_a_calendar_google_does_not_have(
        env: GoogleEnv, hook: tuple[str, list[dict[str, str]]]) -> None:
    with pytest.raises(UpstreamNotFound):
        await env.provider.watch("missing@group.calendar.google.com", False, target(hook[0]))


async def test_watch_is_retried_through_throttling(
        env: GoogleEnv, hook: tuple[str, list[dict[str, str]]]) -> None:
    env.emulator.throttle(status=429, retry_after=0.05, path="/events/watch")
    channel = await env.provider.watch(env.calendar_id, True, target(hook[0]))
    assert channel.upstream_id == "cp-1"
    assert env.emulator.requests[f"/calendar/v3/calendars/{env.email}/events/watch"] == 2


async def test_renew_in_place_is_not_offered(env: GoogleEnv) -> None:
    with pytest.raises(UpstreamNotFound):
        await env.provider.renew(PushChannel("x", "rid", datetime.now(UTC)),
                                 datetime.now(UTC) + timedelta(days=1))
