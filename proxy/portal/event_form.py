"""The "Schedule a meeting" and edit forms: what was typed, and the draft it makes.

The typed date, times and zone become the RFC 3339 body the JSON API takes, and that body
goes through the API's own :func:`~proxy.http.event_input.parse_event_draft`, so a
meeting made in the portal is checked exactly like one made over the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from multidict import MultiDictProxy

from proxy.core.model import EventDraft
from proxy.core.timeutil import is_known_zone, to_utc, zone
from proxy.errors import BadRequest, CalproxyError
from proxy.http.event_input import parse_event_draft
from proxy.portal.forms import field_of, words
from proxy.redaction import VisibleEvent

FIELDS = ("title", "date", "start", "end", "time_zone", "location", "description")


@dataclass
class EventForm:
    values: dict[str, str]
    private: bool = False
    schedule_for: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None

    def _moment(self, name: str) -> str:
        try:
            day = date.fromisoformat(self.values["date"])
        except ValueError:
            raise BadRequest("date: enter a date such as 2026-12-01") from None
        try:
            clock = time.fromisoformat(self.values[name])
        except ValueError:
            raise BadRequest(f"{name}: enter a time such as 09:30") from None
        zone_name = self.values["time_zone"].strip() or "UTC"
        if not is_known_zone(zone_name):
            raise BadRequest("time_zone: not a time zone name such as Europe/Berlin")
        return datetime.combine(day, clock, tzinfo=zone(zone_name)).isoformat()

    def draft(self, creating: bool, was_private: bool = False) -> EventDraft:
        """The API's draft of what was typed; raises naming the field at fault."""
        body: dict[str, Any] = {
            "title": self.values["title"], "location": self.values["location"],
            "description": self.values["description"],
            "start": self._moment("start"), "end": self._moment("end"),
            "time_zone": self.values["time_zone"].strip() or "UTC"}
        if self.private != was_private or creating:
            body["sensitivity"] = "private" if self.private else "normal"
        draft, _ = parse_event_draft(body, creating=creating)
        return draft

    def refused(self, exc: CalproxyError) -> None:
        """Show a refusal next to its field, or above the form."""
        name = field_of(exc)
        if name in FIELDS:
            self.errors[name] = words(exc)
        else:
            self.problem = words(exc)


def read_form(form: MultiDictProxy[str]) -> EventForm:
    return EventForm({name: form.get(name, "") for name in FIELDS},
                     private=form.get("private") == "on",
                     schedule_for=form.get("schedule_for", "me"))


def blank_form(day: date, zone_name: str, owner: str) -> EventForm:
    return EventForm({"title": "", "date": day.isoformat(), "start": "09:00", "end": "09:30",
                      "time_zone": zone_name, "location": "", "description": ""},
                     schedule_for=owner)


def form_of_event(event: VisibleEvent, zone_name: str, owner: str) -> EventForm:
    """An editable event's fields (only ever one the viewer may see and edit in full)."""
    event_zone = event.time_zone or zone_name
    start = to_utc(event.start, event_zone).astimezone(zone(event_zone))
    end = to_utc(event.end, event_zone).astimezone(zone(event_zone))
    return EventForm({"title": event.title, "date": start.date().isoformat(),
                      "start": f"{start:%H:%M}", "end": f"{end:%H:%M}",
                      "time_zone": event_zone, "location": event.location,
                      "description": event.description},
                     private=event.sensitivity.is_private, schedule_for=owner)
