"""Refusals on someone else's calendar are on the owner's trail wherever they happen:
inside portal pages (shown there in words, recorded all the same) and as the 404 an
outsider gets, on the API and in the portal, without telling the outsider anything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from proxy.core.model import Sensitivity
from tests.api.conftest import Live
from tests.api.helpers import WINDOW, seed
from tests.portal.conftest import Browser

EXEC = "exec@acme.example"
WEEK = f"/portal/calendar/{EXEC}?start=2026-11-30"


def records(body: Any) -> list[tuple[str, str, str | None, str | None, str]]:
    return [(r["action"], r["actor"], r["owner"], r["target"], r["result"])
            for r in body["records"]]


async def trail(live: Live, who: str = "exec", path: str = "/v1/me/audit") -> list[Any]:
    status, body, _ = await live.call(who, "GET", path)
    assert status == 200, body
    return records(body)


async def _post(browser: Browser, page: str, action: str,
                data: dict[str, str]) -> tuple[int, str]:
    token = await browser.token_of(page)
    status, body, _ = await browser.post(action, {"csrf_token": token, **data})
    return status, body


async def test_refusals_inside_portal_pages_are_recorded(browser: Browser,
                                                        portal: Live) -> None:
    seed(portal, title="Merger", sensitivity=Sensitivity.PRIVATE)
    status, body, _ = await portal.call("assistant", "GET",
                                        f"/v1/users/{EXEC}/events?{WINDOW}")
    [private] = [e["id"] for e in body["events"]]
    await browser.sign_in("colleague")  # may see free/busy, may not schedule
    status, page = await _post(browser, WEEK, f"/portal/calendar/{EXEC}/events", {
        "schedule_for": EXEC, "title": "Sneaky", "date": "2026-12-02", "start": "10:00",
        "end": "11:00", "time_zone": "UTC", "location": "", "description": ""})
    assert status == 403 and "Sneaky" not in page  # the week again, with the refusal
    await browser.sign_in("assistant")  # a delegate, but not of private events
    status, page, _ = await browser.get(f"/portal/calendar/{EXEC}/events/{private}/edit")
    assert status == 403 and "Merger" not in page
    seen = await trail(portal)
    assert ("event.write_refused", "colleague@acme.example", EXEC, None, "refused") in seen
    assert ("event.write_refused", "assistant@acme.example", EXEC, private,
            "refused") in seen
    assert "Sneaky" not in repr(seen) and "Merger" not in repr(seen)


async def test_an_outsiders_404_is_recorded_for_the_owner_only(browser: Browser,
                                                              portal: Live) -> None:
    unknown = await portal.call("outsider", "GET",
                                f"/v1/users/nobody@acme.example/events?{WINDOW}")
    known = await portal.call("outsider", "GET", f"/v1/users/{EXEC}/events?{WINDOW}")
    assert unknown[0] == known[0] == 404 and unknown[1] == known[1]  # nothing told apart
    user = await portal.store.get_user_by_email("outsider@other.example")
    assert user is not None
    secret = await portal.store.create_login_link(user.id, timedelta(minutes=10))
    path = f"/portal/login/{secret}"
    await browser.post(path, {"csrf_token": await browser.token_of(path)})
    status, _, _ = await browser.get(WEEK)
    assert status == 404
    refused = ("event.read_refused", "outsider@other.example", EXEC, None, "refused")
    assert (await trail(portal)).count(refused) == 2  # the API read and the page
    assert refused in await trail(portal, "admin", "/v1/account/audit")  # exec's account
    assert [a for a, *_ in await trail(portal, "outsider")] == ["portal.sign_in"]
    assert not any(owner == "nobody@acme.example"
                   for _, _, owner, _, _ in await trail(portal, "admin", "/v1/account/audit"))
