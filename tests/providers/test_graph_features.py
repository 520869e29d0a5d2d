"""Graph-specific behaviour: normalization, series, zones, delta recovery, failures, writes."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from proxy.core.model import (
    AttendeeKind,
    ConferenceProvider,
    Event,
    EventDraft,
    Response,
    Sensitivity,
    ShowAs,
)
from proxy.errors import (
    CursorExpired,
    Forbidden,
    Unprocessable,
    UpstreamAuthError,
    UpstreamError,
    UpstreamThrottled,
    UpstreamTimeout,
)
from proxy.providers.base import Window

from . import test_graph
from .contract import sync_round, window
from .test_graph import EMAIL, GraphHarness

harness = test_graph.harness  # the same fixture: identity + Graph emulators, signed in

BERLIN = ZoneInfo("Europe/Berlin")


async def full_events(h: GraphHarness) -> tuple[dict[str, Event], str]:
    events: dict[str, Event] = {}
    cursor = None
    while True:
        page = await h.provider.sync_events(h.calendar_id, cursor, window())
        events.update({e.provider_id: e for e in page.changed})
        cursor = page.next_cursor
        if page.done:
            assert cursor
            return events, cursor


def local(days: int, hour: int, tz: ZoneInfo = BERLIN) -> datetime:
    day = datetime.now(tz).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz)


async def test_event_in_w_europe_standard_time(harness: GraphHarness) -> None:
    event_id = harness.cloud.graph.add_event(
        EMAIL, "Board", local(3, 9), local(3, 10), "W. Europe Standard Time")
    events, _ = await full_events(harness)
    event = events[event_id]
    assert event.time_zone == "Europe/Berlin"
    assert isinstance(event.start, datetime) and event.start.tzinfo == BERLIN
    assert (event.start.hour, event.end.hour) == (9, 10)
    assert event.start == local(3, 9)


async def test_custom_zone_falls_back_to_the_utc_instant(harness: GraphHarness) -> None:
    start = datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=2)
    event_id = harness.cloud.graph.add_event(
        EMAIL, "Odd", start, start + timedelta(hours=1), "Customized Time Zone")
    event = (await full_events(harness))[0][event_id]
    assert event.time_zone == "UTC" and event.start == start


async def test_all_day_event(harness: GraphHarness) -> None:
    day = date.today() + timedelta(days=5)
    event_id = harness.cloud.graph.add_event(
        EMAIL, "Offsite", day, day + timedelta(days=2), "W. Europe Standard Time", showAs="oof")
    event = (await full_events(harness))[0][event_id]
    assert event.all_day and (event.start, event.end) == (day, day + timedelta(days=2))
    assert event.show_as is ShowAs.OUT_OF_OFFICE


async def test_each_sensitivity_and_show_as(harness: GraphHarness) -> None:
    ids = {}
    for n, (sens, show) in enumerate([("normal", "busy"), ("personal", "free"),
                                      ("private", "workingElsewhere"),
                                      ("confidential", "tentative")]):
        ids[sens] = harness.cloud.graph.add_event(
            EMAIL, sens, local(1, 8 + n), local(1, 9 + n), "UTC", sensitivity=sens, showAs=show)
    events, _ = await full_events(harness)
    got = {s: (events[i].sensitivity, events[i].show_as) for s, i in ids.items()}
    assert got == {
        "normal": (Sensitivity.NORMAL, ShowAs.BUSY),
        "personal": (Sensitivity.PERSONAL, ShowAs.FREE),
        "private": (Sensitivity.PRIVATE, ShowAs.WORKING_ELSEWHERE),
        "confidential": (Sensitivity.CONFIDENTIAL, ShowAs.TENTATIVE),
    }
    assert events[ids["private"]].is_private and not events[ids["normal"]].is_private


async def test_people_categories_and_join_links(harness: GraphHarness) -> None:
    g = harness.cloud.graph
    teams = g.add_event(
        EMAIL, "Sync", local(2, 9), local(2, 10), "UTC", categories=["Red category"],
        onlineMeeting={"joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3a1"},
        organizer={"emailAddress": {"name": "Olga", "address": "olga@contoso.com"}},
        attendees=[
            {"type": "required", "status": {"response": "accepted", "time": "x"},
             "emailAddress": {"name": "Ann", "address": "ann@contoso.com"}},
            {"type": "optional", "status": {"response": "tentativelyAccepted", "time": "x"},
             "emailAddress": {"name": "Bob", "address": "bob@contoso.com"}},
            {"type": "resource", "status": {"response": "notResponded", "time": "x"},
             "emailAddress": {"name": "Room 1", "address": "room1@contoso.com"}}])
    zoom = g.add_event(EMAIL, "Vendor", local(2, 11), local(2, 12), "UTC",
                       location={"displayName": "https://contoso.zoom.us/j/123456"})
    meet = g.add_event(EMAIL, "Partner", local(2, 13), local(2, 14), "UTC", body={
        "contentType": "html",
        "content": "<html><body><p>Join:&nbsp;<a href='x'>https://meet.google.com/abc-defg-hij"
                   "</a></p></body></html>"})
    events, _ = await full_events(harness)
    t = events[teams]
    assert t.conference and t.conference.provider is ConferenceProvider.TEAMS
    assert t.join_url == "https://teams.microsoft.com/l/meetup-join/19%3a1"
    assert t.organizer and t.organizer.email == "olga@contoso.com"
    assert [(a.email, a.kind, a.response) for a in t.attendees] == [
        ("ann@contoso.com", AttendeeKind.REQUIRED, Response.ACCEPTED),
        ("bob@contoso.com", AttendeeKind.OPTIONAL, Response.TENTATIVE),
        ("room1@contoso.com", AttendeeKind.RESOURCE, Response.NEEDS_ACTION)]
    assert t.categories == ("Red category",)
    assert events[zoom].conference and events[zoom].conference.provider is ConferenceProvider.ZOOM
    assert events[meet].join_url == "https://meet.google.com/abc-defg-hij"
    assert "<" not in events[meet].description and "Join:" in events[meet].description


async def test_series_with_a_moved_and_a_cancelled_occurrence(harness: GraphHarness) -> None:
    g = harness.cloud.graph
    first = local(1, 9)
    master = g.add_series(EMAIL, "Weekly 1:1", first, first + timedelta(minutes=30),
                          "W. Europe Standard Time",
                          {"type": "weekly", "daysOfWeek": [first.strftime("%A").lower()]},
                          occurrences=4)
    second, third = first + timedelta(weeks=1), first + timedelta(weeks=2)
    moved = g.move_occurrence(EMAIL, master, second, second + timedelta(hours=2),
                              second + timedelta(hours=2, minutes=30))
    g.cancel_occurrence(EMAIL, master, third)
    events, cursor = await full_events(harness)
    series = sorted((e for e in events.values() if e.recurrence), key=lambda e: e.start)
    assert len(series) == 3 and all(not e.rrule for e in series)
    assert {e.recurrence.series_id for e in series if e.recurrence} == {master}
    exception = events[moved]
    assert exception.recurrence and exception.recurrence.is_exception
    assert exception.recurrence.original_start == second
    assert exception.start == second + timedelta(hours=2) and exception.time_zone == "Europe/Berlin"
    assert [e.recurrence.is_exception for e in series if e.recurrence] == [False, True, False]
    assert third not in {e.start for e in series}

    fourth = first + timedelta(weeks=3)
    gone = g.cancel_occurrence(EMAIL, master, fourth)
    changed, removed, _ = await sync_round(harness.provider, harness.calendar_id, cursor)
    assert removed == {gone} and not changed


async def test_delta_reports_removals_and_updates_in_few_requests(harness: GraphHarness) -> None:
    g = harness.cloud.graph
    ids = [g.add_event(EMAIL, f"E{n}", local(1, 8) + timedelta(hours=n),
                       local(1, 9) + timedelta(hours=n), "UTC") for n in range(12)]
    _, cursor = await full_events(harness)
    before = harness.provider.requests
    g.delete_event(EMAIL, ids[0])
    g.update_event(EMAIL, ids[1], subject="E1 moved", start=local(200, 8), end=local(200, 9))
    g.update_event(EMAIL, ids[2], start=local(800, 8), end=local(800, 9))  # leaves the window
    changed, removed, _ = await sync_round(harness.provider, harness.calendar_id, cursor)
    assert changed == {ids[1]: "E1 moved"}
    assert removed == {ids[0], ids[2]}
    assert harness.provider.requests - before == 1


async def test_every_request_prefers_utc_and_paging_follows_next_links(
        harness: GraphHarness) -> None:
    harness.provider.page_size = 5
    for n in range(12):
        harness.cloud.graph.add_event(EMAIL, f"E{n}", local(1, 0) + timedelta(hours=n),
                                      local(1, 1) + timedelta(hours=n), "UTC")
    events, _ = await full_events(harness)
    assert len(events) == 12
    log = harness.cloud.graph.prefer_log
    assert len(log) == 3 and all('outlook.timezone="UTC"' in p for p in log)
    assert all("$skiptoken" in path for _, path in harness.cloud.graph.requests[1:])


async def test_expired_delta_token_then_full_resync(harness: GraphHarness) -> None:
    g = harness.cloud.graph
    keep = g.add_event(EMAIL, "Keep", local(1, 9), local(1, 10), "UTC")
    lost = g.add_event(EMAIL, "Lost", local(1, 11), local(1, 12), "UTC")
    _, cursor = await full_events(harness)
    g.expire_delta_tokens()
    g.delete_event(EMAIL, lost)
    with pytest.raises(CursorExpired):
        await harness.provider.sync_events(harness.calendar_id, cursor, window())
    events, _ = await full_events(harness)
    assert set(events) == {keep}  # the driver reconciles the rest away


async def test_moved_window_forces_a_full_round(harness: GraphHarness) -> None:
    _, cursor = await full_events(harness)
    later = window()
    moved = Window(later.start + timedelta(days=3), later.end + timedelta(days=3))
    with pytest.raises(CursorExpired):
        await harness.provider.sync_events(harness.calendar_id, cursor, moved)


async def test_throttling_is_retried_within_budget(harness: GraphHarness) -> None:
    harness.cloud.graph.add_event(EMAIL, "A", local(1, 9), local(1, 10), "UTC")
    harness.cloud.graph.throttle(times=1, retry_after=1)
    started = time.monotonic()
    events, _ = await full_events(harness)
    assert len(events) == 1 and 0.9 <= time.monotonic() - started < 5
    assert len(harness.cloud.graph.requests) == 2


async def test_throttling_beyond_budget_becomes_503_with_retry_after(
        harness: GraphHarness) -> None:
    harness.cloud.graph.throttle(times=1, retry_after=120, status=503)
    started = time.monotonic()
    with pytest.raises(UpstreamThrottled) as caught:
        await harness.provider.list_calendars()
    assert time.monotonic() - started < 10  # it never waited out the 120 s Retry-After
    assert caught.value.retry_after == 120 and caught.value.status == 503
    harness.cloud.graph.throttle(times=5, retry_after=1)
    with pytest.raises(UpstreamThrottled):
        await harness.provider.list_calendars()
    assert harness.cloud.graph.faults[-1].times == 2  # one try plus two bounded retries


async def test_token_refresh_on_401_with_rotation(harness: GraphHarness) -> None:
    identity = harness.cloud.identity
    old_refresh = harness.tokens.refresh_token
    identity.expire_access_tokens(EMAIL)
    assert await harness.provider.list_calendars()
    assert harness.tokens.refreshes == 1 and harness.tokens.refresh_token != old_refresh
    harness.tokens.refresh_token = old_refresh  # a rotated-away token no longer works
    identity.expire_access_tokens(EMAIL)
    with pytest.raises(UpstreamAuthError):
        await harness.provider.list_calendars()


async def test_hybrid_mailbox_is_refused(harness: GraphHarness) -> None:
    await harness.provider.check()
    harness.cloud.graph.set_hybrid(EMAIL)
    with pytest.raises(Unprocessable) as caught:
        await harness.provider.check()
    assert caught.value.code == "hybrid_not_supported" and caught.value.status == 422


async def test_writes_are_visible_in_the_next_reads(harness: GraphHarness) -> None:
    _, cursor = await full_events(harness)
    draft = EventDraft(title="Dentist", start=local(4, 15), end=local(4, 16),
                       time_zone="Europe/Berlin", sensitivity=Sensitivity.PERSONAL,
                       show_as=ShowAs.OUT_OF_OFFICE, description="bring card",
                       location="Main St 1", categories=("Health",))
    created = await harness.provider.create_event(harness.calendar_id, draft)
    assert created.time_zone == "Europe/Berlin" and created.start == local(4, 15)
    assert created.show_as is ShowAs.OUT_OF_OFFICE and created.categories == ("Health",)
    stored = harness.cloud.graph.mailbox(EMAIL).events[created.provider_id]
    assert stored.zone == "W. Europe Standard Time"  # written with the Windows name
    changed, _, cursor = await sync_round(harness.provider, harness.calendar_id, cursor)
    assert changed == {created.provider_id: "Dentist"}
    updated = await harness.provider.update_event(
        harness.calendar_id, created.provider_id,
        EventDraft(start=local(5, 9), end=local(5, 10)))
    assert updated.start == local(5, 9) and updated.title == "Dentist"
    all_day = await harness.provider.create_event(harness.calendar_id, EventDraft(
        title="Holiday", start=date.today() + timedelta(days=9),
        end=date.today() + timedelta(days=10)))
    assert all_day.all_day and all_day.start == date.today() + timedelta(days=9)
    await harness.provider.delete_event(harness.calendar_id, created.provider_id)
    changed, removed, _ = await sync_round(harness.provider, harness.calendar_id, cursor)
    assert removed == {created.provider_id} and set(changed) == {all_day.provider_id}


async def test_read_only_scopes_refuse_writes(harness: GraphHarness) -> None:
    reader = await harness.provider_for("offline_access User.Read Calendars.Read Contacts.Read")
    try:
        assert await reader.list_calendars()
        with pytest.raises(Forbidden) as caught:
            await reader.create_event(harness.calendar_id, EventDraft(
                title="x", start=local(1, 9), end=local(1, 10)))
        assert caught.value.code == "integration_read_only" and caught.value.status == 403
    finally:
        await reader.close()


async def test_server_errors_timeouts_and_malformed_payloads(harness: GraphHarness) -> None:
    g = harness.cloud.graph
    g.add_event(EMAIL, "Secret merger talk", local(1, 9), local(1, 10), "UTC")
    g.fail(500)
    with pytest.raises(UpstreamError) as caught:
        await harness.provider.list_calendars()
    assert caught.value.status == 502 and "500" in caught.value.message
    for kind in ("truncated", "shape"):
        g.malformed(kind=kind)
        with pytest.raises(UpstreamError) as caught:
            await harness.provider.sync_events(harness.calendar_id, None, window())
        assert "malformed" in caught.value.message and "merger" not in caught.value.message
    slow = await harness.provider_for("offline_access User.Read Calendars.Read", timeout=0.3)
    try:
        g.slow(2.0)
        with pytest.raises(UpstreamTimeout):
            await slow.list_calendars()
    finally:
        await slow.close()


async def test_at_most_four_concurrent_requests_per_mailbox(harness: GraphHarness) -> None:
    harness.cloud.graph.slow(0.1, times=12)
    await asyncio.gather(*(harness.provider.list_calendars() for _ in range(12)))
    assert harness.cloud.graph.max_in_flight == 4
