"""Typed request state of the portal (set by its middlewares, read by :mod:`.web`)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from multidict import MultiDictProxy

from proxy.store.records import User


@dataclass(slots=True)
class BrowserSession:
    """What the session middleware knows about this browser.

    ``browser_id`` is the random value of the cookie. When a signed-in session exists for
    it, ``user`` is set; otherwise it still binds anonymous forms (sign-in buttons) and
    OpenID Connect flows to this browser. ``send_cookie`` says the response must (re)set
    the cookie: a new browser, a rotation at sign-in, a new id at sign-out.
    """

    browser_id: str
    user: User | None
    send_cookie: bool = False


SESSION = web.RequestKey("portal_session", BrowserSession)
FORM = web.RequestKey("portal_form", MultiDictProxy[str])
