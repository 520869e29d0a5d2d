"""What the portal's page handlers use (and nothing else needs to know the middlewares).

- :func:`portal_user`: the signed-in user; a browser without a session is sent (303) to
  ``/portal/sign-in``.
- :func:`render`: a template rendered with ``user``, ``csrf_token`` (for every form's
  hidden field) and ``nav`` added to the handler's context.
- :func:`posted_form`: the POSTed form, already checked by :mod:`.forgery`.
- :func:`error_page`: a page naming a problem in words; handlers may instead raise
  :class:`proxy.errors.Forbidden`, ``NotFound`` or ``BadRequest`` with a message written
  for people, which :mod:`.errors` renders the same way.
- :func:`redirect`: a 303 See Other response, the answer to a successful POST
  (POST-redirect-GET).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy

from proxy.portal.forgery import csrf_token
from proxy.portal.keys import FORM, SESSION
from proxy.portal.nav import nav_for
from proxy.store.records import User

SIGN_IN_PATH = "/portal/sign-in"

#: the heading of an error page, by status: what happened, in words
TITLES = {
    400: "Something in the request was not right",
    403: "You may not do this",
    404: "Page not found",
    405: "This page cannot be used that way",
    413: "What you sent is too large",
    500: "Something went wrong on our side",
    502: "A calendar service did not answer properly",
    503: "A calendar service is busy",
    504: "A calendar service took too long to answer",
}


def signed_in_user(request: web.Request) -> User | None:
    session = request.get(SESSION)
    return session.user if session is not None else None


def portal_user(request: web.Request) -> User:
    """The signed-in user, or a redirect to the sign-in page."""
    user = signed_in_user(request)
    if user is None:
        raise web.HTTPSeeOther(SIGN_IN_PATH)
    return user


def render(request: web.Request, template: str, context: Mapping[str, Any] | None = None,
           status: int = 200) -> web.Response:
    """Render ``template`` (autoescaped) with the portal's common context added."""
    session = request.get(SESSION)
    user = session.user if session is not None else None
    full = {
        "user": user,
        "csrf_token": csrf_token(session.browser_id) if session is not None else "",
        "nav": nav_for(user, request.path),
        **(context or {}),
    }
    response = aiohttp_jinja2.render_template(template, request, full, status=status)
    return response


def posted_form(request: web.Request) -> MultiDictProxy[str]:
    """The POSTed form fields (text only), already checked against forgery."""
    return request[FORM]


def error_page(request: web.Request, status: int, message: str,
               title: str | None = None) -> web.Response:
    """A page that says what went wrong, in words; never a traceback."""
    return render(request, "error.html", {
        "title": title or TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400]),
        "message": message}, status=status)


def redirect(location: str) -> web.Response:
    """303 See Other to ``location``: the answer to a successful POST."""
    return web.Response(status=303, headers={"Location": location})
