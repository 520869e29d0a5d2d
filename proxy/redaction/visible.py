"""What one audience may see of one event, decided in one place."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime

from proxy.core.links import strip_urls
from proxy.core.mirror import MirroredEvent
from proxy.core.model import (
    Attendee,
    Conference,
    EventStatus,
    Moment,
    Person,
    Sensitivity,
    Service,
    ShowAs,
)

PRIVATE_TITLE = "Private event"
_BUSY_TITLES = {
    ShowAs.TENTATIVE: "Tentative",
    ShowAs.OUT_OF_OFFICE: "Out of office",
}


class Detail(enum.Enum):
    """How much of a (non-private) event an audience sees, lowest first."""

    BUSY = 1  # time and show-as only, titled "Busy" / "Tentative" / "Out of office"
    LIMITED = 2  # plus title and location (URLs removed)
    FULL = 3  # everything


@dataclass(frozen=True, slots=True)
class Audience:
    """Who is looking: the detail of ordinary events, and whether private ones show.

    ``can_edit`` says whether the caller may write this calendar at all;
    ``can_edit_private`` whether that extends to private events.
    """

    detail: Detail
    sees_private: bool
    can_edit: bool = False
    can_edit_private: bool = False


@dataclass(frozen=True, slots=True)
class RecurrenceRef:
    series_id: str
    original_start: Moment | None
    is_exception: bool


@dataclass(frozen=True, slots=True)
class VisibleEvent:
    """An event as one audience may see it. Built only by :func:`redact`.

    ``uid`` is the iCalendar UID to publish: the provider's at full detail, an opaque
    hash of it otherwise (a provider UID can name hosts).
    """

    id: str
    calendar_id: str
    service: Service
    uid: str
    ical_uid: str | None
    title: str
    description: str
    location: str
    start: Moment
    end: Moment
    time_zone: str
    all_day: bool
    status: EventStatus
    show_as: ShowAs
    sensitivity: Sensitivity
    organizer: Person | None
    attendees: tuple[Attendee, ...]
    join_url: str | None
    conference: Conference | None
    categories: tuple[str, ...]
    recurrence: RecurrenceRef | None
    rrule: tuple[str, ...]
    exdates: tuple[Moment, ...]
    created: datetime | None
    updated: datetime | None
    sequence: int
    redacted: bool
    can_edit: bool
    #: a master whose occurrences the provider lists (see ``Event.occurrences_listed``)
    occurrences_listed: bool = False


def opaque_uid(uid: str) -> str:
    return hashlib.sha256(f"calproxy-uid:{uid}".encode()).hexdigest()[:32] + "@calproxy"


def redact(item: MirroredEvent, audience: Audience) -> VisibleEvent | None:
    """The event as ``audience`` may see it, or ``None`` when it must not appear at all.

    A private event the audience may not see becomes a busy block; when it is free there
    is no busy time to show, so it is left out entirely.
    """
    event = item.event
    hidden = event.is_private and not audience.sees_private
    if hidden and event.show_as is ShowAs.FREE:
        return None
    if hidden or audience.detail is Detail.BUSY:
        return _busy_block(item, private=hidden)
    limited = audience.detail is Detail.LIMITED
    return VisibleEvent(
        id=item.id, calendar_id=item.calendar_id, service=event.service,
        uid=opaque_uid(_source_uid(item)) if limited else _source_uid(item),
        ical_uid=None if limited else event.ical_uid,
        title=event.title, description="" if limited else event.description,
        location=strip_urls(event.location) if limited else event.location,
        start=event.start, end=event.end, time_zone=event.time_zone, all_day=event.all_day,
        status=event.status, show_as=event.show_as, sensitivity=event.sensitivity,
        organizer=None if limited else event.organizer,
        attendees=() if limited else event.attendees,
        join_url=None if limited else event.join_url,
        conference=None if limited else event.conference,
        categories=() if limited else event.categories,
        recurrence=_recurrence(item), rrule=event.rrule, exdates=event.exdates,
        created=event.created, updated=event.updated, sequence=event.sequence,
        redacted=limited,
        can_edit=audience.can_edit and (audience.can_edit_private or not event.is_private),
        occurrences_listed=event.occurrences_listed,
    )


def _busy_block(item: MirroredEvent, private: bool) -> VisibleEvent:
    """Only times, show-as, status, sensitivity and recurrence ids survive."""
    event = item.event
    title = PRIVATE_TITLE if private else _BUSY_TITLES.get(event.show_as, "Busy")
    return VisibleEvent(
        id=item.id, calendar_id=item.calendar_id, service=event.service,
        uid=opaque_uid(_source_uid(item)), ical_uid=None, title=title, description="",
        location="", start=event.start, end=event.end, time_zone=event.time_zone,
        all_day=event.all_day, status=event.status, show_as=event.show_as,
        sensitivity=event.sensitivity, organizer=None, attendees=(), join_url=None,
        conference=None, categories=(), recurrence=_recurrence(item), rrule=event.rrule,
        exdates=event.exdates, created=None, updated=None, sequence=event.sequence,
        redacted=True, can_edit=False, occurrences_listed=event.occurrences_listed,
    )


def _source_uid(item: MirroredEvent) -> str:
    """The UID a series shares: the provider's iCalendar UID, else the series' public id."""
    event = item.event
    return event.ical_uid or item.series_public_id or item.id


def _recurrence(item: MirroredEvent) -> RecurrenceRef | None:
    rec = item.event.recurrence
    if rec is None:
        return None
    return RecurrenceRef(item.series_public_id or item.id, rec.original_start,
                         rec.is_exception)
