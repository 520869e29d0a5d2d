"""The OAuth callback's refusals: state, provider errors, a bad code."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp

from tests.api.conftest import Live


async def authorize(live: Live, who: str) -> str:
    """Start an integration and return the callback URL the provider redirects to."""
    _, body, _ = await live.call(who, "POST", "/v1/me/integrations", json={"service": "graph"})
    query = parse_qs(urlsplit(body["authorize_url"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["state"][0]) >= 20
    async with live.http.get(body["authorize_url"], allow_redirects=False) as response:
        assert response.status == 302
        return response.headers["Location"]


async def status_of(live: Live, who: str) -> tuple[str, str | None]:
    _, body, _ = await live.call(who, "GET", "/v1/me/integrations")
    [integration] = body["integrations"]
    return integration["status"], integration["reason"]


async def test_state_is_single_use(world: Live) -> None:
    callback = await authorize(world, "colleague")
    async with world.http.get(callback) as first:
        assert first.status == 200
    async with world.http.get(callback) as again:
        body = await again.json()
    assert again.status == 400 and body["error"]["code"] == "invalid_state"


async def test_unknown_state_and_provider_errors(world: Live) -> None:
    async with world.http.get(world.url + "/oauth/callback?code=x&state=forged") as response:
        assert response.status == 400
    world.identity.deny_consent("colleague@acme.example")
    callback = await authorize(world, "colleague")
    assert "error=" in callback
    async with world.http.get(callback) as response:
        body = await response.json()
    assert response.status == 400 and body["error"]["code"] == "authorization_denied"
    assert await status_of(world, "colleague") == ("error", "authorization_denied")


async def test_a_refused_code_leaves_the_integration_in_error(world: Live) -> None:
    callback = await authorize(world, "colleague")
    forged = callback.replace("code=", "code=forged")
    async with world.http.get(forged) as response:
        body = await response.json()
    assert response.status == 502 and "forged" not in body["error"]["message"]
    assert (await status_of(world, "colleague"))[0] == "error"


async def test_a_service_without_an_oauth_client_is_unavailable(world: Live) -> None:
    # the test server has a Microsoft client but no Google one
    status, body, _ = await world.call("colleague", "POST", "/v1/me/integrations",
                                       json={"service": "google"})
    assert status == 422 and body["error"]["code"] == "service_unavailable"
    assert "client id" in body["error"]["message"]


async def test_sign_in_prompt_without_a_configured_client_tells_only(tmp_path: Path) -> None:
    from aiohttp.test_utils import TestServer

    from proxy.config import Settings
    from proxy.http.app import create_app
    from proxy.providers.memory import MemoryBackend
    from proxy.store.records import Role
    from proxy.store.sql import open_store
    from tests.api.conftest import memory_registry

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}",
                        secret_key="k")  # no Microsoft client id configured
    store = await open_store(settings)
    account = await store.create_account("Acme", {"prompt_o365_on_sign_in": {
        "value": "first_sign_in", "locked": False}})
    user = await store.create_user(account.id, "new@acme.example", Role.MEMBER)
    token = await store.create_token(user.id)
    server = TestServer(create_app(settings, store, memory_registry(MemoryBackend())),
                        host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http, http.post(
                f"http://127.0.0.1:{server.port}/v1/me/sign-in",
                json={"client_version": "6.0.0"},
                headers={"Authorization": f"Bearer {token}"}) as response:
            body = await response.json()
        assert response.status == 200
        assert body["prompt"] == {"service": "graph", "reason": "first_sign_in",
                                  "authorize_url": None}
    finally:
        await server.close()
