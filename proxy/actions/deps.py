"""The services an action needs, gathered once so that actions never see a request."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from proxy.config import Settings
from proxy.providers import Registry
from proxy.store.interface import Store
from proxy.sync.calendars import CalendarService
from proxy.sync.connections import Connections


@dataclass(frozen=True, slots=True)
class Deps:
    store: Store
    settings: Settings
    registry: Registry
    http: aiohttp.ClientSession
    connections: Connections
    calendars: CalendarService
