"""An access log that never writes secrets.

Feed URLs carry their secret in the path and the OAuth callback carries a code and a
state in its query; aiohttp's default access log would write all three to disk. This one
logs the route's canonical path (``/feeds/{secret}.ics``), never the raw one, and no
query string.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger


class RedactingAccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s %s %s %.1fms', request.method, route_of(request),
                         response.status, time * 1000)


def route_of(request: web.BaseRequest) -> str:
    """The matched route's template, or ``(unmatched)``; never the path as sent."""
    match_info = getattr(request, "match_info", None)
    resource = match_info.route.resource if match_info is not None else None
    canonical = resource.canonical if resource is not None else None
    return canonical or "(unmatched)"
