"""Mirrored events: a provider event plus the opaque public ids calproxy gives it.

Public ids are stable across syncs and derived from the integration and the provider's
ids only (never from content), so a redacted event's id says nothing about its details.
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


def event_public_id(integration_id: str, calendar_id: str, provider_id: str) -> str:
    return opaque_id("event", integration_id, calendar_id, provider_id)


def calendar_public_id(integration_id: str, provider_calendar_id: str) -> str:
    return opaque_id("calendar", integration_id, provider_calendar_id)


def contact_public_id(integration_id: str, provider_id: str) -> str:
    return opaque_id("contact", integration_id, provider_id)


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
