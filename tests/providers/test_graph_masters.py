"""Graph series masters: fetched once per round, converted, delivered as listed masters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from proxy.core.model import Event
from proxy.core.recurrence import series_starts
from proxy.core.timeutil import to_utc
from proxy.providers.graph_recurrence import graph_rrule

from . import test_graph
from .contract import window
from .test_graph import EMAIL, GraphHarness

harness = test_graph.harness


async def _round(h: GraphHarness, cursor: str | None) -> tuple[list[Event], set[str], str]:
    changed: list[Event] = []
    removed: set[str] = set()
    while True:
        page = await h.provider.sync_events(h.calendar_id, cursor, window())
        changed += page.changed
        removed |= set(page.removed)
        cursor = page.next_cursor
        if page.done:
            assert cursor is not None and '"m"' not in cursor
            return changed, removed, cursor


def _master_fetches(h: GraphHarness) -> list[str]:
    return [p for m, p in h.cloud.graph.requests if "/events/" in p and "select" in p]


def _day(days: int, hour: int, tz: str) -> datetime:
    zone = ZoneInfo(tz)
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


async def test_masters_are_fetched_once_per_round_and_refetched_on_change(
        harness: GraphHarness) -> None:
    g = harness.cloud.graph
    first = _day(1, 9, "Europe/Berlin")
    master = g.add_series(EMAIL, "Daily standup", first, first + timedelta(minutes=15),
                          "W. Europe Standard Time", {"type": "daily"}, occurrences=30)
    g.add_event(EMAIL, "Single", first, first + timedelta(hours=1), "UTC")
    harness.provider.page_size = 7  # the series spans five pages
    changed, _, cursor = await _round(harness, None)
    masters = [e for e in changed if e.occurrences_listed]
    assert [m.provider_id for m in masters] == [master]
    assert masters[0].rrule == ("FREQ=DAILY;COUNT=30",) and masters[0].start == first
    assert masters[0].time_zone == "Europe/Berlin" and masters[0].recurrence is None
    assert len(_master_fetches(harness)) == 1
    assert len([e for e in changed if e.recurrence]) == 30

    before = len(g.requests)
    changed, removed, cursor = await _round(harness, cursor)
    assert (changed, removed, len(g.requests) - before) == ([], set(), 1)

    slot = first + timedelta(days=3)
    g.move_occurrence(EMAIL, master, slot, slot + timedelta(hours=2),
                      slot + timedelta(hours=2, minutes=15))
    before = len(g.requests)
    changed, _, cursor = await _round(harness, cursor)
    assert len(g.requests) - before == 2  # the delta page, then the master
    assert {e.provider_id for e in changed if e.occurrences_listed} == {master}
    gone = g.cancel_occurrence(EMAIL, master, first + timedelta(days=5))
    changed, removed, _ = await _round(harness, cursor)
    assert removed == {gone} and not changed  # a deleted occurrence needs no master


PATTERNS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("Pacific Standard Time", {"type": "relativeMonthly", "daysOfWeek": ["thursday"],
                               "index": "second"}, {"occurrences": 8}),
    ("Tokyo Standard Time", {"type": "absoluteMonthly", "dayOfMonth": 31}, {"occurrences": 9}),
    ("W. Europe Standard Time", {"type": "weekly", "interval": 2,
                                 "daysOfWeek": ["monday", "wednesday", "sunday"],
                                 "firstDayOfWeek": "monday"}, {"occurrences": 20}),
    ("AUS Eastern Standard Time", {"type": "daily", "interval": 3},
     {"end_date": date.today() + timedelta(days=40)}),
    ("UTC", {"type": "relativeMonthly", "daysOfWeek": ["monday", "tuesday", "wednesday",
                                                        "thursday", "friday"],
             "index": "last"}, {"occurrences": 6}),
    ("Eastern Standard Time", {"type": "absoluteYearly", "dayOfMonth": 29, "month": 2},
     {"occurrences": 2}),
]


@pytest.mark.parametrize(("zone", "pattern", "extent"), PATTERNS)
async def test_the_converted_rule_generates_exactly_graphs_occurrences(
        harness: GraphHarness, zone: str, pattern: dict[str, Any],
        extent: dict[str, Any]) -> None:
    g = harness.cloud.graph
    probe = g.add_series(EMAIL, "probe", datetime.now(UTC), datetime.now(UTC), zone,
                         pattern, **extent)
    # the series starts on its first occurrence (Graph's seriesMaster start)
    stored = g.mailbox(EMAIL).events.pop(probe)
    now = datetime.now(UTC)
    first = g.expand(stored, now, now + timedelta(days=800))[0].start
    assert isinstance(first, datetime)
    series = g.add_series(EMAIL, "Series", first, first + timedelta(minutes=45), zone,
                          pattern, **extent)
    changed, _, _ = await _round(harness, None)
    [master] = [e for e in changed if e.occurrences_listed]
    originals = sorted(to_utc(e.recurrence.original_start) for e in changed
                       if e.recurrence and e.recurrence.series_id == series
                       and e.recurrence.original_start)
    assert originals, "the window holds occurrences"
    span = window()
    generated = series_starts(master, span.start - timedelta(minutes=45), span.end)
    assert generated is not None
    assert sorted(to_utc(s) for s in generated if to_utc(s) < span.end) == [
        o for o in originals if o < span.end]


def test_documented_shapes_and_unrepresentable_ones() -> None:
    relative = {"pattern": {"type": "relativeMonthly", "interval": 1, "month": 0,
                            "dayOfMonth": 0, "daysOfWeek": ["thursday", "friday"],
                            "firstDayOfWeek": "sunday", "index": "second"},
                "range": {"type": "endDate", "startDate": "2026-01-08",
                          "endDate": "2026-12-31", "recurrenceTimeZone": "Pacific Standard Time",
                          "numberOfOccurrences": 0}}
    assert graph_rrule(relative, all_day=False, time_zone="UTC") == (
        "FREQ=MONTHLY;BYDAY=TH,FR;BYSETPOS=2;UNTIL=20270101T075959Z")
    for broken in (None, {}, {"pattern": {"type": "hourly"}, "range": relative["range"]},
                   {"pattern": {**relative["pattern"], "daysOfWeek": ["funday"]},
                    "range": relative["range"]},
                   {"pattern": relative["pattern"], "range": {"type": "endDate",
                                                              "startDate": "2026-01-08"}}):
        assert graph_rrule(broken, all_day=False, time_zone="UTC") is None
