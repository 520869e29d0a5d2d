"""Behind https the session cookie is ``__Host-``, ``Secure`` and HSTS is sent; without
client ids there is no single sign-on to offer, and its start is a 404 page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from proxy.config import Settings
from proxy.http.app import create_app
from proxy.portal.forgery import csrf_token
from proxy.store.sql import open_store
from tests.api.conftest import free_port


@pytest.fixture
async def https_portal(tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'https.sqlite3'}",
                        port=port, secret_key="https-test-key",
                        public_url="https://cal.acme.example")
    server = TestServer(create_app(settings, await open_store(settings)), host="127.0.0.1",
                        port=port)
    await server.start_server()
    yield f"http://127.0.0.1:{port}"
    await server.close()


async def test_https_cookie_and_hsts_and_no_sso_without_client_ids(https_portal: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(https_portal + "/portal/sign-in") as page:
            html = await page.text()
            cookie = page.headers["Set-Cookie"]
            hsts = page.headers["Strict-Transport-Security"]
        assert cookie.startswith("__Host-calproxy=") and "Secure" in cookie
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie and hsts.startswith("max-age=")
        assert "Single sign-on is not configured" in html and "Sign in with" not in html
        browser = cookie.split(";")[0].split("=", 1)[1]
        token = csrf_token(browser)  # the page has no form to read it from
        async with http.post(https_portal + "/portal/sign-in/microsoft",
                             data={"csrf_token": token},
                             headers={"Origin": "https://cal.acme.example",
                                      "Cookie": f"__Host-calproxy={browser}"},
                             allow_redirects=False) as start:
            assert start.status == 404 and "not available" in await start.text()
