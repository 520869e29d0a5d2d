"""What each VEVENT property says, decided once for both writers.

Only values a :class:`~proxy.redaction.visible.VisibleEvent` already carries are used,
so nothing here can show more than redaction allowed; some decisions show less:

- at ``busy`` detail every SUMMARY is "Busy" / "Tentative" / "Out of office" by
  show-as (DESIGN §5: "nothing else"), so a hidden private event is not singled out
  as "Private event", and no CLASS is written for the same reason;
- the join URL is written as URL at ``full`` detail only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from proxy.core.model import AttendeeKind, EventStatus, Response, Sensitivity, ShowAs
from proxy.redaction.visible import Detail, VisibleEvent

_BUSY_SUMMARY = {ShowAs.TENTATIVE: "Tentative", ShowAs.OUT_OF_OFFICE: "Out of office"}
STATUS = {
    EventStatus.CONFIRMED: "CONFIRMED",
    EventStatus.TENTATIVE: "TENTATIVE",
    EventStatus.CANCELLED: "CANCELLED",
}
CLASS = {
    Sensitivity.NORMAL: "PUBLIC",
    Sensitivity.PERSONAL: "PRIVATE",
    Sensitivity.PRIVATE: "PRIVATE",
    Sensitivity.CONFIDENTIAL: "CONFIDENTIAL",
}
#: Outlook reads this to colour a subscribed event by show-as (free, tentative, OOF...).
BUSY_STATUS = {
    ShowAs.FREE: "FREE",
    ShowAs.TENTATIVE: "TENTATIVE",
    ShowAs.BUSY: "BUSY",
    ShowAs.OUT_OF_OFFICE: "OOF",
    ShowAs.WORKING_ELSEWHERE: "WORKINGELSEWHERE",
}
ROLE = {
    AttendeeKind.REQUIRED: "REQ-PARTICIPANT",
    AttendeeKind.OPTIONAL: "OPT-PARTICIPANT",
    AttendeeKind.RESOURCE: "NON-PARTICIPANT",
}
PARTSTAT = {
    Response.ACCEPTED: "ACCEPTED",
    Response.DECLINED: "DECLINED",
    Response.TENTATIVE: "TENTATIVE",
    Response.NEEDS_ACTION: "NEEDS-ACTION",
    Response.NONE: "NEEDS-ACTION",
}


def summary(event: VisibleEvent, detail: Detail) -> str:
    if detail is Detail.BUSY:
        return _BUSY_SUMMARY.get(event.show_as, "Busy")
    return event.title


def transparency(event: VisibleEvent) -> str:
    return "TRANSPARENT" if event.show_as is ShowAs.FREE else "OPAQUE"


def access_class(event: VisibleEvent, detail: Detail) -> str | None:
    return None if detail is Detail.BUSY else CLASS[event.sensitivity]


def join_url(event: VisibleEvent, detail: Detail) -> str | None:
    if detail is not Detail.FULL:
        return None
    if event.join_url:
        return event.join_url
    return event.conference.join_url if event.conference else None


def dtstamp(event: VisibleEvent, generated_at: datetime) -> datetime:
    """The event's DTSTAMP: its last change when redaction let that through, else the
    time the caller says the feed's data was generated. Never the wall clock, so the
    same data renders to the same bytes (and the same ETag)."""
    return (event.updated or generated_at).astimezone(UTC)


def rrule_value(rule: str) -> str:
    """An RRULE value as stored, without a ``RRULE:`` prefix some sources keep."""
    rule = rule.strip()
    return rule[6:] if rule[:6].upper() == "RRULE:" else rule
