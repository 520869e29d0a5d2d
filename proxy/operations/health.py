"""Liveness and readiness, for load balancers and orchestrators (no authentication).

``/healthz`` answers while the process runs. ``/readyz`` asks the store a real question
each time (the applied schema versions, read from ``schema_version``) under a deadline, so
a database that is gone, renamed, unreachable or hanging turns it to 503 at the next probe
(within :data:`READY_TIMEOUT` seconds), and a recovered one back to 200 at the next probe
after that: the engine's pool replaces dead connections by itself.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from proxy.http.keys import STORE
from proxy.http.replies import json_reply

log = logging.getLogger(__name__)

#: seconds a readiness probe waits for the store before answering 503
READY_TIMEOUT = 5.0


async def healthz(request: web.Request) -> web.Response:
    return json_reply({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        ready = await asyncio.wait_for(request.app[STORE].ready(), READY_TIMEOUT)
    except TimeoutError:
        ready, reason = False, "the store did not answer in time"
    except Exception as exc:  # any failure of the store means not ready, never a 500
        ready, reason = False, "the store cannot be read"
        log.warning("readiness: store failed (%s)", type(exc).__name__)
    else:
        reason = "the store's schema is not current"
    if ready:
        return json_reply({"status": "ok"})
    return json_reply({"status": "unavailable", "reason": reason}, status=503)
