"""The JSON model of DESIGN §4, rendered from visible events and contacts."""

from __future__ import annotations

import json
from typing import Any

import orjson

from proxy.core.model import Attendee, Contact
from proxy.core.timeutil import format_moment
from proxy.redaction import VisibleEvent


def json_bytes(value: Any) -> bytes:
    """Compact JSON (orjson: several times faster than the standard library). Text that
    is not valid Unicode (a lone surrogate a provider sent escaped) is written escaped, as
    the standard library does, instead of failing."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":")).encode()


def event_json(event: VisibleEvent) -> dict[str, Any]:
    """The JSON model of one visible event. Enum fields are given as their members
    (``StrEnum``: both orjson and the standard library write their values, and they
    compare equal to them) and moments by ``isoformat`` (what :func:`format_moment`
    writes for both instants and dates): this runs once per event of every first read."""
    rec = event.recurrence
    organizer, conference, redacted = event.organizer, event.conference, event.redacted
    created, updated = event.created, event.updated
    return {
        "id": event.id,
        "calendar_id": event.calendar_id,
        "service": event.service,
        "ical_uid": event.ical_uid,
        "title": event.title,
        "description": event.description or None if redacted else event.description,
        "location": event.location or None if redacted else event.location,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "time_zone": event.time_zone,
        "all_day": event.all_day,
        "status": event.status,
        "show_as": event.show_as,
        "sensitivity": event.sensitivity,
        "organizer": None if organizer is None else {
            "name": organizer.name, "email": organizer.email},
        "attendees": [_attendee(a) for a in event.attendees] if event.attendees else [],
        "join_url": event.join_url,
        "conference": None if conference is None else {
            "provider": conference.provider, "join_url": conference.join_url},
        "categories": list(event.categories),
        "recurrence": None if rec is None else {
            "series_id": rec.series_id,
            "original_start": None if rec.original_start is None
            else format_moment(rec.original_start),
            "is_exception": rec.is_exception,
        },
        "created": None if created is None else created.isoformat(),
        "updated": None if updated is None else updated.isoformat(),
        "redacted": redacted,
        "can_edit": event.can_edit,
    }


def _attendee(a: Attendee) -> dict[str, Any]:
    return {"name": a.name, "email": a.email, "kind": a.kind.value,
            "response": a.response.value}


def contact_json(contact_id: str, contact: Contact) -> dict[str, Any]:
    return {
        "id": contact_id,
        "service": contact.service.value,
        "display_name": contact.display_name,
        "given_name": contact.given_name,
        "surname": contact.surname,
        "emails": [{"address": e.address, "type": e.type} for e in contact.emails],
        "phones": [{"number": p.number, "type": p.type} for p in contact.phones],
        "company": contact.company,
        "job_title": contact.job_title,
    }
