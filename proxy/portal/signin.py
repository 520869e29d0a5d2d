"""Signing in with a one-time link, and signing out (DESIGN §9 "Signing in").

``calproxy login-link --email E`` prints ``{PUBLIC_URL}/portal/login/{secret}``: single use,
valid :data:`LINK_LIFETIME`, stored hashed. Its GET only shows a "Continue" button (mail
scanners and link previews fetch URLs; they must not spend or use it); the POST signs in.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from proxy.config import Settings
from proxy.http.keys import SETTINGS, STORE
from proxy.portal.landing import land
from proxy.portal.oidc import PROVIDERS
from proxy.portal.sessions import sign_out
from proxy.portal.web import redirect, render, signed_in_user

LINK_LIFETIME = timedelta(minutes=10)
NOTICES = {
    "signed-out": "You are signed out.",
}


def login_link_url(settings: Settings, secret: str) -> str:
    return f"{settings.base_url}/portal/login/{secret}"


def configured_providers(settings: Settings) -> list[dict[str, str]]:
    """The "Sign in with ..." buttons: each provider whose client id is configured."""
    return [{"key": p.key, "label": p.label} for p in PROVIDERS.values()
            if p.configured(settings)]


async def sign_in_page(request: web.Request) -> web.Response:
    if signed_in_user(request) is not None:
        raise web.HTTPSeeOther("/portal/")
    notice = NOTICES.get(request.query.get("notice", ""))
    return render(request, "sign_in.html", {
        "providers": configured_providers(request.app[SETTINGS]), "notice": notice})


def _secret(request: web.Request) -> str:
    secret = request.match_info["secret"]
    return secret if 20 <= len(secret) <= 100 else ""


async def login_link_page(request: web.Request) -> web.Response:
    """Show whose link it is and a "Continue" button; changes nothing."""
    secret = _secret(request)
    user = await request.app[STORE].login_link_user(secret) if secret else None
    return render(request, "login_link.html", {
        "email": user.email if user else None, "secret": secret},
        status=200 if user else 404)


async def use_login_link(request: web.Request) -> web.StreamResponse:
    secret = _secret(request)
    user = await request.app[STORE].use_login_link(secret) if secret else None
    if user is None:
        return render(request, "login_link.html", {"email": None}, status=404)
    return await land(request, user)


async def sign_out_handler(request: web.Request) -> web.StreamResponse:
    await sign_out(request)
    return redirect("/portal/sign-in?notice=signed-out")


async def portal_root(request: web.Request) -> web.StreamResponse:
    return redirect("/portal/")
