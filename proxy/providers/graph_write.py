"""Drafts → Graph JSON bodies for creating and updating events and contacts.

Only the fields a draft gives are sent (PATCH semantics). Times go out as Graph's
``dateTimeTimeZone``: the local wall time in the event's zone, named with its Windows
name where one exists (what Outlook itself writes), else the IANA name, which Graph also
accepts. All-day events are midnight-to-midnight dates with ``isAllDay``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from proxy.core.model import ContactDraft, EventDraft, Moment, ShowAs
from proxy.core.timeutil import zone

SHOW_AS_OUT = {ShowAs.FREE: "free", ShowAs.TENTATIVE: "tentative", ShowAs.BUSY: "busy",
               ShowAs.OUT_OF_OFFICE: "oof", ShowAs.WORKING_ELSEWHERE: "workingElsewhere",
               ShowAs.UNKNOWN: "unknown"}
IANA_TO_WINDOWS: dict[str, str] = {}
for _windows, _iana in WINDOWS_TO_OLSON.items():
    IANA_TO_WINDOWS.setdefault(str(_iana), str(_windows))
IANA_TO_WINDOWS["UTC"] = "UTC"


def zone_name_of(moment: Moment | None, fallback: str | None) -> str:
    """The IANA zone a draft's time should be written in."""
    if isinstance(moment, datetime) and isinstance(moment.tzinfo, ZoneInfo):
        return moment.tzinfo.key
    return fallback or "UTC"


def graph_time(moment: Moment, zone_name: str) -> dict[str, str]:
    """A moment as Graph's dateTimeTimeZone in ``zone_name`` (an IANA name)."""
    windows = IANA_TO_WINDOWS.get(zone_name, zone_name)
    if isinstance(moment, datetime):
        local = moment.astimezone(zone(zone_name)).replace(tzinfo=None)
        return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": windows}
    assert isinstance(moment, date)
    return {"dateTime": f"{moment.isoformat()}T00:00:00", "timeZone": windows}


def event_body(draft: EventDraft, current_zone: str | None = None) -> dict[str, Any]:
    """The Graph JSON for the fields ``draft`` gives."""
    given = draft.given()
    body: dict[str, Any] = {}
    if "title" in given:
        body["subject"] = draft.title
    if "description" in given:
        body["body"] = {"contentType": "text", "content": draft.description}
    if "location" in given:
        body["location"] = {"displayName": draft.location}
    if draft.show_as is not None:
        body["showAs"] = SHOW_AS_OUT[draft.show_as]
    if draft.sensitivity is not None:
        body["sensitivity"] = draft.sensitivity.value
    if draft.categories is not None:
        body["categories"] = list(draft.categories)
    if draft.attendees is not None:
        body["attendees"] = [
            {"emailAddress": {"address": a.email, "name": a.name or a.email},
             "type": a.kind.value} for a in draft.attendees]
    body.update(_times(draft, current_zone))
    return body


def _times(draft: EventDraft, current_zone: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    all_day = draft.all_day
    if all_day is None and draft.start is not None:
        all_day = not isinstance(draft.start, datetime)
    if all_day is not None:
        out["isAllDay"] = all_day
    zone_name = draft.time_zone or zone_name_of(draft.start, current_zone)
    if draft.start is not None:
        out["start"] = graph_time(draft.start, zone_name)
    if draft.end is not None:
        out["end"] = graph_time(draft.end, zone_name)
    return out


def contact_body(draft: ContactDraft) -> dict[str, Any]:
    body: dict[str, Any] = {
        "givenName": draft.given_name, "surname": draft.surname,
        "displayName": draft.display_name or " ".join(
            p for p in (draft.given_name, draft.surname) if p),
        "emailAddresses": [{"address": e.address, "name": e.address} for e in draft.emails],
        "businessPhones": [p.number for p in draft.phones if p.type == "work"],
        "homePhones": [p.number for p in draft.phones if p.type == "home"],
        "companyName": draft.company, "jobTitle": draft.job_title,
    }
    mobile = [p.number for p in draft.phones if p.type in ("mobile", "other")]
    if mobile:
        body["mobilePhone"] = mobile[0]
    return {k: v for k, v in body.items() if v is not None}
