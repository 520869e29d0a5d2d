"""The same feed built with ``icalendar``'s component API and ``to_ical()``: the yardstick.

Not used to serve feeds. Tests parse its output and the fast writer's and demand the same
components; the benchmark times it against :func:`proxy.ics.feed.render_feed`. It writes
the same plan (:func:`~proxy.ics.plan.plan_feed`) and the same field decisions
(:mod:`proxy.ics.fields`), and publishes text cleaned the same way
(:func:`~proxy.ics.writer.clean_text`): only the serialization differs.

Known difference: ``icalendar`` turns a literal ``\\N`` in text into a line break when it
writes; the fast writer keeps the two characters (both parsers read them back so).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vCalAddress, vRecur

from proxy.core.model import Attendee, AttendeeKind, Moment, Person
from proxy.ics import fields
from proxy.ics.feed import DEFAULT_REFRESH, PRODID, duration_value
from proxy.ics.listed import Window
from proxy.ics.plan import Entry, plan_feed
from proxy.ics.timezones import vtimezone_component, zone_info
from proxy.ics.writer import clean_param, clean_text
from proxy.redaction.visible import Detail, RecurrenceRef, VisibleEvent


def reference_feed(
    events: Iterable[VisibleEvent],
    *,
    name: str,
    detail: Detail,
    generated_at: datetime,
    withheld: Iterable[RecurrenceRef] = (),
    time_zone: str | None = None,
    refresh: timedelta = DEFAULT_REFRESH,
    listed_window: Window | None = None,
) -> bytes:
    """What :func:`~proxy.ics.feed.render_feed` publishes, built with ``icalendar``."""
    entries = plan_feed(events, detail, withheld, listed_window)
    calendar = Calendar()
    for key, value in (("prodid", PRODID), ("version", "2.0"), ("calscale", "GREGORIAN"),
                       ("method", "PUBLISH"), ("x-wr-calname", clean_text(name)),
                       ("name", clean_text(name))):
        calendar.add(key, value)
    if time_zone:
        calendar.add("x-wr-timezone", time_zone)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", duration_value(refresh))
    for tzid in sorted({e.tzid for e in entries if e.tzid is not None and not e.all_day}):
        calendar.add_component(vtimezone_component(tzid))
    for entry in entries:
        calendar.add_component(_event(entry, detail, generated_at))
    data: bytes = calendar.to_ical()
    return data


def _event(entry: Entry, detail: Detail, generated_at: datetime) -> Event:
    event = entry.event
    component = Event()
    component.add("uid", entry.uid)
    component.add("dtstamp", fields.dtstamp(event, generated_at))
    component.add("dtstart", _value(entry.start, entry.tzid))
    if entry.end is not None:
        component.add("dtend", _value(entry.end, entry.tzid))
    if entry.recurrence_id is not None:
        component.add("recurrence-id", _value(entry.recurrence_id, entry.anchor_tzid))
    for rule in event.rrule:
        component.add("rrule", vRecur.from_ical(fields.rrule_value(rule)))
    if entry.exdates:
        component.add("exdate", [_value(m, entry.anchor_tzid) for m in entry.exdates])
    _texts(component, event, detail)
    component.add("sequence", event.sequence)
    if event.created:
        component.add("created", event.created.astimezone(UTC))
    if event.updated:
        component.add("last-modified", event.updated.astimezone(UTC))
    _people(component, event.organizer, event.attendees)
    categories = [clean_text(c) for c in event.categories if clean_text(c)]
    if categories:
        component.add("categories", categories)
    return component


def _texts(component: Event, event: VisibleEvent, detail: Detail) -> None:
    component.add("summary", clean_text(fields.summary(event, detail)))
    if event.description:
        component.add("description", clean_text(event.description))
    if event.location:
        component.add("location", clean_text(event.location))
    url = fields.join_url(event, detail)
    if url:
        component.add("url", url)
    component.add("status", fields.STATUS[event.status])
    component.add("transp", fields.transparency(event))
    access = fields.access_class(event, detail)
    if access:
        component.add("class", access)
    busy = fields.BUSY_STATUS.get(event.show_as)
    if busy:
        component.add("x-microsoft-cdo-busystatus", busy)


def _people(component: Event, organizer: Person | None, attendees: tuple[Attendee, ...]) -> None:
    if organizer is not None and organizer.email:
        component.add("organizer", _address(organizer.email, organizer.name, {}))
    for person in attendees:
        if not person.email:
            continue
        params = {"ROLE": fields.ROLE[person.kind], "PARTSTAT": fields.PARTSTAT[person.response]}
        if person.kind is AttendeeKind.RESOURCE:
            params["CUTYPE"] = "RESOURCE"
        component.add("attendee", _address(person.email, person.name, params))


def _address(email: str, name: str | None, params: dict[str, str]) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    for key, value in params.items():
        address.params[key] = value
    if name:
        address.params["CN"] = clean_param(name)
    return address


def _value(moment: Moment, tzid: str | None) -> Moment:
    """Dates stay dates; times carry the zone object whose name icalendar writes as TZID."""
    if isinstance(moment, datetime):
        return moment.astimezone(zone_info(tzid))
    return moment
