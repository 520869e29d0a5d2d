"""Google Calendar ``Event`` and People ``Person`` JSON to and from the common model.

Pure functions over ``json.loads`` output (no SDK model classes on the read path).
Malformed items raise :class:`Malformed` (a ``ValueError``), which the provider turns into
``UpstreamError`` before anything reaches the mirror. Mapping choices:

- ``visibility``: ``private`` -> private, ``confidential`` -> confidential; ``default``
  and ``public`` -> normal. Writing: normal -> ``default``, personal/private ->
  ``private``, confidential -> ``confidential``.
- show-as: ``eventType`` ``outOfOffice`` -> out of office, ``workingLocation`` -> working
  elsewhere, ``transparency: transparent`` -> free, a tentative event or own tentative
  answer -> tentative, else busy. Google has no field for the last three on write, so
  calproxy writes ``status: tentative`` for tentative and keeps out-of-office /
  working-elsewhere (and categories) in private extended properties.
- a cancelled item with ``recurringEventId`` is a cancelled occurrence; without it, a
  deletion (``None``: the caller reports the id as removed).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from proxy.core.links import conference_kind, find_meeting_link
from proxy.core.model import (
    Attendee,
    AttendeeKind,
    Conference,
    ConferenceProvider,
    Contact,
    ContactDraft,
    EmailAddress,
    Event,
    EventDraft,
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
from proxy.core.timeutil import iana_zone, zone

Json = dict[str, Any]
SHOW_AS_KEY = "calproxyShowAs"
CATEGORIES_KEY = "calproxyCategories"
_VISIBILITY = {"private": Sensitivity.PRIVATE, "confidential": Sensitivity.CONFIDENTIAL}
_RESPONSES = {"accepted": Response.ACCEPTED, "declined": Response.DECLINED,
              "tentative": Response.TENTATIVE, "needsAction": Response.NEEDS_ACTION}
_STATUSES = {"confirmed": EventStatus.CONFIRMED, "tentative": EventStatus.TENTATIVE,
             "cancelled": EventStatus.CANCELLED}
_EMAIL_TYPES = {"home", "work", "other"}
_PHONE_TYPES = {"mobile": "mobile", "work": "work", "home": "home", "main": "work",
                "workMobile": "mobile"}


class Malformed(ValueError):
    """An item lacks a field Google documents as always present (names the field)."""


def _str(item: Json, key: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Malformed(key)
    return value


def _when(value: Any, default_zone: str, key: str) -> tuple[Moment, str]:
    """A ``start``/``end``/``originalStartTime`` object: (moment, IANA zone)."""
    if not isinstance(value, dict):
        raise Malformed(key)
    try:
        if value.get("date"):
            return date.fromisoformat(value["date"]), default_zone
        tz = iana_zone(value.get("timeZone")) or default_zone
        moment = datetime.fromisoformat(value["dateTime"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Malformed(key) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return moment.astimezone(zone(tz)), tz


def event_from_json(item: Any, calendar_id: str, default_zone: str) -> Event | None:
    """The event, or ``None`` when the item reports a deletion."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise Malformed("id")
    status = _STATUSES.get(item.get("status") or "confirmed")
    if status is None:
        raise Malformed("status")
    series_id = item.get("recurringEventId")
    if status is EventStatus.CANCELLED and not series_id:
        return None
    original: tuple[Moment, str] | None = None
    if series_id:
        original = _when(item.get("originalStartTime"), default_zone, "originalStartTime")
    if "start" in item or original is None:
        start, tz = _when(item.get("start"), default_zone, "start")
        end, _ = _when(item.get("end"), tz, "end")
    else:
        (start, tz), end = original, original[0]
    return _build_event(item, calendar_id, status, start, end, tz, original)


def _build_event(item: Json, calendar_id: str, status: EventStatus, start: Moment,
                 end: Moment, tz: str, original: tuple[Moment, str] | None) -> Event:
    location, description = _str(item, "location"), _str(item, "description")
    conference = _conference(item, location, description)
    rrule, exdates = _recurrence(item.get("recurrence"), tz)
    recurrence = None
    if original is not None:
        recurrence = Recurrence(series_id=str(item["recurringEventId"]),
                                original_start=original[0], is_exception=True)
    return Event(
        provider_id=item["id"], calendar_id=calendar_id, service=Service.GOOGLE,
        start=start, end=end, time_zone=tz, all_day=not isinstance(start, datetime),
        ical_uid=item.get("iCalUID"), title=_str(item, "summary"), description=description,
        location=location, status=status, show_as=_show_as(item, status),
        sensitivity=_VISIBILITY.get(item.get("visibility") or "", Sensitivity.NORMAL),
        organizer=_person(item.get("organizer")), attendees=_attendees(item.get("attendees")),
        join_url=conference.join_url if conference else None, conference=conference,
        categories=_categories(item), recurrence=recurrence, rrule=rrule, exdates=exdates,
        created=_stamp(item.get("created")), updated=_stamp(item.get("updated")),
        sequence=int(item.get("sequence") or 0),
    )


def _private_props(item: Json) -> Json:
    props = (item.get("extendedProperties") or {}).get("private") or {}
    return props if isinstance(props, dict) else {}


def _show_as(item: Json, status: EventStatus) -> ShowAs:
    kind = item.get("eventType")
    if kind == "outOfOffice":
        return ShowAs.OUT_OF_OFFICE
    if kind == "workingLocation":
        return ShowAs.WORKING_ELSEWHERE
    if item.get("transparency") == "transparent":
        return ShowAs.FREE
    hint = _private_props(item).get(SHOW_AS_KEY)
    if hint in (ShowAs.OUT_OF_OFFICE.value, ShowAs.WORKING_ELSEWHERE.value):
        return ShowAs(hint)
    own = next((a for a in item.get("attendees") or [] if isinstance(a, dict) and a.get("self")),
               None)
    if status is EventStatus.TENTATIVE or (own and own.get("responseStatus") == "tentative"):
        return ShowAs.TENTATIVE
    return ShowAs.BUSY


def _person(value: Any) -> Person | None:
    if not isinstance(value, dict):
        return None
    return Person(value.get("displayName"), value.get("email"))


def _attendees(value: Any) -> tuple[Attendee, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise Malformed("attendees")
    out = []
    for a in value:
        if not isinstance(a, dict):
            raise Malformed("attendees")
        kind = (AttendeeKind.RESOURCE if a.get("resource") else
                AttendeeKind.OPTIONAL if a.get("optional") else AttendeeKind.REQUIRED)
        out.append(Attendee(a.get("displayName"), a.get("email"), kind,
                            _RESPONSES.get(a.get("responseStatus") or "", Response.NONE)))
    return tuple(out)


def _conference(item: Json, location: str, description: str) -> Conference | None:
    data = item.get("conferenceData")
    if isinstance(data, dict):
        for entry in data.get("entryPoints") or []:
            if isinstance(entry, dict) and entry.get("entryPointType") == "video" and isinstance(
                    entry.get("uri"), str):
                kind = conference_kind(entry["uri"])
                if kind is ConferenceProvider.OTHER and _solution(data) == "hangoutsMeet":
                    kind = ConferenceProvider.MEET
                return Conference(kind, entry["uri"])
    if isinstance(item.get("hangoutLink"), str):
        return Conference(ConferenceProvider.MEET, item["hangoutLink"])
    return find_meeting_link(location, description)


def _solution(data: Json) -> str | None:
    solution = data.get("conferenceSolution") or {}
    key = solution.get("key") if isinstance(solution, dict) else None
    return key.get("type") if isinstance(key, dict) else None


def _categories(item: Json) -> tuple[str, ...]:
    raw = _private_props(item).get(CATEGORIES_KEY)
    try:
        values = json.loads(raw) if isinstance(raw, str) else []
    except ValueError:
        return ()
    return tuple(str(v) for v in values) if isinstance(values, list) else ()


def _recurrence(lines: Any, tz: str) -> tuple[tuple[str, ...], tuple[Moment, ...]]:
    """RRULE values and EXDATE moments of a master's ``recurrence`` lines."""
    if not lines:
        return (), ()
    if not isinstance(lines, list):
        raise Malformed("recurrence")
    rules: list[str] = []
    exdates: list[Moment] = []
    for line in lines:
        name, _, value = str(line).partition(":")
        head = name.split(";")[0].upper()
        if head == "RRULE":
            rules.append(value)
        elif head == "EXDATE":
            exdates.extend(_exdates(name, value, tz))
    return tuple(rules), tuple(exdates)


def _exdates(name: str, value: str, tz: str) -> list[Moment]:
    tzid = next((p[5:] for p in name.split(";") if p.upper().startswith("TZID=")), tz)
    out: list[Moment] = []
    for text in value.split(","):
        text = text.strip()
        try:
            if len(text) == 8:
                out.append(date(int(text[:4]), int(text[4:6]), int(text[6:])))
                continue
            moment = datetime.strptime(text.rstrip("Z"), "%Y%m%dT%H%M%S")
        except ValueError as exc:
            raise Malformed("recurrence") from exc
        source = zone("UTC") if text.endswith("Z") else zone(iana_zone(tzid) or tz)
        out.append(moment.replace(tzinfo=source).astimezone(zone(tz)))
    return out


def _stamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


# --- writes ------------------------------------------------------------------------------

_VISIBILITY_OUT = {Sensitivity.NORMAL: "default", Sensitivity.PERSONAL: "private",
                   Sensitivity.PRIVATE: "private", Sensitivity.CONFIDENTIAL: "confidential"}
_RESPONSES_OUT = {v: k for k, v in _RESPONSES.items()}


def _when_out(moment: Moment, tz: str) -> Json:
    if isinstance(moment, datetime):
        return {"dateTime": moment.astimezone(zone(tz)).isoformat(), "timeZone": tz,
                "date": None}
    return {"date": moment.isoformat(), "dateTime": None, "timeZone": None}


def draft_to_json(draft: EventDraft) -> Json:
    """The ``Event`` body for insert (all fields) or patch (only the given ones)."""
    body: Json = {}
    given = draft.given()
    for field, key in (("title", "summary"), ("description", "description"),
                       ("location", "location")):
        if field in given:
            body[key] = given[field]
    tz = iana_zone(draft.time_zone) or "UTC"
    for field in ("start", "end"):
        if field in given:
            moment = given[field]
            if draft.all_day and isinstance(moment, datetime):
                moment = moment.date()
            body[field] = _when_out(moment, tz)
        elif draft.time_zone is not None:
            body[field] = {"timeZone": tz}
    private: Json = {}
    if draft.show_as is not None:
        body["transparency"] = "transparent" if draft.show_as is ShowAs.FREE else "opaque"
        body["status"] = "tentative" if draft.show_as is ShowAs.TENTATIVE else "confirmed"
        special = draft.show_as in (ShowAs.OUT_OF_OFFICE, ShowAs.WORKING_ELSEWHERE)
        private[SHOW_AS_KEY] = draft.show_as.value if special else None
    if draft.sensitivity is not None:
        body["visibility"] = _VISIBILITY_OUT[draft.sensitivity]
    if draft.attendees is not None:
        body["attendees"] = [_attendee_out(a) for a in draft.attendees if a.email]
    if draft.categories is not None:
        private[CATEGORIES_KEY] = json.dumps(list(draft.categories)) if draft.categories else None
    if private:
        body["extendedProperties"] = {"private": private}
    return body


def _attendee_out(attendee: Attendee) -> Json:
    out: Json = {"email": attendee.email,
                 "responseStatus": _RESPONSES_OUT.get(attendee.response, "needsAction")}
    if attendee.name:
        out["displayName"] = attendee.name
    if attendee.kind is AttendeeKind.OPTIONAL:
        out["optional"] = True
    if attendee.kind is AttendeeKind.RESOURCE:
        out["resource"] = True
    return out


# --- contacts ------------------------------------------------------------------------------

PERSON_FIELDS = "names,emailAddresses,phoneNumbers,organizations"


def contact_from_json(person: Any) -> Contact | None:
    """The contact, or ``None`` when the person reports a deletion."""
    if not isinstance(person, dict) or not isinstance(person.get("resourceName"), str):
        raise Malformed("resourceName")
    if (person.get("metadata") or {}).get("deleted"):
        return None
    name = _first(person, "names")
    org = _first(person, "organizations")
    emails = tuple(
        EmailAddress(e["value"], str(e["type"]) if e.get("type") in _EMAIL_TYPES else "other")
        for e in _list(person, "emailAddresses") if isinstance(e.get("value"), str))
    phones = tuple(
        PhoneNumber(p["value"], _PHONE_TYPES.get(p.get("type") or "", "other"))
        for p in _list(person, "phoneNumbers") if isinstance(p.get("value"), str))
    given, family = name.get("givenName"), name.get("familyName")
    display = name.get("displayName") or " ".join(p for p in (given, family) if p)
    return Contact(provider_id=person["resourceName"], service=Service.GOOGLE,
                   display_name=display or (emails[0].address if emails else ""),
                   given_name=given, surname=family, emails=emails, phones=phones,
                   company=org.get("name"), job_title=org.get("title"))


def _list(person: Json, key: str) -> list[Json]:
    value = person.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise Malformed(key)
    return value


def _first(person: Json, key: str) -> Json:
    items = _list(person, key)
    primary = [i for i in items if (i.get("metadata") or {}).get("primary")]
    return (primary or items or [{}])[0]


def contact_to_json(draft: ContactDraft) -> Json:
    body: Json = {}
    if draft.given_name or draft.surname or draft.display_name:
        name: Json = {"givenName": draft.given_name, "familyName": draft.surname}
        if draft.display_name and not (draft.given_name or draft.surname):
            name = {"givenName": draft.display_name}
        body["names"] = [{k: v for k, v in name.items() if v}]
    if draft.emails:
        body["emailAddresses"] = [{"value": e.address, "type": e.type} for e in draft.emails]
    if draft.phones:
        body["phoneNumbers"] = [{"value": p.number, "type": p.type} for p in draft.phones]
    if draft.company or draft.job_title:
        body["organizations"] = [{k: v for k, v in
                                  (("name", draft.company), ("title", draft.job_title)) if v}]
    return body
