"""The application factory and the one route table."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from proxy.actions.reads import Reader
from proxy.cache import Principals, ReadCaches
from proxy.config import Settings
from proxy.http import (
    account,
    calendars,
    contacts,
    delegates,
    events,
    feeds,
    integrations,
    me,
)
from proxy.http.access_log import access_middleware, answer_request_id
from proxy.http.auth import auth_middleware
from proxy.http.errors import error_middleware
from proxy.http.instances import changes_sent
from proxy.http.keys import (
    AUDIT,
    CALENDARS,
    CONNECTIONS,
    HTTP,
    PRINCIPALS,
    PUSH_KEEPER,
    READ_CACHES,
    READER,
    REGISTRY,
    SCHEDULER,
    SETTINGS,
    STORE,
)
from proxy.notifications import routes as notifications
from proxy.notifications.push import hooks as push_hooks
from proxy.notifications.push.channels import PushKeeper
from proxy.notifications.push.nudges import Nudger
from proxy.notifications.retention import ChangeLogPruner
from proxy.notifications.tracker import ChangeTracker
from proxy.notifications.webhooks import Deliverer
from proxy.operations import health, scrape
from proxy.operations.audit import AuditTrail
from proxy.operations.audit_http import account_audit, audit_refusals, audit_service, my_audit
from proxy.operations.limits import buckets_service, rate_limit_middleware
from proxy.operations.metrics import CURRENT, METRICS, Metrics, upstream_trace
from proxy.portal import oidc_flow
from proxy.portal.routes import ROUTES as PORTAL_ROUTES
from proxy.portal.routes import setup_portal
from proxy.providers import Registry, default_registry
from proxy.store.interface import Store
from proxy.sync.calendars import CalendarService
from proxy.sync.connections import Connections
from proxy.sync.driver import Syncer
from proxy.sync.leases import Leases
from proxy.sync.manners import Manners
from proxy.sync.scheduler import Scheduler

ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/v1/me", me.me),
    ("POST", "/v1/me/sign-in", me.sign_in),
    ("GET", "/v1/account/settings", account.get_settings),
    ("PATCH", "/v1/account/settings", account.patch_settings),
    ("GET", "/v1/account/users", account.list_users),
    ("GET", "/v1/me/integrations", integrations.list_integrations),
    ("POST", "/v1/me/integrations", integrations.create_integration),
    ("DELETE", "/v1/me/integrations/{id}", integrations.delete_integration),
    ("GET", "/oauth/callback", oidc_flow.oauth_callback),  # portal sign-in or integration
    ("GET", "/v1/me/delegates", delegates.list_delegates),
    ("PUT", "/v1/me/delegates/{email}", delegates.put_delegate),
    ("DELETE", "/v1/me/delegates/{email}", delegates.delete_delegate),
    ("GET", "/v1/me/delegators", delegates.list_delegators),
    ("GET", "/v1/users/{user}/calendars", calendars.list_calendars),
    ("PATCH", "/v1/users/{user}/calendars/{id}", calendars.patch_calendar),
    ("GET", "/v1/users/{user}/events", events.list_events),
    ("POST", "/v1/users/{user}/events", events.create_event),
    ("GET", "/v1/users/{user}/events/{id}", events.get_event),
    ("PATCH", "/v1/users/{user}/events/{id}", events.update_event),
    ("DELETE", "/v1/users/{user}/events/{id}", events.delete_event),
    ("GET", "/v1/users/{user}/freebusy", events.freebusy),
    ("GET", "/v1/users/{user}/contacts", contacts.list_contacts),
    ("POST", "/v1/users/{user}/contacts", contacts.create_contact),
    ("GET", "/v1/users/{user}/contacts/{id}", contacts.get_contact),
    ("GET", "/v1/me/feeds", feeds.list_feeds),
    ("POST", "/v1/me/feeds", feeds.create_feed),
    ("DELETE", "/v1/me/feeds/{id}", feeds.delete_feed),
    ("GET", "/feeds/{secret}.ics", feeds.serve_feed),
    *notifications.ROUTES,
    *push_hooks.ROUTES,  # unauthenticated: the secret each notice carries is checked
    ("GET", "/healthz", health.healthz),
    ("GET", "/readyz", health.readyz),
    ("GET", "/metrics", scrape.serve_metrics),
    ("GET", "/v1/me/audit", my_audit),
    ("GET", "/v1/account/audit", account_audit),
]


def create_app(settings: Settings, store: Store, registry: Registry | None = None, *,
               scheduler: bool = False) -> web.Application:
    """The calproxy app over an opened ``store``; the app closes it on cleanup.

    ``scheduler`` runs background sync with the app (``calproxy serve`` asks for it when
    ``CALPROXY_SCHEDULER`` is on); apps built in tests stay quiet unless they ask.
    """
    app = web.Application(middlewares=[access_middleware, error_middleware,
                                       rate_limit_middleware, audit_refusals,
                                       changes_sent, auth_middleware],
                          client_max_size=1024 * 1024)
    app.on_response_prepare.append(answer_request_id)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[AUDIT] = AuditTrail(store, settings.audit_days)
    app[STORE] = store
    app[REGISTRY] = registry if registry is not None else default_registry()
    app[feeds.FEED_CACHE] = feeds.Renderings(feeds.MAX_FEED_BYTES)
    app[notifications.HEARTBEAT] = 15.0
    app[PRINCIPALS] = Principals(store, settings.token_cache_seconds)
    app[READ_CACHES] = ReadCaches()
    setup_portal(app)
    for method, path, handler in ROUTES + PORTAL_ROUTES:
        if method == "GET":  # answers HEAD too (feed subscribers probe with it)
            app.router.add_get(path, handler)  # type: ignore[arg-type]
        else:
            app.router.add_route(method, path, handler)  # type: ignore[arg-type]
    app.cleanup_ctx.append(buckets_service)
    app.cleanup_ctx.append(_services)
    app.cleanup_ctx.append(_notifications)
    app.cleanup_ctx.append(_push(background=scheduler))
    app.cleanup_ctx.append(audit_service)  # after the store opens, flushed before it closes
    if scheduler and settings.scheduler and settings.freshness_seconds > 0:
        app.cleanup_ctx.append(_background_sync)
    return app


async def _services(app: web.Application) -> AsyncIterator[None]:
    """Own the outbound HTTP session, provider connections and the store."""
    timeout = aiohttp.ClientTimeout(total=60, connect=10)
    CURRENT.set(app[METRICS])  # background tasks started from here on count in this app
    async with aiohttp.ClientSession(timeout=timeout, trust_env=False,
                                     trace_configs=[upstream_trace(app[SETTINGS])]) as http:
        app[HTTP] = http
        store, settings = app[STORE], app[SETTINGS]
        leases = Leases(store)
        # several instances share PostgreSQL: per-mailbox caps must then hold across them
        shared = not settings.database_url.startswith("sqlite")
        connections = Connections(store, settings, http, app[REGISTRY],
                                  Manners(leases if shared else None))
        app[CONNECTIONS] = connections
        app[CALENDARS] = CalendarService(store, settings, connections,
                                         Syncer(store, settings, leases,
                                                manners=connections.manners),
                                         app[PRINCIPALS])
        app[READER] = Reader(app[PRINCIPALS], app[CALENDARS], app[READ_CACHES])
        yield
        await app[READER].close()
        await connections.close()
    app[PRINCIPALS].unsubscribe()
    await app[STORE].close()


async def _notifications(app: web.Application) -> AsyncIterator[None]:
    """Change tracking, webhook delivery and change-log pruning run beside the server
    (DESIGN §11)."""
    tracker = ChangeTracker(app[STORE], app[SETTINGS])
    deliverer = Deliverer(app[STORE], app[SETTINGS].webhook_allowed_hosts)
    pruner = ChangeLogPruner(app[STORE], app[SETTINGS].change_log_hours)
    app[notifications.TRACKER] = tracker
    app[notifications.DELIVERER] = deliverer
    app[notifications.PRUNER] = pruner
    tracker.start()
    deliverer.start()
    pruner.start()
    yield
    await pruner.stop()
    await deliverer.stop()
    await tracker.stop()


def _push(background: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    """Change notifications in (DESIGN §11): the hooks always answer; where background
    work is wanted the keeper runs: with push enabled it opens and renews channels, with
    push off it only stops what an earlier run left open. Nudged rounds stop before the
    services close."""
    async def push(app: web.Application) -> AsyncIterator[None]:
        store, settings, calendars = app[STORE], app[SETTINGS], app[CALENDARS]

        async def nudged_round(calendar_id: str) -> None:
            await calendars.sync_now(calendar_id, stale_only=False, wait=True)

        nudger = Nudger(nudged_round, min_gap=settings.push_min_gap_seconds)
        keeper = PushKeeper(store, settings, calendars, Leases(store), nudger.nudge)
        app[PUSH_KEEPER] = keeper
        app[push_hooks.HOOKS] = push_hooks.Hooks(store, nudger, keeper)
        if background:
            await keeper.start()
        yield
        await keeper.stop()
        await app[push_hooks.HOOKS].close()
        await nudger.stop()

    return push


async def _background_sync(app: web.Application) -> AsyncIterator[None]:
    """The scheduler starts after the services and stops before they close."""
    scheduler = Scheduler(app[STORE], app[SETTINGS], app[CALENDARS])
    app[SCHEDULER] = scheduler
    await scheduler.start()
    yield
    await scheduler.stop()
