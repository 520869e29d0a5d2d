"""The Graph emulator's ``/subscriptions`` API and its notifications, over real HTTP.

A small subscriber app stands in for calproxy's hooks; its behaviour (echo the decoded
or the encoded token, answer slowly, fail) is what each test varies. These tests pin the
emulator to Microsoft's documented behaviour so the end-to-end tests can trust it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fixtures.graph_emulator import MicrosoftCloud

EMAIL = "eve@contoso.com"


@dataclass
class Subscriber:
    """A webhook receiver: records handshakes and notification bodies."""

    mode: str = "good"           # good | encoded | json | slow | refuse
    fail_posts: int = 0          # answer the next N notification POSTs with 500
    tokens: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        if "validationToken" in request.query:
            self.content_types.append(request.content_type)
            return await self._handshake(request)
        if self.fail_posts > 0:
            self.fail_posts -= 1
            return web.Response(status=500)
        self.bodies.append(await request.json())
        return web.Response(status=202)

    async def _handshake(self, request: web.Request) -> web.Response:
        token = request.query["validationToken"]
        self.tokens.append(token)
        if self.mode == "encoded":
            raw = request.raw_path.split("validationToken=", 1)[1]
            return web.Response(text=raw, content_type="text/plain")
        if self.mode == "json":
            return web.json_response(token)
        if self.mode == "slow":
            await asyncio.sleep(1.0)
        if self.mode == "refuse":
            return web.Response(status=403)
        return web.Response(text=token, content_type="text/plain")

    def items(self) -> list[dict[str, Any]]:
        return [item for body in self.bodies for item in body["value"]]


@dataclass
class Env:
    cloud: MicrosoftCloud
    graph_url: str
    hook_url: str
    subscriber: Subscriber
    http: aiohttp.ClientSession
    headers: dict[str, str]

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.http.request(method, self.graph_url + path, headers=self.headers,
                                     **kwargs) as answer:
            raw = await answer.read()
            return answer.status, (await answer.json() if raw else None)

    def body(self, **fields: Any) -> dict[str, Any]:
        expires = datetime.now(UTC) + timedelta(days=2)
        return {"changeType": "created,updated,deleted", "notificationUrl": self.hook_url,
                "lifecycleNotificationUrl": self.hook_url + "/lifecycle",
                "resource": "me/events", "clientState": "s3cret",
                "expirationDateTime": expires.isoformat().replace("+00:00", "Z"), **fields}


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    cloud = MicrosoftCloud()
    cloud.graph.add_mailbox(EMAIL, "Eve Exec")
    cloud.graph.subscriptions.allow_http = True
    subscriber = Subscriber()
    hooks = web.Application()
    hooks.router.add_post("/hooks/graph", subscriber.handle)
    hooks.router.add_post("/hooks/graph/lifecycle", subscriber.handle)
    graph_server, hook_server = TestServer(cloud.app()), TestServer(hooks)
    await graph_server.start_server()
    await hook_server.start_server()
    token = cloud.identity.mint(EMAIL, "Calendars.ReadWrite User.Read")["access_token"]
    async with aiohttp.ClientSession() as http:
        yield Env(cloud, str(graph_server.make_url("/v1.0")),
                  str(hook_server.make_url("/hooks/graph")), subscriber, http,
                  {"Authorization": f"Bearer {token}"})
    await graph_server.close()
    await hook_server.close()


async def test_create_validates_both_urls_with_a_tricky_token(env: Env) -> None:
    status, sub = await env.call("POST", "/subscriptions", json=env.body())
    assert status == 201, sub
    assert sub["resource"] == "me/events" and sub["clientState"] == "s3cret"
    assert len(env.subscriber.tokens) == 2
    assert all(set("+/% ") <= set(token) for token in env.subscriber.tokens)
    assert env.subscriber.content_types == ["text/plain", "text/plain"]
    status, listed = await env.call("GET", "/subscriptions")
    assert [s["id"] for s in listed["value"]] == [sub["id"]]
    status, one = await env.call("GET", f"/subscriptions/{sub['id']}")
    assert status == 200 and one["notificationUrl"] == env.hook_url


@pytest.mark.parametrize("mode", ["encoded", "json", "slow", "refuse"])
async def test_a_bad_handshake_refuses_the_subscription(env: Env, mode: str) -> None:
    env.subscriber.mode = mode
    env.cloud.graph.subscriptions.notifier.validation_budget = 0.5
    status, body = await env.call("POST", "/subscriptions", json=env.body())
    assert status == 400 and body["error"]["code"] == "ValidationError"
    assert env.cloud.graph.subscriptions.items == {}


async def test_http_needs_permission_and_limits_hold(env: Env) -> None:
    env.cloud.graph.subscriptions.allow_http = False
    status, _ = await env.call("POST", "/subscriptions", json=env.body())
    assert status == 400 and env.subscriber.tokens == []
    env.cloud.graph.subscriptions.allow_http = True
    far = (datetime.now(UTC) + timedelta(minutes=10081)).isoformat()
    assert (await env.call("POST", "/subscriptions", json=env.body(
        expirationDateTime=far)))[0] == 400
    assert (await env.call("POST", "/subscriptions", json=env.body(
        clientState="x" * 129)))[0] == 400
    assert (await env.call("POST", "/subscriptions", json=env.body(
        resource="me/messages")))[0] == 400
    assert (await env.call("POST", "/subscriptions", json=env.body(
        changeType="created,moved")))[0] == 400
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    status, sub = await env.call("POST", "/subscriptions", json=env.body(
        expirationDateTime=soon))
    granted = datetime.fromisoformat(sub["expirationDateTime"].replace("Z", "+00:00"))
    assert status == 201 and granted >= datetime.now(UTC) + timedelta(minutes=44)
    status, clash = await env.call("POST", "/subscriptions", json=env.body(
        resource=f"users/{EMAIL}/events"))
    assert status == 409 and sub["id"] in clash["error"]["message"]


async def test_changes_are_batched_across_subscriptions(env: Env) -> None:
    graph = env.cloud.graph
    other = graph.add_calendar(EMAIL, "Team")
    status, first = await env.call("POST", "/subscriptions", json=env.body())
    status, second = await env.call("POST", "/subscriptions", json=env.body(
        resource=f"me/calendars/{other}/events", clientState="other"))
    assert status == 201
    start = datetime(2026, 12, 3, 9, tzinfo=UTC)
    one = graph.add_event(EMAIL, "One", start, start + timedelta(hours=1))
    graph.add_event(EMAIL, "Two", start, start + timedelta(hours=1), calendar_id=other)
    graph.update_event(EMAIL, one, subject="One again")
    await graph.subscriptions.notifier.idle()
    assert len(env.subscriber.bodies) == 1
    items = env.subscriber.items()
    assert {(i["subscriptionId"], i["changeType"]) for i in items} == {
        (first["id"], "created"), (second["id"], "created"), (first["id"], "updated")}
    item = items[0]
    assert item["resourceData"]["id"] == one and item["clientState"] == "s3cret"
    assert item["resource"].endswith(f"/Events/{one}") and item["tenantId"]
    assert set(item["resourceData"]) == {"@odata.type", "@odata.id", "@odata.etag", "id"}


async def test_api_writes_notify_and_failures_are_retried(env: Env) -> None:
    await env.call("POST", "/subscriptions", json=env.body())
    env.subscriber.fail_posts = 2
    status, created = await env.call("POST", "/me/events", json={
        "subject": "Via API", "start": {"dateTime": "2026-12-03T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-03T10:00:00", "timeZone": "UTC"}})
    assert status == 201
    await env.cloud.graph.subscriptions.notifier.idle()
    counters = env.cloud.graph.subscriptions.notifier.counters
    assert counters.posts_failed == 2 and counters.posts_ok == 1
    assert [i["resourceData"]["id"] for i in env.subscriber.items()] == [created["id"]]
    await env.call("DELETE", f"/me/events/{created['id']}")
    await env.cloud.graph.subscriptions.notifier.idle()
    assert env.subscriber.items()[-1]["changeType"] == "deleted"


async def test_dropped_and_duplicated_notifications(env: Env) -> None:
    graph = env.cloud.graph
    await env.call("POST", "/subscriptions", json=env.body())
    start = datetime(2026, 12, 3, 9, tzinfo=UTC)
    graph.subscriptions.notifier.drop_next()
    graph.add_event(EMAIL, "Lost", start, start + timedelta(hours=1))
    graph.subscriptions.notifier.duplicate_next()
    graph.add_event(EMAIL, "Twice", start, start + timedelta(hours=1))
    await graph.subscriptions.notifier.idle()
    counters = graph.subscriptions.notifier.counters
    assert counters.items_dropped == 1 and counters.items_delivered == 2
    assert len({i["resourceData"]["id"] for i in env.subscriber.items()}) == 1


async def test_renew_reauthorize_delete_and_lifecycle(env: Env) -> None:
    subs = env.cloud.graph.subscriptions
    status, sub = await env.call("POST", "/subscriptions", json=env.body())
    later = (datetime.now(UTC) + timedelta(days=6)).isoformat()
    status, renewed = await env.call("PATCH", f"/subscriptions/{sub['id']}",
                                     json={"expirationDateTime": later})
    assert status == 200 and renewed["expirationDateTime"] > sub["expirationDateTime"]
    assert (await env.call("POST", f"/subscriptions/{sub['id']}/reauthorize"))[0] == 204
    assert subs.renewals == [sub["id"]] and subs.reauthorizations == [sub["id"]]
    assert subs.lifecycle(sub["id"], "reauthorizationRequired")
    assert subs.lifecycle(sub["id"], "missed")
    assert subs.lifecycle(sub["id"], "subscriptionRemoved")
    await subs.notifier.idle()
    assert [i["lifecycleEvent"] for i in env.subscriber.items()] == [
        "reauthorizationRequired", "missed", "subscriptionRemoved"]
    assert "changeType" not in env.subscriber.items()[0]
    status, _ = await env.call("PATCH", f"/subscriptions/{sub['id']}",
                               json={"expirationDateTime": later})
    assert status == 404


async def test_expiry_and_the_lifecycle_url_cannot_be_added(env: Env) -> None:
    subs = env.cloud.graph.subscriptions
    status, bare = await env.call("POST", "/subscriptions", json=env.body(
        lifecycleNotificationUrl=None))
    assert status == 201
    status, _body = await env.call("PATCH", f"/subscriptions/{bare['id']}", json={
        "lifecycleNotificationUrl": env.hook_url + "/lifecycle",
        "expirationDateTime": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    assert status == 400
    assert subs.advance(timedelta(days=3)) == [bare["id"]]
    assert (await env.call("GET", f"/subscriptions/{bare['id']}"))[0] == 404
    assert (await env.call("DELETE", f"/subscriptions/{bare['id']}"))[0] == 404
    start = datetime(2026, 12, 3, 9, tzinfo=UTC)
    env.cloud.graph.add_event(EMAIL, "Unseen", start, start + timedelta(hours=1))
    await subs.notifier.idle()
    assert env.subscriber.bodies == []


async def test_delete_and_unauthenticated(env: Env) -> None:
    _status, sub = await env.call("POST", "/subscriptions", json=env.body())
    assert (await env.call("DELETE", f"/subscriptions/{sub['id']}"))[0] == 204
    assert env.cloud.graph.subscriptions.items == {}
    async with env.http.get(env.graph_url + "/subscriptions") as answer:
        assert answer.status == 401


@pytest.mark.parametrize("scopes", ["Calendars.Read.Shared User.Read",
                                    "Calendars.ReadWrite.Shared Calendars.Read.Shared"])
async def test_shared_permissions_alone_cannot_subscribe(env: Env, scopes: str) -> None:
    """Microsoft: the ``.Shared`` permissions do not support subscriptions (403)."""
    token = env.cloud.identity.mint(EMAIL, scopes)["access_token"]
    env.headers = {"Authorization": f"Bearer {token}"}
    status, body = await env.call("POST", "/subscriptions", json=env.body())
    assert status == 403 and body["error"]["code"] == "ExtensionError"
    assert env.cloud.graph.subscriptions.items == {} and env.subscriber.tokens == []
    token = env.cloud.identity.mint(EMAIL, scopes + " Calendars.Read")["access_token"]
    env.headers = {"Authorization": f"Bearer {token}"}
    assert (await env.call("POST", "/subscriptions", json=env.body()))[0] == 201
