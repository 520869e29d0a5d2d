"""Feed-level contracts: header, determinism, UIDs, series shapes, busy detail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from icalendar import Calendar

from proxy.core.mirror import MirroredEvent
from proxy.core.model import Event, Recurrence, Service, ShowAs
from proxy.ics import render_feed
from proxy.redaction import Detail
from tests.ics.helpers import LEVELS, redacted, render
from tests.ics.strategies import calendars, mirrored

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _event(pid: str, **fields: object) -> Event:
    return Event(pid, "c", Service.GRAPH, fields.pop("start", T0),  # type: ignore[arg-type]
                 fields.pop("end", T0 + timedelta(hours=1)), **fields)  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(calendars())
def test_deterministic_whatever_the_input_order(items: list[MirroredEvent]) -> None:
    for detail, include_private in LEVELS:
        assert render(items, detail, include_private) == render(
            list(reversed(items)), detail, include_private)


@settings(max_examples=30, deadline=None)
@given(calendars())
def test_uids_identify_one_event_or_one_series(items: list[MirroredEvent]) -> None:
    for detail, include_private in LEVELS:
        events = Calendar.from_ical(render(items, detail, include_private)).walk("VEVENT")
        tops = [str(e["UID"]) for e in events if "RECURRENCE-ID" not in e]
        assert len(tops) == len(set(tops))
        for override in (e for e in events if "RECURRENCE-ID" in e):
            assert str(override["UID"]) in tops


def test_calendar_header_and_dtstamps() -> None:
    changed = datetime(2026, 2, 1, 12, tzinfo=UTC)
    items = [mirrored(_event("a", title="A", updated=changed)), mirrored(_event("b"))]
    visible, _ = redacted(items, Detail.FULL, False)
    feed = render_feed(visible, name="Exec; cal", detail=Detail.FULL, generated_at=T0,
                       time_zone="Europe/Berlin", refresh=timedelta(minutes=90))
    calendar = Calendar.from_ical(feed)
    assert b"X-WR-CALNAME:Exec\\; cal\r\n" in feed  # TEXT, escaped like NAME (RFC 7986)
    assert str(calendar["METHOD"]) == "PUBLISH" and str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Berlin"
    assert b"X-PUBLISHED-TTL:PT90M\r\n" in feed
    stamps = {str(e["SUMMARY"]): e.decoded("DTSTAMP") for e in calendar.walk("VEVENT")}
    assert stamps == {"A": changed, "": T0}


def test_busy_leaves_free_out_and_titles_by_show_as() -> None:
    master = mirrored(_event("m", title="Standup", rrule=("FREQ=DAILY;COUNT=3",)))
    free_exception = mirrored(_event(
        "m1", title="Off", show_as=ShowAs.FREE, start=T0 + timedelta(days=1, hours=2),
        end=T0 + timedelta(days=1, hours=3),
        recurrence=Recurrence("m", T0 + timedelta(days=1), True)), master.id)
    ooo = mirrored(_event("o", title="Trip", show_as=ShowAs.OUT_OF_OFFICE))
    free = mirrored(_event("f", title="Lunch", show_as=ShowAs.FREE))
    feed = render([master, free_exception, ooo, free], Detail.BUSY)
    events = Calendar.from_ical(feed).walk("VEVENT")
    assert sorted(str(e["SUMMARY"]) for e in events) == ["Busy", "Out of office"]
    series = next(e for e in events if "RRULE" in e)
    assert [d.dt for d in series["EXDATE"].dts] == [T0 + timedelta(days=1)]


def test_occurrences_without_master_stand_alone_with_derived_uids() -> None:
    occurrences = [mirrored(_event(f"o{k}", title="Weekly", ical_uid="same@x",
                                   start=T0 + timedelta(weeks=k),
                                   end=T0 + timedelta(weeks=k, hours=1),
                                   recurrence=Recurrence("gone", T0 + timedelta(weeks=k))),
                            "gone-public") for k in range(3)]
    events = Calendar.from_ical(render(occurrences, Detail.FULL)).walk("VEVENT")
    assert len({str(e["UID"]) for e in events}) == 3
    assert all("RECURRENCE-ID" not in e and "RRULE" not in e for e in events)
