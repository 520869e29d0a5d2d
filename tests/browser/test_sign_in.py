"""Signing in and out in a real browser, and the portal's safety measures as a browser
meets them: login links, Microsoft and Google OpenID Connect against the emulators (forged
ID tokens refused), sign-out that Back cannot undo, forged POSTs refused, headers, axe."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import check_page, sign_in_as
from tests.browser.served import Served


@pytest.fixture
def forge(served: Served) -> Iterator[Served]:
    """Tests forge ID tokens through the emulators; every test starts honest."""
    yield served
    for signing in (served.microsoft.identity.signing, served.google.signing):
        signing.forge = {}
        signing.sign_with_stranger_key = False


def test_sign_in_with_a_login_link(page: Page, served: Served, artifacts: Path) -> None:
    page.goto(served.url + "/portal/sign-in")
    expect(page.get_by_role("button", name="Sign in with Microsoft")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in with Google")).to_be_visible()
    check_page(page, artifacts, "sign-in")
    page.goto(served.login_link("exec"))
    expect(page.get_by_text("exec@acme.example")).to_be_visible()
    check_page(page, artifacts, "login-link")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".signed-in")).to_contain_text("exec@acme.example")
    expect(page.get_by_role("heading", name="Your integrations")).to_be_visible()
    expect(page.get_by_text("Office 365 (Microsoft Graph)")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    check_page(page, artifacts, "home")


def test_sign_in_with_microsoft(page: Page, forge: Served) -> None:
    page.goto(forge.url + "/portal/sign-in")
    page.get_by_role("button", name="Sign in with Microsoft").click()
    page.wait_for_url(forge.url + "/portal/")
    expect(page.locator(".signed-in")).to_contain_text("exec@acme.example")


def test_sign_in_with_google(page: Page, forge: Served) -> None:
    page.goto(forge.url + "/portal/sign-in")
    page.get_by_role("button", name="Sign in with Google").click()
    page.wait_for_url(forge.url + "/portal/")
    expect(page.locator(".signed-in")).to_contain_text("colleague@acme.example")


@pytest.mark.parametrize(("provider", "forgery", "words"), [
    ("Microsoft", {"nonce": "not-this-sign-in"}, "nonce"),
    ("Microsoft", {"aud": "another-app"}, "another application"),
    ("Microsoft", {"tid": "another-tenant"}, "issuer"),
    ("Google", {"iss": "https://accounts.evil.example"}, "issuer"),
    ("Google", {"exp": 1_000_000_000}, "expired"),
])
def test_a_forged_id_token_signs_no_one_in(page: Page, forge: Served, artifacts: Path,
                                            provider: str, forgery: dict[str, object],
                                            words: str) -> None:
    emulator = forge.microsoft.identity if provider == "Microsoft" else forge.google
    emulator.signing.forge = forgery
    page.goto(forge.url + "/portal/sign-in")
    page.get_by_role("button", name=f"Sign in with {provider}").click()
    expect(page.get_by_role("heading", name="You are not signed in")).to_be_visible()
    expect(page.locator("main")).to_contain_text(words)
    if words == "nonce":
        check_page(page, artifacts, "sign-in-refused")
    page.goto(forge.url + "/portal/")
    expect(page).to_have_url(forge.url + "/portal/sign-in")


def test_sign_out_ends_the_session_and_back_shows_sign_in(
        sign_in: Callable[[str], Page]) -> None:
    page = sign_in("assistant")
    expect(page.locator(".signed-in")).to_contain_text("assistant@acme.example")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Sign in to calproxy")).to_be_visible()
    expect(page.get_by_text("assistant@acme.example")).to_have_count(0)


def _post_without(page: Page, target: str, token: str | None) -> None:
    """Submit a form to ``target`` from the current page, as a forger would."""
    page.evaluate("""([target, token]) => {
        const form = document.createElement("form");
        form.method = "post"; form.action = target;
        if (token !== null) {
            const field = document.createElement("input");
            field.type = "hidden"; field.name = "csrf_token"; field.value = token;
            form.appendChild(field);
        }
        document.body.appendChild(form); form.submit();
    }""", [target, token])


def test_a_post_without_the_token_or_from_another_origin_is_refused(
        page: Page, served: Served, artifacts: Path) -> None:
    sign_in_as(page, served, "chief")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    _post_without(page, "/portal/sign-out", None)
    expect(page.get_by_text("stale or forged")).to_be_visible()
    check_page(page, artifacts, "forged-post")
    page.goto(served.google_url + "/no-such-page")  # another origin
    _post_without(page, served.url + "/portal/sign-out", token)
    page.wait_for_url(served.url + "/portal/**")
    expect(page.get_by_text("stale or forged")).to_be_visible()
    page.goto(served.url + "/portal/")  # nothing changed: still signed in
    expect(page.locator(".signed-in")).to_contain_text("chief@acme.example")


def test_security_headers_on_portal_pages(page: Page, served: Served) -> None:
    response = page.goto(served.url + "/portal/sign-in")
    assert response is not None
    headers = response.headers
    csp = headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp, directive
    form_action = next(d for d in csp.split("; ") if d.startswith("form-action "))
    assert set(form_action.split()[1:]) == {"'self'", served.microsoft_origin,
                                            served.google_url}  # the identity providers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cache-control"] == "no-store"
    cookie = next(c for c in page.context.cookies() if c["name"] == "calproxy")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_usable_at_390_pixels(page: Page, served: Served, artifacts: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as(page, served, "admin")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.keyboard.press("Tab")  # the skip link comes first and shows when focused
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    check_page(page, artifacts, "home-390")
