"""Request ids and an access log that never writes secrets.

Every request gets an id: the client's ``X-Request-Id`` when it is sane (1 to 64
characters of letters, digits and ``._:-``; anything else could forge log lines or carry
a secret), a fresh random one otherwise. It is answered in the response's
``X-Request-Id`` and carried by every log line written while the request is handled
(:data:`proxy.logs.REQUEST_ID`).

Feed URLs carry their secret in the path and the OAuth callback carries a code and a
state in its query; aiohttp's default access log would write all three to disk. This one
logs the route's canonical path (``/feeds/{secret}.ics``), never the raw one, and no
query string, with the method, status and duration as fields of their own. The same
middleware counts each request in the app's metrics (:mod:`proxy.operations.metrics`).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from aiohttp import web

from proxy.logs import REQUEST_ID
from proxy.operations.metrics import CURRENT, METRICS

log = logging.getLogger("calproxy.access")
REQUEST_ID_KEY = web.RequestKey("request_id", str)
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_for(request: web.BaseRequest) -> str:
    """The client's id when it is sane, else a new one."""
    sent = request.headers.get("X-Request-Id", "")
    return sent if _SANE_ID.fullmatch(sent) else secrets.token_hex(8)


@web.middleware
async def access_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Outermost: names the request, times it, logs one access line, counts it."""
    request_id = request_id_for(request)
    request[REQUEST_ID_KEY] = request_id
    token = REQUEST_ID.set(request_id)
    metrics = request.app.get(METRICS)
    metrics_token = CURRENT.set(metrics)
    started = time.perf_counter()
    status = 500
    try:
        response: web.StreamResponse = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # redirects (the error middleware renders the rest)
        status = exc.status
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = route_of(request)
        log.info("%s %s %s %.1fms", request.method, route, status, elapsed * 1000,
                 extra={"request_id": request_id, "method": request.method, "route": route,
                        "status": status, "duration_ms": round(elapsed * 1000, 3)})
        if metrics is not None:
            metrics.observe_request(route, request.method, status, elapsed)
        CURRENT.reset(metrics_token)
        REQUEST_ID.reset(token)


async def answer_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every response, errors and feeds included, names its id."""
    request_id = request.get(REQUEST_ID_KEY)
    if request_id is not None:
        response.headers["X-Request-Id"] = request_id


def route_of(request: web.BaseRequest) -> str:
    """The matched route's template, or ``(unmatched)``; never the path as sent."""
    match_info = getattr(request, "match_info", None)
    resource = match_info.route.resource if match_info is not None else None
    canonical = resource.canonical if resource is not None else None
    return canonical or "(unmatched)"
