"""How Google's event JSON becomes the common model: zones, people, meeting links,
recurrence lines. Events are seeded as raw Calendar resources and read over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from proxy.core.model import (
    Attendee,
    AttendeeKind,
    ConferenceProvider,
    Event,
    Person,
    Response,
    ShowAs,
)
from proxy.providers.base import Window
from tests.fixtures.google_harness import GoogleEnv

BERLIN = ZoneInfo("Europe/Berlin")



def soon() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)


async def read(env: GoogleEnv, **resource: Any) -> Event:
    start = soon()
    resource.setdefault("start", {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"})
    resource.setdefault("end", {"dateTime": (start + timedelta(hours=1)).isoformat(),
                                "timeZone": "Europe/Berlin"})
    event_id = env.emulator.add_event(env.email, {"summary": "Sync", **resource})
    now = datetime.now(UTC)
    page = await env.provider.sync_events(
        env.calendar_id, None, Window(now - timedelta(days=1), now + timedelta(days=30)))
    return next(e for e in page.changed if e.provider_id == event_id)


async def test_times_are_in_the_event_zone(env: GoogleEnv) -> None:
    event = await read(env)
    assert event.time_zone == "Europe/Berlin" and not event.all_day
    assert isinstance(event.start, datetime) and event.start.tzinfo is not None
    assert event.start == soon() and event.start.utcoffset() == soon().astimezone(
        BERLIN).utcoffset()
    assert event.end - event.start == timedelta(hours=1)  # type: ignore[operator]


async def test_event_without_zone_takes_the_calendars(env: GoogleEnv) -> None:
    start = soon()
    event = await read(env, start={"dateTime": start.isoformat()},
                       end={"dateTime": (start + timedelta(hours=1)).isoformat()})
    assert event.time_zone == "America/New_York" and event.start == start


async def test_organizer_and_attendees(env: GoogleEnv) -> None:
    event = await read(env, organizer={"email": "boss@example.com", "displayName": "Boss"},
                       attendees=[
                           {"email": "a@example.com", "displayName": "A",
                            "responseStatus": "accepted"},
                           {"email": "b@example.com", "optional": True,
                            "responseStatus": "tentative"},
                           {"email": "room@resource.calendar.google.com", "resource": True,
                            "responseStatus": "needsAction"},
                           {"email": "c@example.com", "responseStatus": "declined"}])
    assert event.organizer == Person("Boss", "boss@example.com")
    assert event.attendees == (
        Attendee("A", "a@example.com", AttendeeKind.REQUIRED, Response.ACCEPTED),
        Attendee(None, "b@example.com", AttendeeKind.OPTIONAL, Response.TENTATIVE),
        Attendee(None, "room@resource.calendar.google.com", AttendeeKind.RESOURCE,
                 Response.NEEDS_ACTION),
        Attendee(None, "c@example.com", AttendeeKind.REQUIRED, Response.DECLINED))


async def test_own_tentative_answer_shows_tentative(env: GoogleEnv) -> None:
    event = await read(env, attendees=[{"email": env.email, "self": True,
                                        "responseStatus": "tentative"}])
    assert event.show_as is ShowAs.TENTATIVE


async def test_out_of_office_event_type(env: GoogleEnv) -> None:
    event = await read(env, eventType="outOfOffice", transparency="opaque")
    assert event.show_as is ShowAs.OUT_OF_OFFICE


async def test_meet_link_from_conference_data(env: GoogleEnv) -> None:
    event = await read(env, hangoutLink="https://meet.google.com/abc-defg-hij", conferenceData={
        "entryPoints": [
            {"entryPointType": "phone", "uri": "tel:+1-555-0100"},
            {"entryPointType": "video", "uri": "https://meet.google.com/abc-defg-hij"}],
        "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"}})
    assert event.conference is not None
    assert event.conference.provider is ConferenceProvider.MEET
    assert event.join_url == "https://meet.google.com/abc-defg-hij"


async def test_zoom_add_on_conference_data(env: GoogleEnv) -> None:
    event = await read(env, conferenceData={
        "entryPoints": [{"entryPointType": "video", "uri": "https://us02web.zoom.us/j/123"}],
        "conferenceSolution": {"key": {"type": "addOn"}, "name": "Zoom Meeting"}})
    assert event.conference is not None and event.conference.provider is ConferenceProvider.ZOOM


async def test_hangout_link_alone(env: GoogleEnv) -> None:
    event = await read(env, hangoutLink="https://meet.google.com/xyz-abcd-efg")
    assert event.join_url == "https://meet.google.com/xyz-abcd-efg"


@pytest.mark.parametrize(("field", "text", "provider"), [
    ("location", "Zoom: https://example.zoom.us/j/98765?pwd=x", ConferenceProvider.ZOOM),
    ("description", "Join: https://teams.microsoft.com/l/meetup-join/19%3a1",
     ConferenceProvider.TEAMS),
])
async def test_links_found_in_text(env: GoogleEnv, field: str, text: str,
                                   provider: ConferenceProvider) -> None:
    event = await read(env, **{field: text})
    assert event.conference is not None and event.conference.provider is provider


async def test_master_rrule_and_exdates(env: GoogleEnv) -> None:
    start = soon().astimezone(BERLIN)
    skipped = start + timedelta(days=1)
    event = await read(env, recurrence=[
        "RRULE:FREQ=DAILY;COUNT=5",
        f"EXDATE;TZID=Europe/Berlin:{skipped:%Y%m%dT%H%M%S}"])
    assert event.rrule == ("FREQ=DAILY;COUNT=5",)
    assert event.exdates == (skipped,)
    assert event.recurrence is None and event.is_series_master
