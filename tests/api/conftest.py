"""A live calproxy on loopback over a real store, with the in-memory provider behind the
OAuth services and the Microsoft identity emulator doing the OAuth dance.

``world`` seeds the cast of the demo: an executive, an assistant (delegate without
private access), a chief of staff (delegate with it), a colleague, and an outsider in
another account.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from proxy.config import Settings
from proxy.core.model import Service
from proxy.http.app import create_app
from proxy.providers import GOOGLE_OAUTH, MICROSOFT_OAUTH
from proxy.providers.base import Connection, Provider, ServiceEntry
from proxy.providers.memory import MemoryBackend, MemoryProvider
from proxy.store.records import Role
from proxy.store.sql import SqlStore, open_store
from tests.fixtures.ms_identity import MicrosoftIdentity

CLIENT_ID, CLIENT_SECRET = "calproxy-test-client", "calproxy-test-secret"
METRICS_TOKEN = "metrics-scraper-token-7f3a"
#: rate limits off, unless a test asks for them (tests/api/test_limits.py)
QUIET: dict[str, Any] = {"rate_limit": None, "feed_rate_limit": None}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Live:
    url: str
    http: aiohttp.ClientSession
    store: SqlStore
    backend: MemoryBackend
    identity: MicrosoftIdentity
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    app: web.Application | None = None

    async def call(self, who: str | None, method: str, path: str,
                   **kwargs: Any) -> tuple[int, Any, aiohttp.ClientResponse]:
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        async with self.http.request(method, self.url + path, headers=headers,
                                     **kwargs) as response:
            raw = await response.read()
            try:
                body = await response.json(content_type=None) if raw else None
            except ValueError:
                body = raw
            return response.status, body, response

    async def connect(self, who: str, service: str = "graph",
                      permissions: dict[str, str] | None = None) -> dict[str, Any]:
        """The whole OAuth dance over real HTTP: POST, authorize (302), callback."""
        payload: dict[str, Any] = {"service": service}
        if permissions:
            payload["permissions"] = permissions
        status, body, _ = await self.call(who, "POST", "/v1/me/integrations", json=payload)
        assert status == 201, body
        async with self.http.get(body["authorize_url"]) as response:
            answer = await response.json(content_type=None)
            assert response.status == 200, answer
        return dict(answer)

    def mailbox(self, who: str) -> str:
        return self.ids[f"integration:{who}"]


def memory_registry(backend: MemoryBackend) -> dict[Service, ServiceEntry]:
    def factory(connection: Connection) -> Provider:
        return MemoryProvider(backend, connection)

    return {
        Service.GRAPH: ServiceEntry(factory, oauth=MICROSOFT_OAUTH),
        Service.GOOGLE: ServiceEntry(factory, oauth=GOOGLE_OAUTH),
        Service.EWS_O365: ServiceEntry(factory, oauth=MICROSOFT_OAUTH),
        Service.EXCHANGE_EWS: ServiceEntry(factory),
    }


@asynccontextmanager
async def running(database_url: str, search_path: str | None = None, *,
                  scheduler: bool = False, **overrides: Any) -> AsyncIterator[Live]:
    """calproxy on loopback over ``database_url``, with the identity emulator beside it
    (``overrides`` replace settings, e.g. a freshness window for the cache tests;
    ``scheduler`` runs the background work ``calproxy serve`` runs)."""
    identity = MicrosoftIdentity(CLIENT_ID, CLIENT_SECRET)
    idp = TestServer(identity.app(), host="127.0.0.1")
    await idp.start_server()
    port = free_port()
    settings = Settings(
        database_url=database_url, host="127.0.0.1", port=port,
        secret_key="test-secret-key-for-calproxy", metrics_token=METRICS_TOKEN, **QUIET,
        ms_login_url=f"http://127.0.0.1:{idp.port}/common", ms_client_id=CLIENT_ID,
        ms_client_secret=CLIENT_SECRET, freshness_seconds=0,
    ).with_overrides(**overrides)
    store = await open_store(settings, search_path=search_path)
    backend = MemoryBackend()
    app = create_app(settings, store, memory_registry(backend), scheduler=scheduler)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        live = Live(f"http://127.0.0.1:{port}", http, store, backend, identity, settings)
        live.app = app
        yield live
    await server.close()
    await idp.close()


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'calproxy.sqlite3'}") as live:
        yield live


CAST = {
    "exec": ("exec@acme.example", Role.MEMBER),
    "assistant": ("assistant@acme.example", Role.MEMBER),
    "chief": ("chief@acme.example", Role.MEMBER),
    "colleague": ("colleague@acme.example", Role.MEMBER),
    "admin": ("admin@acme.example", Role.ADMIN),
}


@pytest.fixture
async def world(live: Live) -> Live:
    """The cast, tokens, delegations, and the executive connected to the memory provider."""
    return await seed_world(live)


async def seed_world(live: Live) -> Live:
    account = await live.store.create_account("Acme", {})
    other = await live.store.create_account("Other", {})
    live.ids["account"] = account.id
    for who, (email, role) in CAST.items():
        user = await live.store.create_user(account.id, email, role)
        live.ids[who] = user.id
        live.tokens[who] = await live.store.create_token(user.id)
        live.identity.add_user(email)
    outsider = await live.store.create_user(other.id, "outsider@other.example", Role.MEMBER)
    live.ids["outsider"] = outsider.id
    live.tokens["outsider"] = await live.store.create_token(outsider.id)
    await live.call("exec", "PUT", "/v1/me/delegates/assistant@acme.example",
                    json={"can_schedule": True, "can_view_private": False})
    await live.call("exec", "PUT", "/v1/me/delegates/chief@acme.example",
                    json={"can_schedule": True, "can_view_private": True})
    connected = await live.connect("exec")
    assert connected["status"] == "connected"
    live.ids["integration:exec"] = connected["id"]
    return live


@dataclass
class Cloud:
    """calproxy over the real Graph and Google providers and their emulators."""

    live: Live
    microsoft: Any
    google: Any


@pytest.fixture
async def cloud(tmp_path: Path) -> AsyncIterator[Cloud]:
    from proxy.providers import default_registry
    from tests.fixtures.google_emulator import GoogleEmulator
    from tests.fixtures.graph_emulator import MicrosoftCloud

    microsoft, google = MicrosoftCloud(CLIENT_ID, CLIENT_SECRET), GoogleEmulator()
    ms_server = TestServer(microsoft.app(), host="127.0.0.1")
    google_server = TestServer(google.app(), host="127.0.0.1")
    await ms_server.start_server()
    await google_server.start_server()
    port = free_port()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'calproxy.sqlite3'}",
        host="127.0.0.1", port=port, secret_key="test-secret-key-for-calproxy",
        metrics_token=METRICS_TOKEN, **QUIET,
        ms_client_id=CLIENT_ID, ms_client_secret=CLIENT_SECRET,
        freshness_seconds=0, **microsoft.settings_for(f"http://127.0.0.1:{ms_server.port}"),
        **GoogleEmulator.settings_overrides(f"http://127.0.0.1:{google_server.port}"),
    )
    store = await open_store(settings)
    server = TestServer(create_app(settings, store, default_registry()), host="127.0.0.1",
                        port=port)
    await server.start_server()
    account = await store.create_account("Acme", {})
    async with aiohttp.ClientSession() as http:
        live = Live(f"http://127.0.0.1:{port}", http, store, MemoryBackend(),
                    microsoft.identity, settings)
        for who, (email, role) in CAST.items():
            user = await store.create_user(account.id, email, role)
            live.ids[who] = user.id
            live.tokens[who] = await store.create_token(user.id)
            microsoft.graph.add_mailbox(email)
            google.add_user(email)
        yield Cloud(live, microsoft, google)
    await server.close()
    await ms_server.close()
    await google_server.close()


@pytest.fixture
async def exchange(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Cloud]:
    """calproxy over the real EWS provider: the SOAP emulator for exchange_ews, and the
    Microsoft identity emulator minting the tokens it accepts for ews_o365. Indirect
    parametrization passes extra settings (``{"sync_past_days": 400}``)."""
    from proxy.providers import default_registry
    from tests.fixtures.ews_emulator import EwsEmulator

    ews = EwsEmulator()
    identity = MicrosoftIdentity(CLIENT_ID, CLIENT_SECRET)
    ews.token_validator = lambda token: identity.validate_bearer(f"Bearer {token}")
    app = identity.app()
    app.add_subapp("/ews", ews.app())
    upstream = TestServer(app, host="127.0.0.1")
    await upstream.start_server()
    port = free_port()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'calproxy.sqlite3'}",
        host="127.0.0.1", port=port, secret_key="test-secret-key-for-calproxy",
        metrics_token=METRICS_TOKEN, **QUIET,
        ms_client_id=CLIENT_ID, ms_client_secret=CLIENT_SECRET, freshness_seconds=0,
        ms_login_url=f"http://127.0.0.1:{upstream.port}/common", ews_allow_http=True,
        **getattr(request, "param", {}))
    store = await open_store(settings)
    server = TestServer(create_app(settings, store, default_registry()), host="127.0.0.1",
                        port=port)
    await server.start_server()
    account = await store.create_account("Acme", {"ews_hosts": {"value": ["127.0.0.1"],
                                                                 "locked": False}})
    async with aiohttp.ClientSession() as http:
        live = Live(f"http://127.0.0.1:{port}", http, store, MemoryBackend(), identity,
                    settings)
        live.ids["ews_url"] = f"http://127.0.0.1:{upstream.port}/ews/EWS/Exchange.asmx"
        for who, (email, role) in CAST.items():
            user = await store.create_user(account.id, email, role)
            live.ids[who] = user.id
            live.tokens[who] = await store.create_token(user.id)
            identity.add_user(email)
            ews.add_user(email, password=f"pw-{who}")
        yield Cloud(live, identity, ews)
    await server.close()
    await upstream.close()
