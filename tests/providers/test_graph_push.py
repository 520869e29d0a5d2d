"""GraphProvider's subscriptions (watch / renew / unwatch) against the Graph emulator.

The real provider (msgraph-sdk builders, calproxy's Graph session) talks to the emulator
over loopback; a small receiver app answers the emulator's validation requests, so every
create really goes through Graph's handshake.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from proxy.config import Settings
from proxy.errors import Conflict, UpstreamError, UpstreamNotFound
from proxy.providers.base import Connection, PushTarget
from proxy.providers.graph import GraphProvider
from proxy.providers.graph_push import MAX_LIFETIME
from tests.fixtures.graph_emulator import MicrosoftCloud
from tests.fixtures.ms_identity import CodeFlowTokens

EMAIL = "eve@contoso.com"
SCOPES = "offline_access User.Read Calendars.ReadWrite"


@dataclass
class Env:
    cloud: MicrosoftCloud
    provider: GraphProvider
    hook_url: str
    receiver: dict[str, Any]

    def target(self, days: float = 3) -> PushTarget:
        return PushTarget(self.hook_url, self.hook_url + "/lifecycle",
                          secrets.token_hex(8), secrets.token_urlsafe(24),
                          datetime.now(UTC) + timedelta(days=days))

    @property
    def subs(self) -> Any:
        return self.cloud.graph.subscriptions


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    cloud = MicrosoftCloud()
    cloud.graph.add_mailbox(EMAIL, "Eve Exec")
    cloud.graph.subscriptions.allow_http = True
    receiver: dict[str, Any] = {"answer": "good", "handshakes": 0}

    async def hook(request: web.Request) -> web.Response:
        token = request.query.get("validationToken")
        if token is None:
            return web.Response(status=202)
        receiver["handshakes"] += 1
        if receiver["answer"] == "bad":
            return web.Response(status=404)
        return web.Response(text=token, content_type="text/plain")

    hooks = web.Application()
    hooks.router.add_post("/hooks/graph", hook)
    hooks.router.add_post("/hooks/graph/lifecycle", hook)
    graph_server, hook_server = TestServer(cloud.app()), TestServer(hooks)
    await graph_server.start_server()
    await hook_server.start_server()
    settings = Settings(**MicrosoftCloud.settings_for(str(graph_server.make_url(""))))
    async with aiohttp.ClientSession() as http:
        tokens = CodeFlowTokens(http, settings.ms_login_url, EMAIL, SCOPES)
        await tokens.connect()
        provider = GraphProvider(Connection(settings, http, tokens=tokens, mailbox_key=EMAIL),
                                 retry_cap=1.0)
        yield Env(cloud, provider, str(hook_server.make_url("/hooks/graph")), receiver)
        await provider.close()
    await graph_server.close()
    await hook_server.close()


async def test_watch_the_default_calendar(env: Env) -> None:
    target = env.target(days=30)
    primary = env.cloud.graph.mailbox(EMAIL).primary
    channel = await env.provider.watch(primary, True, target)
    sub = env.subs.items[channel.upstream_id]
    assert sub.resource == "me/events" and sub.calendar_id == primary
    assert sub.client_state == target.secret
    assert sub.notification_url == target.notification_url
    assert sub.lifecycle_url == target.lifecycle_url
    assert sub.change_types == {"created", "updated", "deleted"}
    assert env.receiver["handshakes"] == 2
    assert channel.resource_id is None
    assert channel.expires <= datetime.now(UTC) + MAX_LIFETIME
    assert channel.expires > datetime.now(UTC) + timedelta(days=6)


async def test_watch_another_calendar(env: Env) -> None:
    team = env.cloud.graph.add_calendar(EMAIL, "Team")
    channel = await env.provider.watch(team, False, env.target())
    sub = env.subs.items[channel.upstream_id]
    assert sub.resource == f"me/calendars/{team}/events" and sub.calendar_id == team
    assert abs(channel.expires - (datetime.now(UTC) + timedelta(days=3))) < timedelta(
        minutes=1)


async def test_renew_in_place_then_gone(env: Env) -> None:
    primary = env.cloud.graph.mailbox(EMAIL).primary
    channel = await env.provider.watch(primary, True, env.target(days=1))
    renewed = await env.provider.renew(channel, datetime.now(UTC) + timedelta(days=5))
    assert renewed.upstream_id == channel.upstream_id
    assert renewed.expires > channel.expires + timedelta(days=3)
    assert env.subs.renewals == [channel.upstream_id]
    await env.provider.subscriptions.reauthorize(renewed)
    assert env.subs.reauthorizations == [channel.upstream_id]
    env.subs.lifecycle(channel.upstream_id, "subscriptionRemoved")
    with pytest.raises(UpstreamNotFound):
        await env.provider.renew(channel, datetime.now(UTC) + timedelta(days=5))


async def test_unwatch_twice(env: Env) -> None:
    primary = env.cloud.graph.mailbox(EMAIL).primary
    channel = await env.provider.watch(primary, True, env.target())
    await env.provider.unwatch(channel)
    assert env.subs.items == {}
    await env.provider.unwatch(channel)  # already gone: not an error
    assert ("DELETE", f"/v1.0/subscriptions/{channel.upstream_id}") in env.cloud.graph.requests


async def test_a_leftover_subscription_of_ours_is_replaced(env: Env) -> None:
    primary = env.cloud.graph.mailbox(EMAIL).primary
    lost = await env.provider.watch(primary, True, env.target())
    again = env.target()
    channel = await env.provider.watch(primary, True, again)
    assert channel.upstream_id != lost.upstream_id
    assert list(env.subs.items) == [channel.upstream_id]
    assert env.subs.items[channel.upstream_id].client_state == again.secret


async def test_a_conflict_with_another_url_is_mapped(env: Env) -> None:
    primary = env.cloud.graph.mailbox(EMAIL).primary
    await env.provider.watch(primary, True, env.target())
    other = env.target()
    moved = PushTarget(other.notification_url + "?elsewhere=1", None, other.channel_id,
                       other.secret, other.expires)
    with pytest.raises(Conflict) as raised:
        await env.provider.watch(primary, True, moved)
    assert raised.value.code == "push_subscription_exists"
    assert len(env.subs.items) == 1


async def test_a_failed_handshake_is_a_clear_error(env: Env) -> None:
    env.receiver["answer"] = "bad"
    primary = env.cloud.graph.mailbox(EMAIL).primary
    with pytest.raises(UpstreamError) as raised:
        await env.provider.watch(primary, True, env.target())
    assert raised.value.code == "push_validation_failed"
    assert "validationToken" in raised.value.message
    assert env.subs.items == {}
