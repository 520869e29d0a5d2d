"""The week view refreshes itself from the change stream (DESIGN §11), in a real browser:
an event the executive adds through the API appears in the assistant's open week without a
reload, and what the assistant was typing in the scheduling form stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from proxy.demo_seed import next_monday
from tests.browser.helpers import check_page, sign_in_as
from tests.browser.served import Served

MONDAY = next_monday(datetime.now(UTC))
WEEK = f"/portal/calendar/exec@acme.example?start={MONDAY.date()}"
TITLE = "Added while the week was open"


def test_the_week_refreshes_itself_when_the_calendar_changes(page: Page, served: Served,
                                                             artifacts: Path) -> None:
    sign_in_as(page, served, "assistant")
    page.goto(served.url + WEEK)
    page.evaluate("window.sameDocument = true")
    page.get_by_label("Title").fill("Half-typed meeting")
    shown = page.locator(".event-title", has_text=TITLE)
    expect(shown).to_have_count(0)
    page.wait_for_timeout(2500)  # the stream opens once the page has settled
    start = MONDAY + timedelta(days=2, hours=15)  # Wednesday, mid-morning in New York
    status, body = served.api("exec", "POST", "/v1/users/me/events", {
        "title": TITLE, "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(), "time_zone": "America/New_York"})
    assert status == 201, body
    try:
        expect(shown).to_be_visible(timeout=20_000)
        assert page.evaluate("window.sameDocument") is True  # no reload
        expect(page.get_by_label("Title")).to_have_value("Half-typed meeting")
        check_page(page, artifacts, "week-refreshed")
    finally:
        served.api("exec", "DELETE", f"/v1/users/me/events/{body['id']}")
