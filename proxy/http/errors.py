"""One middleware renders every error in the contract's shape.

Unexpected exceptions become a generic 500 whose log line names only the exception type
and route: exception messages can carry upstream content, so they are never logged or
returned.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from proxy.errors import CalproxyError, UpstreamThrottled
from proxy.http.replies import json_reply

log = logging.getLogger(__name__)
Handler = Any


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> web.Response:
    return json_reply({"error": {"code": code, "message": message}}, status=status,
                             headers=headers)


def calproxy_error_response(exc: CalproxyError) -> web.Response:
    headers = None
    if isinstance(exc, UpstreamThrottled):
        headers = {"Retry-After": str(exc.retry_after)}
    return error_response(exc.status, exc.code, exc.message, headers)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
               400: "bad_request", 415: "unsupported_media_type"}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except CalproxyError as exc:
        return calproxy_error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        message = "No such resource." if exc.status == 404 else exc.reason
        return error_response(exc.status, code, message)
    except Exception as exc:  # the last line of defence: never a traceback to a caller
        log.error("unhandled %s in %s %s", type(exc).__name__, request.method,
                  request.match_info.route.resource.canonical
                  if request.match_info.route.resource else request.path)
        return error_response(500, "internal_error", "Something went wrong on our side.")
