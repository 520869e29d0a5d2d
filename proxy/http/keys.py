"""Typed application state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from proxy.actions.deps import Deps
from proxy.actions.reads import Reader
from proxy.cache import Principals, ReadCaches
from proxy.config import Settings
from proxy.errors import CalproxyError
from proxy.notifications.push.channels import PushKeeper
from proxy.providers import Registry
from proxy.store.interface import Store
from proxy.store.records import Integration
from proxy.sync.calendars import CalendarService
from proxy.sync.connections import Connections
from proxy.sync.scheduler import Scheduler

if TYPE_CHECKING:  # the trail's module imports these keys
    from proxy.operations.audit import AuditTrail

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", Registry)
STORE = web.AppKey("store", Store)
HTTP = web.AppKey("http", aiohttp.ClientSession)
CONNECTIONS = web.AppKey("connections", Connections)
CALENDARS = web.AppKey("calendars", CalendarService)
SCHEDULER = web.AppKey("scheduler", Scheduler)  # only where background sync runs
#: keeps the providers' change-notification channels (DESIGN §11 "In")
PUSH_KEEPER = web.AppKey("push_keeper", PushKeeper)
PRINCIPALS = web.AppKey("principals", Principals)
READ_CACHES = web.AppKey("read_caches", ReadCaches)
READER = web.AppKey("reader", Reader)

#: how a browser that finished an integration's OAuth dance is answered (the portal sets
#: it): given the integration or the refusal, a response, or ``None`` for the API's JSON
Landing = Callable[[web.Request, Integration | None, CalproxyError | None],
                   Awaitable[web.StreamResponse | None]]
CALLBACK_LANDING: web.AppKey[Landing] = web.AppKey("callback_landing")


#: the audit trail (proxy.operations.audit)
AUDIT: web.AppKey[AuditTrail] = web.AppKey("audit")


def deps(app: web.Application) -> Deps:
    """The app's services as the actions take them."""
    return Deps(app[STORE], app[SETTINGS], app[REGISTRY], app[HTTP], app[CONNECTIONS],
                app[CALENDARS], app[PRINCIPALS], app[READER], app.get(AUDIT),
                app.get(PUSH_KEEPER))
