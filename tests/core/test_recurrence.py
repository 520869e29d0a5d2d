"""Series expansion: wall-clock DST, exceptions, cancellations, both provider shapes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from proxy.core.mirror import MirroredEvent
from proxy.core.model import Event, EventStatus, Recurrence, Service
from proxy.core.recurrence import expand

NY = ZoneInfo("America/New_York")
W0, W1 = datetime(2026, 10, 26, tzinfo=UTC), datetime(2026, 11, 17, tzinfo=UTC)


def item(event: Event, public: str) -> MirroredEvent:
    series = event.recurrence.series_id if event.recurrence else None
    return MirroredEvent(public, "cal", "int", event, series_public_id=series and "m")


MASTER = Event("m", "cal", Service.GOOGLE, datetime(2026, 10, 26, 9, tzinfo=NY),
               datetime(2026, 10, 26, 10, tzinfo=NY), time_zone="America/New_York",
               title="Weekly", rrule=("FREQ=WEEKLY;COUNT=4",),
               exdates=(datetime(2026, 11, 16, 9, tzinfo=NY),))


def test_weekly_series_keeps_wall_clock_across_dst() -> None:
    got = expand([item(MASTER, "m")], W0, W1)
    assert [o.event.start.hour for o in got] == [9, 9, 9]  # 4 minus the EXDATE
    assert [o.event.start.utcoffset().total_seconds() / 3600 for o in got] == [-4, -5, -5]
    assert all(o.series_public_id == "m" and o.event.recurrence for o in got)
    assert len({o.id for o in got}) == 3


def test_exception_replaces_and_cancellation_removes_occurrences() -> None:
    moved = replace(MASTER, provider_id="x1", rrule=(), exdates=(), title="Moved",
                    start=datetime(2026, 11, 3, 15, tzinfo=NY),
                    end=datetime(2026, 11, 3, 16, tzinfo=NY),
                    recurrence=Recurrence("m", datetime(2026, 11, 2, 9, tzinfo=NY), True))
    cancelled = replace(MASTER, provider_id="x2", rrule=(), exdates=(),
                        status=EventStatus.CANCELLED,
                        start=datetime(2026, 11, 9, 9, tzinfo=NY),
                        end=datetime(2026, 11, 9, 10, tzinfo=NY),
                        recurrence=Recurrence("m", datetime(2026, 11, 9, 9, tzinfo=NY)))
    got = expand([item(MASTER, "m"), item(moved, "x1"), item(cancelled, "x2")], W0, W1)
    assert [(o.event.title, o.event.start.day) for o in got] == [("Weekly", 26), ("Moved", 3)]


def test_expanded_occurrences_pass_through_and_all_day_is_exclusive() -> None:
    occurrence = Event("o1", "cal", Service.GRAPH, date(2026, 11, 5), date(2026, 11, 6),
                       all_day=True, recurrence=Recurrence("s", date(2026, 11, 5)))
    got = expand([item(occurrence, "o1")], datetime(2026, 11, 6, tzinfo=UTC), W1)
    assert got == []
    got = expand([item(occurrence, "o1")], datetime(2026, 11, 5, 12, tzinfo=UTC), W1)
    assert [o.id for o in got] == ["o1"]


def test_until_in_utc_and_broken_rules_do_not_crash() -> None:
    until = replace(MASTER, rrule=("FREQ=DAILY;UNTIL=20261028T130000Z",), exdates=())
    assert len(expand([item(until, "m")], W0, W1)) == 3
    broken = replace(MASTER, rrule=("FREQ=SOMETIMES",), exdates=())
    [first] = expand([item(broken, "m")], W0, W1)
    assert first.event.start == MASTER.start


def test_cancelled_series_has_no_occurrences() -> None:
    cancelled = replace(MASTER, status=EventStatus.CANCELLED)
    assert expand([item(cancelled, "m")], W0, W1) == []


def test_a_master_whose_occurrences_are_listed_is_never_expanded() -> None:
    listed = replace(MASTER, occurrences_listed=True)
    assert expand([item(listed, "m")], W0, W1) == []
    occurrence = replace(MASTER, provider_id="o1", rrule=(), exdates=(),
                         recurrence=Recurrence("m", MASTER.start))
    got = expand([item(listed, "m"), item(occurrence, "o1")], W0, W1)
    assert [o.id for o in got] == ["o1"]  # the listed occurrence, once
