"""The Google emulator's push channels, driven with requests google-api-python-client
builds (the discovery document's paths and bodies), against a real receiver on loopback.

These pin the emulator's behaviour that calproxy's tests rely on: the watch answer, the
early sync message, exists messages on every change with Google's headers, retries on 5xx
only, expiry, overlap, stop's rules and silently dropped messages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fixtures.google_harness import CodeFlowTokens, GoogleEnv, start_google, stop_google

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


@dataclass
class Receiver:
    """A webhook receiver that records each message and answers scripted statuses."""

    statuses: list[int] = field(default_factory=list)
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((dict(request.headers), await request.read()))
        self.order.append(f"push:{request.headers.get('X-Goog-Resource-State')}")
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/hooks/google"))

    def states(self) -> list[str]:
        return [h["X-Goog-Resource-State"] for h, _ in self.seen]

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.seen) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert len(self.seen) >= count, self.seen


@pytest.fixture
async def env() -> AsyncIterator[GoogleEnv]:
    env = await start_google()
    env.emulator.push.allow_http = True
    env.emulator.push.retry_backoff = 0.02
    try:
        yield env
    finally:
        await stop_google(env)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/google", rec.handle)
    rec.server = TestServer(app, host="127.0.0.1")
    await rec.server.start_server()
    try:
        yield rec
    finally:
        await rec.server.close()


async def send(env: GoogleEnv, request: Any, tokens: CodeFlowTokens | None = None
               ) -> tuple[int, Any]:
    """Send a request the Google client built, as it built it (status, JSON or None)."""
    token = (tokens or env.tokens).access
    headers = {**request.headers, "Authorization": f"Bearer {token}"}
    async with env.http.request(request.method, request.uri, data=request.body,
                                headers=headers) as response:
        raw = await response.read()
        return response.status, (await response.json() if raw else None)


def watch(env: GoogleEnv, address: str, channel_id: str = "chan-1",
          calendar_id: str | None = None, **extra: Any) -> Any:
    body = {"id": channel_id, "type": "web_hook", "address": address, **extra}
    return env.provider.calendar.events().watch(calendarId=calendar_id or env.email, body=body)


def stop(env: GoogleEnv, channel_id: str, resource_id: str) -> Any:
    return env.provider.calendar.channels().stop(body={"id": channel_id,
                                                       "resourceId": resource_id})


def reason(body: Any) -> str:
    return str(body["error"]["errors"][0]["reason"])


async def test_watch_answers_a_channel_with_a_stable_resource_id(
        env: GoogleEnv, receiver: Receiver) -> None:
    env.emulator.add_calendar(env.email, "team@group.calendar.google.com", "Team")
    status, first = await send(env, watch(env, receiver.url, token="s3cret"))
    assert status == 200
    assert first["kind"] == "api#channel" and first["id"] == "chan-1"
    assert first["token"] == "s3cret" and first["resourceUri"].endswith("/events?alt=json")
    week = datetime.now(UTC) + timedelta(days=7)
    assert abs(int(first["expiration"]) / 1000 - week.timestamp()) < 5
    _, again = await send(env, watch(env, receiver.url, "chan-2"))
    _, other = await send(env, watch(env, receiver.url, "chan-3",
                                     "team@group.calendar.google.com"))
    assert again["resourceId"] == first["resourceId"] != other["resourceId"]
    assert "token" not in again


async def test_expiration_is_capped_by_ttl_and_by_the_maximum(
        env: GoogleEnv, receiver: Receiver) -> None:
    far = int((datetime.now(UTC) + timedelta(days=30)).timestamp() * 1000)
    _, capped = await send(env, watch(env, receiver.url, "a", expiration=far))
    assert int(capped["expiration"]) < far
    _, short = await send(env, watch(env, receiver.url, "b", expiration=far,
                                     params={"ttl": "60"}))
    assert abs(int(short["expiration"]) / 1000 - time.time() - 60) < 5
    soon = int((datetime.now(UTC) + timedelta(hours=1)).timestamp() * 1000)
    _, asked = await send(env, watch(env, receiver.url, "c", expiration=soon))
    assert int(asked["expiration"]) == soon


async def test_the_sync_message_comes_before_the_watch_answer(
        env: GoogleEnv, receiver: Receiver) -> None:
    status, channel = await send(env, watch(env, receiver.url, token="t"))
    receiver.order.append("answer")
    assert status == 200 and receiver.order == ["push:sync", "answer"]
    headers, body = receiver.seen[0]
    assert body == b"" and headers["Content-Length"] == "0"
    assert "Content-Type" not in headers
    assert headers["X-Goog-Message-Number"] == "1"
    assert headers["X-Goog-Channel-ID"] == "chan-1" and headers["X-Goog-Channel-Token"] == "t"
    assert headers["X-Goog-Resource-ID"] == channel["resourceId"]
    assert headers["User-Agent"].startswith("APIs-Google")


async def test_the_sync_message_may_follow_the_answer(
        env: GoogleEnv, receiver: Receiver) -> None:
    env.emulator.push.sync_first = False
    await send(env, watch(env, receiver.url))
    receiver.order.append("answer")
    await receiver.wait_for(1)
    assert receiver.order == ["answer", "push:sync"]


async def test_every_change_sends_an_exists_message_with_google_headers(
        env: GoogleEnv, receiver: Receiver) -> None:
    _, channel = await send(env, watch(env, receiver.url, token="tok"))
    emu, email = env.emulator, env.email
    seeded = emu.add_simple_event(email, "Seeded", START, START + timedelta(hours=1))
    await receiver.wait_for(2)
    events = env.provider.calendar.events()
    status, made = await send(env, events.insert(calendarId=email, body={
        "summary": "Via API", "start": {"dateTime": START.isoformat()},
        "end": {"dateTime": (START + timedelta(hours=1)).isoformat()}}))
    assert status == 200
    await receiver.wait_for(3)
    status, _ = await send(env, events.delete(calendarId=email, eventId=made["id"]))
    assert status == 204
    await receiver.wait_for(4)
    emu.update_event(email, seeded, summary="Renamed")
    await receiver.wait_for(5)
    assert receiver.states() == ["sync", "exists", "exists", "exists", "exists"]
    numbers = [int(h["X-Goog-Message-Number"]) for h, _ in receiver.seen]
    assert numbers[0] == 1 and numbers == sorted(set(numbers))
    for headers, body in receiver.seen[1:]:
        assert body == b"" and headers["X-Goog-Channel-Token"] == "tok"
        assert headers["X-Goog-Resource-URI"] == channel["resourceUri"]
        expires = parsedate_to_datetime(headers["X-Goog-Channel-Expiration"])
        assert abs(expires.timestamp() - int(channel["expiration"]) / 1000) < 1


async def test_no_token_header_when_none_was_set(env: GoogleEnv, receiver: Receiver) -> None:
    await send(env, watch(env, receiver.url))
    env.emulator.add_simple_event(env.email, "X", START, START + timedelta(hours=1))
    await receiver.wait_for(2)
    assert all("X-Goog-Channel-Token" not in h for h, _ in receiver.seen)


@pytest.mark.parametrize(("body", "expected"), [
    ({"id": "x", "type": "web_hook", "address": "http://127.0.0.1:1/h"},
     "push.webhookUrlNotHttps"),
    ({"id": "x", "type": "email", "address": "https://h.example/h"},
     "push.channelTypeNotSupported"),
    ({"type": "web_hook", "address": "https://h.example/h"}, "required"),
    ({"id": "x" * 65, "type": "web_hook", "address": "https://h.example/h"}, "invalid"),
    ({"id": "x", "type": "web_hook", "address": "https://h.example/h", "token": "t" * 257},
     "invalid"),
])
async def test_watch_refusals(env: GoogleEnv, body: dict[str, Any], expected: str) -> None:
    env.emulator.push.allow_http = False
    status, answer = await send(env, env.provider.calendar.events().watch(
        calendarId=env.email, body=body))
    assert status == 400 and reason(answer) == expected
    assert not env.emulator.push.channels


async def test_a_channel_id_is_used_once(env: GoogleEnv, receiver: Receiver) -> None:
    assert (await send(env, watch(env, receiver.url, "same")))[0] == 200
    status, answer = await send(env, watch(env, receiver.url, "same"))
    assert status == 400 and reason(answer) == "channelIdNotUnique"


async def test_5xx_is_retried_with_backoff_and_4xx_is_not(
        env: GoogleEnv, receiver: Receiver) -> None:
    receiver.statuses = [200, 503, 500, 200, 404]
    await send(env, watch(env, receiver.url))
    env.emulator.add_simple_event(env.email, "One", START, START + timedelta(hours=1))
    await receiver.wait_for(4)
    env.emulator.add_simple_event(env.email, "Two", START, START + timedelta(hours=1))
    await receiver.wait_for(5)
    await env.emulator.push.settle()
    await asyncio.sleep(0.2)
    assert len(receiver.seen) == 5
    numbers = [h["X-Goog-Message-Number"] for h, _ in receiver.seen[1:4]]
    assert len(set(numbers)) == 1  # a retry repeats the message
    push = env.emulator.push
    assert push.counters["retried"] == 2 and push.counters["failed"] == 1


async def test_an_unreachable_receiver_is_retried_then_given_up(env: GoogleEnv) -> None:
    push = env.emulator.push
    push.max_attempts = 3
    await send(env, watch(env, "http://127.0.0.1:9/nobody"))
    await push.settle()
    assert [d.status for d in push.deliveries] == [None, None, None]
    assert push.counters["failed"] == 1


async def test_a_channel_expires_and_goes_silent(env: GoogleEnv, receiver: Receiver) -> None:
    _, channel = await send(env, watch(env, receiver.url, params={"ttl": "3600"}))
    env.emulator.advance_clock(timedelta(hours=2))
    env.emulator.add_simple_event(env.email, "Late", START, START + timedelta(hours=1))
    await asyncio.sleep(0.2)
    assert receiver.states() == ["sync"]
    await env.tokens.refresh()  # two hours outlived the access token too
    status, _ = await send(env, stop(env, "chan-1", channel["resourceId"]))
    assert status == 404


async def test_old_and_new_channels_both_deliver_while_they_overlap(
        env: GoogleEnv, receiver: Receiver) -> None:
    _, old = await send(env, watch(env, receiver.url, "old"))
    await send(env, watch(env, receiver.url, "new"))
    env.emulator.add_simple_event(env.email, "Both", START, START + timedelta(hours=1))
    await receiver.wait_for(4)
    exists = sorted(h["X-Goog-Channel-ID"] for h, _ in receiver.seen
                    if h["X-Goog-Resource-State"] == "exists")
    assert exists == ["new", "old"]
    assert (await send(env, stop(env, "old", old["resourceId"])))[0] == 204
    env.emulator.add_simple_event(env.email, "New only", START, START + timedelta(hours=1))
    await receiver.wait_for(5)
    await asyncio.sleep(0.1)
    assert [h["X-Goog-Channel-ID"] for h, _ in receiver.seen[4:]] == ["new"]


async def test_stop_rules(env: GoogleEnv, receiver: Receiver) -> None:
    _, channel = await send(env, watch(env, receiver.url))
    rid = channel["resourceId"]
    status, answer = await send(env, env.provider.calendar.channels().stop(body={"id": "chan-1"}))
    assert status == 400 and reason(answer) == "required"
    assert (await send(env, stop(env, "chan-1", "wrong")))[0] == 404
    assert (await send(env, stop(env, "unknown", rid)))[0] == 404
    env.emulator.add_user("other@example.com")
    other, other_tokens = await env.provider_for("other@example.com")
    try:
        assert (await send(env, stop(env, "chan-1", rid), other_tokens))[0] == 404
    finally:
        await other.close()
    env.emulator.clients["second-client"] = ("second-secret", None)
    second = CodeFlowTokens(env.http, env.settings.with_overrides(
        google_client_id="second-client", google_client_secret="second-secret"), env.email)
    await second.authorize()
    status, answer = await send(env, stop(env, "chan-1", rid), second)
    assert status == 404 and reason(answer) == "notFound"
    assert (await send(env, stop(env, "chan-1", rid)))[0] == 204
    assert (await send(env, stop(env, "chan-1", rid)))[0] == 404
    env.emulator.add_simple_event(env.email, "Quiet", START, START + timedelta(hours=1))
    await asyncio.sleep(0.2)
    assert receiver.states() == ["sync"]


async def test_dropped_messages_are_lost_silently(env: GoogleEnv, receiver: Receiver) -> None:
    await send(env, watch(env, receiver.url))
    env.emulator.push.drop(1)
    env.emulator.add_simple_event(env.email, "Lost", START, START + timedelta(hours=1))
    env.emulator.add_simple_event(env.email, "Kept", START, START + timedelta(hours=1))
    await receiver.wait_for(2)
    await asyncio.sleep(0.1)
    assert receiver.states() == ["sync", "exists"]
    assert env.emulator.push.counters["dropped"] == 1


async def test_watch_and_stop_count_as_api_requests(env: GoogleEnv, receiver: Receiver) -> None:
    before = env.emulator.api_requests
    _, channel = await send(env, watch(env, receiver.url))
    await send(env, stop(env, "chan-1", channel["resourceId"]))
    assert env.emulator.api_requests == before + 2
    assert env.emulator.push.counters["watch"] == 1 == env.emulator.push.counters["stop"]


async def test_watch_of_an_unknown_calendar_is_404(env: GoogleEnv, receiver: Receiver) -> None:
    status, answer = await send(env, watch(env, receiver.url, calendar_id="nope"))
    assert status == 404 and reason(answer) == "notFound"
