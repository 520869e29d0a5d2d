"""Anti-forgery: every POST under ``/portal/`` must come from one of our own pages.

Two checks, both before any handler runs (OWASP's CSRF cheat sheet, ASVS 3.5):

1. Same origin: ``Sec-Fetch-Site`` (sent by every current browser) must be
   ``same-origin`` (or ``none``: typed by the user); without it, ``Origin`` (or failing
   that ``Referer``) must be the origin of ``CALPROXY_PUBLIC_URL``. A POST that names no
   origin at all is refused too.
2. Synchronizer token: the hidden ``csrf_token`` field must equal the token of this
   browser's session id, compared in constant time. The token is an HMAC of the id, so it
   changes with every sign-in and sign-out and is never stored.

Failure is a 403 page saying the form was stale or forged; nothing is changed. The form
read here is kept for the handler (:func:`proxy.portal.web.posted_form`).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from proxy.errors import Forbidden
from proxy.http.keys import SETTINGS
from proxy.portal.keys import FORM, SESSION

FIELD = "csrf_token"
STALE = ("The form was stale or forged, so nothing was changed. "
         "Go back, reload the page and try again.")


def csrf_token(browser_id: str) -> str:
    """The form token of the browser whose session id is ``browser_id``."""
    return hmac.new(browser_id.encode(), b"calproxy portal form", hashlib.sha256).hexdigest()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: web.Request) -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in {"same-origin", "none"}
    ours = _origin(request.app[SETTINGS].base_url)
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.lower() == ours
    referer = request.headers.get("Referer")
    return referer is not None and _origin(referer) == ours


@web.middleware
async def forgery_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.method == "POST" and request.path.startswith("/portal/"):
        if not same_origin(request):
            raise Forbidden(STALE, "forged_form")
        form = await request.post()
        session = request.get(SESSION)
        sent = form.get(FIELD)
        if session is None or not isinstance(sent, str) or not hmac.compare_digest(
                sent.encode(), csrf_token(session.browser_id).encode()):
            raise Forbidden(STALE, "forged_form")
        request[FORM] = MultiDictProxy(MultiDict(
            (k, v) for k, v in form.items() if isinstance(v, str)))  # files are not taken
    response: web.StreamResponse = await handler(request)
    return response
