"""The mirror documents round-trip exactly, for any event or contact the model allows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.model import (
    Attendee,
    AttendeeKind,
    Conference,
    ConferenceProvider,
    Contact,
    EmailAddress,
    Event,
    EventStatus,
    Person,
    PhoneNumber,
    Recurrence,
    Response,
    Sensitivity,
    Service,
    ShowAs,
)
from proxy.store.codec import (
    contact_from_json,
    contact_to_json,
    event_from_dict,
    event_from_json,
    event_to_dict,
    event_to_json,
)

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe",
         "Pacific/Chatham", "America/St_Johns", "Europe/London"]
tzinfos = st.one_of(
    st.sampled_from([ZoneInfo(z) for z in ZONES]),
    st.just(UTC),
    st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
instants = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1),
                        timezones=tzinfos)
days = st.dates(min_value=date(1970, 1, 2), max_value=date(2100, 1, 1))
moments = st.one_of(instants, days)
text = st.text(max_size=20)
maybe_text = st.none() | text
people = st.builds(Person, maybe_text, maybe_text)
attendees = st.builds(Attendee, maybe_text, maybe_text, st.sampled_from(AttendeeKind),
                      st.sampled_from(Response))
recurrences = st.builds(Recurrence, text, st.none() | moments, st.booleans())
events = st.builds(
    Event, provider_id=text, calendar_id=text, service=st.sampled_from(Service),
    start=moments, end=moments, time_zone=st.sampled_from(ZONES), all_day=st.booleans(),
    ical_uid=maybe_text, title=text, description=text, location=text,
    status=st.sampled_from(EventStatus), show_as=st.sampled_from(ShowAs),
    sensitivity=st.sampled_from(Sensitivity), organizer=st.none() | people,
    attendees=st.lists(attendees, max_size=3).map(tuple), join_url=maybe_text,
    conference=st.none() | st.builds(Conference, st.sampled_from(ConferenceProvider), text),
    categories=st.lists(text, max_size=3).map(tuple), recurrence=st.none() | recurrences,
    rrule=st.lists(text, max_size=2).map(tuple), exdates=st.lists(moments, max_size=3).map(tuple),
    created=st.none() | instants, updated=st.none() | instants, sequence=st.integers(0, 2**40),
    occurrences_listed=st.booleans(),
)
contacts = st.builds(
    Contact, provider_id=text, service=st.sampled_from(Service), display_name=text,
    given_name=maybe_text, surname=maybe_text,
    emails=st.lists(st.builds(EmailAddress, text, text), max_size=3).map(tuple),
    phones=st.lists(st.builds(PhoneNumber, text, text), max_size=3).map(tuple),
    company=maybe_text, job_title=maybe_text,
)


def _moments(event: Event) -> list[Any]:
    extra = [event.recurrence.original_start] if event.recurrence else []
    return [event.start, event.end, event.created, event.updated, *event.exdates, *extra]


@settings(max_examples=300, deadline=None)
@given(events)
def test_events_round_trip_exactly(event: Event) -> None:
    back = event_from_json(event_to_json(event))
    assert back == event
    assert repr(back) == repr(event)  # same types, zones, wall times
    for before, after in zip(_moments(event), _moments(back), strict=True):
        assert type(before) is type(after)
        if isinstance(before, datetime):
            assert after.tzinfo == before.tzinfo and after.utcoffset() == before.utcoffset()
            assert after.replace(tzinfo=None) == before.replace(tzinfo=None)
    assert event_from_dict(json.loads(json.dumps(event_to_dict(event)))) == event


@settings(max_examples=100, deadline=None)
@given(contacts)
def test_contacts_round_trip_exactly(contact: Contact) -> None:
    assert contact_from_json(contact_to_json(contact)) == contact


def test_documents_are_plain_json() -> None:
    ny = ZoneInfo("America/New_York")
    event = Event("p", "c", Service.GOOGLE, datetime(2026, 3, 8, 1, 0, tzinfo=ny),
                  date(2026, 3, 9), status=EventStatus.TENTATIVE,
                  recurrence=Recurrence("s", date(2026, 3, 8), True))
    doc = event_to_dict(event)
    assert doc["start"] == "2026-03-08T01:00:00-05:00[America/New_York]"
    assert doc["end"] == "2026-03-09" and doc["status"] == "tentative"
    assert doc["recurrence"] == {"series_id": "s", "original_start": "2026-03-08",
                                 "is_exception": True}


def test_unknown_keys_are_ignored_and_missing_keys_defaulted() -> None:
    old = {"provider_id": "p", "calendar_id": "c", "service": "graph",
           "start": "2026-01-01", "end": "2026-01-02", "a_field_from_the_future": 1}
    event = event_from_dict(old)
    assert event.start == date(2026, 1, 1) and event.title == "" and event.attendees == ()
