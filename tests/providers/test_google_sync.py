"""Google sync against the emulator: series, all-day, visibility x transparency, paging,
sync-token expiry with a deletion in the gap, writes visible in reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from proxy.core.model import (
    Event,
    EventDraft,
    EventStatus,
    Sensitivity,
    ShowAs,
)
from proxy.errors import CursorExpired
from proxy.providers.base import Window
from tests.fixtures.google_harness import GoogleEnv
from tests.providers.contract import window

NY = ZoneInfo("America/New_York")




async def full_round(env: GoogleEnv, cursor: str | None = None) -> tuple[
        dict[str, Event], set[str], str, int]:
    """Page a round to its end: events by id, removed ids, cursor, upstream requests."""
    before = env.emulator.api_requests
    events: dict[str, Event] = {}
    removed: set[str] = set()
    while True:
        page = await env.provider.sync_events(env.calendar_id, cursor, window())
        events.update({e.provider_id: e for e in page.changed})
        removed.update(page.removed)
        cursor = page.next_cursor
        if page.done:
            assert cursor is not None
            return events, removed, cursor, env.emulator.api_requests - before


def next_monday(hour: int) -> datetime:
    today = datetime.now(NY).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=7 - today.weekday())


async def test_series_with_moved_and_cancelled_instance(env: GoogleEnv) -> None:
    emu, email = env.emulator, env.email
    first = next_monday(9)
    series = emu.add_series(email, "Weekly sync", first, first + timedelta(hours=1),
                            "FREQ=WEEKLY;BYDAY=MO;COUNT=6", time_zone="America/New_York")
    second, third = first + timedelta(weeks=1), first + timedelta(weeks=2)
    moved = emu.move_instance(email, series, second, second + timedelta(hours=3),
                              second + timedelta(hours=4))
    cancelled = emu.cancel_instance(email, series, third)

    events, _, _, _ = await full_round(env)

    master = events[series]
    assert master.rrule == ("FREQ=WEEKLY;BYDAY=MO;COUNT=6",)
    assert master.recurrence is None and master.time_zone == "America/New_York"
    assert master.start == first and master.start.utcoffset() == first.utcoffset()
    exception = events[moved]
    assert exception.recurrence is not None
    assert exception.recurrence.series_id == series
    assert exception.recurrence.original_start == second
    assert exception.recurrence.is_exception
    assert exception.start == second + timedelta(hours=3)
    gone = events[cancelled]
    assert gone.status is EventStatus.CANCELLED
    assert gone.recurrence is not None and gone.recurrence.series_id == series
    assert gone.recurrence.original_start == third
    assert len(events) == 3  # occurrences are expanded by the core, not listed here


async def test_cancelled_occurrence_arrives_incrementally(env: GoogleEnv) -> None:
    first = next_monday(10)
    series = env.emulator.add_series(env.email, "Standup", first, first + timedelta(minutes=15),
                                     "FREQ=DAILY;COUNT=10", time_zone="America/New_York")
    _, _, cursor, _ = await full_round(env)
    # the owner deletes one occurrence through the API (as a delegate would via calproxy)
    instance = f"{series}_{(first + timedelta(days=2)).astimezone(UTC):%Y%m%dT%H%M%SZ}"
    await env.provider.delete_event(env.calendar_id, instance)
    events, removed, _, requests = await full_round(env, cursor)
    assert requests == 1 and not removed
    assert events[instance].status is EventStatus.CANCELLED
    assert events[instance].recurrence is not None
    assert events[instance].recurrence.original_start == first + timedelta(days=2)


async def test_all_day_event_keeps_dates(env: GoogleEnv) -> None:
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    event_id = env.emulator.add_simple_event(env.email, "Offsite", day, day + timedelta(days=2))
    events, _, _, _ = await full_round(env)
    event = events[event_id]
    assert event.all_day
    assert event.start == day and event.end == day + timedelta(days=2)
    assert type(event.start) is date
    assert event.time_zone == "America/New_York"  # the calendar's zone


@pytest.mark.parametrize("transparency", [None, "opaque", "transparent"])
async def test_each_visibility_with_each_transparency(env: GoogleEnv,
                                                      transparency: str | None) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    expected = {None: Sensitivity.NORMAL, "default": Sensitivity.NORMAL,
                "public": Sensitivity.NORMAL, "private": Sensitivity.PRIVATE,
                "confidential": Sensitivity.CONFIDENTIAL}
    ids = {}
    for visibility in expected:
        fields = {k: v for k, v in (("visibility", visibility),
                                    ("transparency", transparency)) if v}
        ids[visibility] = env.emulator.add_simple_event(
            env.email, "Review", start, start + timedelta(hours=1), **fields)
    events, _, _, _ = await full_round(env)
    for visibility, event_id in ids.items():
        event = events[event_id]
        assert event.sensitivity is expected[visibility], visibility
        assert event.is_private is (visibility in ("private", "confidential"))
        assert event.show_as is (ShowAs.FREE if transparency == "transparent" else ShowAs.BUSY)


async def test_paging_full_then_incremental_in_one_request(env: GoogleEnv) -> None:
    env.emulator.max_page_size = 7
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    ids = [env.emulator.add_simple_event(env.email, f"E{i}", start + timedelta(hours=i),
                                         start + timedelta(hours=i, minutes=30))
           for i in range(20)]
    events, _, cursor, requests = await full_round(env)
    assert set(ids) <= set(events) and requests == 3
    for event_id in ids[:5]:
        env.emulator.update_event(env.email, event_id, summary="changed")
    events, removed, _, requests = await full_round(env, cursor)
    assert requests == 1 and not removed
    assert {e.title for e in events.values()} == {"changed"} and len(events) == 5


async def test_sync_token_expiry_with_deletion_in_the_gap(env: GoogleEnv) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    keep = env.emulator.add_simple_event(env.email, "Keep", start, start + timedelta(hours=1))
    drop = env.emulator.add_simple_event(env.email, "Drop", start, start + timedelta(hours=1))
    mirror, _, cursor, _ = await full_round(env)
    assert {keep, drop} <= set(mirror)

    env.emulator.delete_event(env.email, drop)
    env.emulator.expire_sync_tokens(env.email)
    with pytest.raises(CursorExpired):
        await env.provider.sync_events(env.calendar_id, cursor, window())
    # the driver restarts in full and reconciles: whatever the full round lacks is gone
    fresh, removed, _, _ = await full_round(env, None)
    assert not removed  # a full listing brings no tombstones...
    assert keep in fresh and drop not in fresh  # ...so the driver deletes `drop` itself


async def test_event_moving_out_of_the_window_is_removed(env: GoogleEnv) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    event_id = env.emulator.add_simple_event(env.email, "Soon", start, start + timedelta(hours=1))
    _, _, cursor, _ = await full_round(env)
    far = start + timedelta(days=800)
    await env.provider.update_event(env.calendar_id, event_id,
                                    EventDraft(start=far, end=far + timedelta(hours=1),
                                               time_zone="UTC"))
    events, removed, _, _ = await full_round(env, cursor)
    assert event_id in removed and event_id not in events


async def test_writes_are_visible_in_reads(env: GoogleEnv) -> None:
    _, _, cursor, _ = await full_round(env)
    start = datetime.now(NY).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(
        days=5)
    created = await env.provider.create_event(env.calendar_id, EventDraft(
        title="1:1", start=start, end=start + timedelta(minutes=30),
        time_zone="America/New_York", sensitivity=Sensitivity.CONFIDENTIAL,
        show_as=ShowAs.FREE, categories=("Blue",)))
    assert created.time_zone == "America/New_York" and created.start == start
    assert created.sensitivity is Sensitivity.CONFIDENTIAL and created.show_as is ShowAs.FREE
    assert created.categories == ("Blue",)
    events, _, cursor, _ = await full_round(env, cursor)
    assert events[created.provider_id].title == "1:1"

    day = start.date() + timedelta(days=1)
    await env.provider.update_event(env.calendar_id, created.provider_id, EventDraft(
        all_day=True, start=day, end=day + timedelta(days=1), show_as=ShowAs.OUT_OF_OFFICE))
    events, _, cursor, _ = await full_round(env, cursor)
    moved = events[created.provider_id]
    assert moved.all_day and moved.start == day and moved.show_as is ShowAs.OUT_OF_OFFICE
    assert moved.title == "1:1" and moved.sensitivity is Sensitivity.CONFIDENTIAL

    await env.provider.delete_event(env.calendar_id, created.provider_id)
    events, removed, _, _ = await full_round(env, cursor)
    assert created.provider_id in removed and created.provider_id not in events


async def test_lists_calendars_with_access(env: GoogleEnv) -> None:
    env.emulator.add_calendar(env.email, "team@group.calendar.google.com", "Team",
                              access_role="reader", time_zone="Europe/Berlin")
    calendars = {c.provider_id: c for c in await env.provider.list_calendars()}
    assert calendars[env.email].is_primary and calendars[env.email].can_write
    team = calendars["team@group.calendar.google.com"]
    assert not team.is_primary and not team.can_write and team.time_zone == "Europe/Berlin"


async def test_delegate_moves_one_occurrence(env: GoogleEnv) -> None:
    first = next_monday(14)
    series = env.emulator.add_series(env.email, "Review", first, first + timedelta(hours=1),
                                     "FREQ=WEEKLY;COUNT=4", time_zone="America/New_York")
    _, _, cursor, _ = await full_round(env)
    second = first + timedelta(weeks=1)
    instance = f"{series}_{second.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    later = second + timedelta(hours=2)
    updated = await env.provider.update_event(env.calendar_id, instance, EventDraft(
        start=later, end=later + timedelta(hours=1), time_zone="America/New_York"))
    assert updated.recurrence is not None and updated.recurrence.series_id == series
    assert updated.recurrence.original_start == second and updated.start == later
    events, _, _, _ = await full_round(env, cursor)
    assert events[instance].start == later and events[instance].title == "Review"


async def test_a_moved_window_asks_for_a_full_round(env: GoogleEnv) -> None:
    """Sync tokens follow changes, not time: when the mirrored window moves a day, events
    it newly covers can only arrive with a full round."""
    _, _, cursor, _ = await full_round(env)
    today = window()
    await env.provider.sync_events(env.calendar_id, cursor, today)  # same day: fine
    tomorrow = Window(today.start + timedelta(days=1), today.end + timedelta(days=1))
    with pytest.raises(CursorExpired):
        await env.provider.sync_events(env.calendar_id, cursor, tomorrow)
