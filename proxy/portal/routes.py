"""The portal's routes and its one setup function, called from :func:`proxy.http.app.create_app`.

``ROUTES`` is registered by the app next to the API's. :func:`setup_portal` installs the
template environment (Jinja2 through aiohttp-jinja2, autoescaping on, templates from
``templates/``), the static files under ``/portal/static/`` (``static/``: no CDN) and the
portal's middlewares, outermost first: security headers, error pages, sessions,
anti-forgery. Each acts only on portal paths (:func:`~.headers.is_portal_path`, which
covers the others' paths too), so the app holds one middleware that makes that decision
once and runs the four only for the portal: an API request passes one layer, not four.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from proxy.http.keys import CALLBACK_LANDING
from proxy.portal import home, integrations, oidc_flow, signin
from proxy.portal.errors import error_pages_middleware
from proxy.portal.forgery import FIELD, forgery_middleware
from proxy.portal.headers import STATIC_PREFIX, is_portal_path, security_headers_middleware
from proxy.portal.oidc import KeyCache
from proxy.portal.pages import PAGE_ROUTES
from proxy.portal.sessions import session_middleware

HERE = Path(__file__).parent

ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/portal", signin.portal_root),
    ("GET", "/portal/", home.home),
    ("GET", "/portal/sign-in", signin.sign_in_page),
    ("GET", "/portal/login/{secret}", signin.login_link_page),
    ("POST", "/portal/login/{secret}", signin.use_login_link),
    ("POST", "/portal/sign-out", signin.sign_out_handler),
    ("POST", "/portal/sign-in/{provider}", oidc_flow.start),
    *PAGE_ROUTES,
]


#: the portal's middlewares, outermost first
PORTAL_MIDDLEWARES = (security_headers_middleware, error_pages_middleware,
                      session_middleware, forgery_middleware)


@web.middleware
async def portal_middlewares(request: web.Request, handler: Any) -> web.StreamResponse:
    """:data:`PORTAL_MIDDLEWARES` around ``handler`` on a portal path; elsewhere nothing."""
    if is_portal_path(request.path):
        for middleware in reversed(PORTAL_MIDDLEWARES):
            handler = partial(middleware, handler=handler)
    response: web.StreamResponse = await handler(request)
    return response


@jinja2.pass_context
def csrf_field(context: jinja2.runtime.Context) -> Markup:
    """``{{ csrf_field() }}``: the hidden anti-forgery field every POST form carries."""
    token = escape(context.get("csrf_token", ""))
    return Markup(f'<input type="hidden" name="{FIELD}" value="{token}">')


def setup_portal(app: web.Application) -> None:
    """Templates, static files and middlewares of the portal."""
    env = aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    env.globals["csrf_field"] = csrf_field
    app[oidc_flow.KEYS] = KeyCache()
    app[CALLBACK_LANDING] = integrations.callback_landing
    app.router.add_static(STATIC_PREFIX, HERE / "static", append_version=False)
    app.middlewares.append(portal_middlewares)
