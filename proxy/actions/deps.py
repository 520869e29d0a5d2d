"""The services an action needs, gathered once so that actions never see a request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

from proxy.actions.reads import Reader
from proxy.cache import Principals
from proxy.config import Settings
from proxy.providers import Registry
from proxy.store.interface import Store
from proxy.sync.calendars import CalendarService
from proxy.sync.connections import Connections

if TYPE_CHECKING:
    from proxy.notifications.push.channels import PushKeeper
    from proxy.operations.audit import AuditTrail


@dataclass(frozen=True, slots=True)
class Deps:
    store: Store
    settings: Settings
    registry: Registry
    http: aiohttp.ClientSession
    connections: Connections
    calendars: CalendarService
    #: the store's principal lookups, cached until announced changes (proxy.cache)
    principals: Principals
    #: the cached read path (proxy.actions.reads)
    reader: Reader
    #: the audit trail actions record to (proxy.operations.audit); none in bare apps
    audit: AuditTrail | None = None
    #: stops an integration's push channels before it is deleted (DESIGN §11 "In")
    push: PushKeeper | None = None
