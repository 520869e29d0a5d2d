"""Parsing the writable fields of an event (DESIGN §5) into an ``EventDraft``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from proxy.core.model import (
    Attendee,
    AttendeeKind,
    EventDraft,
    Moment,
    Response,
    Sensitivity,
    ShowAs,
)
from proxy.core.timeutil import is_known_zone, parse_moment
from proxy.errors import BadRequest
from proxy.http.input import get_bool, get_str, only_fields

WRITABLE = {"title", "description", "location", "start", "end", "time_zone", "all_day",
            "show_as", "sensitivity", "attendees", "categories"}


def parse_event_draft(body: dict[str, Any], creating: bool) -> tuple[EventDraft, str | None]:
    """The draft and (on POST) the target ``calendar_id``; 400 naming any bad field."""
    only_fields(body, WRITABLE | ({"calendar_id"} if creating else set()))
    calendar_id = get_str(body, "calendar_id") if creating else None
    all_day = get_bool(body, "all_day")
    start = _moment(body, "start", all_day)
    end = _moment(body, "end", all_day)
    if creating and (start is None or end is None):
        raise BadRequest(f"{'start' if start is None else 'end'}: required", "missing_field")
    if start is not None and end is not None:
        _check_order(start, end)
    time_zone = get_str(body, "time_zone", max_len=64)
    if time_zone is not None and not is_known_zone(time_zone):
        raise BadRequest("time_zone: not an IANA time zone name", "invalid_field")
    draft = EventDraft(
        title=get_str(body, "title", max_len=1000),
        description=get_str(body, "description", max_len=64_000),
        location=get_str(body, "location", max_len=1000),
        start=start, end=end, time_zone=time_zone, all_day=all_day,
        show_as=_enum(body, "show_as", ShowAs), sensitivity=_enum(body, "sensitivity",
                                                                  Sensitivity),
        attendees=_attendees(body.get("attendees")),
        categories=_categories(body.get("categories")),
    )
    if creating and draft.time_zone is None and isinstance(start, datetime):
        draft = EventDraft(**{**draft.given(), "time_zone": "UTC"})
    return draft, calendar_id


def _moment(body: dict[str, Any], name: str, all_day: bool | None) -> Moment | None:
    raw = body.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise BadRequest(f"{name}: expected an RFC 3339 string", "invalid_field")
    try:
        value = parse_moment(raw)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}", "invalid_field") from None
    if all_day and isinstance(value, datetime):
        raise BadRequest(f"{name}: all-day events take a date such as 2026-11-24",
                         "invalid_field")
    if all_day is False and not isinstance(value, datetime):
        raise BadRequest(f"{name}: timed events need a timestamp with an offset",
                         "invalid_field")
    return value


def _check_order(start: Moment, end: Moment) -> None:
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise BadRequest("end: must be the same kind (date or timestamp) as start",
                         "invalid_field")
    if isinstance(start, datetime) and isinstance(end, datetime):
        if end <= start:
            raise BadRequest("end: must be after start", "invalid_field")
        if end - start > timedelta(days=366):
            raise BadRequest("end: an event may last at most 366 days", "invalid_field")
    elif isinstance(start, date) and isinstance(end, date) and end <= start:
        raise BadRequest("end: must be after start (all-day end is exclusive)",
                         "invalid_field")


def _enum(body: dict[str, Any], name: str, kind: type[Any]) -> Any:
    raw = body.get(name)
    if raw is None:
        return None
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise BadRequest(f"{name}: expected one of {allowed}", "invalid_field") from None


def _attendees(raw: Any) -> tuple[Attendee, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) > 500:
        raise BadRequest("attendees: expected a list (at most 500)", "invalid_field")
    out = []
    for i, item in enumerate(raw):
        where = f"attendees[{i}]."
        if not isinstance(item, dict):
            raise BadRequest(f"attendees[{i}]: expected an object", "invalid_field")
        only_fields(item, {"name", "email", "kind", "response"}, where)
        email = get_str(item, "email", required=True, max_len=320, where=where)
        if email is None or "@" not in email:
            raise BadRequest(f"{where}email: not an email address", "invalid_field")
        out.append(Attendee(
            name=get_str(item, "name", max_len=500, where=where), email=email,
            kind=_enum(item, "kind", AttendeeKind) or AttendeeKind.REQUIRED,
            response=_enum(item, "response", Response) or Response.NONE))
    return tuple(out)


def _categories(raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(c, str) and len(c) < 256 for c in raw):
        raise BadRequest("categories: expected a list of strings", "invalid_field")
    return tuple(raw)
