"""The working pages over real HTTP (no browser): each one calls the API's own actions, so
what they save, refuse and show must agree with the JSON API."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from proxy.core.model import Attendee, Person, Sensitivity, ShowAs
from tests.api.conftest import Live
from tests.api.helpers import seed
from tests.portal.conftest import Browser

SETTINGS = "/portal/admin/calendar-and-contacts"
FORM = {"enabled": "on", "services": "graph", "calendar": "write", "contacts": "read",
        "prompt_o365_on_sign_in": "off", "allowed_domains": "", "ews_hosts": ""}
MARK = "QZXPAGEMARK"


async def _post(browser: Browser, page: str, action: str,
                data: dict[str, str] | list[tuple[str, str]]) -> tuple[int, str, object]:
    token = await browser.token_of(page)
    fields = list(data.items()) if isinstance(data, dict) else list(data)
    status, body, response = await browser.post(action, [("csrf_token", token), *fields])
    return status, body, response


async def _settings(portal: Live) -> dict[str, object]:
    status, body, _ = await portal.call("admin", "GET", "/v1/account/settings")
    assert status == 200
    return dict(body)


async def test_settings_saved_normalized_and_a_bad_value_refused_inline(
        browser: Browser, portal: Live) -> None:
    await browser.sign_in("admin")
    status, page, _ = await browser.get(SETTINGS)
    assert status == 200 and "<h1>Calendar and Contacts</h1>" in page
    for legend in ("Calendar and contacts integration", "Services", "Permissions",
                   "Ask users to integrate Office 365 calendar when they sign in",
                   "EWS hosts"):
        assert f">{legend}</legend>" in page
    bad = {**FORM, "allowed_domains": "acme.example, not a domain!"}
    status, page, _ = await _post(browser, SETTINGS, SETTINGS, bad)
    assert status == 400
    assert html.escape("acme.example, not a domain!") in page  # kept as typed
    assert "is not a valid host or domain name" in page and "Nothing was saved" in page
    assert (await _settings(portal))["allowed_domains"] == {"value": [], "locked": False}
    good = {**FORM, "allowed_domains": " Acme.Example, @Other.EXAMPLE ,", "services": "graph"}
    status, _, response = await _post(browser, SETTINGS, SETTINGS, good)
    assert status == 303
    settings = await _settings(portal)
    assert settings["allowed_domains"] == {"value": ["acme.example", "other.example"],
                                           "locked": False}
    assert settings["services"] == {"value": ["graph"], "locked": False}
    status, page, _ = await browser.get(response.headers["Location"])  # type: ignore[attr-defined]
    assert "Saved" in page and 'value="acme.example, other.example"' in page


async def test_locking_asks_first_then_suspends_what_differs(
        browser: Browser, portal: Live) -> None:
    await browser.sign_in("admin")
    status, _, _ = await _post(browser, SETTINGS, SETTINGS, {**FORM, "calendar": "read"})
    assert status == 303
    status, page, _ = await _post(browser, SETTINGS, SETTINGS + "/lock",
                                  {"setting": "permissions", "lock": "true"})
    assert status == 200 and "will be suspended" in page and ">Lock</button>" in page
    assert (await _settings(portal))["permissions"]["locked"] is False  # type: ignore[index]
    status, _, _ = await _post(browser, SETTINGS, SETTINGS + "/lock",
                               {"setting": "permissions", "lock": "true", "confirmed": "yes"})
    assert status == 303
    assert (await _settings(portal))["permissions"] == {
        "value": {"calendar": "read", "contacts": "read"}, "locked": True}
    _, me, _ = await portal.call("exec", "GET", "/v1/me")
    assert [(i["status"], i["reason"]) for i in me["integrations"]] == [
        ("suspended", "policy_changed")]
    status, page, _ = await browser.get("/portal/admin/users")
    assert status == 200 and "exec@acme.example" in page and "Suspended" in page
    status, page, _ = await browser.get(SETTINGS)
    assert "Locked: users cannot change this." in page and ">Unlock</button>" in page


async def test_admin_pages_are_refused_to_members(browser: Browser) -> None:
    await browser.sign_in("exec")
    for path in (SETTINGS, "/portal/admin/users"):
        status, page, _ = await browser.get(path)
        assert status == 403 and "Only account admins" in page


async def test_connect_graph_through_the_oauth_dance(browser: Browser, portal: Live) -> None:
    await browser.sign_in("colleague")
    status, page, _ = await browser.get("/portal/integrations")
    assert "Connect Office 365 (Microsoft Graph)" in page
    status, _, response = await _post(browser, "/portal/integrations",
                                      "/portal/integrations/connect",
                                      {"service": "graph", "calendar": "read",
                                       "contacts": "read"})
    assert status == 303
    location = response.headers["Location"]  # type: ignore[attr-defined]
    assert urlsplit(location).path.endswith("/oauth2/v2.0/authorize")
    async with browser.http.get(location) as landed:  # authorize → callback → the page
        page = await landed.text()
        assert landed.status == 200 and landed.url.path == "/portal/integrations"
    assert "Connected" in page and "Calendar: read" in page
    _, me, _ = await portal.call("colleague", "GET", "/v1/me")
    assert [(i["service"], i["status"]) for i in me["integrations"]] == [
        ("graph", "connected")]


async def test_an_ews_host_outside_the_list_is_refused_inline(browser: Browser) -> None:
    await browser.sign_in("colleague")
    status, page, _ = await _post(browser, "/portal/integrations",
                                  "/portal/integrations/connect",
                                  {"service": "exchange_ews",
                                   "ews_url": "https://mail.elsewhere.example/EWS/Exchange.asmx",
                                   "username": "colleague", "password": "hunter2-PW-sekrit"})
    assert status == 422
    assert "not on the account&#39;s list of EWS hosts" in page
    assert "https://mail.elsewhere.example/EWS/Exchange.asmx" in page  # kept
    assert "hunter2-PW-sekrit" not in page  # never written back
    assert "full access to the mailbox" in page


async def test_scheduling_privilege_given_and_removed(browser: Browser, portal: Live) -> None:
    await browser.sign_in("exec")
    status, _, _ = await _post(browser, "/portal/delegates", "/portal/delegates",
                               {"email": "colleague@acme.example", "can_schedule": "on"})
    assert status == 303
    _, body, _ = await portal.call("exec", "GET", "/v1/me/delegates")
    assert {"email": "colleague@acme.example", "can_schedule": True,
            "can_view_private": False} in [
        {k: d[k] for k in ("email", "can_schedule", "can_view_private")}
        for d in body["delegates"]]
    status, page, _ = await _post(browser, "/portal/delegates", "/portal/delegates",
                                  {"email": "nobody@acme.example"})
    assert status == 404 and "No such user in your account" in page
    status, page, _ = await _post(browser, "/portal/delegates", "/portal/delegates/remove",
                                  {"email": "colleague@acme.example"})
    assert status == 200 and ">Remove</button>" in page and ">Cancel</a>" in page
    status, _, _ = await _post(browser, "/portal/delegates", "/portal/delegates/remove",
                               {"email": "colleague@acme.example", "confirmed": "yes"})
    assert status == 303
    _, body, _ = await portal.call("exec", "GET", "/v1/me/delegates")
    assert "colleague@acme.example" not in [d["email"] for d in body["delegates"]]


def _private_event(portal: Live) -> None:
    start = datetime(2026, 12, 1, 15, tzinfo=UTC)
    seed(portal, title=f"{MARK}-title", description=f"{MARK}-description",
         location=f"{MARK}-location", sensitivity=Sensitivity.PRIVATE, start=start,
         organizer=Person(f"{MARK}-organizer", f"{MARK.lower()}@x.example"),
         attendees=(Attendee(f"{MARK}-attendee", f"{MARK.lower()}-a@x.example"),),
         join_url=f"https://{MARK.lower()}.example/join", categories=(f"{MARK}-cat",))
    seed(portal, title="Leadership sync", start=datetime(2026, 12, 1, 9, tzinfo=UTC),
         show_as=ShowAs.TENTATIVE)


WEEK = "/portal/calendar/exec@acme.example?start=2026-11-30"


async def test_the_week_as_each_viewer_may_see_it(browser: Browser, portal: Live) -> None:
    _private_event(portal)
    await browser.sign_in("assistant")
    status, page, _ = await browser.get(WEEK)
    assert status == 200 and "Private event" in page and "Leadership sync" in page
    assert MARK.lower() not in page.lower()
    assert "15:00–16:00" in page and "Schedule a meeting" in page
    for who in ("chief", "colleague", "outsider"):
        async with browser.http.post(browser.live.url + "/portal/sign-out",
                                     headers={"Sec-Fetch-Site": "same-origin"},
                                     data={"csrf_token": await browser.token_of(
                                         "/portal/")}) as _:
            pass
        if who == "outsider":
            user = await portal.store.get_user_by_email("outsider@other.example")
            assert user is not None
            secret = await portal.store.create_login_link(user.id, timedelta(minutes=10))
            path = f"/portal/login/{secret}"
            await browser.post(path, {"csrf_token": await browser.token_of(path)})
            status, page, _ = await browser.get(WEEK)
            assert status == 404 and MARK.lower() not in page.lower()
            continue
        await browser.sign_in(who)
        status, page, _ = await browser.get(WEEK)
        assert status == 200
        if who == "chief":
            assert f"{MARK}-title" in page and "Private" in page
        else:
            assert MARK.lower() not in page.lower() and "Leadership sync" not in page
            assert re.search(r"event-title\">Busy<", page) and "Tentative" in page
            assert "Private event" not in page and "Schedule a meeting" not in page


async def test_a_meeting_scheduled_for_the_executive(browser: Browser, portal: Live) -> None:
    await browser.sign_in("assistant")
    status, _, response = await _post(browser, WEEK, "/portal/calendar/exec@acme.example/events", {
        "schedule_for": "exec@acme.example", "title": "Budget review", "date": "2026-12-02",
        "start": "10:00", "end": "11:00", "time_zone": "UTC", "location": "Room 1",
        "description": ""})
    assert status == 303
    status, page, _ = await browser.get(response.headers["Location"])  # type: ignore[attr-defined]
    assert "Budget review" in page and "Meeting scheduled." in page and ">Edit<" in page
    status, page, _ = await _post(browser, WEEK, "/portal/calendar/exec@acme.example/events", {
        "schedule_for": "exec@acme.example", "title": "Backwards", "date": "2026-12-02",
        "start": "11:00", "end": "10:00", "time_zone": "UTC"})
    assert status == 400 and "Must be after start" in page and 'value="Backwards"' in page


async def test_a_feed_made_once_shown_and_revoked(browser: Browser, portal: Live) -> None:
    await browser.sign_in("exec")
    status, _, _ = await _post(browser, "/portal/feeds", "/portal/feeds", {"detail": "busy"})
    assert status == 303
    status, page, _ = await browser.get("/portal/feeds")
    found = re.search(r'id="new-feed-url" value="([^"]+)"', page)
    assert found and found.group(1).endswith(".ics") and ">Copy</button>" in page
    async with browser.http.get(found.group(1)) as feed:
        assert feed.status == 200 and "BEGIN:VCALENDAR" in await feed.text()
    status, page, _ = await browser.get("/portal/feeds")
    assert "new-feed-url" not in page  # shown once
    feed_id = re.search(r'/portal/feeds/([^/"]+)/revoke', page)
    assert feed_id
    status, _, _ = await _post(browser, "/portal/feeds", f"/portal/feeds/{feed_id.group(1)}/revoke",
                               {"confirmed": "yes"})
    assert status == 303
    async with browser.http.get(found.group(1)) as feed:
        assert feed.status == 404
