"""Shared by the notification tests: a live calproxy whose webhooks may reach loopback, a
webhook receiver on loopback, and readers of the change stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.api.conftest import Live, running, seed_world


@dataclass
class Receiver:
    """A webhook receiver on loopback that records what it is sent."""

    url: str = ""
    received: dict[str, list[tuple[dict[str, str], bytes]]] = field(default_factory=dict)
    answers: list[int] = field(default_factory=list)  # statuses to answer first

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.setdefault(request.match_info["name"], []).append(
            (dict(request.headers), body))
        return web.Response(status=self.answers.pop(0) if self.answers else 204)

    def bodies(self, name: str) -> list[dict[str, Any]]:
        return [json.loads(b) for _, b in self.received.get(name, [])]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hook/{name}", found.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    found.url = f"http://127.0.0.1:{server.port}/hook"
    yield found
    await server.close()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Live]:
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
                       webhook_allow_http=True,
                       webhook_allowed_hosts=("127.0.0.1",)) as live:
        yield await seed_world(live)


async def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


async def subscribe(world: Live, who: str, url: str, user: str = "exec@acme.example") -> str:
    status, body, _ = await world.call(who, "POST", "/v1/me/webhooks",
                                       json={"url": url, "user": user})
    assert status == 201, body
    assert body["secret"].startswith("whsec_") and body["status"] == "active"
    return str(body["secret"])


async def read_events(response: aiohttp.ClientResponse, count: int) -> list[tuple[str, str]]:
    """The next ``count`` (id, data) events of a stream, comments skipped."""
    found: list[tuple[str, str]] = []
    current: dict[str, str] = {}
    while len(found) < count:
        line = (await asyncio.wait_for(response.content.readline(), 10)).decode().rstrip("\n")
        if not line:
            if current:
                found.append((current["id"], current["data"]))
            current = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            current[key] = value
    return found
