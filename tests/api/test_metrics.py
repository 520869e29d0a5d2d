"""/metrics over real HTTP: protected by its token, present after traffic through the real
providers, and free of identifiers, secrets and event content."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from proxy.config import Settings
from proxy.http.app import ROUTES, create_app
from proxy.portal.routes import ROUTES as PORTAL_ROUTES
from proxy.store.sql import open_store
from tests.api.conftest import METRICS_TOKEN, Cloud, Live, free_port
from tests.api.helpers import NEAR as WINDOW
from tests.api.helpers import NOW

EXEC = "exec@acme.example"
TEMPLATES = {path for _, path, _ in ROUTES + PORTAL_ROUTES} | {"(unmatched)"}


async def scrape(live: Live) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    status, body, response = await live.call(
        None, "GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200 and response.content_type == "text/plain"
    text = body.decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    return text, samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items()
               if n == name and labels.items() <= dict(ls).items())


async def test_metrics_need_the_token(live: Live) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        status, body, _ = await live.call(None, "GET", "/metrics", headers=headers)
        assert status == 401 and body["error"]["code"] in {"missing_token", "invalid_token"}
    status, _, _ = await live.call(None, "GET", "/metrics",
                                   headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200


async def test_no_metrics_endpoint_without_a_token(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}",
                        host="127.0.0.1", port=port, secret_key="k")
    server = TestServer(create_app(settings, await open_store(settings)), host="127.0.0.1",
                        port=port)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{port}/metrics",
                headers={"Authorization": "Bearer anything"}) as response:
            assert response.status == 404
            assert (await response.json())["error"]["code"] == "not_found"
    finally:
        await server.close()


async def test_metrics_after_traffic_carry_no_identifiers(cloud: Cloud) -> None:
    live = cloud.live
    cloud.microsoft.graph.add_event(EXEC, "Secret board meeting", NOW + timedelta(days=1),
                                    NOW + timedelta(days=1, hours=1), "W. Europe Standard Time")
    cloud.google.add_simple_event("colleague@acme.example", "Hidden design review",
                                  NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1))
    await live.connect("exec", "graph")
    await live.connect("colleague", "google")
    for who in ("exec", "colleague"):
        status, _, _ = await live.call(who, "GET", f"/v1/users/me/events?{WINDOW}")
        assert status == 200
    await live.call("colleague", "GET", f"/v1/users/{EXEC}/events?{WINDOW}")  # 403
    _, feed, _ = await live.call("exec", "POST", "/v1/me/feeds", json={"detail": "full"})
    await live.call(None, "GET", feed["url"].removeprefix(live.url))
    await live.call(None, "GET", "/feeds/not-a-feed.ics")
    text, samples = await scrape(live)

    assert value(samples, "calproxy_http_requests_total", route="/v1/users/{user}/events",
                 method="GET", status="200") == 2
    assert value(samples, "calproxy_http_requests_total", route="/v1/users/{user}/events",
                 status="403") == 1
    assert value(samples, "calproxy_http_request_duration_seconds_count",
                 route="/feeds/{secret}.ics") == 2
    assert value(samples, "calproxy_upstream_requests_total", service="graph",
                 status="200") >= 2
    assert value(samples, "calproxy_upstream_requests_total", service="google",
                 status="200") >= 2
    assert value(samples, "calproxy_upstream_requests_total", service="microsoft_oauth",
                 status="200") >= 1
    assert value(samples, "calproxy_sync_rounds_total", service="graph", kind="full",
                 result="ok") >= 1
    assert value(samples, "calproxy_sync_rounds_total", service="google", result="ok") >= 1
    assert 0 <= value(samples, "calproxy_sync_lag_seconds", service="graph") < 600
    assert "calproxy_notifications_total" in text
    _assert_no_identifiers(live, text, feed["url"])


def _assert_no_identifiers(live: Live, text: str, feed_url: str) -> None:
    secret = feed_url.rsplit("/", 1)[1].removesuffix(".ics")
    needles = [*live.tokens.values(), *live.ids.values(), secret, METRICS_TOKEN, "@",
               "Secret board", "Hidden design", "not-a-feed", "acme"]
    for needle in needles:
        assert needle not in text, needle
    labels = re.findall(r'(\w+)="([^"]*)"', text)
    allowed = {"route", "method", "status", "service", "kind", "result", "direction", "le",
               "outcome"}
    assert {name for name, _ in labels} <= allowed
    for name, label in labels:
        if name == "route":
            assert label in TEMPLATES, label
        elif name in {"service", "kind", "result", "direction", "outcome"}:
            assert re.fullmatch(r"[a-z_]+", label), label
        elif name == "status":
            assert re.fullmatch(r"\d{3}|error", label), label


async def test_ews_requests_count_answers_and_failures(exchange: Cloud,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Each EWS service under its own label: on-premises Exchange (a password) and
    Exchange Online (OAuth) are told apart, and nothing is counted as plain ``ews``."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator speaks plain http
    live = exchange.live
    body = {"service": "exchange_ews", "ews_url": live.ids["ews_url"], "username": EXEC,
            "password": "pw-exec"}
    status, _, _ = await live.call("exec", "POST", "/v1/me/integrations", json=body)
    assert status == 201
    closed = f"http://127.0.0.1:{free_port()}/EWS/Exchange.asmx"
    await live.call("admin", "POST", "/v1/me/integrations", json={
        **body, "ews_url": closed, "username": "admin@acme.example", "password": "pw-admin"})
    _, samples = await scrape(live)
    assert value(samples, "calproxy_upstream_requests_total", service="exchange_ews",
                 status="200") >= 1
    assert value(samples, "calproxy_upstream_requests_total", service="exchange_ews",
                 status="error") >= 1
    assert value(samples, "calproxy_upstream_requests_total", service="ews_o365") == 0
    status, answer, _ = await live.call("chief", "POST", "/v1/me/integrations", json={
        "service": "ews_o365", "ews_url": live.ids["ews_url"]})
    assert status == 201
    async with live.http.get(answer["authorize_url"]) as response:
        assert response.status == 200 and (await response.json())["status"] == "connected"
    before = value(samples, "calproxy_upstream_requests_total", service="exchange_ews")
    _, samples = await scrape(live)
    assert value(samples, "calproxy_upstream_requests_total", service="ews_o365",
                 status="200") >= 1
    assert value(samples, "calproxy_upstream_requests_total", service="exchange_ews") == before
    assert value(samples, "calproxy_upstream_requests_total", service="ews") == 0


async def test_a_round_that_falls_back_to_a_full_resync_counts_as_full(cloud: Cloud) -> None:
    """An expired sync token turns an incremental round into a full resync: counted
    ``full``, and the next plain round ``incremental``."""
    live = cloud.live
    cloud.google.add_simple_event("colleague@acme.example", "Design review",
                                  NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1))
    await live.connect("colleague", "google")

    async def read_and_count() -> tuple[float, float]:
        status, _, _ = await live.call("colleague", "GET", f"/v1/users/me/events?{WINDOW}")
        assert status == 200
        _, samples = await scrape(live)
        full, incremental = (value(samples, "calproxy_sync_rounds_total", service="google",
                                   kind=kind, result="ok") for kind in ("full", "incremental"))
        return full, incremental

    full, incremental = await read_and_count()
    assert full >= 1
    cloud.google.expire_sync_tokens("colleague@acme.example")
    assert await read_and_count() == (full + 1, incremental)
    assert await read_and_count() == (full + 1, incremental + 1)
