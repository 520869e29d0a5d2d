"""The OpenID Connect sign-in flow: "Sign in with Microsoft" / "Sign in with Google".

``POST /portal/sign-in/{provider}`` (a form, so that no GET starts anything) records a
fresh ``state`` bound to this browser's session id and answers 303 to the provider's
authorize endpoint: code flow, ``openid email profile``, ``nonce``, PKCE S256,
``response_mode=query``, redirect URI ``/oauth/callback``. The nonce and the PKCE verifier
are HMACs of the browser's id and the state, so nothing secret is stored and only the
browser that started the flow can finish it.

``GET /oauth/callback`` serves both flows: a ``state`` the portal recorded finishes a
sign-in here; any other goes to the integrations' callback. Finishing: trade the code
(with the verifier), verify the ID token (:mod:`.oidc`), find the user by the bound
(issuer, subject), or at the first sign-in by the verified email, then bind it. An email
that is no account's user gets a page saying so, and nothing is created.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from aiohttp import web

from proxy.errors import CalproxyError, NotFound
from proxy.http import integrations
from proxy.http.keys import HTTP, SETTINGS, STORE
from proxy.portal.keys import SESSION
from proxy.portal.landing import land
from proxy.portal.oidc import (
    PROVIDERS,
    SCOPES,
    KeyCache,
    Provider,
    SignInRefused,
    VerifiedIdentity,
    verify_id_token,
)
from proxy.portal.web import error_page, redirect
from proxy.store.interface import Store
from proxy.store.records import User
from proxy.sync.oauth import exchange_code, pkce_challenge

FLOW_LIFETIME = timedelta(minutes=10)
KEYS = web.AppKey("portal_oidc_keys", KeyCache)


def _derived(browser_id: str, state: str, purpose: str) -> str:
    digest = hmac.new(browser_id.encode(), f"{purpose}|{state}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def _provider(request: web.Request) -> Provider:
    provider = PROVIDERS.get(request.match_info["provider"])
    if provider is None or not provider.configured(request.app[SETTINGS]):
        raise NotFound("This way of signing in is not available on this server.")
    return provider


async def start(request: web.Request) -> web.Response:
    provider = _provider(request)
    settings, browser = request.app[SETTINGS], request[SESSION].browser_id
    state = secrets.token_urlsafe(32)
    await request.app[STORE].begin_sign_in_flow(state, provider.key, browser, FLOW_LIFETIME)
    params = {
        "client_id": provider.spec.client_id(settings) or "",
        "response_type": "code", "redirect_uri": settings.redirect_uri, "scope": SCOPES,
        "state": state, "nonce": _derived(browser, state, "nonce"),
        "code_challenge": pkce_challenge(_derived(browser, state, "pkce")),
        "code_challenge_method": "S256", "response_mode": "query", "prompt": "select_account",
    }
    return redirect(f"{provider.spec.authorize_url(settings)}?{urlencode(params)}")


async def oauth_callback(request: web.Request) -> web.StreamResponse:
    """The one redirect URI: a portal sign-in by its state, else an integration."""
    state = request.query.get("state", "")
    if state and await request.app[STORE].is_sign_in_state(state):
        try:
            return await _finish(request, state)
        except CalproxyError as exc:
            return error_page(request, exc.status, exc.message, "You are not signed in")
    return await integrations.oauth_callback(request)


async def _finish(request: web.Request, state: str) -> web.Response:
    app, browser = request.app, request[SESSION].browser_id
    key = await app[STORE].take_sign_in_flow(state, browser)
    if key is None:
        raise SignInRefused("This sign-in was started in another browser or took longer "
                            "than 10 minutes. Start again from the sign-in page.")
    provider = PROVIDERS[key]
    if "error" in request.query:
        raise SignInRefused(f"{provider.label} did not sign you in. Start again from the "
                            "sign-in page.")
    code = request.query.get("code", "")
    if not code:
        raise SignInRefused(f"{provider.label} sent no sign-in code. Start again.")
    tokens = await exchange_code(app[HTTP], provider.spec, app[SETTINGS], code,
                                 _derived(browser, state, "pkce"))
    if not tokens.id_token:
        raise SignInRefused(f"{provider.label} sent no ID token.")
    identity = await verify_id_token(app[HTTP], app[KEYS], provider, app[SETTINGS],
                                     tokens.id_token, _derived(browser, state, "nonce"))
    user = await _user_for(app[STORE], provider, identity)
    return await land(request, user)


async def _user_for(store: Store, provider: Provider, identity: VerifiedIdentity) -> User:
    user = await store.user_for_identity(identity.issuer, identity.subject)
    if user is not None:
        return user
    user = await store.get_user_by_email(identity.email)
    if user is None:
        raise SignInRefused(f"No one with the email address {identity.email} is a user of "
                            "calproxy here, so you cannot sign in. Ask your administrator "
                            "to add you; nothing was created.")
    family = _issuer_family(identity.issuer, provider)
    if any(_issuer_family(issuer, provider) == family
           for issuer, _ in await store.identities_of(user.id)):
        raise SignInRefused(f"{user.email} already signs in with another {provider.label} "
                            "account; use that one, or ask your administrator.")
    await store.bind_identity(identity.issuer, identity.subject, user.id)
    return user


def _issuer_family(issuer: str, provider: Provider) -> str:
    """Microsoft's issuers differ by tenant only: one family is one provider."""
    if provider.issuer_per_tenant:
        parts = issuer.rstrip("/").rsplit("/", 2)
        return parts[0] if len(parts) == 3 else issuer
    return issuer
