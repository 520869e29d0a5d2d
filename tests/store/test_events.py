"""Calendars and the event mirror, on both backends."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError

from proxy.core.model import (
    Attendee,
    Calendar,
    EventStatus,
    Recurrence,
    Sensitivity,
)
from proxy.store.sql import SqlStore
from tests.store.helpers import T0, calendar_of, event, mirrored, raw, user_with_integration

H = timedelta(hours=1)
NY = ZoneInfo("America/New_York")


async def test_upsert_calendars_keeps_synced_flags(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    first = await store.upsert_calendars(integration.id, [
        Calendar("main", "Calendar", is_primary=True), Calendar("team", "Team"),
        Calendar("hol", "Holidays", can_write=False)], synced_by_default=False)
    assert [(c.provider_id, c.synced) for c in first] == [
        ("main", True), ("team", False), ("hol", False)]
    await store.set_calendar_synced(first[1].id, True)
    again = await store.upsert_calendars(integration.id, [
        Calendar("team", "Team renamed", time_zone="Europe/Berlin"),
        Calendar("main", "Calendar", is_primary=True), Calendar("new", "New")],
        synced_by_default=True)
    assert [(c.provider_id, c.name, c.synced) for c in again] == [
        ("team", "Team renamed", True), ("main", "Calendar", True), ("new", "New", True)]
    assert again[0].id == first[1].id and again[0].time_zone == "Europe/Berlin"
    assert await store.get_calendar(first[2].id) is None  # gone upstream
    listed = await store.list_calendars([integration.id])
    assert [c.provider_id for c in listed] == ["main", "new", "team"]


async def test_full_and_incremental_rounds(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    a, b, c = (mirrored(cal, event(p, T0 + i * H, T0 + i * H + H, title=p))
               for i, p in enumerate("abc"))
    await store.apply_event_sync(cal.id, [a, b, c], [], "cursor-1", T0, full=True)
    got = await store.events_in_range([cal.id], T0, T0 + 10 * H)
    assert got == [a, b, c]
    record = await store.get_calendar(cal.id)
    assert record is not None and (record.cursor, record.synced_at) == ("cursor-1", T0)
    b2 = mirrored(cal, event("b", T0 + 5 * H, T0 + 6 * H, title="moved"))
    d = mirrored(cal, event("d", T0 + 7 * H, T0 + 8 * H))
    await store.apply_event_sync(cal.id, [b2, d], ["a", "unknown"], "cursor-2", T0 + H,
                                 full=False)
    assert await store.events_in_range([cal.id], T0, T0 + 10 * H) == [c, b2, d]
    await store.apply_event_sync(cal.id, [d], [], "cursor-3", T0 + 2 * H, full=True)
    assert await store.events_in_range([cal.id], T0, T0 + 10 * H) == [d]
    assert await store.get_event(d.id) == d and await store.get_event(a.id) is None
    record = await store.get_calendar(cal.id)
    assert record is not None and (record.cursor, record.synced_at) == ("cursor-3", T0 + 2 * H)


async def test_range_returns_masters_and_exceptions_always(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    far = T0 - timedelta(days=400)
    master = mirrored(cal, event("m", far, far + H, rrule=("FREQ=WEEKLY",)))
    series = master.id
    moved = mirrored(cal, event("x", far + 2 * H, far + 3 * H, recurrence=Recurrence(
        "m", far, is_exception=True)), series)
    gone = mirrored(cal, event("y", far, far + H, status=EventStatus.CANCELLED,
                               recurrence=Recurrence("m", far)), series)
    plain_occurrence = mirrored(cal, event("o", far, far + H, recurrence=Recurrence("m", far)),
                                series)
    old = mirrored(cal, event("old", far, far + H))
    inside = mirrored(cal, event("in", T0, T0 + H))
    zero = mirrored(cal, event("zero", T0, T0))
    before = mirrored(cal, event("before", T0 - H, T0))  # ends as the window starts
    after = mirrored(cal, event("after", T0 + H, T0 + 2 * H))  # starts as the window ends
    everything = [master, moved, gone, plain_occurrence, old, inside, zero, before, after]
    await store.apply_event_sync(cal.id, everything, [], None, T0, full=True)
    got = await store.events_in_range([cal.id], T0, T0 + H)
    assert {e.event.provider_id for e in got} == {"m", "x", "y", "in", "zero"}
    assert next(e for e in got if e.event.provider_id == "x").series_public_id == series
    kinds = dict(await raw(store, "SELECT provider_id, kind FROM events"))
    assert kinds == {"m": "master", "x": "exception", "y": "cancelled", "o": "occurrence",
                     "old": "single", "in": "single", "zero": "single", "before": "single",
                     "after": "single"}


async def test_all_day_bounds_use_the_event_zone(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    day = mirrored(cal, event("day", date(2026, 11, 24), date(2026, 11, 25), all_day=True,
                              time_zone="America/New_York"))
    await store.apply_event_sync(cal.id, [day], [], None, T0, full=True)
    ((start, end),) = await raw(store, "SELECT start_utc, end_utc FROM events")
    assert str(start).startswith("2026-11-24 05:00:00") and str(end).startswith("2026-11-25 05")
    utc_morning = datetime(2026, 11, 24, 4, 0, tzinfo=ZoneInfo("UTC"))
    assert await store.events_in_range([cal.id], utc_morning, utc_morning + H) == []
    assert await store.events_in_range([cal.id], utc_morning, utc_morning + 2 * H) == [day]
    (back,) = await store.events_in_range([cal.id], utc_morning, utc_morning + 2 * H)
    assert type(back.event.start) is date and back.event.all_day


async def test_event_round_trips_exactly(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    start = datetime(2026, 11, 1, 1, 30, tzinfo=NY, fold=1)  # the second 01:30 (DST ends)
    ev = mirrored(cal, event("e", start, start + H, time_zone="America/New_York",
                             sensitivity=Sensitivity.CONFIDENTIAL, title="Ünïcode ✓ \"q\"",
                             attendees=(Attendee("A", "a@x"),), categories=("x", "y")))
    await store.put_event(cal.id, ev)
    got = await store.get_event(ev.id)
    assert got == ev and repr(got) == repr(ev)
    assert got is not None and got.event.start.tzinfo is NY  # type: ignore[union-attr]
    await store.delete_event(cal.id, "e")
    assert await store.get_event(ev.id) is None


async def test_failed_encoding_leaves_the_mirror_intact(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    good = mirrored(cal, event("good", T0, T0 + H))
    await store.apply_event_sync(cal.id, [good], [], "cursor-1", T0, full=True)
    bad = mirrored(cal, event("bad", T0, T0 + H, categories=(object(),)))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await store.apply_event_sync(cal.id, [bad], [], "cursor-2", T0 + H, full=True)
    await _assert_unchanged(store, cal.id, good)


async def test_failure_mid_transaction_rolls_back(store: SqlStore) -> None:
    """The round deletes first, then its insert fails (two events claim one public id):
    the deletions and the cursor must be rolled back with it."""
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    good = mirrored(cal, event("good", T0, T0 + H))
    await store.apply_event_sync(cal.id, [good], [], "cursor-1", T0, full=True)
    one = mirrored(cal, event("one", T0, T0 + H))
    clash = mirrored(cal, event("two", T0, T0 + H)).__class__(
        id=one.id, calendar_id=cal.id, integration_id=cal.integration_id,
        event=event("two", T0, T0 + H))
    for full in (True, False):
        with pytest.raises(IntegrityError):
            await store.apply_event_sync(cal.id, [one, clash], ["good"], "cursor-2", T0 + H,
                                         full=full)
        await _assert_unchanged(store, cal.id, good)


async def _assert_unchanged(store: SqlStore, calendar_id: str, only: object) -> None:
    assert await store.events_in_range([calendar_id], T0 - H, T0 + 2 * H) == [only]
    record = await store.get_calendar(calendar_id)
    assert record is not None and (record.cursor, record.synced_at) == ("cursor-1", T0)


async def test_unsyncing_drops_events_and_cursor(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    await store.apply_event_sync(cal.id, [mirrored(cal, event("e", T0, T0 + H))], [], "c",
                                 T0, full=True)
    off = await store.set_calendar_synced(cal.id, False)
    assert (off.synced, off.cursor, off.synced_at) == (False, None, None)
    assert await raw(store, "SELECT * FROM events") == []
    assert (await store.set_calendar_synced(cal.id, True)).synced


async def test_duplicate_provider_ids_in_one_round_keep_the_last(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    first = mirrored(cal, event("e", T0, T0 + H, title="first"))
    last = mirrored(cal, event("e", T0, T0 + H, title="last"))
    await store.apply_event_sync(cal.id, [first, last], [], None, T0, full=False)
    assert await store.events_in_range([cal.id], T0, T0 + H) == [last]


async def test_bulk_rounds_delete_in_chunks(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    many = [mirrored(cal, event(f"e{i}", T0 + i * H, T0 + i * H + H, title=f"Meeting {i}"))
            for i in range(2000)]
    await store.apply_event_sync(cal.id, many, [], "c", T0, full=True)
    await store.apply_event_sync(cal.id, many[:1000], [m.event.provider_id for m in many[1500:]],
                                 "c2", T0, full=False)
    ((count,),) = await raw(store, "SELECT COUNT(*) FROM events")
    assert count == 1500



async def test_calendar_version_grows_only_when_the_mirror_changes(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    calendar = await calendar_of(store, integration)

    async def version() -> int:
        found = await store.get_calendar(calendar.id)
        assert found is not None
        return found.version

    start = await version()
    item = mirrored(calendar, event("e1", T0, T0 + timedelta(hours=1)))
    await store.apply_event_sync(calendar.id, [item], [], "c1", T0, full=True)
    after_sync = await version()
    assert after_sync > start
    await store.apply_event_sync(calendar.id, [], [], "c2", T0, full=False)  # nothing new
    assert await version() == after_sync
    await store.put_event(calendar.id, item)
    assert await version() > after_sync
    before_delete = await version()
    await store.delete_event(calendar.id, "e1")
    assert await version() > before_delete
