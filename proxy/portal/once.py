"""Showing a secret once after a redirect (the new feed URL), without keeping it anywhere.

POST-redirect-GET needs the URL to survive one redirect. It rides in a cookie encrypted
under a key of its own (HKDF of ``CALPROXY_SECRET_KEY``), bound to this browser's session
id, scoped to the page that shows it, valid two minutes, and deleted by that page's first
GET: the server stores nothing, and a reload shows nothing.
"""

from __future__ import annotations

import base64

from aiohttp import web
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from proxy.http.keys import SETTINGS
from proxy.portal.keys import SESSION

COOKIE = "calproxy-once"
TTL_SECONDS = 120


def _fernet(request: web.Request) -> Fernet:
    secret = request.app[SETTINGS].secret_key or ""
    first = secret.split(",")[0].strip().encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"calproxy/portal-once/v1",
               info=b"fernet key for one-time portal messages").derive(first)
    return Fernet(base64.urlsafe_b64encode(key))


def _browser(request: web.Request) -> str:
    session = request.get(SESSION)
    return session.browser_id if session is not None else ""


def show_once(request: web.Request, response: web.StreamResponse, path: str,
              text: str) -> None:
    """Have the next GET of ``path`` in this browser show ``text`` (and only that GET)."""
    token = _fernet(request).encrypt(f"{_browser(request)}\n{text}".encode())
    secure = request.app[SETTINGS].base_url.startswith("https://")
    response.set_cookie(COOKIE, token.decode(), path=path, max_age=TTL_SECONDS,
                        httponly=True, samesite="Strict", secure=secure)


def take_once(request: web.Request, response: web.StreamResponse, path: str) -> str | None:
    """The text :func:`show_once` left for this browser, which is gone after this."""
    raw = request.cookies.get(COOKIE)
    if raw is None:
        return None
    response.del_cookie(COOKIE, path=path)
    try:
        plain = _fernet(request).decrypt(raw.encode(), ttl=TTL_SECONDS).decode()
    except (InvalidToken, UnicodeDecodeError):
        return None
    browser, _, text = plain.partition("\n")
    return text if browser and browser == _browser(request) else None
