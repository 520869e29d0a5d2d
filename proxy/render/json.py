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
    rec = event.recurrence
    return {
        "id": event.id,
        "calendar_id": event.calendar_id,
        "service": event.service.value,
        "ical_uid": event.ical_uid,
        "title": event.title,
        "description": event.description or None if event.redacted else event.description,
        "location": event.location or None if event.redacted else event.location,
        "start": format_moment(event.start),
        "end": format_moment(event.end),
        "time_zone": event.time_zone,
        "all_day": event.all_day,
        "status": event.status.value,
        "show_as": event.show_as.value,
        "sensitivity": event.sensitivity.value,
        "organizer": None if event.organizer is None else {
            "name": event.organizer.name, "email": event.organizer.email},
        "attendees": [_attendee(a) for a in event.attendees],
        "join_url": event.join_url,
        "conference": None if event.conference is None else {
            "provider": event.conference.provider.value,
            "join_url": event.conference.join_url},
        "categories": list(event.categories),
        "recurrence": None if rec is None else {
            "series_id": rec.series_id,
            "original_start": None if rec.original_start is None
            else format_moment(rec.original_start),
            "is_exception": rec.is_exception,
        },
        "created": None if event.created is None else format_moment(event.created),
        "updated": None if event.updated is None else format_moment(event.updated),
        "redacted": event.redacted,
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
