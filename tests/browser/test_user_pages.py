"""A user's pages in a real browser: integrations, scheduling privilege, the week view by
each viewer, and feeds."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from proxy.core.model import Attendee, Event, Person, Sensitivity, Service, ShowAs
from proxy.portal.week import monday_of
from tests.api.conftest import Live
from tests.browser.pages import Recorder, check_page, sign_in
from tests.browser.site import Site

MARK = "QZXBROWSERMARK"
MONDAY = monday_of(datetime.now(UTC).date())
WEEK = f"/portal/calendar/exec@acme.example?start={MONDAY}"


def _at(days: int, hour: int) -> datetime:
    return datetime.combine(MONDAY + timedelta(days=days), time(hour), tzinfo=UTC)


def _seed(live: Live) -> None:
    """The executive's week: one private event with the marker in every field, others."""
    box = live.mailbox("exec")

    def put(**fields: object) -> None:
        live.backend.put_event(box, Event(provider_id=live.backend.new_id(),
                                          calendar_id="primary", service=Service.GRAPH,
                                          **fields))  # type: ignore[arg-type]

    put(title=f"{MARK} title", description=f"{MARK} description", location=f"{MARK} room",
        start=_at(1, 15), end=_at(1, 16), sensitivity=Sensitivity.PRIVATE,
        organizer=Person(f"{MARK} organizer", "qzxbrowsermark-o@initech.example"),
        attendees=(Attendee(f"{MARK} attendee", "qzxbrowsermark-a@initech.example"),),
        join_url="https://qzxbrowsermark.example/join", categories=(f"{MARK} category",),
        ical_uid=f"{MARK}-uid@initech.example")
    put(title="Leadership sync", start=_at(1, 13), end=_at(1, 14), location="Board room")
    put(title="Offsite planning", start=_at(2, 14), end=_at(2, 17),
        show_as=ShowAs.OUT_OF_OFFICE)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    running = Site(tmp_path_factory.mktemp("user"), _seed)
    yield running
    running.close()


def test_a_user_connects_graph_through_the_oauth_dance(page: Page, site: Site,
                                                       artifacts: Path) -> None:
    sign_in(page, site, "colleague@acme.example")
    page.goto(site.url + "/portal/integrations")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Calendar and Contacts Integration")
    check_page(page, artifacts, "integrations")
    graph = page.get_by_role("region", name="Office 365 (Microsoft Graph)")
    graph.get_by_role("group", name="Calendar").get_by_label("Read").check()
    graph.get_by_role("button", name="Connect Office 365 (Microsoft Graph)").click()
    page.wait_for_url(f"{site.url}/portal/integrations?done=connected")
    card = page.get_by_role("listitem").filter(has=page.get_by_role(
        "heading", name="Office 365 (Microsoft Graph)", exact=True)).first
    expect(card).to_contain_text("Connected")
    expect(card).to_contain_text("Calendar: read")
    _, me = site.api("colleague", "GET", "/v1/me")
    assert [(i["service"], i["status"], i["permissions"]["calendar"])
            for i in me["integrations"]] == [("graph", "connected", "read")]


def test_an_ews_host_outside_the_list_is_refused_inline(page: Page, site: Site) -> None:
    sign_in(page, site, "assistant@acme.example")
    page.goto(site.url + "/portal/integrations")
    exchange = page.get_by_role("region", name="Exchange (EWS)")
    expect(exchange).to_contain_text("full access to the mailbox")
    exchange.get_by_label("EWS URL").fill("https://mail.internal.example/EWS/Exchange.asmx")
    exchange.get_by_label("Username").fill("assistant")
    exchange.get_by_label("Password").fill("Hunter2-never-echoed")
    recorder = Recorder(page)
    exchange.get_by_role("button", name="Connect Exchange (EWS)").click()
    exchange = page.get_by_role("region", name="Exchange (EWS)")
    expect(exchange.get_by_text("The host is not on the account's list of EWS hosts.")
           ).to_be_visible()
    expect(exchange.get_by_label("EWS URL")).to_have_value(
        "https://mail.internal.example/EWS/Exchange.asmx")
    expect(exchange.get_by_label("Password")).to_have_value("")
    for url, body in recorder.bodies():
        assert b"Hunter2-never-echoed" not in body, url
    assert site.api("assistant", "GET", "/v1/me")[1]["integrations"] == []


def test_scheduling_privilege_given_and_removed(page: Page, site: Site,
                                                artifacts: Path) -> None:
    sign_in(page, site, "chief@acme.example")
    page.goto(site.url + "/portal/delegates")
    form = page.get_by_role("region", name="Assign scheduling privilege")
    form.get_by_label("Email").fill("colleague@acme.example")
    form.get_by_label("Can schedule for me").check()
    form.get_by_label("Can see my private events").uncheck()
    form.get_by_role("button", name="Add").click()
    row = page.get_by_role("row", name="colleague@acme.example")
    expect(row).to_contain_text("Yes")
    check_page(page, artifacts, "delegates")
    _, body = site.api("chief", "GET", "/v1/me/delegates")
    assert [(d["email"], d["can_schedule"], d["can_view_private"])
            for d in body["delegates"]] == [("colleague@acme.example", True, False)]
    row.get_by_role("button", name="Remove").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(row).to_be_visible()
    row.get_by_role("button", name="Remove").click()
    dialog.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_have_text("Scheduling privilege removed.")
    assert site.api("chief", "GET", "/v1/me/delegates")[1]["delegates"] == []


def _week_as(page: Page, site: Site, email: str) -> tuple[str, list[tuple[str, bytes]]]:
    sign_in(page, site, email)
    recorder = Recorder(page)
    page.goto(site.url + WEEK)
    page.wait_for_load_state("networkidle")
    return page.content(), recorder.bodies()


def test_the_assistant_sees_private_events_as_blocks_and_nothing_hidden(
        page: Page, site: Site, artifacts: Path) -> None:
    html, bodies = _week_as(page, site, "assistant@acme.example")
    private = page.locator(".event").filter(has_text="Private event")
    expect(private).to_have_count(1)
    expect(private).to_contain_text("15:00–16:00")
    expect(page.locator(".event").filter(has_text="Leadership sync")).to_contain_text(
        "Board room")
    expect(page.get_by_text("Times are in")).to_contain_text("UTC")
    assert MARK.lower() not in html.lower()
    assert bodies and all(MARK.lower().encode() not in body.lower() for _, body in bodies)
    check_page(page, artifacts, "week-assistant")


def test_the_chief_of_staff_sees_the_private_event(page: Page, site: Site) -> None:
    _week_as(page, site, "chief@acme.example")
    block = page.locator(".event").filter(has_text=f"{MARK} title")
    expect(block).to_contain_text("Private")
    expect(block).to_contain_text(f"{MARK} room")


def test_a_colleague_sees_busy_only(page: Page, site: Site, artifacts: Path) -> None:
    _, bodies = _week_as(page, site, "colleague@acme.example")
    titles = page.locator(".event .event-title").all_inner_texts()
    assert sorted(titles) == ["Busy", "Busy", "Out of office"]
    for secret in (MARK.lower(), "leadership sync", "board room", "offsite planning",
                   "private event"):
        assert all(secret.encode() not in body.lower() for _, body in bodies), secret
    expect(page.get_by_role("heading", name="Schedule a meeting")).to_have_count(0)
    check_page(page, artifacts, "week-colleague")


def test_a_user_of_another_account_gets_404(page: Page, site: Site) -> None:
    sign_in(page, site, "outsider@other.example")
    response = page.goto(site.url + WEEK)
    assert response is not None and response.status == 404
    assert MARK.lower() not in page.content().lower()
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")


def test_the_assistant_schedules_for_the_executive(page: Page, site: Site) -> None:
    sign_in(page, site, "assistant@acme.example")
    page.goto(site.url + WEEK)
    form = page.get_by_role("region", name="Schedule a meeting")
    expect(form.get_by_label("Schedule for")).to_have_value("exec@acme.example")
    form.get_by_label("Title").fill("Budget review")
    form.get_by_label("Date").fill(str(MONDAY + timedelta(days=3)))
    form.get_by_label("Start").fill("10:00")
    form.get_by_label("End").fill("11:00")
    form.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("status")).to_have_text("Meeting scheduled.")
    block = page.locator(".event").filter(has_text="Budget review")
    expect(block).to_contain_text("10:00–11:00")
    expect(block.get_by_role("link", name="Edit")).to_be_visible()
    block.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("Meeting deleted.")
    expect(page.locator(".event").filter(has_text="Budget review")).to_have_count(0)


def test_a_feed_made_copied_fetched_and_revoked(page: Page, site: Site,
                                                artifacts: Path) -> None:
    sign_in(page, site, "exec@acme.example")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page.goto(site.url + "/portal/feeds")
    page.get_by_label("Full").check()
    page.get_by_role("button", name="Create feed").click()
    field = page.get_by_label("Feed URL")
    expect(field).to_have_attribute("readonly", "")
    url = field.input_value()
    assert url.startswith(site.url + "/feeds/") and url.endswith(".ics")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200 and b"BEGIN:VCALENDAR" in response.read()
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
