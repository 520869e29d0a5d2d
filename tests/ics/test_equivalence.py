"""The fast writer against the icalendar yardstick, and a second parser (vobject)."""

from __future__ import annotations

import vobject
from hypothesis import assume, given, settings
from icalendar import Calendar

from proxy.core.mirror import MirroredEvent
from proxy.ics.reference import reference_feed
from proxy.ics.writer import clean_text
from tests.ics.helpers import LEVELS, components, render
from tests.ics.strategies import calendars


def _texts(item: MirroredEvent) -> list[str]:
    ev = item.event
    names = [p.name or "" for p in (ev.organizer, *ev.attendees) if p is not None]
    return [ev.title, ev.description, ev.location, ev.ical_uid or "", *ev.categories, *names]


@settings(max_examples=40, deadline=None)
@given(calendars())
def test_same_components_as_icalendar_at_every_level(items: list[MirroredEvent]) -> None:
    # icalendar's writer turns a literal "\N" into a line break (a bug in the yardstick)
    assume(all("\\N" not in text for item in items for text in _texts(item)))
    for detail, include_private in LEVELS:
        ours = render(items, detail, include_private)
        assert ours.endswith(b"\r\n")
        assert all(len(line) <= 75 for line in ours.split(b"\r\n"))
        theirs = render(items, detail, include_private, reference_feed)
        assert components(ours) == components(theirs)


@settings(max_examples=25, deadline=None)
@given(calendars())
def test_vobject_reads_the_same_events(items: list[MirroredEvent]) -> None:
    for detail, include_private in LEVELS:
        data = render(items, detail, include_private)
        expected = Calendar.from_ical(data).walk("VEVENT")
        parsed = vobject.readOne(data.decode())
        events = parsed.contents.get("vevent", [])
        assert len(events) == len(expected)
        for ours, theirs in zip(events, expected, strict=True):
            assert ours.uid.value == str(theirs["UID"])
            assert ours.summary.value == str(theirs["SUMMARY"])
            for name in ("description", "location"):
                if name.upper() in theirs:
                    assert getattr(ours, name).value == str(theirs[name.upper()])
            assert ours.dtstart.value == theirs.decoded("DTSTART")


def test_literal_backslash_n_survives_where_icalendar_writer_breaks_it() -> None:
    from datetime import UTC, datetime

    from proxy.core.model import Event, Service
    from tests.ics.strategies import mirrored
    item = mirrored(Event("p", "c", Service.GOOGLE, datetime(2026, 1, 5, 9, tzinfo=UTC),
                          datetime(2026, 1, 5, 10, tzinfo=UTC), title="C:\\New folder"))
    from proxy.redaction import Detail
    data = render([item], Detail.FULL)
    assert str(Calendar.from_ical(data).walk("VEVENT")[0]["SUMMARY"]) == "C:\\New folder"
    assert vobject.readOne(data.decode()).vevent.summary.value == "C:\\New folder"
    assert clean_text("C:\\New folder") == "C:\\New folder"
