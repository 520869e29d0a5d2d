"""A user's pages in a real browser against the emulators: integrations, scheduling
privilege, the week view as each viewer may see it, scheduling, and feeds."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, expect

from proxy.demo_seed import next_monday
from tests.browser.helpers import check_page, sign_in_as
from tests.browser.served import Served

MARK = "QZXBROWSERMARK"
MONDAY = next_monday(datetime.now(UTC))  # the week the demo's cast is seeded in
WEEK = f"/portal/calendar/exec@acme.example?start={MONDAY.date()}"
#: what the executive's private events hold (the demo's and the marked one)
HIDDEN = [MARK, "Merger talks", "Initech", "Offer: $40M", "5551234567", "Lumbergh", "Dentist"]


class Recorder:
    """Every response a page loads (HTML, CSS, JS, redirects): headers and body."""

    def __init__(self, page: Page) -> None:
        self.responses: list[Response] = []
        page.on("response", lambda response: self.responses.append(response))

    def blobs(self) -> list[tuple[str, str]]:
        out = []
        for response in self.responses:
            if response.headers.get("content-type", "").startswith("text/event-stream"):
                continue  # the week's change stream never ends (tests/browser/test_portal_live.py)
            try:
                body = response.body().decode("utf-8", "replace")
            except Exception:  # a redirect has no body to read
                body = ""
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            out.append((response.url, headers + "\n" + body))
        return out


@pytest.fixture(scope="module", autouse=True)
def marked_private_event(served: Served) -> None:
    """A private event of the executive with a marker in every field the API writes."""
    start = MONDAY + timedelta(days=1, hours=6)  # Tuesday 15:00 in New York
    status, body = served.api("exec", "POST", "/v1/users/me/events", {
        "title": f"{MARK} title", "description": f"{MARK} description",
        "location": f"{MARK} room", "sensitivity": "private",
        "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat(),
        "time_zone": "America/New_York", "categories": [f"{MARK} category"],
        "attendees": [{"name": f"{MARK} attendee", "email": "qzxbrowsermark@initech.example"}]})
    assert status == 201, body


def _week_as(page: Page, served: Served, who: str) -> list[tuple[str, str]]:
    sign_in_as(page, served, who)
    recorder = Recorder(page)
    page.goto(served.url + WEEK)
    page.wait_for_load_state("load")  # every style and script is in (an open stream
    return recorder.blobs()           # would keep "networkidle" from ever coming)


def test_the_assistant_sees_private_events_as_blocks_and_nothing_hidden(
        page: Page, served: Served, artifacts: Path) -> None:
    blobs = _week_as(page, served, "assistant")
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendar of exec@acme.example")
    expect(page.get_by_text("Times are in")).to_contain_text("America/New_York")
    private = page.locator(".event").filter(has_text="Private event")
    assert private.count() >= 3  # Merger talks, Dentist, the marked one
    expect(page.locator(".event").filter(has_text="Leadership sync").first).to_be_visible()
    assert any("text/html" in blob for _, blob in blobs)
    for url, blob in blobs:
        for hidden in HIDDEN:
            assert hidden.lower() not in blob.lower(), (hidden, url)
    check_page(page, artifacts, "week-assistant")


def test_the_chief_of_staff_sees_the_private_events(page: Page, served: Served) -> None:
    _week_as(page, served, "chief")
    marked = page.locator(".event").filter(has_text=f"{MARK} title")
    expect(marked).to_contain_text("Private")
    expect(marked).to_contain_text(f"{MARK} room")
    expect(page.locator(".event").filter(has_text="Merger talks with Initech")).to_be_visible()


def test_a_colleague_sees_busy_times_only(page: Page, served: Served,
                                          artifacts: Path) -> None:
    blobs = _week_as(page, served, "colleague")
    titles = set(page.locator(".event .event-title").all_inner_texts())
    assert titles and titles <= {"Busy", "Tentative", "Out of office", "Working elsewhere"}
    for url, blob in blobs:
        for hidden in [*HIDDEN, "Leadership sync", "Strategy offsite", "Lake house",
                       "Private event", "teams.microsoft.com"]:
            assert hidden.lower() not in blob.lower(), (hidden, url)
    expect(page.get_by_role("heading", name="Schedule a meeting")).to_have_count(0)
    check_page(page, artifacts, "week-colleague")


def test_a_user_of_another_account_gets_404(page: Page, served: Served) -> None:
    sign_in_as(page, served, "outsider")
    response = page.goto(served.url + WEEK)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert MARK.lower() not in page.content().lower()


def test_the_assistant_schedules_for_the_executive(page: Page, served: Served,
                                                   artifacts: Path) -> None:
    sign_in_as(page, served, "assistant")
    page.goto(served.url + WEEK)
    form = page.get_by_role("region", name="Schedule a meeting")
    expect(form.get_by_label("Schedule for")).to_have_value("exec@acme.example")
    form.get_by_label("Title").fill("Budget review")
    form.get_by_label("Date").fill(str((MONDAY + timedelta(days=4)).date()))
    form.get_by_label("Start").fill("10:00")
    form.get_by_label("End").fill("11:00")
    form.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("status")).to_have_text("Meeting scheduled.")
    block = page.locator(".event").filter(has_text="Budget review")
    expect(block).to_contain_text("10:00–11:00")
    block.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit meeting")
    expect(page.get_by_label("Title")).to_have_value("Budget review")
    page.get_by_label("Location").fill("Room 4")
    check_page(page, artifacts, "event-edit")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Meeting saved.")
    block = page.locator(".event").filter(has_text="Budget review")
    expect(block).to_contain_text("Room 4")
    block.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("Meeting deleted.")
    expect(page.locator(".event").filter(has_text="Budget review")).to_have_count(0)


def test_a_user_connects_graph_through_the_oauth_dance(page: Page, served: Served,
                                                       artifacts: Path) -> None:
    async def mailbox() -> None:  # the assistant's Microsoft 365 mailbox
        served.microsoft.identity.add_user("assistant@acme.example", "Assistant")
        served.microsoft.graph.add_mailbox("assistant@acme.example", "Assistant")

    served.run(mailbox())
    sign_in_as(page, served, "assistant")
    page.goto(served.url + "/portal/integrations")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Calendar and Contacts Integration")
    check_page(page, artifacts, "integrations")
    graph = page.get_by_role("region", name="Office 365 (Microsoft Graph)")
    graph.get_by_role("group", name="Calendar").get_by_label("Read").check()
    graph.get_by_role("button", name="Connect Office 365 (Microsoft Graph)").click()
    page.wait_for_url(f"{served.url}/portal/integrations?done=connected")
    expect(page.get_by_role("status")).to_have_text("Connected.")
    card = page.locator(".card").filter(has=page.get_by_role(
        "heading", name="Office 365 (Microsoft Graph)", exact=True)).first
    expect(card).to_contain_text("Connected")
    expect(card).to_contain_text("Calendar: read")
    _, me = served.api("assistant", "GET", "/v1/me")
    assert [(i["service"], i["status"], i["permissions"]["calendar"])
            for i in me["integrations"]] == [("graph", "connected", "read")]


def test_an_ews_host_outside_the_list_is_refused_inline(page: Page, served: Served) -> None:
    sign_in_as(page, served, "colleague")
    page.goto(served.url + "/portal/integrations")
    exchange = page.get_by_role("region", name="Exchange (EWS)")
    expect(exchange).to_contain_text("full access to the mailbox")
    exchange.get_by_label("EWS URL").fill("https://mail.internal.example/EWS/Exchange.asmx")
    exchange.get_by_label("Username").fill("colleague")
    exchange.get_by_label("Password").fill("Hunter2-never-echoed")
    recorder = Recorder(page)
    exchange.get_by_role("button", name="Connect Exchange (EWS)").click()
    exchange = page.get_by_role("region", name="Exchange (EWS)")
    expect(exchange.get_by_text("The host is not on the account's list of EWS hosts.")
           ).to_be_visible()
    expect(exchange.get_by_label("EWS URL")).to_have_value(
        "https://mail.internal.example/EWS/Exchange.asmx")
    expect(exchange.get_by_label("Password")).to_have_value("")
    for url, blob in recorder.blobs():
        assert "Hunter2-never-echoed" not in blob, url
    _, me = served.api("colleague", "GET", "/v1/me")
    assert "exchange_ews" not in [i["service"] for i in me["integrations"]]


def test_scheduling_privilege_given_and_removed(page: Page, served: Served,
                                                artifacts: Path) -> None:
    sign_in_as(page, served, "chief")
    page.goto(served.url + "/portal/delegates")
    form = page.get_by_role("region", name="Assign scheduling privilege")
    form.get_by_label("Email").fill("colleague@acme.example")
    form.get_by_label("Can schedule for me").check()
    form.get_by_label("Can see my private events").uncheck()
    form.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_have_text("Scheduling privilege saved.")
    row = page.get_by_role("row", name="colleague@acme.example")
    expect(row).to_contain_text("Yes")
    expect(page.get_by_role("link", name="exec@acme.example")).to_be_visible()  # I can
    check_page(page, artifacts, "delegates")
    _, body = served.api("chief", "GET", "/v1/me/delegates")
    assert [(d["email"], d["can_schedule"], d["can_view_private"])
            for d in body["delegates"]] == [("colleague@acme.example", True, False)]
    row.get_by_role("button", name="Remove").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(row).to_be_visible()
    row.get_by_role("button", name="Remove").click()
    dialog.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_have_text("Scheduling privilege removed.")
    assert served.api("chief", "GET", "/v1/me/delegates")[1]["delegates"] == []


def test_a_feed_made_copied_fetched_and_revoked(page: Page, served: Served,
                                                artifacts: Path) -> None:
    sign_in_as(page, served, "exec")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.url)
    page.goto(served.url + "/portal/feeds")
    page.get_by_label("Full").check()
    page.get_by_role("button", name="Create feed").click()
    field = page.get_by_label("Feed URL")
    expect(field).to_have_attribute("readonly", "")
    url = field.input_value()
    assert url.startswith(served.url + "/feeds/") and url.endswith(".ics")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url
    with urllib.request.urlopen(url, timeout=30) as response:
        ics = response.read()
        assert response.status == 200 and b"BEGIN:VCALENDAR" in ics
    check_page(page, artifacts, "feeds")
    page.reload()
    expect(page.get_by_label("Feed URL")).to_have_count(0)  # shown once
    row = page.get_by_role("row").filter(has_text="Full")
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("Feed revoked")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=30)
    assert refused.value.code == 404
