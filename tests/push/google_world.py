"""calproxy with push on, over the real Google provider and the Google emulator, on
loopback (for tests/push/test_google_push_live.py and bench/google_push.py).

The emulator calls calproxy's ``/hooks/google`` back over real HTTP on every change
(``PUBLIC_URL`` is the test server's http URL, so ``CALPROXY_PUSH_ALLOW_HTTP`` and the
emulator's ``allow_http`` are on). The freshness window is an hour unless ``overrides``
say otherwise, so a read never syncs by itself: what an upstream change brings into
``GET /events`` within seconds came by a push.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from proxy.config import Settings
from proxy.http.app import create_app
from proxy.providers import default_registry
from proxy.providers.memory import MemoryBackend
from proxy.store.sql import open_store
from tests.api.conftest import (
    CAST,
    CLIENT_ID,
    CLIENT_SECRET,
    METRICS_TOKEN,
    QUIET,
    Live,
    free_port,
)
from tests.api.helpers import NEAR as WINDOW
from tests.api.helpers import NOW
from tests.fixtures.google_emulator import GoogleEmulator
from tests.fixtures.ms_identity import MicrosoftIdentity

EXEC = "exec@acme.example"
TEAM = "team@group.calendar.google.com"
EVENTS = f"/calendar/v3/calendars/{EXEC}/events"


class GoogleWorld:
    """calproxy and the Google emulator, both live on loopback."""

    def __init__(self, live: Live, google: GoogleEmulator) -> None:
        self.live, self.google = live, google

    @property
    def hook(self) -> str:
        return f"{self.live.url}/hooks/google"

    async def titles(self) -> list[str]:
        status, body, _ = await self.live.call("exec", "GET",
                                               f"/v1/users/{EXEC}/events?{WINDOW}")
        assert status == 200, body
        return sorted(e["title"] for e in body["events"])

    async def metric(self, outcome: str) -> float:
        """``calproxy_push_notices_total{service="google",outcome=...}`` as scraped."""
        async with self.live.http.get(f"{self.live.url}/metrics", headers={
                "Authorization": f"Bearer {METRICS_TOKEN}"}) as answer:
            text = await answer.text()
        line = f'calproxy_push_notices_total{{outcome="{outcome}",service="google"}}'
        rows = [row for row in text.splitlines() if row.startswith(line)]
        return float(rows[0].split()[-1]) if rows else 0.0

    async def channels(self) -> list[Any]:
        return list(await self.live.store.list_push_channels())

    async def connect(self) -> str:
        answer = await self.live.connect("exec", "google")
        assert answer["status"] == "connected", answer
        await self.titles()  # the first read runs the full round
        await until(lambda: self._channels_match(), what="a channel per synced calendar")
        return str(answer["id"])

    async def synced(self) -> list[dict[str, Any]]:
        status, body, _ = await self.live.call("exec", "GET", f"/v1/users/{EXEC}/calendars")
        assert status == 200, body
        return [c for c in body["calendars"] if c["synced"]]

    async def _channels_match(self) -> bool:
        """Every synced calendar has its channel, stored and live upstream."""
        stored = await self.channels()
        active = {c.id for c in self.google.push.active()}
        calendars = {c["id"] for c in await self.synced()}
        return ({c.calendar_id for c in stored} == calendars
                and {c.upstream_id for c in stored} == active)

    def add(self, title: str, days: int = 2, calendar_id: str | None = None) -> str:
        start = NOW + timedelta(days=days)
        return self.google.add_simple_event(EXEC, title, start, start + timedelta(hours=1),
                                            calendar_id=calendar_id)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 20.0,
                what: str = "the condition") -> float:
    """Poll ``check`` until it holds; the seconds it took (fails after ``timeout``: a
    loaded shared machine is slow, so waits are generous unless a test names a bound)."""
    began = time.monotonic()
    while not await check():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - began


@asynccontextmanager
async def google_world(database_url: str, **overrides: Any) -> AsyncIterator[GoogleWorld]:
    """The live pair, with the cast as users and a Team calendar beside the executive's
    primary one (not synced until asked); ``overrides`` replace settings."""
    google = GoogleEmulator()
    google.push.allow_http = True
    google.push.retry_backoff = 0.1
    upstream = TestServer(google.app(), host="127.0.0.1")
    await upstream.start_server()
    port = free_port()
    settings = Settings(
        database_url=database_url,
        host="127.0.0.1", port=port, secret_key="test-secret-key-for-calproxy",
        metrics_token=METRICS_TOKEN, **QUIET, freshness_seconds=3600,
        public_url=f"http://127.0.0.1:{port}", push="on", push_allow_http=True,
        **GoogleEmulator.settings_overrides(f"http://127.0.0.1:{upstream.port}"),
    ).with_overrides(**overrides)
    store = await open_store(settings)
    app = create_app(settings, store, default_registry(), scheduler=True)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    account = await store.create_account("Acme", {})
    try:
        async with aiohttp.ClientSession() as http:
            live = Live(f"http://127.0.0.1:{port}", http, store, MemoryBackend(),
                        MicrosoftIdentity(CLIENT_ID, CLIENT_SECRET), settings)
            for who, (email, role) in CAST.items():
                user = await store.create_user(account.id, email, role)
                live.ids[who] = user.id
                live.tokens[who] = await store.create_token(user.id)
                google.add_user(email)
            google.add_calendar(EXEC, TEAM, "Team")
            yield GoogleWorld(live, google)
    finally:
        await server.close()
        await upstream.close()


