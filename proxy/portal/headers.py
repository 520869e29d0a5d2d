"""Security headers on every portal response (DESIGN §9 "Safety", ASVS 3.4).

The Content-Security-Policy allows only the app's own scripts, styles and images: no
inline code, no CDN. ``form-action`` also names the identity providers' origins, because
Chromium and Safari apply it to the redirect after a POST: a "Sign in with Microsoft"
form answered with a 303 to the provider would otherwise be blocked (PORTAL-NOTES §0).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from proxy.config import Settings
from proxy.http.keys import SETTINGS

STATIC_PREFIX = "/portal/static/"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    identity = sorted({_origin(settings.ms_login_url), _origin(settings.google_auth_url)})
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'",
        "img-src 'self' data:", "object-src 'none'", "base-uri 'none'",
        "frame-ancestors 'none'", "form-action " + " ".join(["'self'", *identity]),
    ])


def is_portal_path(path: str) -> bool:
    return path == "/portal" or path.startswith("/portal/") or path == "/oauth/callback"


@web.middleware
async def security_headers_middleware(request: web.Request,
                                      handler: Any) -> web.StreamResponse:
    if not is_portal_path(request.path):
        response: web.StreamResponse = await handler(request)
        return response
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # redirects raised by handlers carry them too
        _apply(request, exc)
        raise
    _apply(request, response)
    return response


def _apply(request: web.Request, response: web.StreamResponse) -> None:
    settings = request.app[SETTINGS]
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(settings)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    if settings.base_url.startswith("https://"):
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if not request.path.startswith(STATIC_PREFIX):
        # a signed-in page must not outlive sign-out in a cache or behind the Back button;
        # anonymous pages carry a per-browser form token, so they are not cached either
        headers["Cache-Control"] = "no-store"
