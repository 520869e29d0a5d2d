"""The common model: frozen data, no behaviour that touches the outside world.

Every provider normalizes into these types and every output path renders from them
(through :mod:`proxy.redaction`). Times are aware ``datetime`` values in the event's own
zone, or ``date`` values for all-day events (``end`` exclusive).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


class Service(enum.StrEnum):
    GRAPH = "graph"
    EWS_O365 = "ews_o365"
    EXCHANGE_EWS = "exchange_ews"
    EXCHANGE_MAPI = "exchange_mapi"
    GOOGLE = "google"


class EventStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


class ShowAs(enum.StrEnum):
    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OUT_OF_OFFICE = "out_of_office"
    WORKING_ELSEWHERE = "working_elsewhere"
    UNKNOWN = "unknown"


class Sensitivity(enum.StrEnum):
    NORMAL = "normal"
    PERSONAL = "personal"
    PRIVATE = "private"
    CONFIDENTIAL = "confidential"

    @property
    def is_private(self) -> bool:
        """Personal, private and confidential all hide the event from other eyes."""
        return self is not Sensitivity.NORMAL


class AttendeeKind(enum.StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    RESOURCE = "resource"


class Response(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"
    NEEDS_ACTION = "needs_action"
    NONE = "none"


class ConferenceProvider(enum.StrEnum):
    ZOOM = "zoom"
    TEAMS = "teams"
    MEET = "meet"
    OTHER = "other"


class Access(enum.StrEnum):
    """A permission level for calendars or contacts; ``write`` implies ``read``."""

    NONE = "none"
    READ = "read"
    WRITE = "write"

    @property
    def rank(self) -> int:
        return ("none", "read", "write").index(self.value)

    def allows(self, wanted: Access) -> bool:
        return self.rank >= wanted.rank


@dataclass(frozen=True, slots=True)
class Permissions:
    calendar: Access = Access.WRITE
    contacts: Access = Access.READ

    def within(self, limit: Permissions) -> bool:
        return limit.calendar.allows(self.calendar) and limit.contacts.allows(self.contacts)

    def capped_by(self, limit: Permissions) -> Permissions:
        return Permissions(
            calendar=min(self.calendar, limit.calendar, key=lambda a: a.rank),
            contacts=min(self.contacts, limit.contacts, key=lambda a: a.rank),
        )


@dataclass(frozen=True, slots=True)
class Person:
    name: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Attendee:
    name: str | None
    email: str | None
    kind: AttendeeKind = AttendeeKind.REQUIRED
    response: Response = Response.NONE


@dataclass(frozen=True, slots=True)
class Conference:
    provider: ConferenceProvider
    join_url: str


@dataclass(frozen=True, slots=True)
class Recurrence:
    """Links an occurrence or exception to its series.

    ``series_id`` is the provider's id of the series master; ``original_start`` is the
    start the occurrence had before it was moved (equal to ``start`` when it was not).
    """

    series_id: str
    original_start: datetime | date | None = None
    is_exception: bool = False


Moment = datetime | date


@dataclass(frozen=True, slots=True)
class Event:
    """One event as a provider holds it, normalized.

    ``provider_id`` is the provider's id, unique within one calendar of one integration.
    A series master carries ``rrule`` (RFC 5545 RRULE values) and ``exdates``; the core
    expands it, so providers that only deliver occurrences simply leave ``rrule`` empty.

    ``occurrences_listed`` marks a master whose provider lists every occurrence itself
    (Graph and EWS calendar views): the listed occurrences are the truth for ``/events``
    and the core never expands such a master; it is kept so that feeds can publish the
    series as one VEVENT with RRULE (:mod:`proxy.ics.listed`).
    """

    provider_id: str
    calendar_id: str
    service: Service
    start: Moment
    end: Moment
    time_zone: str = "UTC"
    all_day: bool = False
    ical_uid: str | None = None
    title: str = ""
    description: str = ""
    location: str = ""
    status: EventStatus = EventStatus.CONFIRMED
    show_as: ShowAs = ShowAs.BUSY
    sensitivity: Sensitivity = Sensitivity.NORMAL
    organizer: Person | None = None
    attendees: tuple[Attendee, ...] = ()
    join_url: str | None = None
    conference: Conference | None = None
    categories: tuple[str, ...] = ()
    recurrence: Recurrence | None = None
    rrule: tuple[str, ...] = ()
    exdates: tuple[Moment, ...] = ()
    created: datetime | None = None
    updated: datetime | None = None
    sequence: int = 0
    occurrences_listed: bool = False

    @property
    def is_private(self) -> bool:
        return self.sensitivity.is_private

    @property
    def is_series_master(self) -> bool:
        """A master with a rule, or a listed one (whose rule may not have converted)."""
        return bool(self.rrule) or self.occurrences_listed


@dataclass(frozen=True, slots=True)
class Calendar:
    provider_id: str
    name: str
    is_primary: bool = False
    can_write: bool = True
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class EmailAddress:
    address: str
    type: str = "other"


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    number: str
    type: str = "other"


@dataclass(frozen=True, slots=True)
class Contact:
    provider_id: str
    service: Service
    display_name: str = ""
    given_name: str | None = None
    surname: str | None = None
    emails: tuple[EmailAddress, ...] = ()
    phones: tuple[PhoneNumber, ...] = ()
    company: str | None = None
    job_title: str | None = None


@dataclass(frozen=True, slots=True)
class EventDraft:
    """The writable fields of an event (DESIGN §5); ``None`` means "not given"."""

    title: str | None = None
    description: str | None = None
    location: str | None = None
    start: Moment | None = None
    end: Moment | None = None
    time_zone: str | None = None
    all_day: bool | None = None
    show_as: ShowAs | None = None
    sensitivity: Sensitivity | None = None
    attendees: tuple[Attendee, ...] | None = None
    categories: tuple[str, ...] | None = None

    def given(self) -> dict[str, Any]:
        """Only the fields the caller set, for PATCH semantics."""
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


@dataclass(frozen=True, slots=True)
class ContactDraft:
    display_name: str | None = None
    given_name: str | None = None
    surname: str | None = None
    emails: tuple[EmailAddress, ...] = field(default_factory=tuple)
    phones: tuple[PhoneNumber, ...] = field(default_factory=tuple)
    company: str | None = None
    job_title: str | None = None
