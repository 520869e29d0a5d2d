"""Expanding a feed with recurring-ical-events gives the occurrences /events gives.

/events is ``redact(expand(items, window))`` (proxy.core.recurrence); the feed is the
same items redacted and rendered. The feed differs only where DESIGN §5 says so: at
``busy`` it leaves free events out and titles every event by show-as.
"""

from __future__ import annotations

from datetime import date, datetime

import recurring_ical_events
from hypothesis import given, settings
from icalendar import Calendar

from proxy.core.mirror import MirroredEvent
from proxy.core.model import Moment, ShowAs
from proxy.core.recurrence import expand
from proxy.core.timeutil import to_utc
from proxy.ics import audience_for
from proxy.ics.fields import summary
from proxy.ics.writer import clean_text
from proxy.redaction import Detail, redact
from tests.ics.helpers import LEVELS, render
from tests.ics.strategies import LISTED_WINDOW, calendars

WINDOW = LISTED_WINDOW
Occurrence = tuple[str, str, str]


def _key(moment: Moment, zone: str) -> str:
    if isinstance(moment, datetime):
        return to_utc(moment).isoformat()
    assert isinstance(moment, date)
    return moment.isoformat()


def _from_events(items: list[MirroredEvent], detail: Detail, private: bool) -> list[Occurrence]:
    audience = audience_for(detail, private)
    found = []
    for item in expand(items, *WINDOW):
        shown = redact(item, audience)
        if shown is None or (detail is Detail.BUSY and shown.show_as is ShowAs.FREE):
            continue
        found.append((_key(shown.start, shown.time_zone), _key(shown.end, shown.time_zone),
                      clean_text(summary(shown, detail))))
    return sorted(found)


def _from_feed(feed: bytes) -> list[Occurrence]:
    calendar = Calendar.from_ical(feed)
    found = []
    for event in recurring_ical_events.of(calendar).between(*WINDOW):
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        found.append((_key(start, "UTC"), _key(end, "UTC"), str(event["SUMMARY"])))
    return sorted(found)


@settings(max_examples=60, deadline=None)
@given(calendars())
def test_feed_expands_to_the_occurrences_of_events(items: list[MirroredEvent]) -> None:
    for detail, include_private in LEVELS:
        feed = render(items, detail, include_private)
        assert _from_feed(feed) == _from_events(items, detail, include_private)
