"""``GET /metrics``: the app's metrics in the Prometheus text format, for a scraper that
holds ``CALPROXY_METRICS_TOKEN`` (no token configured: the endpoint does not exist)."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from proxy.http.errors import error_response
from proxy.http.keys import SETTINGS, STORE
from proxy.operations.metrics import METRICS


async def serve_metrics(request: web.Request) -> web.Response:
    """``GET /metrics``: 404 without ``CALPROXY_METRICS_TOKEN``, 401 without the right
    bearer, else the Prometheus text format."""
    expected = request.app[SETTINGS].metrics_token
    if not expected:
        return error_response(404, "not_found", "No such resource.")
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not sent.strip():
        return error_response(401, "missing_token", "Authorization: send 'Bearer <token>'.")
    if not hmac.compare_digest(sent.strip().encode(), expected.encode()):
        return error_response(401, "invalid_token", "Authorization: the token is wrong.")
    metrics = request.app[METRICS]
    metrics.set_sync_lag(await request.app[STORE].stalest_syncs(), datetime.now(UTC))
    return web.Response(body=generate_latest(metrics.registry),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})
