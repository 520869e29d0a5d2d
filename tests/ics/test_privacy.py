"""No byte of a private event's hidden fields reaches a feed that may not show it."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.mirror import MirroredEvent
from proxy.core.model import Attendee, EventStatus, Person
from proxy.redaction import Detail
from tests.ics.helpers import LEVELS, render
from tests.ics.strategies import calendars

SECRET = "SECRETMARK"  # in every text field of private events
PUBLIC = "PUBLICMARK"  # in descriptions and attendees of ordinary events
LINK = "LINKMARK"  # in URLs inside ordinary events' locations
PROVIDER_UID = "PROVUIDMARK"  # in every provider UID


def _mark(item: MirroredEvent) -> MirroredEvent:
    ev = item.event
    uid = f"{PROVIDER_UID}-{ev.provider_id}@mail.internal.example"
    if not ev.is_private:
        return replace(item, event=replace(
            ev, ical_uid=uid, description=f"{ev.description} {PUBLIC}",
            location=f"Room 1 https://zoom.us/j/{LINK} {ev.location}",
            attendees=(*ev.attendees, Attendee(PUBLIC, f"{PUBLIC}@example.org"))))
    mark = f"{SECRET} {ev.title}"
    return replace(item, event=replace(
        ev, ical_uid=uid, title=mark, description=mark, location=mark,
        organizer=Person(SECRET, f"{SECRET}@example.org"),
        attendees=(*ev.attendees, Attendee(SECRET, f"{SECRET.lower()}@example.org")),
        categories=(*ev.categories, SECRET), join_url=f"https://meet.google.com/{SECRET}"))


def _contains(feed: bytes, marker: str) -> bool:
    unfolded = feed.replace(b"\r\n ", b"").lower()
    return marker.lower().encode() in unfolded or marker.lower().encode() in feed.lower()


@settings(max_examples=60, deadline=None)
@given(calendars(text=st.text(alphabet="abc ,;\\\n", max_size=20)))
def test_no_marker_leaks_at_any_level(items: list[MirroredEvent]) -> None:
    items = [_mark(item) for item in items]
    for detail, include_private in LEVELS:
        feed = render(items, detail, include_private)
        shows_private = detail is Detail.FULL and include_private
        if not shows_private:
            assert not _contains(feed, SECRET)
        if detail is not Detail.FULL:
            assert not _contains(feed, PROVIDER_UID)  # UIDs are opaque hashes
            assert not _contains(feed, PUBLIC)  # no descriptions, no attendees
            assert not _contains(feed, LINK)  # no URL from a location
    shown = [i for i in items if i.event.is_private and i.event.recurrence is None
             and i.event.status is not EventStatus.CANCELLED
             and not i.event.occurrences_listed]  # those publish through their occurrences
    # the check can see markers: a feed allowed to show private events has them
    if shown:
        assert _contains(render(items, Detail.FULL, True), SECRET)
