"""Errors under ``/portal/`` as pages in words (the API keeps its JSON errors).

A :class:`~proxy.errors.CalproxyError` shows its message, which handlers write for people;
an HTTP error (unknown page, wrong method) gets a sentence of its own; anything unexpected
is logged by type and route only (messages can carry upstream content) and shown as "Something
went wrong on our side": never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from proxy.errors import CalproxyError
from proxy.portal.web import error_page

log = logging.getLogger(__name__)

_HTTP_MESSAGES = {
    404: "There is no page at this address. Check the link, or start from the home page.",
    405: "This page cannot be used that way. Start again from the home page.",
    413: "What you sent is larger than calproxy accepts.",
}


@web.middleware
async def error_pages_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if not (request.path == "/portal" or request.path.startswith("/portal/")):
        response: web.StreamResponse = await handler(request)
        return response
    try:
        response = await handler(request)
        return response
    except CalproxyError as exc:
        return error_page(request, exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = _HTTP_MESSAGES.get(exc.status, "The request could not be handled.")
        return error_page(request, exc.status, message)
    except Exception as exc:  # the last line of defence: never a traceback to a person
        log.error("unhandled %s in portal %s %s", type(exc).__name__, request.method,
                  request.match_info.route.resource.canonical
                  if request.match_info.route.resource else "(no route)")
        return error_page(request, 500, "Please try again in a moment. If it keeps "
                          "happening, tell your administrator.")
