"""EWS-specific sync behaviour: series, exceptions, zones, recovery, request budgets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from proxy.core.model import (
    AttendeeKind,
    ConferenceProvider,
    EventDraft,
    EventStatus,
    Response,
    Sensitivity,
    ShowAs,
)
from proxy.errors import CursorExpired
from proxy.providers.base import Window
from proxy.providers.ews_normalize import occurrence_id
from tests.fixtures.ews_harness import USER, EwsHarness, ews_harness
from tests.providers.contract import window

from .contract import sync_round


@pytest.fixture
async def harness(aiohttp_server: Any) -> AsyncIterator[EwsHarness]:
    async with ews_harness(aiohttp_server) as h:
        yield h


async def full(h: EwsHarness) -> tuple[dict[str, Any], str]:
    page = await h.provider.sync_events(h.calendar_id, None, window())
    assert page.done and page.next_cursor
    return {e.provider_id: e for e in page.changed}, page.next_cursor


def monday_at_nine_berlin() -> datetime:
    today = datetime.now(ZoneInfo("Europe/Berlin")).date() + timedelta(days=7)
    monday = today - timedelta(days=today.weekday())
    return datetime(monday.year, monday.month, monday.day, 9, tzinfo=ZoneInfo("Europe/Berlin"))


async def test_series_with_modified_and_deleted_occurrences(harness: EwsHarness) -> None:
    emu, start = harness.emu, monday_at_nine_berlin()
    master = emu.add_series(USER, "Standup", start, start + timedelta(minutes=30),
                            days=("Monday",), count=6, time_zone="Europe/Berlin")
    starts = emu.occurrence_starts(USER, master)
    emu.modify_occurrence(USER, master, starts[1], subject="Standup (moved)",
                          start=starts[1] + timedelta(hours=2),
                          end=starts[1] + timedelta(hours=2, minutes=30))
    emu.delete_occurrence(USER, master, starts[2])
    events, cursor = await full(harness)
    series = [e for e in events.values() if e.recurrence]
    assert len(series) == 5
    assert {e.recurrence.series_id for e in series} == {master}
    moved = next(e for e in series if e.recurrence.is_exception)
    assert moved.title == "Standup (moved)"
    assert moved.recurrence.original_start == starts[1]
    assert moved.start == starts[1] + timedelta(hours=2)
    assert all(e.time_zone == "Europe/Berlin" for e in series)
    assert series[0].start.hour == 9  # local wall time, in its own zone

    # upstream deletes one more occurrence and moves another: the increment says so
    gone = next(e.provider_id for e in series if e.recurrence.original_start == starts[3])
    emu.delete_occurrence(USER, master, starts[3])
    emu.modify_occurrence(USER, master, starts[4], subject="Standup (long)")
    page = await harness.provider.sync_events(harness.calendar_id, cursor, window())
    assert gone in page.removed
    titles = {e.recurrence.original_start: e.title for e in page.changed if e.recurrence}
    assert titles[starts[4]] == "Standup (long)"
    assert starts[3] not in titles

    # the whole series goes: every delivered occurrence is removed
    emu.delete(USER, master)
    page = await harness.provider.sync_events(harness.calendar_id, page.next_cursor, window())
    assert {e.provider_id for e in series if e.provider_id != gone} <= set(page.removed)


async def test_windows_zone_all_day_and_normalization(harness: EwsHarness) -> None:
    emu = harness.emu
    start = datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=3)
    emu.add_event(USER, "Review", start, start + timedelta(hours=1),
                  time_zone="Pacific Standard Time", sensitivity="Confidential",
                  show_as="OOF", location="https://acme.zoom.us/j/123 Room 4",
                  body="<p>Agenda &amp; notes</p>", body_type="HTML",
                  attendees=[("Ann", "ann@example.com", "required", "Accept"),
                             ("Bob", "bob@example.com", "optional", "Tentative"),
                             ("Room 1", "room1@example.com", "resource", "NoResponseReceived")],
                  categories=["Red"])
    day = date.today() + timedelta(days=5)
    emu.add_event(USER, "Offsite", day, day + timedelta(days=2), all_day=True,
                  time_zone="Europe/London", sensitivity="Personal", show_as="Free")
    events, _ = await full(harness)
    review = next(e for e in events.values() if e.title == "Review")
    assert review.time_zone == "America/Los_Angeles"
    assert review.start == start and review.start.utcoffset() in (
        timedelta(hours=-8), timedelta(hours=-7))
    assert review.sensitivity is Sensitivity.CONFIDENTIAL and review.is_private
    assert review.show_as is ShowAs.OUT_OF_OFFICE
    assert review.conference and review.conference.provider is ConferenceProvider.ZOOM
    assert review.description == "Agenda & notes"
    assert review.organizer and review.organizer.email == USER
    kinds = {a.email: (a.kind, a.response) for a in review.attendees}
    assert kinds == {"ann@example.com": (AttendeeKind.REQUIRED, Response.ACCEPTED),
                     "bob@example.com": (AttendeeKind.OPTIONAL, Response.TENTATIVE),
                     "room1@example.com": (AttendeeKind.RESOURCE, Response.NEEDS_ACTION)}
    assert review.categories == ("Red",) and review.status is EventStatus.CONFIRMED
    offsite = next(e for e in events.values() if e.title == "Offsite")
    assert offsite.all_day and offsite.start == day and offsite.end == day + timedelta(days=2)
    assert offsite.sensitivity is Sensitivity.PERSONAL and offsite.show_as is ShowAs.FREE


async def test_invalid_sync_state_then_full_resync(harness: EwsHarness) -> None:
    keep = await harness.seed_event("Keep", datetime.now(UTC) + timedelta(days=1),
                                    datetime.now(UTC) + timedelta(days=1, hours=1))
    _, cursor = await full(harness)
    harness.emu.expire_sync_states(USER)
    with pytest.raises(CursorExpired):
        await harness.provider.sync_events(harness.calendar_id, cursor, window())
    events, cursor = await full(harness)
    assert keep in events
    page = await harness.provider.sync_events(harness.calendar_id, cursor, window())
    assert page.changed == () and page.removed == ()


async def test_ten_changes_take_two_requests(harness: EwsHarness) -> None:
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    ids = [await harness.seed_event(f"E{i}", base + timedelta(hours=i),
                                    base + timedelta(hours=i, minutes=30)) for i in range(30)]
    await sync_round(harness.provider, harness.calendar_id, None)
    _, cursor = await full(harness)
    for item_id in ids[:8]:
        await harness.rename_upstream(item_id, "changed")
    await harness.delete_upstream(ids[8])
    new = await harness.seed_event("New", base, base + timedelta(hours=1))
    harness.emu.calls.clear()
    page = await harness.provider.sync_events(harness.calendar_id, cursor, window())
    assert dict(harness.emu.calls) == {"SyncFolderItems": 1, "GetItem": 1}
    assert {e.provider_id for e in page.changed} == {*ids[:8], new}
    assert page.removed == (ids[8],)


async def test_writes_are_visible_in_reads(harness: EwsHarness) -> None:
    _, cursor = await full(harness)
    start = monday_at_nine_berlin()
    created = await harness.provider.create_event(harness.calendar_id, EventDraft(
        title="1:1", start=start, end=start + timedelta(hours=1), time_zone="Europe/Berlin",
        show_as=ShowAs.BUSY, sensitivity=Sensitivity.NORMAL))
    assert created.time_zone == "Europe/Berlin" and created.start == start
    moved = await harness.provider.update_event(
        harness.calendar_id, created.provider_id,
        EventDraft(start=start + timedelta(hours=1), end=start + timedelta(hours=2)))
    assert moved.start == start + timedelta(hours=1) and moved.title == "1:1"
    page = await harness.provider.sync_events(harness.calendar_id, cursor, window())
    assert [e.start for e in page.changed if e.provider_id == created.provider_id] == [
        start + timedelta(hours=1)]

    day = date.today() + timedelta(days=10)
    all_day = await harness.provider.create_event(harness.calendar_id, EventDraft(
        title="Holiday", start=day, end=day + timedelta(days=1), all_day=True,
        time_zone="Europe/Berlin"))
    assert all_day.all_day and all_day.start == day and all_day.end == day + timedelta(days=1)


async def test_occurrence_writes(harness: EwsHarness) -> None:
    start = monday_at_nine_berlin()
    master = harness.emu.add_series(USER, "Weekly", start, start + timedelta(hours=1),
                                    count=4, time_zone="Europe/Berlin")
    events, cursor = await full(harness)
    first, second = sorted((e for e in events.values() if e.recurrence),
                           key=lambda e: e.start)[:2]
    renamed = await harness.provider.update_event(harness.calendar_id, first.provider_id,
                                                  EventDraft(title="Weekly (special)"))
    assert renamed.provider_id == first.provider_id and renamed.recurrence.is_exception
    await harness.provider.delete_event(harness.calendar_id, second.provider_id)
    page = await harness.provider.sync_events(harness.calendar_id, cursor, window())
    assert second.provider_id in page.removed
    assert any(e.provider_id == first.provider_id and e.title == "Weekly (special)"
               for e in page.changed)
    [head] = [e for e in page.changed if e.provider_id == master]  # only as a listed master
    assert head.occurrences_listed and head.rrule and head.recurrence is None


async def test_contacts_paging(harness: EwsHarness) -> None:
    for n in range(130):
        harness.emu.add_contact(USER, f"Given{n}", f"Sur{n}", emails=[f"p{n}@example.com"],
                                phones=[("MobilePhone", f"+1555{n:04d}")], company="Acme")
    cursor, seen, pages = None, {}, 0
    while True:
        page = await harness.provider.sync_contacts(cursor)
        pages += 1
        seen.update({c.provider_id: c for c in page.changed})
        cursor = page.next_cursor
        if page.done:
            break
    assert pages == 2 and len(seen) == 130
    some = next(c for c in seen.values() if c.given_name == "Given7")
    assert some.emails[0].address == "p7@example.com" and some.phones[0].type == "mobile"
    assert some.display_name == "Given7 Sur7" and some.company == "Acme"


async def test_window_longer_than_two_years_is_asked_in_pieces(harness: EwsHarness) -> None:
    """Exchange refuses a CalendarView over two years (ErrorCalendarViewRangeTooBig); with
    400 days either side the provider asks in pieces and gets every event."""
    now = datetime.now(UTC).replace(microsecond=0, second=0)
    long = Window(now - timedelta(days=400), now + timedelta(days=401))
    edges = {harness.emu.add_event(USER, title, start, start + timedelta(hours=1))
             for title, start in (("Old", now - timedelta(days=390)),
                                  ("Soon", now + timedelta(days=2)),
                                  ("Far", now + timedelta(days=395)))}
    page = await harness.provider.sync_events(harness.calendar_id, None, long)
    assert {e.provider_id for e in page.changed} == edges
    assert harness.emu.calls["FindItem"] == 2  # 801 days: two pieces


async def test_view_pages_within_the_find_count_limit(harness: EwsHarness) -> None:
    """A CalendarView answers at most EWSFindCountLimit items (no offset paging): the
    provider asks again from the last start reached, and loses nothing."""
    harness.emu.store.find_count_limit = 5
    base = datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=1)
    seeded = {harness.emu.add_event(USER, f"E{n}", base + timedelta(hours=n // 2),
                                    base + timedelta(hours=n // 2, minutes=30))
              for n in range(13)}  # pairs begin at the same instant, across page edges
    events, _ = await full(harness)
    assert set(events) == seeded
    assert harness.emu.calls["FindItem"] == 3  # from 0 h, from 2 h, from 4 h


async def test_moved_occurrence_keeps_its_original_slot(harness: EwsHarness) -> None:
    """A weekly Thursday 09:00 meeting, one occurrence moved to Friday 13:00: its
    original start is the Thursday slot (RecurrenceId), not its new start."""
    emu, monday = harness.emu, monday_at_nine_berlin()
    thursday = monday + timedelta(days=3)
    master = emu.add_series(USER, "Sync", thursday, thursday + timedelta(hours=1),
                            days=("Thursday",), count=4, time_zone="Europe/Berlin")
    slot = emu.occurrence_starts(USER, master)[1]
    friday = (slot.astimezone(ZoneInfo("Europe/Berlin")) + timedelta(days=1)).replace(hour=13)
    emu.modify_occurrence(USER, master, slot, start=friday, end=friday + timedelta(hours=1))
    events, _ = await full(harness)
    [moved] = [e for e in events.values() if e.recurrence and e.recurrence.is_exception]
    assert moved.start == friday and moved.start.weekday() == 4 and moved.start.hour == 13
    assert moved.recurrence.original_start == slot
    assert moved.recurrence.original_start.weekday() == 3
    assert moved.recurrence.original_start.hour == 9
    assert moved.provider_id == occurrence_id(master, slot)
    plain = sorted(e.recurrence.original_start for e in events.values()
                   if e.recurrence and not e.recurrence.is_exception)
    assert plain == [s for n, s in enumerate(emu.occurrence_starts(USER, master)) if n != 1]


async def test_series_master_is_delivered_as_a_listed_master(harness: EwsHarness) -> None:
    """The RecurringMaster comes with its Recurrence as an RRULE, marked as listing its
    occurrences itself; unchanged series are not fetched again; a deleted one is removed
    with every occurrence."""
    emu, start = harness.emu, monday_at_nine_berlin()
    master = emu.add_series(USER, "Planning", start, start + timedelta(hours=1),
                            days=("Monday", "Wednesday"), count=6, first_day="Monday",
                            time_zone="Europe/Berlin")
    events, cursor = await full(harness)
    head = events[master]
    assert head.occurrences_listed and head.recurrence is None
    assert head.rrule == ("FREQ=WEEKLY;BYDAY=MO,WE;WKST=MO;COUNT=6",)
    assert head.start == start and head.time_zone == "Europe/Berlin"
    assert len([e for e in events.values() if e.recurrence]) == 6

    harness.emu.calls.clear()
    page = await harness.provider.sync_events(harness.calendar_id, cursor, window())
    assert page.changed == () and page.removed == ()
    assert dict(harness.emu.calls) == {"SyncFolderItems": 1}

    emu.delete(USER, master)
    page = await harness.provider.sync_events(harness.calendar_id, page.next_cursor, window())
    assert set(page.removed) == set(events)
