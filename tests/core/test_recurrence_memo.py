"""Expansion with its memos (series starts generated once per rule, occurrences reused
across windows) gives exactly what expanding each window afresh with dateutil gives, in
any order of windows, and a changed series never reuses what its old version made."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from dateutil.rrule import rruleset
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core import recurrence
from proxy.core.mirror import MirroredEvent, occurrence_public_id
from proxy.core.model import Event, EventStatus, Recurrence, Service
from proxy.core.recurrence import expand, expand_keyed
from proxy.core.timeutil import to_utc

BASE = datetime(2026, 3, 2, 8, tzinfo=UTC)
RULES = ["FREQ=DAILY", "FREQ=DAILY;COUNT=30", "FREQ=WEEKLY;BYDAY=MO,WE,FR",
         "FREQ=DAILY;UNTIL=20260420T000000Z", "FREQ=HOURLY;INTERVAL=7", "FREQ=MONTHLY"]


@st.composite
def masters(draw: st.DrawFn, n: int) -> MirroredEvent:
    all_day = draw(st.booleans())
    start: datetime | date = BASE + timedelta(hours=draw(st.integers(-2000, 500)))
    zone = draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]))
    length = timedelta(minutes=draw(st.sampled_from([0, 30, 60 * 25])))
    end: datetime | date = start + length
    if all_day:
        start, end = start.date(), start.date() + timedelta(days=1)
    exdates = tuple(draw(st.lists(st.sampled_from(
        [start + timedelta(days=d) for d in (1, 2, 7, 14)]), max_size=2, unique=True)))
    event = Event(f"s{n}", "primary", Service.GOOGLE, start, end, time_zone=zone,
                  all_day=all_day, title=f"Series {n}", rrule=(draw(st.sampled_from(RULES)),),
                  exdates=exdates)
    return MirroredEvent(f"m{n}", "cal", "int", event)


def reference(items: list[MirroredEvent], start: datetime, end: datetime,
              ) -> list[tuple[str, object]]:
    """Each master through dateutil's ``between`` with no memo, as expansion was."""
    found = []
    for master in items:
        event = master.event
        duration = (recurrence._as_datetime(event.end, event)
                    - recurrence._as_datetime(event.start, event))
        rules: rruleset = recurrence._parsed(recurrence._shape(event))
        lower = recurrence._bound(start - duration, event)
        for when in itertools.islice(rules.between(lower, recurrence._bound(end, event),
                                                   inc=True), recurrence.MAX_OCCURRENCES):
            occ_start = when.date() if event.all_day else when
            occ_end = (when + duration).date() if event.all_day else when + duration
            s, e = to_utc(occ_start, event.time_zone), to_utc(occ_end, event.time_zone)
            if (start <= s < end) if s == e else (e > start and s < end):
                found.append((to_utc(occ_start, event.time_zone),
                              occurrence_public_id(master.id, occ_start), occ_start))
    found.sort(key=lambda t: (t[0], t[1]))
    return [(i, s) for _, i, s in found]


def shown(found: list[MirroredEvent]) -> list[tuple[str, object]]:
    return [(o.id, o.event.start) for o in found]


windows = st.lists(st.tuples(st.integers(-100, 120), st.integers(1, 24 * 40)),
                   min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(series=st.integers(1, 4).flatmap(lambda n: st.tuples(*(masters(i) for i in range(n)))),
       asked=windows)
def test_memoized_expansion_matches_dateutil(series: tuple[MirroredEvent, ...],
                                            asked: list[tuple[int, int]]) -> None:
    items = list(series)
    for day, hours in asked:
        start = BASE + timedelta(days=day)
        end = start + timedelta(hours=hours)
        keyed = expand_keyed(items, start, end)
        assert [k for k, _ in keyed] == [(to_utc(o.event.start, o.event.time_zone), o.id)
                                        for _, o in keyed]
        assert shown([o for _, o in keyed]) == reference(items, start, end)


def test_overlapping_windows_reuse_occurrences_and_a_changed_series_does_not() -> None:
    event = Event("s", "primary", Service.GOOGLE, BASE, BASE + timedelta(hours=1),
                  title="Standup", rrule=("FREQ=DAILY",))
    master = MirroredEvent("m", "cal", "int", event)
    first = expand([master], BASE, BASE + timedelta(days=7))
    again = expand([master], BASE + timedelta(days=1), BASE + timedelta(days=8))
    assert all(a is b for a, b in zip(first[1:], again, strict=False))  # the same objects
    renamed = replace(master, event=replace(event, title="Daily"))
    changed = expand([renamed], BASE, BASE + timedelta(days=7))
    assert [o.event.title for o in changed] == ["Daily"] * 7
    assert [o.id for o in changed] == [o.id for o in first]
    moved = Event("x", "primary", Service.GOOGLE, BASE + timedelta(days=2, hours=3),
                  BASE + timedelta(days=2, hours=4), title="Moved",
                  recurrence=Recurrence("s", BASE + timedelta(days=2), True))
    cancelled = Event("y", "primary", Service.GOOGLE, BASE + timedelta(days=3),
                      BASE + timedelta(days=3, hours=1), status=EventStatus.CANCELLED,
                      recurrence=Recurrence("s", BASE + timedelta(days=3)))
    got = expand([renamed, MirroredEvent("x1", "cal", "int", moved),
                  MirroredEvent("y1", "cal", "int", cancelled)], BASE, BASE + timedelta(days=7))
    assert [o.event.title for o in got] == ["Daily", "Daily", "Moved"] + ["Daily"] * 3


def test_a_rule_too_long_to_memoize_is_asked_of_dateutil() -> None:
    event = Event("h", "primary", Service.GOOGLE, BASE - timedelta(days=3000),
                  BASE - timedelta(days=3000) + timedelta(minutes=5), rrule=("FREQ=HOURLY",))
    master = MirroredEvent("mh", "cal", "int", event)
    got = expand([master], BASE, BASE + timedelta(days=1))  # 72,000 starts before BASE
    assert len(got) == 24 and got[0].event.start == BASE
