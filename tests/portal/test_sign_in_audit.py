"""A portal sign-in lands on the user's audit trail."""

from __future__ import annotations

from tests.portal.conftest import Browser


async def test_a_portal_sign_in_is_audited(browser: Browser) -> None:
    await browser.sign_in("exec")
    status, body, _ = await browser.live.call("exec", "GET", "/v1/me/audit")
    assert status == 200
    assert [(r["action"], r["actor"], r["owner"]) for r in body["records"]
            if r["action"] == "portal.sign_in"] == [
        ("portal.sign_in", "exec@acme.example", "exec@acme.example")]
