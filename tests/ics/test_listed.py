"""Series whose provider lists every occurrence (Graph, EWS) become one VEVENT with RRULE.

The property that expanding the feed yields ``/events`` holds for them too (the
strategies generate listed series for every ICS property test); these are the shapes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from hypothesis import given, settings
from icalendar import Calendar

from proxy.core.mirror import MirroredEvent
from proxy.core.model import Event, EventStatus, Recurrence, Sensitivity, Service, ShowAs
from proxy.redaction import Detail
from tests.ics.helpers import LEVELS, render
from tests.ics.strategies import LISTED_WINDOW, listed_series, mirrored

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 5, 9, tzinfo=BERLIN)  # a Thursday; DST starts on Mar 29
WEEK = timedelta(weeks=1)
MASTER = Event("m", "c", Service.GRAPH, T0, T0 + timedelta(hours=1), time_zone="Europe/Berlin",
               title="Weekly sync", location="Room 1", rrule=("FREQ=WEEKLY;COUNT=6",),
               occurrences_listed=True)


def _wall(k: int, base: datetime = T0) -> datetime:
    return (base.replace(tzinfo=None) + k * WEEK).replace(tzinfo=BERLIN)


def _series(master: Event = MASTER, moved: int | None = 2, deleted: int | None = 4,
            changed: int | None = None) -> list[MirroredEvent]:
    master_item = mirrored(master)
    items = [master_item]
    plain = replace(master, rrule=(), occurrences_listed=False)
    assert isinstance(master.start, datetime)
    for k in range(6):
        if k == deleted:
            continue
        slot = _wall(k, master.start)
        start = slot + (timedelta(days=1, hours=4) if k == moved else timedelta(0))
        occ = replace(plain, provider_id=f"o{k}", start=start, end=start + timedelta(hours=1),
                      recurrence=Recurrence("m", slot, k in (moved, changed)),
                      title="Changed" if k == changed else plain.title)
        items.append(mirrored(occ, master_item.id))
    return items


def _events(feed: bytes) -> list[Calendar]:
    return list(Calendar.from_ical(feed).walk("VEVENT"))


def _starts(feed: bytes) -> list[datetime]:
    found = recurring_ical_events.of(Calendar.from_ical(feed)).between(*LISTED_WINDOW)
    return sorted(e.decoded("DTSTART") for e in found)


def test_moved_and_deleted_occurrences_become_one_override_and_one_exdate() -> None:
    for detail, include_private in LEVELS:
        feed = render(_series(), detail, include_private)
        events = _events(feed)
        assert len(events) == 2
        top, override = sorted(events, key=lambda e: "RECURRENCE-ID" in e)
        assert str(top["RRULE"].to_ical(), "ascii") == "FREQ=WEEKLY;COUNT=6"
        assert [d.dt for d in top["EXDATE"].dts] == [_wall(4)]
        assert override.decoded("RECURRENCE-ID") == _wall(2)
        assert str(override["UID"]) == str(top["UID"])
        expected = [_wall(k) for k in (0, 1, 3, 5)] + [_wall(2) + timedelta(days=1, hours=4)]
        assert _starts(feed) == sorted(expected)


def test_a_changed_occurrence_is_an_override_even_at_its_own_time() -> None:
    feed = render(_series(moved=None, deleted=None, changed=3), Detail.FULL)
    events = _events(feed)
    assert len(events) == 2 and "EXDATE" not in events[0]
    override = next(e for e in events if "RECURRENCE-ID" in e)
    assert str(override["SUMMARY"]) == "Changed"
    # at busy detail the change does not show: the rule reproduces the occurrence
    assert len(_events(render(_series(moved=None, deleted=None, changed=3), Detail.BUSY))) == 1


def test_a_rule_that_does_not_reproduce_the_occurrences_falls_back_to_standalone() -> None:
    wrong = replace(MASTER, rrule=("FREQ=WEEKLY;INTERVAL=2;COUNT=3",))
    feed = render(_series(wrong), Detail.FULL)
    events = _events(feed)
    assert len(events) == 5
    assert not any("RRULE" in e or "RECURRENCE-ID" in e for e in events)
    assert len({str(e["UID"]) for e in events}) == 5


def test_without_a_listed_window_the_occurrences_stand_alone() -> None:
    from proxy.ics import redact_for_feed, render_feed
    visible, withheld = redact_for_feed(_series(), Detail.FULL, False)
    feed = render_feed(visible, name="x", detail=Detail.FULL,
                       generated_at=datetime(2026, 1, 1, tzinfo=BERLIN), withheld=withheld)
    assert len(_events(feed)) == 5 and not any("RRULE" in e for e in _events(feed))


def test_cancelled_and_free_occurrences_become_exdates_where_the_feed_omits_them() -> None:
    items = _series(moved=None, deleted=None)
    cancelled = replace(items[2].event, status=EventStatus.CANCELLED)
    free = replace(items[4].event, show_as=ShowAs.FREE)
    items[2], items[4] = replace(items[2], event=cancelled), replace(items[4], event=free)
    busy = _events(render(items, Detail.BUSY))
    assert len(busy) == 1 and [d.dt for d in busy[0]["EXDATE"].dts] == [_wall(1), _wall(3)]
    full = _events(render(items, Detail.FULL))
    assert [d.dt for d in full[0]["EXDATE"].dts] == [_wall(1)]
    assert len(full) == 2  # the free occurrence differs from its busy master: an override


def test_a_private_master_leaks_nothing_below_full_private() -> None:
    secret = replace(MASTER, sensitivity=Sensitivity.PRIVATE, title="SECRETMARK",
                     location="SECRETMARK", description="SECRETMARK")
    items = _series(secret, changed=3)
    for detail, include_private in LEVELS[:3]:
        feed = render(items, detail, include_private)
        assert b"SECRETMARK" not in feed.replace(b"\r\n ", b"")
        assert len(_events(feed)) == 2  # master + the moved one; the changed title is hidden
    assert b"SECRETMARK" in render(items, Detail.FULL, True)


def test_occurrences_outside_the_window_are_left_to_the_rule() -> None:
    start = datetime(2026, 6, 18, 9, tzinfo=BERLIN)  # 6 weeks, the last 4 after July 1
    master = replace(MASTER, start=start, end=start + timedelta(hours=1))
    items = [i for i in _series(master, moved=None, deleted=None)
             if i.event.rrule or i.event.start < LISTED_WINDOW[1]]
    events = _events(render(items, Detail.FULL))
    assert len(events) == 1 and "EXDATE" not in events[0]


@settings(max_examples=80, deadline=None)
@given(listed_series(faithful=True))
def test_a_reproducing_rule_gives_one_series_and_no_standalone_occurrence(
        items: list[MirroredEvent]) -> None:
    if items[0].event.show_as is ShowAs.FREE or len(items) == 1:
        return  # not published at all / nothing listed in the window
    events = _events(render(items, Detail.FULL, True))
    tops = [e for e in events if "RECURRENCE-ID" not in e]
    assert len(tops) == 1 and "RRULE" in tops[0]


def test_a_master_without_listed_occurrences_publishes_nothing() -> None:
    """A series deleted upstream leaves its master until the next full round; the rule
    alone must not bring its occurrences back."""
    assert _events(render([mirrored(MASTER)], Detail.FULL)) == []
