"""The Microsoft identity platform emulator speaks the documented v2.0 code flow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tests.fixtures.graph_emulator import MicrosoftCloud
from tests.fixtures.ms_identity import s256

REDIRECT = "http://127.0.0.1:9/oauth/callback"


@pytest.fixture
async def login(aiohttp_server: Any) -> AsyncIterator[tuple[MicrosoftCloud, str,
                                                              aiohttp.ClientSession]]:
    cloud = MicrosoftCloud()
    cloud.graph.add_mailbox("eve@contoso.com")
    server = await aiohttp_server(cloud.app())
    async with aiohttp.ClientSession() as http:
        yield cloud, str(server.make_url("/common/oauth2/v2.0")), http


def params(**extra: str) -> dict[str, str]:
    base = {"client_id": "calproxy-test-client", "response_type": "code",
            "redirect_uri": REDIRECT, "scope": "offline_access Calendars.Read",
            "state": "s1", "code_challenge": s256("v" * 50), "code_challenge_method": "S256",
            "login_hint": "eve@contoso.com"}
    return {**base, **extra}


async def authorize(http: aiohttp.ClientSession, url: str, **extra: str) -> URL:
    async with http.get(url + "/authorize", params=params(**extra),
                        allow_redirects=False) as resp:
        assert resp.status == 302
        return URL(resp.headers["Location"])


async def token(http: aiohttp.ClientSession, url: str, **form: str) -> tuple[int, Any]:
    form = {"client_id": "calproxy-test-client", "client_secret": "calproxy-test-secret", **form}
    async with http.post(url + "/token", data=form) as resp:
        return resp.status, await resp.json()


async def test_code_flow_with_pkce_and_rotation(login: Any) -> None:
    cloud, url, http = login
    location = await authorize(http, url)
    assert str(location).startswith(REDIRECT) and location.query["state"] == "s1"
    code = location.query["code"]
    status, body = await token(http, url, grant_type="authorization_code", code=code,
                               redirect_uri=REDIRECT, code_verifier="w" * 50)
    assert status == 400 and body["error"] == "invalid_grant" and body["error_codes"]
    location = await authorize(http, url)
    status, body = await token(http, url, grant_type="authorization_code",
                               code=location.query["code"], redirect_uri=REDIRECT,
                               code_verifier="v" * 50)
    assert status == 200 and body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert body["scope"] == "offline_access Calendars.Read"
    assert cloud.identity.validate_bearer("Bearer " + body["access_token"]) == "eve@contoso.com"
    status, fresh = await token(http, url, grant_type="refresh_token",
                                refresh_token=body["refresh_token"])
    assert status == 200 and fresh["refresh_token"] != body["refresh_token"]
    status, again = await token(http, url, grant_type="refresh_token",
                                refresh_token=body["refresh_token"])
    assert status == 400 and again["error"] == "invalid_grant"


async def test_authorize_errors_go_back_to_the_redirect_uri(login: Any) -> None:
    _, url, http = login
    location = await authorize(http, url, code_challenge_method="plain")
    assert location.query["error"] == "invalid_request" and location.query["state"] == "s1"
    location = await authorize(http, url, response_type="token")
    assert location.query["error"] == "unsupported_response_type"
    async with http.get(url + "/authorize", params=params(client_id="nope"),
                        allow_redirects=False) as resp:
        assert resp.status == 400  # never redirect for an unknown client


async def test_granted_scopes_can_be_fewer_than_asked(login: Any) -> None:
    cloud, url, http = login
    cloud.identity.limit_grant("eve@contoso.com", {"Calendars.Read"})
    location = await authorize(http, url, scope="offline_access Calendars.ReadWrite "
                                                "Calendars.Read")
    status, body = await token(http, url, grant_type="authorization_code",
                               code=location.query["code"], redirect_uri=REDIRECT,
                               code_verifier="v" * 50)
    assert status == 200 and body["scope"] == "offline_access Calendars.Read"
