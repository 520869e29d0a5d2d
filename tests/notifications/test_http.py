"""Notifications out over real HTTP: webhooks signed and thin, told only what their
subscriber may read, retried when the receiver fails; the change stream with resume."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest
from standardwebhooks.webhooks import Webhook

from proxy.core.model import Sensitivity
from proxy.notifications.routes import DELIVERER, HEARTBEAT
from tests.api.conftest import Live
from tests.api.helpers import events_of, seed
from tests.notifications.conftest import Receiver, read_events, subscribe, until

MARKER = "HIDDEN-MARKER"


async def test_each_subscriber_is_told_what_it_may_read(world: Live, receiver: Receiver) -> None:
    await events_of(world, "exec")  # the first sync: nothing to tell yet
    secrets = {who: await subscribe(world, who, f"{receiver.url}/{who}")
               for who in ("exec", "assistant", "colleague")}
    private = seed(world, title=f"Merger {MARKER}", sensitivity=Sensitivity.PRIVATE,
                   description=MARKER, location=MARKER)
    await events_of(world, "exec")  # the read syncs the change into the mirror
    await until(lambda: all(receiver.received.get(w) for w in secrets))
    for who, secret in secrets.items():
        for headers, raw in receiver.received[who]:
            assert Webhook(secret).verify(raw, headers)
            assert MARKER.encode() not in raw
    [told_exec] = receiver.bodies("exec")
    assert told_exec["type"] == "events.changed" and len(told_exec["changed"]) == 1
    assert receiver.bodies("assistant")[0]["changed"] == told_exec["changed"]
    assert receiver.bodies("colleague") == [{"type": "freebusy.changed",
                                             "user": "exec@acme.example"}]
    # a hidden field of the private event changes: only the full view is told
    world.backend.put_event(world.mailbox("exec"), replace(private, title=f"Renamed {MARKER}"))
    await events_of(world, "exec")
    await until(lambda: len(receiver.received["exec"]) == 2)
    await asyncio.sleep(1.5)  # time enough for any other delivery to arrive
    assert len(receiver.received["assistant"]) == 1
    assert len(receiver.received["colleague"]) == 1


async def test_failing_receivers_are_retried_with_the_same_id(world: Live,
                                                              receiver: Receiver) -> None:
    assert world.app is not None
    world.app[DELIVERER].retry_delays = (0.2, 0.2)
    receiver.answers = [500, 503]
    await subscribe(world, "exec", f"{receiver.url}/exec")
    seed(world, title="Planning")
    await events_of(world, "exec")
    await until(lambda: len(receiver.received.get("exec", [])) == 3)
    ids = {headers["webhook-id"] for headers, _ in receiver.received["exec"]}
    assert len(ids) == 1
    _status, body, _ = await world.call("exec", "GET", "/v1/me/webhooks")
    assert body["webhooks"][0]["status"] == "active"


async def test_a_410_disables_the_webhook(world: Live, receiver: Receiver) -> None:
    receiver.answers = [410]
    await subscribe(world, "exec", f"{receiver.url}/exec")
    seed(world, title="Planning")
    await events_of(world, "exec")
    await until(lambda: bool(receiver.received.get("exec")))

    async def disabled() -> bool:
        _, body, _ = await world.call("exec", "GET", "/v1/me/webhooks")
        return bool(body["webhooks"][0]["status"] == "disabled")

    for _ in range(100):
        if await disabled():
            break
        await asyncio.sleep(0.05)
    assert await disabled()


@pytest.mark.parametrize("url", ["https://localhost/x", "https://10.0.0.8/x",
                                 "https://169.254.169.254/latest", "ftp://127.0.0.1/x"])
async def test_webhooks_into_the_local_network_are_refused(world: Live, url: str) -> None:
    status, body, _ = await world.call("exec", "POST", "/v1/me/webhooks", json={"url": url})
    assert status == 400 and body["error"]["code"] == "webhook_url_not_allowed"


async def test_outsiders_and_bad_input(world: Live, receiver: Receiver) -> None:
    status, body, _ = await world.call("outsider", "POST", "/v1/me/webhooks",
                                       json={"url": f"{receiver.url}/x",
                                             "user": "exec@acme.example"})
    assert status == 404
    status, body, _ = await world.call("exec", "POST", "/v1/me/webhooks", json={"url": 7})
    assert status == 400 and body["error"]["code"] == "invalid_field"
    status, _, _ = await world.call("exec", "DELETE", "/v1/me/webhooks/nope")
    assert status == 404


async def test_the_stream_sends_the_delegates_view_and_resumes(world: Live) -> None:
    assert world.app is not None
    world.app[HEARTBEAT] = 0.2
    headers = {"Authorization": f"Bearer {world.tokens['assistant']}"}
    url = f"{world.url}/v1/users/exec@acme.example/changes"
    async with world.http.get(url, headers=headers) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert (await asyncio.wait_for(stream.content.readline(), 5)).startswith(b":")
        seed(world, title=f"One {MARKER}", sensitivity=Sensitivity.PRIVATE)
        await events_of(world, "exec")
        [(first, data)] = await read_events(stream, 1)
        assert MARKER not in data and json.loads(data)["type"] == "events.changed"
    seed(world, title="Two")
    await events_of(world, "exec")
    await asyncio.sleep(1)  # logged while nobody listened (the owner is watched an hour)
    async with world.http.get(url, headers={**headers, "Last-Event-ID": first}) as stream:
        [(second, data)] = await read_events(stream, 1)
        assert int(second) > int(first) and len(json.loads(data)["changed"]) == 1


async def test_the_stream_gives_colleagues_no_ids_and_outsiders_nothing(world: Live) -> None:
    url = f"{world.url}/v1/users/exec@acme.example/changes"
    status, _, _ = await world.call("outsider", "GET", "/v1/users/exec@acme.example/changes")
    assert status == 404
    headers = {"Authorization": f"Bearer {world.tokens['colleague']}"}
    async with world.http.get(url, headers=headers) as stream:
        await asyncio.sleep(0.5)
        seed(world, title=f"Busy {MARKER}")
        await events_of(world, "exec")
        [(_, data)] = await read_events(stream, 1)
        assert json.loads(data) == {"type": "freebusy.changed", "user": "exec@acme.example"}
