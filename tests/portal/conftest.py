"""The portal over real HTTP (no browser): a live calproxy from the API tests' harness and a
browser-like client that keeps cookies for 127.0.0.1 and sends what a browser sends."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from proxy.portal.signin import login_link_url
from tests.api.conftest import Live, running, seed_world


@dataclass
class Browser:
    """A cookie-keeping client whose POSTs carry ``Sec-Fetch-Site: same-origin``."""

    live: Live
    http: aiohttp.ClientSession

    async def get(self, path: str) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.http.get(self.live.url + path, allow_redirects=False) as response:
            return response.status, await response.text(), response

    async def post(self, path: str, data: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None,
                   ) -> tuple[int, str, aiohttp.ClientResponse]:
        sent = {"Sec-Fetch-Site": "same-origin", **(headers or {})}
        async with self.http.post(self.live.url + path, data=data or {}, headers=sent,
                                  allow_redirects=False) as response:
            return response.status, await response.text(), response

    async def token_of(self, path: str) -> str:
        status, html, _ = await self.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert found, (status, html[:500])
        return found.group(1)

    async def sign_in(self, who: str) -> None:
        user = await self.live.store.get_user_by_email(f"{who}@acme.example")
        assert user is not None
        secret = await self.live.store.create_login_link(user.id, timedelta(minutes=10))
        path = login_link_url(self.live.settings, secret).removeprefix(self.live.url)
        token = await self.token_of(path)
        status, _, _ = await self.post(path, {"csrf_token": token})
        assert status == 303, status


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Live]:
    async with running(f"sqlite+aiosqlite:///{tmp_path / 'calproxy.sqlite3'}") as live:
        yield await seed_world(live)


@pytest.fixture
async def browser(portal: Live) -> AsyncIterator[Browser]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield Browser(portal, http)
