"""/portal/audit: the owner's trail in words, without event content, for the owner only."""

from __future__ import annotations

from proxy.core.model import Sensitivity
from tests.api.helpers import WINDOW, seed
from tests.portal.conftest import Browser

EVENTS = f"/v1/users/exec@acme.example/events?{WINDOW}"


async def test_the_owner_sees_who_read_a_private_event(browser: Browser) -> None:
    live = browser.live
    seed(live, title="Merger talks with Initech", sensitivity=Sensitivity.PRIVATE)
    assert (await live.call("chief", "GET", EVENTS))[0] == 200
    assert (await live.call("colleague", "GET", EVENTS))[0] == 403
    status, _, _ = await browser.get("/portal/audit")
    assert status == 303  # not signed in yet
    await browser.sign_in("exec")
    status, html, _ = await browser.get("/portal/audit")
    assert status == 200
    assert "chief@acme.example" in html and "saw a private event in full" in html
    assert "colleague@acme.example" in html and "Refused" in html
    assert "Merger" not in html and "Initech" not in html
    assert 'href="/portal/audit"' in html  # in the nav


async def test_a_delegate_sees_only_their_own_trail(browser: Browser) -> None:
    live = browser.live
    seed(live, title="Merger talks with Initech", sensitivity=Sensitivity.PRIVATE)
    assert (await live.call("chief", "GET", EVENTS))[0] == 200
    await browser.sign_in("chief")
    status, html, _ = await browser.get("/portal/audit")
    assert status == 200
    assert "saw a private event in full" not in html  # that is on the owner's trail
    assert "signed in to the portal" in html  # the chief's own sign-in is theirs
