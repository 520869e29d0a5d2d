"""Mirrored events: a provider event plus the opaque public ids calproxy gives it.

Public ids are stable across syncs and reconnects: they derive from the mailbox's scope
(owner, service, mailbox) and the provider's ids only, never from content, so a redacted
event's id says nothing about its details.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from proxy.core.ids import encode_id
from proxy.core.model import Event, Moment
from proxy.core.timeutil import to_utc


def opaque_id(*parts: str) -> str:
    """A short, stable, URL-safe id for ``parts`` that cannot be turned back into them
    (never beginning with ``-``: see :mod:`proxy.core.ids`)."""
    return encode_id(hashlib.sha256("\x1f".join(parts).encode()).digest()[:15])


def mailbox_identity(named: str | None, owner_email: str, ews_host: str | None = None) -> str:
    """Which mailbox an integration reaches, as stable text: what the provider named at
    connect time (Graph: the signed-in user's id; Google: the account's email), else the
    owner's email (EWS addresses the mailbox by it); for EWS also the server's host, since
    the same address on another server is another mailbox."""
    who = (named or owner_email).strip().lower()
    return f"{ews_host.lower()}/{who}" if ews_host else who


def mailbox_scope(owner_id: str, service: str, mailbox: str) -> str:
    """What every public id of one mailbox's calendars, events and contacts derives from.

    Owner, service and mailbox identify the data, not the integration row: disconnecting
    and reconnecting the same mailbox makes a new row but the same scope, so every id a
    client stored keeps working (DESIGN §5).
    """
    return opaque_id("mailbox", owner_id, service, mailbox)


def calendar_public_id(scope: str, provider_calendar_id: str) -> str:
    return opaque_id("calendar", scope, provider_calendar_id)


def event_public_id(calendar_public_id: str, provider_id: str) -> str:
    """An event's id within its calendar (whose public id carries the mailbox scope)."""
    return opaque_id("event", calendar_public_id, provider_id)


def contact_public_id(scope: str, provider_id: str) -> str:
    return opaque_id("contact", scope, provider_id)


def occurrence_public_id(series_public_id: str, original_start: Moment) -> str:
    return opaque_id("occurrence", series_public_id, to_utc(original_start).isoformat())


@dataclass(frozen=True, slots=True)
class MirroredEvent:
    """An event as calproxy serves it: the normalized event and its public identity.

    ``series_public_id`` is the public id of the series it belongs to (for occurrences
    and exceptions), so that every output refers to series by public ids only.
    """

    id: str
    calendar_id: str
    integration_id: str
    event: Event
    series_public_id: str | None = None
