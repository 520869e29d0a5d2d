"""After signing in, rule 5 as the API applies it: a prompted OAuth user goes straight to
the provider's authorize URL; a user whose domain is not allowed is told why."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from proxy.portal.signin import login_link_url
from tests.api.conftest import Live
from tests.portal.conftest import Browser


async def _land(browser: Browser, portal: Live, email: str) -> str:
    """Sign in by a link; where the browser is sent next."""
    browser.http.cookie_jar.clear()
    user = await portal.store.get_user_by_email(email)
    assert user is not None
    secret = await portal.store.create_login_link(user.id, timedelta(minutes=10))
    path = login_link_url(portal.settings, secret).removeprefix(portal.url)
    token = await browser.token_of(path)
    status, _, response = await browser.post(path, {"csrf_token": token})
    assert status == 303
    return response.headers["Location"]


async def _patch(portal: Live, settings: dict[str, object]) -> None:
    status, body, _ = await portal.call("admin", "PATCH", "/v1/account/settings",
                                        json=settings)
    assert status == 200, body


async def test_a_prompted_user_goes_straight_to_the_provider(
        browser: Browser, portal: Live) -> None:
    assert await _land(browser, portal, "assistant@acme.example") == "/portal/"  # policy off
    await _patch(portal, {"prompt_o365_on_sign_in": {"value": "every_sign_in"}})
    location = await _land(browser, portal, "assistant@acme.example")
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(portal.settings.ms_login_url + "/oauth2/v2.0/authorize")
    assert query["code_challenge_method"] == ["S256"]
    assert query["login_hint"] == ["assistant@acme.example"]
    assert await _land(browser, portal, "exec@acme.example") == "/portal/"  # integrated
    user = await portal.store.get_user_by_email("assistant@acme.example")
    assert user is not None and user.sign_in_count == 2  # recorded like the API's


async def test_a_user_outside_the_allowed_domains_is_told_why(
        browser: Browser, portal: Live) -> None:
    await _patch(portal, {"allowed_domains": {"value": ["other.org"]}})
    location = await _land(browser, portal, "exec@acme.example")
    assert location == "/portal/?notice=domain-not-allowed"
    status, html, _ = await browser.get(location)
    assert status == 200 and "certain email domains" in html
