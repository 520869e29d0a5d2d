"""Server-side browser sessions (DESIGN §9 "Safety", ASVS 7).

The cookie holds only a random id (256 bits): ``HttpOnly``, ``SameSite=Lax`` (Strict would
lose the session on the way back from an identity provider), ``Path=/``, and ``Secure``
with the ``__Host-`` prefix when ``CALPROXY_PUBLIC_URL`` is https. The store keeps the id's
SHA-256 and when it was last seen: the session ends after
``CALPROXY_PORTAL_SESSION_HOURS`` idle, at sign-out, or when an admin ends it. A browser
without a session still gets an id, which binds its anonymous forms and sign-in flows to it.
At sign-in the id is replaced (no fixation); at sign-out the session row is deleted.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from aiohttp import web

from proxy.config import Settings
from proxy.http.keys import SETTINGS, STORE
from proxy.operations.audit_http import audit_sign_in
from proxy.portal.headers import STATIC_PREFIX, is_portal_path
from proxy.portal.keys import SESSION, BrowserSession
from proxy.store.records import User


def cookie_name(settings: Settings) -> str:
    return "__Host-calproxy" if _secure(settings) else "calproxy"


def _secure(settings: Settings) -> bool:
    return settings.base_url.startswith("https://")


def idle_limit(settings: Settings) -> timedelta:
    return timedelta(hours=settings.portal_session_hours)


@web.middleware
async def session_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if not is_portal_path(request.path) or request.path.startswith(STATIC_PREFIX):
        response: web.StreamResponse = await handler(request)
        return response
    settings = request.app[SETTINGS]
    presented = request.cookies.get(cookie_name(settings), "")
    user = None
    if 20 <= len(presented) <= 100:
        user = await request.app[STORE].portal_session_user(presented, idle_limit(settings))
    else:
        presented = ""
    session = BrowserSession(presented or secrets.token_urlsafe(32), user,
                             send_cookie=not presented)
    request[SESSION] = session
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _send_cookie(settings, session, exc)
        raise
    _send_cookie(settings, session, response)
    return response


def _send_cookie(settings: Settings, session: BrowserSession,
                 response: web.StreamResponse) -> None:
    if session.send_cookie:
        response.set_cookie(cookie_name(settings), session.browser_id, path="/",
                            httponly=True, samesite="Lax", secure=_secure(settings))


async def sign_in(request: web.Request, user: User) -> None:
    """Start a session for ``user`` under a new id (the old one, if any, ends)."""
    session, store = request[SESSION], request.app[STORE]
    if session.user is not None:
        await store.end_portal_session(session.browser_id)
    session.browser_id = await store.create_portal_session(user.id)
    session.user = user
    session.send_cookie = True
    audit_sign_in(request.app, user)


async def sign_out(request: web.Request) -> None:
    """End the session on the server; the browser gets a fresh anonymous id."""
    session = request[SESSION]
    await request.app[STORE].end_portal_session(session.browser_id)
    session.browser_id = secrets.token_urlsafe(32)
    session.user = None
    session.send_cookie = True
