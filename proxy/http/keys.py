"""Typed application state."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from proxy.actions.deps import Deps
from proxy.config import Settings
from proxy.providers import Registry
from proxy.store.interface import Store
from proxy.sync.calendars import CalendarService
from proxy.sync.connections import Connections

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", Registry)
STORE = web.AppKey("store", Store)
HTTP = web.AppKey("http", aiohttp.ClientSession)
CONNECTIONS = web.AppKey("connections", Connections)
CALENDARS = web.AppKey("calendars", CalendarService)


def deps(app: web.Application) -> Deps:
    """The app's services as the actions take them."""
    return Deps(app[STORE], app[SETTINGS], app[REGISTRY], app[HTTP], app[CONNECTIONS],
                app[CALENDARS])
