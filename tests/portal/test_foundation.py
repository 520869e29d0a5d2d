"""The portal's foundation over HTTP: login links, sessions, anti-forgery, headers, errors."""

from __future__ import annotations

from datetime import timedelta

import aiohttp

from proxy.portal.signin import login_link_url
from tests.api.conftest import Live
from tests.portal.conftest import Browser

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' ")


async def _link(portal: Live, email: str) -> str:
    user = await portal.store.get_user_by_email(email)
    assert user is not None
    secret = await portal.store.create_login_link(user.id, timedelta(minutes=10))
    return login_link_url(portal.settings, secret).removeprefix(portal.url)


async def test_login_link_get_changes_nothing_and_post_signs_in_once(
        browser: Browser, portal: Live) -> None:
    path = await _link(portal, "exec@acme.example")
    for _ in range(2):  # a link preview or scanner may fetch it: it stays usable
        status, html, _ = await browser.get(path)
        assert status == 200 and "Continue" in html and "exec@acme.example" in html
    token = await browser.token_of(path)
    status, _, response = await browser.post(path, {"csrf_token": token})
    assert status == 303 and response.headers["Location"] == "/portal/"
    status, html, _ = await browser.get("/portal/")
    assert status == 200 and "Signed in as" in html and "exec@acme.example" in html
    assert "Sign out" in html
    status, html, _ = await browser.get(path)  # used: gone
    assert status == 404 and "not valid" in html


async def test_an_expired_link_does_not_sign_in(browser: Browser, portal: Live) -> None:
    user = await portal.store.get_user_by_email("exec@acme.example")
    assert user is not None
    secret = await portal.store.create_login_link(user.id, timedelta(seconds=-1))
    path = f"/portal/login/{secret}"
    token = await browser.token_of("/portal/sign-in")
    status, html, _ = await browser.post(path, {"csrf_token": token})
    assert status == 404 and "not valid" in html
    status, _, response = await browser.get("/portal/")
    assert status == 303 and response.headers["Location"] == "/portal/sign-in"


async def test_sign_out_ends_the_session_on_the_server(browser: Browser, portal: Live) -> None:
    await browser.sign_in("exec")
    cookie = next(c for c in browser.http.cookie_jar if c.key == "calproxy")
    stolen = cookie.value
    token = await browser.token_of("/portal/")
    status, _, response = await browser.post("/portal/sign-out", {"csrf_token": token})
    assert status == 303 and response.headers["Location"].startswith("/portal/sign-in")
    status, _, _ = await browser.get("/portal/")
    assert status == 303
    async with aiohttp.ClientSession(cookies={"calproxy": stolen}) as other, \
            other.get(portal.url + "/portal/", allow_redirects=False) as replay:
        assert replay.status == 303  # the old id is dead, not just forgotten


async def test_the_session_cookie_is_httponly_lax_and_rotated_at_sign_in(
        browser: Browser) -> None:
    await browser.get("/portal/sign-in")
    before = next(c for c in browser.http.cookie_jar if c.key == "calproxy")
    anonymous = before.value
    assert before["httponly"] and before["samesite"] == "Lax" and before["path"] == "/"
    assert len(anonymous) >= 43  # 256 bits, url-safe base64
    await browser.sign_in("exec")
    after = next(c for c in browser.http.cookie_jar if c.key == "calproxy")
    assert after.value != anonymous


async def test_idle_sessions_expire(tmp_path: object) -> None:
    from pathlib import Path

    from tests.api.conftest import running, seed_world

    async with running(f"sqlite+aiosqlite:///{Path(str(tmp_path)) / 'idle.sqlite3'}") as live:
        await seed_world(live)
        user = await live.store.get_user_by_email("exec@acme.example")
        assert user is not None
        session = await live.store.create_portal_session(user.id)
        assert await live.store.portal_session_user(session, timedelta(hours=1)) == user
        assert await live.store.portal_session_user(session, timedelta(seconds=-1)) is None
        assert await live.store.portal_session_user(session, timedelta(hours=1)) is None


async def test_a_post_without_the_token_or_from_elsewhere_is_refused(
        browser: Browser, portal: Live) -> None:
    await browser.sign_in("exec")
    token = await browser.token_of("/portal/")
    refusals = [
        ({}, {}),  # no token
        ({"csrf_token": "0" * 64}, {}),  # a wrong one
        ({"csrf_token": token}, {"Sec-Fetch-Site": "cross-site"}),
        ({"csrf_token": token}, {"Sec-Fetch-Site": "same-site"}),
    ]
    for data, headers in refusals:
        status, html, _ = await browser.post("/portal/sign-out", data, headers)
        assert status == 403 and "stale or forged" in html, (data, headers)
    async with browser.http.post(portal.url + "/portal/sign-out", data={"csrf_token": token},
                                 headers={"Origin": "https://evil.example"},
                                 allow_redirects=False) as response:
        assert response.status == 403
    async with browser.http.post(portal.url + "/portal/sign-out", data={"csrf_token": token},
                                 allow_redirects=False) as response:
        assert response.status == 403  # names no origin at all
    status, html, _ = await browser.get("/portal/")
    assert status == 200 and "exec@acme.example" in html  # still signed in: nothing changed
    async with browser.http.post(portal.url + "/portal/sign-out", data={"csrf_token": token},
                                 headers={"Origin": portal.url},
                                 allow_redirects=False) as response:
        assert response.status == 303  # Origin alone, when it is ours, is enough


async def test_security_headers_on_every_portal_response(browser: Browser) -> None:
    for path in ("/portal/sign-in", "/portal/no-such-page", "/portal/"):
        _, _, response = await browser.get(path)
        headers = response.headers
        assert headers["Content-Security-Policy"].startswith(CSP), path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"
    await browser.sign_in("exec")
    _, _, response = await browser.get("/portal/")
    assert response.headers["Cache-Control"] == "no-store"
    status, css, response = await browser.get("/portal/static/app.css")
    assert status == 200 and "focus-visible" in css
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_errors_are_pages_in_words(browser: Browser) -> None:
    status, html, response = await browser.get("/portal/no-such-page")
    assert status == 404 and "Page not found" in html
    assert response.content_type == "text/html" and "Traceback" not in html
    status, html, _ = await browser.get("/portal/login/short")
    assert status == 404 and "not valid" in html


async def test_the_home_page_lists_integrations_in_words(browser: Browser) -> None:
    await browser.sign_in("exec")
    status, html, _ = await browser.get("/portal/")
    assert status == 200
    assert "Office 365 (Microsoft Graph)" in html and "Connected" in html
    await browser.sign_in("admin")
    _, html, _ = await browser.get("/portal/")
    assert "Calendar and Contacts" in html  # admins see the admin pages in the nav


async def test_ending_a_users_sessions_signs_out_every_browser(portal: Live) -> None:
    user = await portal.store.get_user_by_email("exec@acme.example")
    assert user is not None
    laptop = await portal.store.create_portal_session(user.id)
    phone = await portal.store.create_portal_session(user.id)
    assert await portal.store.end_user_portal_sessions(user.id) == 2
    for session in (laptop, phone):
        assert await portal.store.portal_session_user(session, timedelta(hours=1)) is None
