"""EWS answer elements (lxml) to plain values and the common model.

The provider asks exchangelib's services for raw elements (:mod:`ews_services`) and reads
them here, as the Graph provider reads its JSON: only the fields calproxy uses, by
namespaced tag, in one pass over each item's children. Building exchangelib's item
objects cost about 1.9 ms per calendar item; this is a small fraction of that.

Sensitivity Personal/Private/Confidential are private; ``LegacyFreeBusyStatus`` is
show-as; Windows zone ids become IANA names (unknown and custom zones keep the UTC
instant); an occurrence's original start is its ``RecurrenceId`` (a moved occurrence's
``Start`` is its new time), and its id derives from the master's id and that slot.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP

from proxy.core.links import find_meeting_link
from proxy.core.model import (
    Attendee,
    AttendeeKind,
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
from proxy.core.timeutil import iana_zone, zone
from proxy.providers.ews_normalize import (
    EMAIL_KEYS,
    PHONE_KEYS,
    RESPONSES,
    SENSITIVITY,
    SHOW_AS,
    occurrence_id,
)
from proxy.providers.ews_recurrence import ews_rrule

T = "{http://schemas.microsoft.com/exchange/services/2006/types}"
_SKIP = len(T)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t]+")
_GROUPS = (("RequiredAttendees", AttendeeKind.REQUIRED),
           ("OptionalAttendees", AttendeeKind.OPTIONAL), ("Resources", AttendeeKind.RESOURCE))
SERIES_PARTS = ("Occurrence", "Exception")
MASTER = "RecurringMaster"


def parse_time(text: str | None) -> datetime | None:
    """An xs:dateTime as Exchange writes it (UTC ``Z`` or with an offset), aware."""
    if not text:
        return None
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _required_time(text: str | None) -> datetime:
    value = parse_time(text)
    if value is None:
        raise ValueError("EWS item lacks Start or End")
    return value


class Hit(NamedTuple):
    """One CalendarView hit: an id and what tells single items from occurrences."""

    id: str
    changekey: str | None
    uid: str | None
    start: datetime | None
    type: str | None


def fields(elem: Any) -> dict[str, Any]:
    """An item's child elements by local name (one pass; comments skipped)."""
    return {child.tag[_SKIP:]: child for child in elem if type(child.tag) is str}


def item_id(elem: Any) -> tuple[str, str | None]:
    ref = elem.find(f"{T}ItemId")
    if ref is None or not ref.get("Id"):
        raise ValueError("EWS item without an ItemId")
    return str(ref.get("Id")), ref.get("ChangeKey")


def hit(elem: Any) -> Hit:
    ident, changekey = item_id(elem)
    return Hit(ident, changekey, elem.findtext(f"{T}UID"),
               parse_time(elem.findtext(f"{T}Start")), elem.findtext(f"{T}CalendarItemType"))


def series_key(elem: Any) -> tuple[str | None, str | None]:
    """(UID, CalendarItemType) of an item element."""
    return elem.findtext(f"{T}UID"), elem.findtext(f"{T}CalendarItemType")


def flag(elem: Any, name: str) -> bool:
    return (elem.findtext(f"{T}{name}") or "").strip().lower() in ("true", "1")


def _text(f: dict[str, Any], name: str) -> str | None:
    el = f.get(name)
    return None if el is None else el.text


def zone_name(tz_elem: Any) -> str:
    """The IANA zone of a StartTimeZone/EndTimeZone element ("UTC" when unknown)."""
    if tz_elem is None:
        return "UTC"
    ms_id = tz_elem.get("Id") or tz_elem.get("Name")
    return iana_zone(ms_id) or iana_zone(MS_TIMEZONE_TO_IANA_MAP.get(ms_id or "")) or "UTC"


def body_text(body: Any) -> str:
    if body is None or not body.text:
        return ""
    text = str(body.text)
    if (body.get("BodyType") or "").upper() == "HTML":
        text = html.unescape(_TAG.sub(" ", text))
        text = _SPACES.sub(" ", text).strip()
    return text


def _times(f: dict[str, Any]) -> tuple[datetime | date, datetime | date, str, bool]:
    time_zone = zone_name(f.get("StartTimeZone"))
    start, end = _required_time(_text(f, "Start")), _required_time(_text(f, "End"))
    tz = zone(time_zone)
    if (_text(f, "IsAllDayEvent") or "").strip().lower() in ("true", "1"):
        end_tz = zone(zone_name(f["EndTimeZone"])) if "EndTimeZone" in f else tz
        first = start.astimezone(tz).date()
        last = (end - timedelta(days=1)).astimezone(end_tz).date() + timedelta(days=1)
        return first, max(last, first + timedelta(days=1)), time_zone, True
    return start.astimezone(tz), end.astimezone(tz), time_zone, False


def _mailbox(elem: Any) -> tuple[str | None, str | None]:
    box = elem.find(f"{T}Mailbox") if elem is not None else None
    if box is None:
        return None, None
    return box.findtext(f"{T}Name") or None, box.findtext(f"{T}EmailAddress") or None


def _attendees(f: dict[str, Any]) -> tuple[Attendee, ...]:
    out: list[Attendee] = []
    for name, kind in _GROUPS:
        group = f.get(name)
        if group is None:
            continue
        for attendee in group:
            who, email = _mailbox(attendee)
            response = attendee.findtext(f"{T}ResponseType") or "Unknown"
            out.append(Attendee(who, email, kind, RESPONSES.get(response, Response.NONE)))
    return tuple(out)


def _recurrence(f: dict[str, Any], provider_id: str, master_id: str | None,
                time_zone: str, slot: datetime | None) -> tuple[Recurrence | None, str]:
    kind = _text(f, "CalendarItemType")
    if master_id is None or kind not in SERIES_PARTS:
        return None, provider_id
    original = (parse_time(_text(f, "RecurrenceId")) or slot
                or parse_time(_text(f, "OriginalStart")) or _required_time(_text(f, "Start")))
    return (Recurrence(master_id, original.astimezone(zone(time_zone)), kind == "Exception"),
            occurrence_id(master_id, original))


def to_event(elem: Any, calendar_id: str, service: Service,
             master_id: str | None = None, slot: datetime | None = None) -> Event:
    """One CalendarItem element (single, occurrence or exception) as an Event; ``slot`` is
    the original start the master's ModifiedOccurrences give, for a server that sends no
    RecurrenceId."""
    f = fields(elem)
    start, end, time_zone, all_day = _times(f)
    description, location = body_text(f.get("Body")), _text(f, "Location") or ""
    conference = find_meeting_link(location, description)
    recurrence, provider_id = _recurrence(f, item_id(elem)[0], master_id, time_zone, slot)
    organizer = _mailbox(f.get("Organizer"))
    categories = f.get("Categories")
    created, updated = _text(f, "DateTimeCreated"), _text(f, "LastModifiedTime")
    return Event(
        provider_id=provider_id, calendar_id=calendar_id, service=service, start=start,
        end=end, time_zone=time_zone, all_day=all_day, ical_uid=_text(f, "UID"),
        title=_text(f, "Subject") or "", description=description, location=location,
        status=EventStatus.CANCELLED if (_text(f, "IsCancelled") or "") == "true"
        else EventStatus.CONFIRMED,
        show_as=SHOW_AS.get(_text(f, "LegacyFreeBusyStatus") or "Busy", ShowAs.UNKNOWN),
        sensitivity=SENSITIVITY.get(_text(f, "Sensitivity") or "Normal", Sensitivity.NORMAL),
        organizer=Person(*organizer) if organizer != (None, None) else None,
        attendees=_attendees(f),
        join_url=conference.join_url if conference else None, conference=conference,
        categories=tuple(c.text or "" for c in categories) if categories is not None else (),
        recurrence=recurrence, created=parse_time(created), updated=parse_time(updated),
        sequence=int(_text(f, "AppointmentSequenceNumber") or 0),
    )


def to_master(elem: Any, calendar_id: str, service: Service) -> Event | None:
    """A RecurringMaster as a listed series master (``occurrences_listed``) with the RRULE
    of its Recurrence, or ``None`` when the pattern has none."""
    event = to_event(elem, calendar_id, service)
    rule = ews_rrule(elem.find(f"{T}Recurrence"), all_day=event.all_day,
                     time_zone=event.time_zone)
    return replace(event, rrule=(rule,), occurrences_listed=True) if rule else None


def to_contact(elem: Any, service: Service) -> Contact:
    f = fields(elem)
    emails = tuple(EmailAddress(e.text, EMAIL_KEYS.get(e.get("Key") or "", "other"))
                   for e in f.get("EmailAddresses", ()) if e.text)
    phones = tuple(PhoneNumber(p.text, PHONE_KEYS.get(p.get("Key") or "", "other"))
                   for p in f.get("PhoneNumbers", ()) if p.text)
    return Contact(
        provider_id=item_id(elem)[0], service=service,
        display_name=_text(f, "DisplayName") or "", given_name=_text(f, "GivenName"),
        surname=_text(f, "Surname"), emails=emails, phones=phones,
        company=_text(f, "CompanyName"), job_title=_text(f, "JobTitle"))


def modified_occurrences(master: Any) -> list[tuple[str, datetime]]:
    """(item id, original start) of a RecurringMaster's ModifiedOccurrences."""
    out = []
    holder = master.find(f"{T}ModifiedOccurrences")
    for occ in holder if holder is not None else ():
        original = parse_time(occ.findtext(f"{T}OriginalStart"))
        ref = occ.find(f"{T}ItemId")
        if original is not None and ref is not None and ref.get("Id"):
            out.append((str(ref.get("Id")), original))
    return out


def deleted_occurrences(master: Any) -> list[datetime]:
    """Original starts of a RecurringMaster's DeletedOccurrences."""
    holder = master.find(f"{T}DeletedOccurrences")
    starts = (parse_time(d.findtext(f"{T}Start")) for d in holder) if holder is not None else ()
    return [s for s in starts if s is not None]
