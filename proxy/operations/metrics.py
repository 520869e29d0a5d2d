"""Prometheus metrics, defined once here, with one registry per app (tests build many).

Labels carry route templates, methods, status codes, service names and a few fixed words,
never an email, an id, a secret or event content: every label value below comes from a
small fixed set. The metrics of DESIGN §12:

- ``calproxy_http_requests_total{route,method,status}`` and
  ``calproxy_http_request_duration_seconds{route}``: from the access middleware;
- ``calproxy_upstream_requests_total{service,status}``: every request calproxy sends a
  provider or identity platform, one count per attempt on the wire (``status`` the HTTP
  code, ``error`` when no answer came); fed by the shared aiohttp session's trace hooks
  (Google, OAuth) and by Graph's and EWS's transports, through :func:`count_upstream`;
- ``calproxy_sync_rounds_total{service,kind,result}``: each sync round of a calendar
  (``kind`` ``full`` or ``incremental``, as the round ended: an incremental round that
  fell back from an expired cursor to a full resync is ``full``; ``result`` ``ok`` or
  ``error``);
- ``calproxy_sync_lag_seconds{service}``: the age of the stalest synced mirror, computed
  from the store at each scrape;
- ``calproxy_notifications_total{direction,service}``: change notifications in and out;
- ``calproxy_push_notices_total{service,outcome}``: every request on a provider hook
  (``outcome`` ``accepted``, ``ignored`` (unknown channel, wrong secret), ``handshake``,
  ``sync`` (Google's first message of a channel) or ``malformed``).

Code far from the app (providers in worker threads, the sync driver) reaches the app's
metrics through :data:`CURRENT`, a context variable the access middleware sets for each
request and the app sets for its background tasks; outside an app the counts go nowhere.
``/metrics`` itself is served by :mod:`.scrape`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from proxy.config import Settings


class Metrics:
    """The app's metrics in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "calproxy_http_requests_total", "HTTP requests answered",
            ["route", "method", "status"], registry=self.registry)
        self.http_duration = Histogram(
            "calproxy_http_request_duration_seconds", "Time to answer an HTTP request",
            ["route"], registry=self.registry)
        #: the two series each (route, method, status) counts in: ``labels()`` checks and
        #: locks on every call, and this is paid on every request (as many entries as the
        #: registry holds series for them)
        self._request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.upstream_requests = Counter(
            "calproxy_upstream_requests_total", "Requests sent to providers (per attempt)",
            ["service", "status"], registry=self.registry)
        self.sync_rounds = Counter(
            "calproxy_sync_rounds_total", "Sync rounds of a calendar",
            ["service", "kind", "result"], registry=self.registry)
        self.sync_lag = Gauge(
            "calproxy_sync_lag_seconds", "Age of the stalest synced mirror",
            ["service"], registry=self.registry)
        self.notifications = Counter(
            "calproxy_notifications_total", "Change notifications received and sent",
            ["direction", "service"], registry=self.registry)
        self.push_notices = Counter(
            "calproxy_push_notices_total", "Provider hook requests, by outcome",
            ["service", "outcome"], registry=self.registry)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        series = self._request_series.get(key)
        if series is None:
            series = (self.http_requests.labels(route, method, str(status)),
                      self.http_duration.labels(route))
            self._request_series[key] = series
        series[0].inc()
        series[1].observe(seconds)

    def set_sync_lag(self, oldest: Mapping[str, datetime], now: datetime) -> None:
        self.sync_lag.clear()
        for service, synced_at in oldest.items():
            self.sync_lag.labels(service).set(max(0.0, (now - synced_at).total_seconds()))


METRICS = web.AppKey("metrics", Metrics)
CURRENT: ContextVar[Metrics | None] = ContextVar("calproxy_metrics", default=None)


def count_upstream(service: str, status: int | str) -> None:
    """One request on the wire to ``service``: its HTTP status, or ``"error"``."""
    metrics = CURRENT.get()
    if metrics is not None:
        metrics.upstream_requests.labels(service, str(status)).inc()


def count_notification(direction: str, service: str) -> None:
    """One change notification, ``direction`` ``in`` (from a provider) or ``out``."""
    metrics = CURRENT.get()
    if metrics is not None:
        metrics.notifications.labels(direction, service).inc()


def count_push_notice(service: str, outcome: str) -> None:
    """One notice on a provider hook: ``accepted``, ``ignored``, ``handshake``, ``sync``
    or ``malformed``; accepted ones also count as notifications ``in``."""
    metrics = CURRENT.get()
    if metrics is not None:
        metrics.push_notices.labels(service, outcome).inc()
        if outcome == "accepted":
            metrics.notifications.labels("in", service).inc()


@dataclass(slots=True)
class RoundKind:
    """What a sync round turned out to be: ``full`` from the start (no cursor), or once
    it fell back from an expired cursor to a full resync."""

    full: bool


@contextmanager
def counted_round(service: str, full: bool) -> Iterator[RoundKind]:
    """Count the sync round run inside as ``ok`` or ``error``, of the kind it ended as
    (the round sets ``kind.full`` when it falls back to a full resync)."""
    kind = RoundKind(full)
    metrics = CURRENT.get()
    try:
        yield kind
    except Exception:
        if metrics is not None:
            metrics.sync_rounds.labels(service, _kind(kind), "error").inc()
        raise
    if metrics is not None:
        metrics.sync_rounds.labels(service, _kind(kind), "ok").inc()


def _kind(kind: RoundKind) -> str:
    return "full" if kind.full else "incremental"


def upstream_services(settings: Settings) -> list[tuple[str, str]]:
    """(URL prefix, service label) of every upstream reached with the shared session."""
    return [
        (settings.google_calendar_url, "google"), (settings.google_people_url, "google"),
        (settings.google_token_url, "google_oauth"), (settings.ms_login_url, "microsoft_oauth"),
        (settings.graph_url, "graph"),
    ]


def service_of(url: str, prefixes: list[tuple[str, str]]) -> str:
    """The service label of ``url`` (``other`` for anything unknown; never the URL)."""
    for prefix, service in prefixes:
        if url.startswith(prefix):
            return service
    return "other"


def upstream_trace(settings: Settings) -> aiohttp.TraceConfig:
    """Trace hooks for the shared aiohttp session: count each request's answer."""
    prefixes = upstream_services(settings)
    trace = aiohttp.TraceConfig()

    async def on_end(_: aiohttp.ClientSession, __: SimpleNamespace,
                     params: aiohttp.TraceRequestEndParams) -> None:
        count_upstream(service_of(str(params.url), prefixes), params.response.status)

    async def on_error(_: aiohttp.ClientSession, __: SimpleNamespace,
                       params: aiohttp.TraceRequestExceptionParams) -> None:
        count_upstream(service_of(str(params.url), prefixes), "error")

    trace.on_request_end.append(on_end)
    trace.on_request_exception.append(on_error)
    return trace
