"""The provider hooks over real HTTP, against a live calproxy whose keeper opened a channel
on the memory provider: Graph's handshake, believed notices leading to a round within
5 s, forged and unknown notices answered 2xx and dropped without a provider call, and
malformed requests answered 400 in the error shape (never 500)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from proxy.providers.base import PushChannel, PushTarget
from tests.api.conftest import Live, running, seed_world
from tests.api.helpers import events_of, seed

PUSHING: dict[str, Any] = {"push": "on", "push_allow_http": True, "freshness_seconds": 3600}


async def until(check: Any, seconds: float = 5.0) -> float:
    """Wait until ``check()`` is true; the seconds it took (fails after ``seconds``)."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < seconds, "not within the time allowed"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
async def pushed(tmp_path: Path) -> AsyncIterator[Live]:
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", scheduler=True,
                       **PUSHING) as live:
        await seed_world(live)
        yield live


async def opened(live: Live, calendar: str = "primary") -> tuple[PushTarget, PushChannel]:
    async def there() -> bool:  # granted upstream, and stored
        granted = live.backend.channels_on(calendar)
        stored = {r.upstream_id for r in await live.store.list_push_channels()}
        return bool(granted) and all(c.upstream_id in stored for _, c in granted)
    await until(there, 20)  # the keeper reconciles at most every 2 s
    ((target, channel),) = live.backend.channels_on(calendar)
    return target, channel


def graph_body(channel: PushChannel, secret: str, **item: Any) -> dict[str, Any]:
    return {"value": [{"subscriptionId": channel.upstream_id, "clientState": secret,
                       "changeType": "created", "resource": "Users/u/Events/e",
                       "tenantId": "t", **item}]}


async def metric(live: Live, outcome: str, service: str = "graph") -> float:
    from tests.api.conftest import METRICS_TOKEN

    async with live.http.get(f"{live.url}/metrics",
                             headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as answer:
        text = await answer.text()
    line = f'calproxy_push_notices_total{{outcome="{outcome}",service="{service}"}}'
    for row in text.splitlines():
        if row.startswith(line):
            return float(row.split()[-1])
    return 0.0


async def test_the_validation_handshake_echoes_the_decoded_token(pushed: Live) -> None:
    for path in ("/hooks/graph", "/hooks/graph/lifecycle"):
        async with pushed.http.post(f"{pushed.url}{path}?validationToken=a%20b%2Bc%3Cx%3E",
                                    headers={"Content-Type": "text/plain"}) as answer:
            assert answer.status == 200
            assert answer.content_type == "text/plain"
            assert answer.headers["X-Content-Type-Options"] == "nosniff"  # echoes our text
            assert await answer.text() == "a b+c<x>"
    assert await metric(pushed, "handshake") == 2


async def test_a_notice_leads_to_a_round_within_5_seconds(pushed: Live) -> None:
    target, channel = await opened(pushed)
    assert target.notification_url == f"{pushed.url}/hooks/graph"
    assert target.lifecycle_url == f"{pushed.url}/hooks/graph/lifecycle"
    await events_of(pushed, "exec")  # the first round, then fresh for an hour
    seed(pushed, title="Told by push")

    async def shown() -> bool:
        _, body = await events_of(pushed, "exec")
        return any(e["title"] == "Told by push" for e in body["events"])

    assert not await shown()  # fresh: the read alone does not sync
    async with pushed.http.post(target.notification_url,
                                json=graph_body(channel, target.secret)) as answer:
        assert answer.status == 202
    assert await until(shown) < 5
    assert await metric(pushed, "accepted") == 1
    from tests.api.conftest import METRICS_TOKEN

    async with pushed.http.get(f"{pushed.url}/metrics",
                               headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as answer:
        text = await answer.text()
    incremental = 'calproxy_sync_rounds_total{kind="incremental",result="ok",service="graph"}'
    assert incremental in text  # the nudged round went on from the stored cursor


async def test_a_burst_of_notices_costs_one_round(pushed: Live) -> None:
    target, channel = await opened(pushed)
    await events_of(pushed, "exec")
    before = pushed.backend.requests
    body = graph_body(channel, target.secret)
    body["value"] = body["value"] * 5
    for _ in range(4):
        async with pushed.http.post(target.notification_url, json=body) as answer:
            assert answer.status == 202
    await asyncio.sleep(1.5)
    assert pushed.backend.requests - before == 1  # one delta page: one round


@pytest.mark.parametrize("forge", ["wrong secret", "no secret", "unknown subscription",
                                   "other service"])
async def test_forged_or_unknown_notices_reach_no_provider(pushed: Live, forge: str) -> None:
    target, channel = await opened(pushed)
    await events_of(pushed, "exec")
    calls, requests = list(pushed.backend.push_calls), pushed.backend.requests
    item: dict[str, Any] = {}
    if forge == "wrong secret":
        item["clientState"] = target.secret[:-1] + ("A" if target.secret[-1] != "A" else "B")
    elif forge == "no secret":
        item["clientState"] = None
    elif forge == "unknown subscription":
        item["subscriptionId"] = "sub-nobody"
    if forge == "other service":  # a Graph channel's ids sent to the Google hook
        headers = {"X-Goog-Channel-ID": channel.upstream_id,
                   "X-Goog-Channel-Token": target.secret, "X-Goog-Resource-State": "exists",
                   "X-Goog-Message-Number": "2"}
        async with pushed.http.post(f"{pushed.url}/hooks/google", headers=headers) as answer:
            assert answer.status == 200
        service = "google"
    else:
        body = graph_body(channel, target.secret, **item)
        async with pushed.http.post(target.notification_url, json=body) as answer:
            assert answer.status == 202
        service = "graph"
    await asyncio.sleep(1.0)
    assert pushed.backend.requests == requests
    assert pushed.backend.push_calls == calls
    assert await metric(pushed, "ignored", service) == 1
    assert await metric(pushed, "accepted", service) == 0


@pytest.mark.parametrize(("path", "headers", "body"), [
    ("/hooks/graph", {"Content-Type": "application/json"}, b"not json"),
    ("/hooks/graph", {"Content-Type": "application/json"}, b"[]"),
    ("/hooks/graph", {"Content-Type": "application/json"}, b'{"value": []}'),
    ("/hooks/graph", {"Content-Type": "application/json"}, b'{"value": [1]}'),
    ("/hooks/graph", {"Content-Type": "application/json"},
     b'{"value": [{"subscriptionId": 5, "changeType": "created"}]}'),
    ("/hooks/graph", {"Content-Type": "application/json"},
     b'{"value": [{"subscriptionId": "s", "changeType": "exploded"}]}'),
    ("/hooks/graph/lifecycle", {"Content-Type": "application/json"},
     b'{"value": [{"subscriptionId": "s", "lifecycleEvent": "unheard"}]}'),
    ("/hooks/graph", {"Content-Type": "application/json"}, b"\xff\xfe"),
    ("/hooks/google", {}, b""),
    ("/hooks/google", {"X-Goog-Channel-ID": "c", "X-Goog-Resource-State": "weird",
                       "X-Goog-Message-Number": "1"}, b""),
    ("/hooks/google", {"X-Goog-Channel-ID": "c", "X-Goog-Resource-State": "exists",
                       "X-Goog-Message-Number": "one"}, b""),
])
async def test_malformed_hook_requests_are_400_in_the_error_shape(
        pushed: Live, path: str, headers: dict[str, str], body: bytes) -> None:
    await opened(pushed)
    await events_of(pushed, "exec")
    requests = pushed.backend.requests
    async with pushed.http.post(f"{pushed.url}{path}", headers=headers, data=body) as answer:
        assert answer.status == 400
        document = await answer.json()
    assert set(document) == {"error"}
    assert document["error"]["code"] == "invalid_notification"
    assert set(document["error"]) == {"code", "message"}
    assert pushed.backend.requests == requests


async def test_hooks_need_no_token_and_are_not_rate_limited(tmp_path: Path) -> None:
    from proxy.config import Rate

    async with running(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
                       rate_limit=Rate(1, 1), **PUSHING) as live:
        for _ in range(5):
            async with live.http.post(f"{live.url}/hooks/graph?validationToken=t") as answer:
                assert answer.status == 200


async def lifecycle(live: Live, target: PushTarget, channel: PushChannel,
                    event: str) -> None:
    body = {"value": [{"subscriptionId": channel.upstream_id, "clientState": target.secret,
                       "lifecycleEvent": event, "tenantId": "t",
                       "subscriptionExpirationDateTime": "2026-12-08T00:00:00Z"}]}
    assert target.lifecycle_url is not None
    async with live.http.post(target.lifecycle_url, json=body) as answer:
        assert answer.status == 202


def calls(live: Live, kind: str) -> list[str]:
    return [target for call, target in live.backend.push_calls if call == kind]


async def test_reauthorization_required_renews_now_and_syncs(pushed: Live) -> None:
    target, channel = await opened(pushed)
    await events_of(pushed, "exec")
    requests = pushed.backend.requests

    async def renewed() -> bool:
        return calls(pushed, "renew") == [channel.upstream_id]

    await lifecycle(pushed, target, channel, "reauthorizationRequired")
    await until(renewed)

    async def synced() -> bool:  # one round (one page), plus the renewal itself
        return pushed.backend.requests - requests >= 2
    await until(synced)
    assert calls(pushed, "watch") == ["primary"]


async def test_subscription_removed_subscribes_again_and_syncs(pushed: Live) -> None:
    target, channel = await opened(pushed)
    await events_of(pushed, "exec")
    pushed.backend.drop_channel(channel.upstream_id)
    seed(pushed, title="While removed")
    await lifecycle(pushed, target, channel, "subscriptionRemoved")

    async def again() -> bool:
        return len(calls(pushed, "watch")) == 2
    await until(again)
    rows = await pushed.store.list_push_channels()
    assert [r.upstream_id for r in rows] != [channel.upstream_id] and len(rows) == 1

    async def shown() -> bool:
        _, body = await events_of(pushed, "exec")
        return any(e["title"] == "While removed" for e in body["events"])
    await until(shown)


async def test_missed_syncs_without_touching_the_subscription(pushed: Live) -> None:
    target, channel = await opened(pushed)
    await events_of(pushed, "exec")
    seed(pushed, title="Missed one")
    before = list(pushed.backend.push_calls)
    await lifecycle(pushed, target, channel, "missed")

    async def shown() -> bool:
        _, body = await events_of(pushed, "exec")
        return any(e["title"] == "Missed one" for e in body["events"])
    await until(shown)
    assert pushed.backend.push_calls == before


async def test_google_sync_is_acknowledged_and_exists_syncs(pushed: Live) -> None:
    from dataclasses import replace

    from proxy.core.model import Service
    from proxy.http.keys import PUSH_KEEPER
    from proxy.store.sql_base import sha256_hex

    await opened(pushed)
    assert pushed.app is not None
    await pushed.app[PUSH_KEEPER].stop()  # it would stop one of a calendar's two channels
    (row,) = await pushed.store.list_push_channels()
    google = replace(row, id="goog-ch", service=Service.GOOGLE, upstream_id="goog-ch",
                     resource_id="res-1", secret_hash=sha256_hex("google-token"))
    await pushed.store.put_push_channel(google)
    await events_of(pushed, "exec")
    headers = {"X-Goog-Channel-ID": "goog-ch", "X-Goog-Channel-Token": "google-token",
               "X-Goog-Resource-ID": "res-1", "X-Goog-Resource-State": "sync",
               "X-Goog-Message-Number": "1", "Content-Length": "0"}
    requests = pushed.backend.requests
    async with pushed.http.post(f"{pushed.url}/hooks/google", headers=headers) as answer:
        assert answer.status == 200
    await asyncio.sleep(1.0)
    assert pushed.backend.requests == requests  # only acknowledged
    assert await metric(pushed, "sync", "google") == 1  # counted apart, not looked up
    for forged in ({"X-Goog-Resource-ID": "res-other"}, {"X-Goog-Channel-Token": "nope"}):
        async with pushed.http.post(f"{pushed.url}/hooks/google",
                                    headers={**headers, "X-Goog-Resource-State": "exists",
                                             "X-Goog-Message-Number": "5",
                                             **forged}) as answer:
            assert answer.status == 200
    await asyncio.sleep(1.0)
    assert pushed.backend.requests == requests
    assert await metric(pushed, "ignored", "google") == 2
    seed(pushed, title="Told by Google")
    async with pushed.http.post(f"{pushed.url}/hooks/google",
                                headers={**headers, "X-Goog-Resource-State": "exists",
                                         "X-Goog-Message-Number": "7"}) as answer:
        assert answer.status == 200

    async def shown() -> bool:
        _, body = await events_of(pushed, "exec")
        return any(e["title"] == "Told by Google" for e in body["events"])
    await until(shown)


async def test_disconnect_stops_the_channels_before_the_integration_goes(
        pushed: Live) -> None:
    _, channel = await opened(pushed)
    status, _, _ = await pushed.call("exec", "DELETE",
                                     f"/v1/me/integrations/{pushed.mailbox('exec')}")
    assert status == 204
    # the rows go with the integration: had they gone first, nothing could be stopped
    assert calls(pushed, "unwatch") == [channel.upstream_id]
    assert pushed.backend.channels == {}
    assert await pushed.store.list_push_channels() == []


async def test_connecting_again_stops_the_replaced_integrations_channels(
        pushed: Live) -> None:
    _, channel = await opened(pushed)
    connected = await pushed.connect("exec")
    assert connected["status"] == "connected" and connected["id"] != pushed.mailbox("exec")
    assert channel.upstream_id in calls(pushed, "unwatch")

    async def reopened() -> bool:
        rows = await pushed.store.list_push_channels()
        return [r.integration_id for r in rows] == [connected["id"]]
    await until(reopened)
    assert list(pushed.backend.channels) != [channel.upstream_id]


async def test_push_metrics_carry_no_identifiers(pushed: Live) -> None:
    import re

    from tests.api.conftest import METRICS_TOKEN

    target, channel = await opened(pushed)
    async with pushed.http.post(target.notification_url,
                                json=graph_body(channel, target.secret)) as answer:
        assert answer.status == 202
    async with pushed.http.post(target.notification_url,
                                json=graph_body(channel, "forged")) as answer:
        assert answer.status == 202
    async with pushed.http.get(f"{pushed.url}/metrics",
                               headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as answer:
        text = await answer.text()
    for needle in (channel.upstream_id, target.secret, target.channel_id, "forged"):
        assert needle not in text
    found = dict(re.findall(r'calproxy_push_notices_total\{outcome="(\w+)",service="(\w+)"\}',
                            text))
    assert found == {"accepted": "graph", "ignored": "graph"}
    assert 'calproxy_notifications_total{direction="in",service="graph"} 1.0' in text


async def test_syncing_a_calendar_over_the_api_watches_it_and_unsyncing_stops(
        pushed: Live) -> None:
    from proxy.core.model import Calendar

    pushed.backend.add_calendar(pushed.mailbox("exec"), Calendar("second", "Second"))
    status, body, _ = await pushed.call("exec", "GET", "/v1/users/me/calendars")
    assert status == 200
    (second,) = [c for c in body["calendars"] if c["name"] == "Second"]
    assert not second["synced"]
    status, _, _ = await pushed.call("exec", "PATCH", f"/v1/users/me/calendars/{second['id']}",
                                     json={"synced": True})
    assert status == 200
    target, channel = await opened(pushed, "second")
    assert target.notification_url == f"{pushed.url}/hooks/graph"
    status, _, _ = await pushed.call("exec", "PATCH", f"/v1/users/me/calendars/{second['id']}",
                                     json={"synced": False})
    assert status == 200

    async def stopped() -> bool:
        return channel.upstream_id in calls(pushed, "unwatch")
    await until(stopped, 20)
    assert pushed.backend.channels_on("second") == []
    assert len(pushed.backend.channels_on("primary")) == 1


async def test_no_hook_request_is_ever_a_500(pushed: Live) -> None:
    import json
    import random

    await opened(pushed)
    await events_of(pushed, "exec")  # synced: nothing else asks the provider from here on
    chooser = random.Random(1013)
    pieces: list[Any] = [None, 0, -1, 1e308, "", "x" * 5000, [], {}, [{}], True,
                         "created", "missed", "\u0000", {"value": None}]
    requests = pushed.backend.requests
    for n in range(120):
        if n % 3 == 0:
            body = bytes(chooser.randrange(256) for _ in range(chooser.randrange(64)))
        else:
            item = {key: chooser.choice(pieces) for key in chooser.sample(
                ["subscriptionId", "clientState", "changeType", "lifecycleEvent",
                 "resource"], chooser.randrange(6))}
            body = json.dumps({"value": [item] * chooser.randrange(3)}).encode()
        path = chooser.choice(["/hooks/graph", "/hooks/graph/lifecycle", "/hooks/google"])
        headers = {key: chooser.choice(["", "sync", "exists", "1", "x" * 400, "abc"])
                   for key in chooser.sample(["X-Goog-Channel-ID", "X-Goog-Channel-Token",
                                              "X-Goog-Resource-State",
                                              "X-Goog-Message-Number",
                                              "X-Goog-Resource-ID"], chooser.randrange(6))}
        async with pushed.http.post(f"{pushed.url}{path}", data=body,
                                    headers=headers) as answer:
            assert answer.status in {200, 202, 400}, (path, body, headers)
            if answer.status == 400:
                assert (await answer.json())["error"]["code"] == "invalid_notification"
    await asyncio.sleep(0.8)
    assert pushed.backend.requests == requests  # no forged notice reached the provider
