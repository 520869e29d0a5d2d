"""The common model to EWS (writes), the shared value maps, and occurrence ids.

Reading EWS answers is :mod:`ews_parse`. Occurrences and exceptions of a series get ids
derived from the master's id and their original start, so the same occurrence has the
same id in every sync round and after a change to its series (see :func:`occurrence_id`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from exchangelib import EWSDate, EWSDateTime, EWSTimeZone
from exchangelib.indexed_properties import EmailAddress, PhoneNumber
from exchangelib.items import Contact as EwsContact
from exchangelib.properties import Attendee as EwsAttendee
from exchangelib.properties import Body, Mailbox

from proxy.core.model import (
    Attendee,
    AttendeeKind,
    ContactDraft,
    EventDraft,
    Response,
    Sensitivity,
    ShowAs,
)
from proxy.core.timeutil import iana_zone

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
