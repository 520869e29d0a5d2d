"""Several instances behind one load balancer: a request that wrote is answered only once
its change notices left for the other instances (:mod:`proxy.store.relays`), so that the
caller's next read, on whichever instance, already sees it. (The OAuth callback writes on
a GET, so every method is covered; a request that wrote nothing waits for nothing.)"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from proxy.http.keys import STORE

Handler = Any


@web.middleware
async def changes_sent(request: web.Request, handler: Handler) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    relay = request.app[STORE].changes.relay
    if relay is not None:
        await relay.flush()
    return response
