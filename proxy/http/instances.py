"""Several instances behind one load balancer: a write is answered only once its change
notices left for the other instances (:mod:`proxy.store.relays`), so that the caller's
next read, on whichever instance, already sees it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from proxy.http.keys import STORE

Handler = Any
READS = {"GET", "HEAD", "OPTIONS"}


@web.middleware
async def changes_sent(request: web.Request, handler: Handler) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    relay = request.app[STORE].changes.relay
    if relay is not None and request.method not in READS:
        await relay.flush()
    return response
