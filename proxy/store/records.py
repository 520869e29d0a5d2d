"""Rows of the store as frozen records; the store hands these out and never live objects."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from proxy.core.model import Permissions, Service


class Role(enum.StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class IntegrationStatus(enum.StrEnum):
    PENDING = "pending"
    CONNECTED = "connected"
    SUSPENDED = "suspended"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    #: the integration policy as stored: {setting: {"value": ..., "locked": bool}}; only
    #: settings that were changed from the defaults need to be present
    settings: dict[str, Any]
    created: datetime


@dataclass(frozen=True, slots=True)
class User:
    id: str
    account_id: str
    email: str
    role: Role
    sign_in_count: int
    created: datetime

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class Integration:
    id: str
    user_id: str
    service: Service
    status: IntegrationStatus
    #: why it is suspended or in error (policy_changed, integration_disabled,
    #: domain_not_allowed, hybrid_not_supported, needs_reauth, ...)
    reason: str | None
    #: what the user asked for (capped by the account policy when asked)
    requested: Permissions
    #: what the provider granted (from the token response's scopes; EWS: requested)
    granted: Permissions
    #: the scopes the provider granted, space-separated as it sent them
    scopes: str
    #: non-secret connection data (e.g. ews_url, username)
    details: dict[str, str]
    #: OAuth state of a pending integration (random, single-use)
    oauth_state: str | None
    created: datetime
    updated: datetime
    contacts_cursor: str | None = None
    contacts_synced_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delegation:
    owner_id: str
    delegate_id: str
    can_schedule: bool
    can_view_private: bool


@dataclass(frozen=True, slots=True)
class Feed:
    id: str
    owner_id: str
    detail: str
    include_private: bool
    past_days: int
    future_days: int
    created: datetime
    revoked: bool


@dataclass(frozen=True, slots=True)
class CalendarRecord:
    """A provider calendar of one integration, as mirrored."""

    id: str  # public, opaque
    integration_id: str
    provider_id: str
    name: str
    is_primary: bool
    can_write: bool
    synced: bool
    cursor: str | None
    synced_at: datetime | None
    time_zone: str | None = None
    #: grows whenever the mirrored events of this calendar change (feeds cache on it)
    version: int = 0
    #: random per calendar row, so that ``(id, incarnation, version)`` never repeats even
    #: when a calendar is removed and added again under its derived id
    incarnation: str = ""

    @property
    def content_key(self) -> tuple[str, str, int]:
        """Names the mirrored content of this calendar: equal keys, equal events."""
        return (self.id, self.incarnation, self.version)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One action of the audit trail (DESIGN §12): who did what on whose calendar, and
    whether it was allowed; never content. Emails are kept as they were at the time."""

    id: str
    at: datetime
    account_id: str
    actor_id: str
    actor: str
    action: str
    owner_id: str | None
    owner: str | None
    target: str | None
    result: str  # allowed | refused

    def json(self) -> dict[str, str | None]:
        """The contract's shape: ``{"id", "at", "actor", "action", "owner", "target",
        "result"}``."""
        return {"id": self.id, "at": self.at.isoformat().replace("+00:00", "Z"),
                "actor": self.actor, "action": self.action, "owner": self.owner,
                "target": self.target, "result": self.result}


@dataclass(frozen=True, slots=True)
class Webhook:
    """A client's subscription to changes of one owner's calendar (DESIGN §11)."""

    id: str
    subscriber_id: str
    owner_id: str
    url: str
    status: str  # active | disabled
    created: datetime
    #: the change-log entry last delivered; the next delivery is the first after it
    delivered_seq: int
    attempts: int = 0
    failing_since: datetime | None = None
    next_attempt: datetime | None = None


@dataclass(frozen=True, slots=True)
class SyncTarget:
    """Something the background scheduler keeps fresh: a synced calendar (``key`` is its
    id) or an integration's contacts (``key`` is the integration id)."""

    key: str
    integration_id: str
    synced_at: datetime | None


@dataclass(frozen=True, slots=True)
class SyncSchedule:
    """Everything due for background sync, read in one snapshot."""

    calendars: list[SyncTarget]
    contacts: list[SyncTarget]
    #: connected integrations with calendar access whose calendars were never listed
    undiscovered: list[str]
    #: the connected integrations, by id (so a round need not read its integration)
    integrations: dict[str, Integration] = field(default_factory=dict)


class LeaseLost(RuntimeError):
    """A holder's lease lapsed (and may have been taken) before its round could commit;
    the store refused the round's result."""


@dataclass(frozen=True, slots=True)
class LeaseFence:
    """What a round's commit checks and releases in its own transaction: ``key`` must
    still be held by ``holder`` and live, else the commit is refused (:class:`LeaseLost`);
    ``also`` (a mailbox slot taken with it) is released with it."""

    key: str
    holder: str
    also: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoundClaim:
    """What the start of a calendar's sync round asks for, in one transaction: the lease
    ``key`` for ``seconds``, and the first free one of a mailbox's ``slots`` unless its
    ``pause`` key is live (the mailbox was throttled)."""

    key: str
    holder: str
    seconds: float
    calendar_id: str
    slots: tuple[str, ...] = ()
    pause: str | None = None


@dataclass(frozen=True, slots=True)
class RoundStart:
    """What :meth:`~proxy.store.interface.Store.begin_round` found and took."""

    #: the calendar as committed now; None when it is gone or its integration is not
    #: connected
    calendar: CalendarRecord | None
    #: the lease was taken: the caller runs the round (and nothing was taken otherwise)
    held: bool = False
    #: the mailbox slot taken with the lease (None: every slot was busy, or none asked)
    slot: str | None = None
    #: seconds the mailbox stays paused (nothing was taken then)
    paused_for: float = 0.0


@dataclass(frozen=True, slots=True)
class SlotTaken:
    """What :meth:`~proxy.store.interface.Store.take_slot` found: the slot taken, or how
    long the mailbox stays paused (0 when every slot was merely busy)."""

    slot: str | None
    paused_for: float = 0.0


@dataclass(frozen=True, slots=True)
class PushChannelRecord:
    """A provider channel calproxy holds on one calendar (DESIGN §11 "In"): a Graph
    subscription or a Google watch channel. The secret its notices carry is kept only as
    its SHA-256 (``secret_hash``)."""

    id: str  # calproxy's random id (Google's channel id)
    calendar_id: str
    integration_id: str
    service: Service
    upstream_id: str  # Graph's subscription id / Google's channel id
    resource_id: str | None  # Google's resourceId; None for Graph
    secret_hash: str
    expires_at: datetime
    created_at: datetime
