"""calproxy with push on, over the real Graph provider and the Graph emulator, on loopback.

The emulator calls calproxy's hooks back over real HTTP (``PUBLIC_URL`` is the test
server's http URL, so ``CALPROXY_PUSH_ALLOW_HTTP`` and the emulator's ``allow_http`` are
on). :func:`graph_world` yields a :class:`World` with the executive's Graph integration
connected through the whole OAuth dance; ``overrides`` replace settings (a short
freshness for the polling safety-net test).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from proxy.config import Settings
from proxy.http.app import create_app
from proxy.providers import default_registry
from proxy.providers.memory import MemoryBackend
from proxy.store.records import Role
from proxy.store.sql import open_store
from tests.api.conftest import CLIENT_ID, CLIENT_SECRET, METRICS_TOKEN, QUIET, Live, free_port
from tests.fixtures.graph_emulator import GraphEmulator, MicrosoftCloud
from tests.fixtures.graph_subscriptions import GraphSubscriptions

EXEC = "exec@acme.example"
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = (f"start={(NOW - timedelta(days=1)).isoformat().replace('+00:00', 'Z')}"
          f"&end={(NOW + timedelta(days=20)).isoformat().replace('+00:00', 'Z')}")


@dataclass
class World:
    live: Live
    cloud: MicrosoftCloud

    @property
    def graph(self) -> GraphEmulator:
        return self.cloud.graph

    @property
    def subs(self) -> GraphSubscriptions:
        return self.cloud.graph.subscriptions

    async def connect(self) -> dict[str, Any]:
        answer = await self.live.connect("exec", "graph")
        assert answer["status"] == "connected", answer
        self.live.ids["integration:exec"] = answer["id"]
        return answer

    async def titles(self) -> list[str]:
        status, body, _ = await self.live.call("exec", "GET", f"/v1/users/{EXEC}/events?"
                                               f"{WINDOW}")
        assert status == 200, body
        return sorted(e["title"] for e in body["events"])

    def add(self, title: str, days: int = 2, **fields: Any) -> str:
        start = NOW + timedelta(days=days, hours=9)
        return self.graph.add_event(EXEC, title, start, start + timedelta(hours=1), "UTC",
                                    **fields)

    def upstream_requests(self, contacts: bool = True) -> int:
        """Requests calproxy made to Graph (the emulator's own count), with or without
        those of the contacts sync (which push does not cover)."""
        return sum(contacts or "contact" not in path.lower() for _, path in self.graph.requests)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0,
                     step: float = 0.1) -> float:
    """Seconds until ``check`` holds; AssertionError after ``timeout``."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(step)
    return time.monotonic() - started


@asynccontextmanager
async def graph_world(database_url: str, **overrides: Any) -> AsyncIterator[World]:
    cloud = MicrosoftCloud(CLIENT_ID, CLIENT_SECRET)
    cloud.graph.subscriptions.allow_http = True
    upstream = TestServer(cloud.app(), host="127.0.0.1")
    await upstream.start_server()
    port = free_port()
    settings = Settings(
        database_url=database_url, host="127.0.0.1", port=port,
        secret_key="test-secret-key-for-calproxy", metrics_token=METRICS_TOKEN, **QUIET,
        ms_client_id=CLIENT_ID, ms_client_secret=CLIENT_SECRET,
        **cloud.settings_for(f"http://127.0.0.1:{upstream.port}"),
    ).with_overrides(**{"public_url": f"http://127.0.0.1:{port}", "push": "on",
                        "push_allow_http": True, "freshness_seconds": 3600, **overrides})
    store = await open_store(settings)
    app = create_app(settings, store, default_registry(), scheduler=True)
    server = TestServer(app, host="127.0.0.1",
                        port=port)
    await server.start_server()
    account = await store.create_account("Acme", {})
    user = await store.create_user(account.id, EXEC, Role.MEMBER)
    cloud.graph.add_mailbox(EXEC, "Eve Exec")
    try:
        async with aiohttp.ClientSession() as http:
            live = Live(f"http://127.0.0.1:{port}", http, store, MemoryBackend(),
                        cloud.identity, settings)
            live.app = app
            live.ids["exec"] = user.id
            live.tokens["exec"] = await store.create_token(user.id)
            yield World(live, cloud)
    finally:
        await server.close()
        await upstream.close()
