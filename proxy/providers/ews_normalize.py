"""EWS items to and from the common model.

Sensitivity Personal/Private/Confidential are private; ``LegacyFreeBusyStatus`` is show-as;
Windows zone ids become IANA names (unknown and custom zones keep the UTC instant);
occurrences and exceptions of a series get ids derived from the master's id and their
original start, so the same occurrence has the same id in every sync round and after a
change to its series (see :func:`occurrence_id`).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from exchangelib import EWSDate, EWSDateTime, EWSTimeZone
from exchangelib.indexed_properties import EmailAddress, PhoneNumber
from exchangelib.items import CalendarItem
from exchangelib.items import Contact as EwsContact
from exchangelib.properties import Attendee as EwsAttendee
from exchangelib.properties import Body, Mailbox

from proxy.core.links import find_meeting_link
from proxy.core.model import (
    Attendee,
    AttendeeKind,
    Contact,
    ContactDraft,
    Event,
    EventDraft,
    EventStatus,
    Person,
    Recurrence,
    Response,
    Sensitivity,
    Service,
    ShowAs,
)
from proxy.core.model import (
    EmailAddress as ModelEmail,
)
from proxy.core.model import (
    PhoneNumber as ModelPhone,
)
from proxy.core.timeutil import iana_zone, zone

OCCURRENCE_SEPARATOR = "~"
SHOW_AS = {"Free": ShowAs.FREE, "Tentative": ShowAs.TENTATIVE, "Busy": ShowAs.BUSY,
           "OOF": ShowAs.OUT_OF_OFFICE, "WorkingElsewhere": ShowAs.WORKING_ELSEWHERE,
           "NoData": ShowAs.UNKNOWN}
FREE_BUSY = {v: k for k, v in SHOW_AS.items()}
SENSITIVITY = {"Normal": Sensitivity.NORMAL, "Personal": Sensitivity.PERSONAL,
               "Private": Sensitivity.PRIVATE, "Confidential": Sensitivity.CONFIDENTIAL}
EWS_SENSITIVITY = {v: k for k, v in SENSITIVITY.items()}
RESPONSES = {"Accept": Response.ACCEPTED, "Decline": Response.DECLINED,
             "Tentative": Response.TENTATIVE, "NoResponseReceived": Response.NEEDS_ACTION,
             "Organizer": Response.ACCEPTED, "Unknown": Response.NONE}
EMAIL_KEYS = {"EmailAddress1": "work", "EmailAddress2": "home", "EmailAddress3": "other"}
PHONE_KEYS = {"MobilePhone": "mobile", "BusinessPhone": "work", "HomePhone": "home",
              "OtherTelephone": "other"}
_TAG = re.compile(r"<[^>]+>")


def occurrence_id(master_id: str, original_start: datetime) -> str:
    """The stable provider id of one occurrence: master id plus original start (UTC)."""
    stamp = original_start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{master_id}{OCCURRENCE_SEPARATOR}{stamp}"


def split_occurrence_id(provider_id: str) -> tuple[str, datetime] | None:
    master, sep, stamp = provider_id.rpartition(OCCURRENCE_SEPARATOR)
    if not sep:
        return None
    try:
        return master, datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _zone_name(tz: Any) -> str:
    ms_id = getattr(tz, "ms_id", None)
    mapped = iana_zone(ms_id) if ms_id else None
    return mapped or iana_zone(getattr(tz, "key", None)) or "UTC"


def _times(item: CalendarItem) -> tuple[datetime | date, datetime | date, str, bool]:
    time_zone = _zone_name(item._start_timezone)
    if item.is_all_day and isinstance(item.start, date) and not isinstance(item.start, datetime):
        start = date(item.start.year, item.start.month, item.start.day)
        end_day = item.end if item.end is not None else item.start
        end = date(end_day.year, end_day.month, end_day.day) + timedelta(days=1)
        return start, max(end, start + timedelta(days=1)), time_zone, True
    tz = zone(time_zone)
    return _plain(item.start).astimezone(tz), _plain(item.end).astimezone(tz), time_zone, False


def _plain(value: Any) -> datetime:
    """An exchangelib EWSDateTime as a standard aware datetime."""
    if not isinstance(value, datetime):
        raise ValueError("EWS item lacks Start or End")
    return datetime.fromtimestamp(value.timestamp(), UTC)


def _person(mailbox: Mailbox | None) -> Person | None:
    if mailbox is None:
        return None
    return Person(mailbox.name or None, mailbox.email_address or None)


def _attendees(item: CalendarItem) -> tuple[Attendee, ...]:
    out: list[Attendee] = []
    for kind, group in ((AttendeeKind.REQUIRED, item.required_attendees),
                        (AttendeeKind.OPTIONAL, item.optional_attendees),
                        (AttendeeKind.RESOURCE, item.resources)):
        for attendee in group or ():
            mailbox = attendee.mailbox
            out.append(Attendee(
                getattr(mailbox, "name", None) or None,
                getattr(mailbox, "email_address", None) or None, kind,
                RESPONSES.get(attendee.response_type or "Unknown", Response.NONE)))
    return tuple(out)


def body_text(body: Any) -> str:
    if not body:
        return ""
    text = str(body)
    if type(body).__name__ == "HTMLBody":
        text = html.unescape(_TAG.sub(" ", text))
        text = re.sub(r"[ \t]+", " ", text).strip()
    return text


def to_event(item: CalendarItem, calendar_id: str, service: Service,
             master_id: str | None = None) -> Event:
    """One CalendarItem (single, occurrence or exception) as an Event."""
    start, end, time_zone, all_day = _times(item)
    description, location = body_text(item.body), item.location or ""
    conference = find_meeting_link(location, description)
    recurrence, provider_id = None, str(item.id)
    if master_id is not None and item.type in ("Occurrence", "Exception"):
        # RecurrenceId is the slot the occurrence was generated for; a moved one's Start
        # is its new time
        original = _plain(item.recurrence_id or item.original_start or item.start)
        recurrence = Recurrence(master_id, original.astimezone(zone(time_zone)),
                                item.type == "Exception")
        provider_id = occurrence_id(master_id, original)
    return Event(
        provider_id=provider_id, calendar_id=calendar_id, service=service, start=start,
        end=end, time_zone=time_zone, all_day=all_day, ical_uid=item.uid,
        title=item.subject or "", description=description, location=location,
        status=EventStatus.CANCELLED if item.is_cancelled else EventStatus.CONFIRMED,
        show_as=SHOW_AS.get(item.legacy_free_busy_status or "Busy", ShowAs.UNKNOWN),
        sensitivity=SENSITIVITY.get(item.sensitivity or "Normal", Sensitivity.NORMAL),
        organizer=_person(item.organizer), attendees=_attendees(item),
        join_url=conference.join_url if conference else None, conference=conference,
        categories=tuple(item.categories or ()), recurrence=recurrence,
        created=_plain(item.datetime_created) if item.datetime_created else None,
        updated=_plain(item.last_modified_time) if item.last_modified_time else None,
        sequence=item.appointment_sequence_number or 0,
    )


def _ews_zone(name: str | None) -> EWSTimeZone:
    return EWSTimeZone(name or "UTC")


def _ews_moment(value: datetime | date, tz: EWSTimeZone, all_day: bool) -> Any:
    if all_day:
        day = value.date() if isinstance(value, datetime) else value
        return EWSDate(day.year, day.month, day.day)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=tz)
    plain = datetime.fromtimestamp(value.timestamp(), UTC)
    return EWSDateTime.from_datetime(plain).astimezone(tz)


def draft_values(draft: EventDraft, all_day_now: bool = False) -> dict[str, Any]:
    """The exchangelib field values for the fields ``draft.given()`` names."""
    given = draft.given()
    all_day = bool(given.get("all_day", all_day_now))
    tz = _ews_zone(iana_zone(draft.time_zone) or draft.time_zone)
    values: dict[str, Any] = {}
    simple = {"title": "subject", "location": "location"}
    for key, field in simple.items():
        if key in given:
            values[field] = given[key]
    if "description" in given:
        values["body"] = Body(given["description"])
    if "all_day" in given:
        values["is_all_day"] = all_day
    for key in ("start", "end"):
        if key in given:
            moment = given[key]
            if all_day and key == "end" and isinstance(moment, date) and not isinstance(
                    moment, datetime):
                moment = moment - timedelta(days=1)  # exchangelib adds the day back
            values[key] = _ews_moment(moment, tz, all_day)
            values[f"_{key}_timezone"] = tz
    if "show_as" in given:
        values["legacy_free_busy_status"] = FREE_BUSY.get(given["show_as"], "Busy")
    if "sensitivity" in given:
        values["sensitivity"] = EWS_SENSITIVITY[given["sensitivity"]]
    if "categories" in given:
        values["categories"] = list(given["categories"])
    if "attendees" in given:
        values.update(_ews_attendees(given["attendees"]))
    return values


def _ews_attendees(attendees: tuple[Attendee, ...]) -> dict[str, Any]:
    groups: dict[str, list[EwsAttendee]] = {
        "required_attendees": [], "optional_attendees": [], "resources": []}
    key = {AttendeeKind.REQUIRED: "required_attendees",
           AttendeeKind.OPTIONAL: "optional_attendees", AttendeeKind.RESOURCE: "resources"}
    for a in attendees:
        mailbox = Mailbox(name=a.name, email_address=a.email)
        groups[key[a.kind]].append(EwsAttendee(mailbox=mailbox, response_type="Unknown"))
    return {k: v or None for k, v in groups.items()}


def to_contact(item: EwsContact, service: Service) -> Contact:
    emails = tuple(ModelEmail(e.email, EMAIL_KEYS.get(e.label, "other"))
                   for e in item.email_addresses or () if e.email)
    phones = tuple(ModelPhone(p.phone_number, PHONE_KEYS.get(p.label, "other"))
                   for p in item.phone_numbers or () if p.phone_number)
    return Contact(
        provider_id=str(item.id), service=service, display_name=item.display_name or "",
        given_name=item.given_name, surname=item.surname, emails=emails, phones=phones,
        company=item.company_name, job_title=item.job_title)


def contact_item(draft: ContactDraft) -> EwsContact:
    email_keys = {"work": "EmailAddress1", "home": "EmailAddress2", "other": "EmailAddress3"}
    phone_keys = {v: k for k, v in PHONE_KEYS.items()}
    emails, used = [], set()
    for e in draft.emails:
        label = email_keys.get(e.type, "EmailAddress3")
        if label in used:
            label = next(k for k in email_keys.values() if k not in used)
        used.add(label)
        emails.append(EmailAddress(email=e.address, label=label))
    display = draft.display_name or " ".join(
        p for p in (draft.given_name, draft.surname) if p)
    return EwsContact(
        display_name=display, given_name=draft.given_name, surname=draft.surname,
        email_addresses=emails[:3] or None, company_name=draft.company,
        job_title=draft.job_title,
        phone_numbers=[PhoneNumber(label=phone_keys.get(p.type, "OtherTelephone"),
                                   phone_number=p.number) for p in draft.phones] or None)
