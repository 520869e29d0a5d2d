"""Google OAuth against the emulator over real HTTP: the code flow with PKCE, partial
consent recorded from the token response, refresh, and the endpoints' documented errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest

from proxy.errors import UpstreamAuthError
from tests.fixtures.google_harness import (
    REDIRECT_URI,
    CodeFlowTokens,
    GoogleEnv,
    start_google,
    stop_google,
)
from tests.fixtures.google_state import CAL_EVENTS, CAL_READ, CONTACTS, CONTACTS_READ

ASKED = ("openid", "email", CAL_READ, CAL_EVENTS, CONTACTS_READ)


@pytest.fixture
async def env() -> AsyncIterator[GoogleEnv]:
    env = await start_google()
    env.emulator.add_user("assistant@example.com", "Ana Assistant")
    try:
        yield env
    finally:
        await stop_google(env)


async def test_code_flow_answers_documented_token_response(env: GoogleEnv) -> None:
    tokens = CodeFlowTokens(env.http, env.settings, "assistant@example.com", ASKED)
    body = await tokens.authorize()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 3000
    assert body["refresh_token"] and body["access_token"]
    assert body["id_token"].count(".") == 2
    granted = set(body["scope"].split())
    assert {CAL_READ, CAL_EVENTS, CONTACTS_READ, "openid"} <= granted
    assert CONTACTS not in granted  # never more than asked


async def test_partial_consent_grants_only_ticked_scopes(env: GoogleEnv) -> None:
    env.emulator.deny_scopes("assistant@example.com", CAL_EVENTS)
    tokens = CodeFlowTokens(env.http, env.settings, "assistant@example.com", ASKED)
    body = await tokens.authorize()
    granted = set(body["scope"].split())
    assert CAL_READ in granted and CAL_EVENTS not in granted


async def test_refresh_grant_issues_a_new_access_token(env: GoogleEnv) -> None:
    old = await env.tokens.access_token()
    new = await env.tokens.refresh()
    assert new != old
    assert (await env.provider.list_calendars())[0].provider_id == env.email


async def test_online_access_gets_no_refresh_token(env: GoogleEnv) -> None:
    tokens = CodeFlowTokens(env.http, env.settings, env.email, ASKED, offline=False)
    body = await tokens.authorize()
    assert "refresh_token" not in body
    with pytest.raises(UpstreamAuthError):
        await tokens.refresh()


async def test_wrong_pkce_verifier_is_invalid_grant(env: GoogleEnv) -> None:
    tokens = CodeFlowTokens(env.http, env.settings, env.email, ASKED)
    code = await tokens.get_code()
    with pytest.raises(UpstreamAuthError, match="invalid_grant"):
        await tokens.exchange(code, verifier="not-the-verifier-" + "x" * 30)


async def test_code_is_single_use(env: GoogleEnv) -> None:
    tokens = CodeFlowTokens(env.http, env.settings, env.email, ASKED)
    code = await tokens.get_code()
    await tokens.exchange(code)
    with pytest.raises(UpstreamAuthError, match="invalid_grant"):
        await tokens.exchange(code)


async def authorize_raw(env: GoogleEnv, **params: str) -> tuple[int, dict[str, list[str]]]:
    base = {"client_id": "calproxy-test", "response_type": "code", "redirect_uri": REDIRECT_URI,
            "scope": "openid email", "state": "s1", "code_challenge": "c" * 43,
            "code_challenge_method": "S256"}
    async with env.http.get(env.settings.google_auth_url, params={**base, **params},
                            allow_redirects=False) as response:
        location = response.headers.get("Location", "")
        return response.status, parse_qs(urlsplit(location).query)


@pytest.mark.parametrize(("params", "error"), [
    ({"scope": "openid https://www.googleapis.com/auth/drive"}, "invalid_scope"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
])
async def test_authorize_errors_redirect_with_state(env: GoogleEnv, params: dict[str, str],
                                                    error: str) -> None:
    status, query = await authorize_raw(env, **params)
    assert status == 302 and query["error"] == [error] and query["state"] == ["s1"]


async def test_user_refusing_consent_is_access_denied(env: GoogleEnv) -> None:
    env.emulator.users[env.email].denies_consent = True
    status, query = await authorize_raw(env, login_hint=env.email)
    assert status == 302 and query["error"] == ["access_denied"]


async def test_unknown_client_is_not_redirected(env: GoogleEnv) -> None:
    status, query = await authorize_raw(env, client_id="intruder")
    assert status == 401 and not query


async def test_token_endpoint_refuses_bad_client_secret(env: GoogleEnv) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": env.tokens.refresh_token or "",
            "client_id": "calproxy-test", "client_secret": "wrong"}
    async with env.http.post(env.settings.google_token_url, data=form) as response:
        assert response.status == 401
        assert (await response.json())["error"] == "invalid_client"


async def test_include_granted_scopes_keeps_earlier_grants(env: GoogleEnv) -> None:
    first = CodeFlowTokens(env.http, env.settings, "assistant@example.com", ("openid", CAL_READ))
    await first.authorize()
    second = CodeFlowTokens(env.http, env.settings, "assistant@example.com", ("openid", CONTACTS))
    body = await second.authorize()
    assert {CAL_READ, CONTACTS} <= set(body["scope"].split())
