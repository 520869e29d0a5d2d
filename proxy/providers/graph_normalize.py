"""Graph JSON → the common model, fast and strict.

Reads the raw JSON of Graph's ``event``, ``calendar`` and ``contact`` resources (never the
SDK's model classes: they cost milliseconds per event). Every request asks for
``Prefer: outlook.timezone="UTC"``, so ``start``/``end`` arrive in UTC (or in whatever zone
the answer names); each event is then moved into its own zone, taken from
``originalStartTimeZone`` (Windows names mapped to IANA with the CLDR table that icalendar
ships). Unknown and custom zones keep the UTC instant.

A page is normalized whole before anything is returned: one malformed item raises
:class:`proxy.errors.UpstreamError` ("malformed"), so a mirror is never half written.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from proxy.core.links import conference_kind, find_meeting_link
from proxy.core.model import (
    Attendee,
    AttendeeKind,
    Calendar,
    Conference,
    Contact,
    EmailAddress,
    Event,
    EventStatus,
    Moment,
    Person,
    PhoneNumber,
    Recurrence,
    Response,
    Sensitivity,
    Service,
    ShowAs,
)
from proxy.core.timeutil import iana_zone
from proxy.errors import UpstreamError
from proxy.providers.graph_recurrence import graph_rrule

SHOW_AS = {"free": ShowAs.FREE, "tentative": ShowAs.TENTATIVE, "busy": ShowAs.BUSY,
           "oof": ShowAs.OUT_OF_OFFICE, "workingElsewhere": ShowAs.WORKING_ELSEWHERE,
           "unknown": ShowAs.UNKNOWN}
SENSITIVITY = {s.value: s for s in Sensitivity}
RESPONSES = {"accepted": Response.ACCEPTED, "organizer": Response.ACCEPTED,
             "tentativelyAccepted": Response.TENTATIVE, "declined": Response.DECLINED,
             "notResponded": Response.NEEDS_ACTION, "none": Response.NONE}
KINDS = {"required": AttendeeKind.REQUIRED, "optional": AttendeeKind.OPTIONAL,
         "resource": AttendeeKind.RESOURCE}
_MIDNIGHT = time(0)
_TAGS = re.compile(r"<[^>]*>")
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/tr)\b[^>]*>", re.I)
_HIDDEN = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.I | re.S)


class Malformed(ValueError):
    """A payload that does not have the documented shape; carries a field name only."""


@lru_cache(maxsize=256)
def event_zone(name: str | None) -> tuple[str, ZoneInfo]:
    """(IANA name, zone) for a Windows or IANA zone name; UTC when unknown or custom."""
    iana = iana_zone(name) or "UTC"
    try:
        return iana, ZoneInfo(iana)
    except (KeyError, ValueError):
        return "UTC", ZoneInfo("UTC")


def _moment(value: Any, zone: ZoneInfo, all_day: bool) -> Moment:
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise Malformed("start/end")
    naive = datetime.fromisoformat(value["dateTime"][:19])
    if all_day and naive.time() == _MIDNIGHT:
        return naive.date()
    aware = naive.replace(tzinfo=event_zone(value.get("timeZone") or "UTC")[1])
    local = aware.astimezone(zone)
    return local.date() if all_day else local


def _stamp(text: Any) -> datetime | None:
    """A Graph DateTimeOffset ("2026-11-24T09:00:00.1234567Z") as an aware UTC datetime."""
    if not isinstance(text, str) or len(text) < 19:
        return None
    return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)


def body_text(body: Any) -> str:
    """The event body as plain text (HTML bodies lose their markup)."""
    if not isinstance(body, dict):
        return ""
    content = body.get("content") or ""
    if not isinstance(content, str):
        raise Malformed("body")
    if (body.get("contentType") or "text").lower() != "html":
        return content
    text = _TAGS.sub("", _BREAKS.sub("\n", _HIDDEN.sub("", content)))
    lines = (" ".join(line.split()) for line in html.unescape(text).splitlines())
    return "\n".join(line for line in lines if line)


def _person(value: Any) -> Person | None:
    address = (value or {}).get("emailAddress") or {}
    if not address:
        return None
    return Person(address.get("name") or None, address.get("address") or None)


def _attendees(values: Any) -> tuple[Attendee, ...]:
    out = []
    for value in values or ():
        address = value.get("emailAddress") or {}
        response = ((value.get("status") or {}).get("response")) or "none"
        out.append(Attendee(address.get("name") or None, address.get("address") or None,
                            KINDS.get(value.get("type") or "required", AttendeeKind.REQUIRED),
                            RESPONSES.get(response, Response.NONE)))
    return tuple(out)


def _conference(data: dict[str, Any], location: str, description: str) -> Conference | None:
    url = (data.get("onlineMeeting") or {}).get("joinUrl") or data.get("onlineMeetingUrl")
    if isinstance(url, str) and url:
        return Conference(conference_kind(url), url)
    return find_meeting_link(location, description)


def _status(data: dict[str, Any]) -> EventStatus:
    if data.get("isCancelled"):
        return EventStatus.CANCELLED
    if ((data.get("responseStatus") or {}).get("response")) == "tentativelyAccepted":
        return EventStatus.TENTATIVE
    return EventStatus.CONFIRMED


def _recurrence(data: dict[str, Any], zone: ZoneInfo, all_day: bool) -> Recurrence | None:
    kind = data.get("type")
    if kind not in ("occurrence", "exception") or not data.get("seriesMasterId"):
        return None
    original = _stamp(data.get("originalStart"))
    local: Moment | None = original.astimezone(zone) if original else None
    if all_day and isinstance(local, datetime):
        local = local.date()
    return Recurrence(str(data["seriesMasterId"]), local, kind == "exception")


def _master_rule(data: dict[str, Any], zone_name: str, all_day: bool) -> tuple[str, ...]:
    """A seriesMaster's RRULE (empty when the pattern has none, or for other events)."""
    if data.get("type") != "seriesMaster":
        return ()
    rule = graph_rrule(data.get("recurrence"), all_day=all_day, time_zone=zone_name)
    return (rule,) if rule else ()


def event_from_graph(data: dict[str, Any], calendar_id: str) -> Event:
    """One Graph ``event`` as an :class:`Event`; raises Malformed/KeyError/... if broken."""
    event_id = data["id"]
    if not isinstance(event_id, str) or not event_id:
        raise Malformed("id")
    all_day = bool(data.get("isAllDay"))
    zone_name, zone = event_zone(data.get("originalStartTimeZone"))
    location = ((data.get("location") or {}).get("displayName")) or ""
    description = body_text(data.get("body"))
    conference = _conference(data, location, description)
    return Event(
        provider_id=event_id, calendar_id=calendar_id, service=Service.GRAPH,
        start=_moment(data["start"], zone, all_day), end=_moment(data["end"], zone, all_day),
        time_zone=zone_name, all_day=all_day, ical_uid=data.get("iCalUId"),
        title=data.get("subject") or "", description=description, location=location,
        status=_status(data), show_as=SHOW_AS.get(data.get("showAs") or "", ShowAs.BUSY),
        sensitivity=SENSITIVITY.get(data.get("sensitivity") or "", Sensitivity.NORMAL),
        organizer=_person(data.get("organizer")), attendees=_attendees(data.get("attendees")),
        join_url=conference.join_url if conference else None, conference=conference,
        categories=tuple(str(c) for c in data.get("categories") or ()),
        recurrence=_recurrence(data, zone, all_day),
        rrule=_master_rule(data, zone_name, all_day),
        occurrences_listed=data.get("type") == "seriesMaster",
        created=_stamp(data.get("createdDateTime")),
        updated=_stamp(data.get("lastModifiedDateTime")),
    )


def event_page(body: Any, calendar_id: str) -> tuple[tuple[Event, ...], tuple[str, ...]]:
    """The changed events and removed ids of one delta page; all or nothing."""
    try:
        values = body["value"]
        if not isinstance(values, list):
            raise Malformed("value")
        changed, removed = [], []
        for item in values:
            if "@removed" in item:
                removed.append(str(item["id"]))
            else:
                changed.append(event_from_graph(item, calendar_id))
    except (Malformed, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UpstreamError(f"Graph answered a malformed event page ({_what(exc)})") from None
    return tuple(changed), tuple(removed)


def one_event(body: Any, calendar_id: str) -> Event:
    try:
        return event_from_graph(body, calendar_id)
    except (Malformed, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UpstreamError(f"Graph answered a malformed event ({_what(exc)})") from None


def _what(exc: Exception) -> str:
    """A field name or an exception class: never the offending value."""
    if isinstance(exc, Malformed | KeyError):
        return f"field {exc.args[0]}" if exc.args and isinstance(exc.args[0], str) else "field"
    return type(exc).__name__


def calendar_from_graph(data: dict[str, Any]) -> Calendar:
    return Calendar(provider_id=str(data["id"]), name=str(data.get("name") or ""),
                    is_primary=bool(data.get("isDefaultCalendar")),
                    can_write=bool(data.get("canEdit", True)))


def contact_from_graph(data: dict[str, Any]) -> Contact:
    emails = tuple(EmailAddress(str(e["address"]), "other")
                   for e in data.get("emailAddresses") or () if e.get("address"))
    phones = [PhoneNumber(str(p), "work") for p in data.get("businessPhones") or ()]
    phones += [PhoneNumber(str(p), "home") for p in data.get("homePhones") or ()]
    if data.get("mobilePhone"):
        phones.append(PhoneNumber(str(data["mobilePhone"]), "mobile"))
    return Contact(
        provider_id=str(data["id"]), service=Service.GRAPH,
        display_name=data.get("displayName") or "", given_name=data.get("givenName"),
        surname=data.get("surname"), emails=emails, phones=tuple(phones),
        company=data.get("companyName"), job_title=data.get("jobTitle"))


def contact_delta_page(body: Any) -> tuple[tuple[Contact, ...], tuple[str, ...]]:
    """The changed contacts and removed ids of one contacts delta page; all or nothing."""
    try:
        values = body["value"]
        if not isinstance(values, list):
            raise Malformed("value")
        changed, removed = [], []
        for item in values:
            if "@removed" in item:
                removed.append(str(item["id"]))
            else:
                changed.append(contact_from_graph(item))
    except (Malformed, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UpstreamError(f"Graph answered a malformed contact page ({_what(exc)})") from None
    return tuple(changed), tuple(removed)
