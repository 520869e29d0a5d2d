"""OAuth 2.0 authorization code with PKCE, generic over the configured endpoints.

Microsoft and Google differ only in their :class:`~proxy.providers.base.OAuthSpec`
(endpoints, client, extra authorize parameters). Token responses are read for what was
*granted* (``scope``), refresh tokens rotate and are stored encrypted, and a refresh
that fails leaves the integration in ``error`` with reason ``needs_reauth``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from proxy.config import Settings
from proxy.errors import UpstreamAuthError, UpstreamError, UpstreamTimeout
from proxy.providers.base import OAuthSpec
from proxy.store.interface import Store
from proxy.store.records import IntegrationStatus

#: refresh this many seconds before the access token expires
EXPIRY_MARGIN = 60


@dataclass(frozen=True, slots=True)
class Authorization:
    url: str
    state: str
    verifier: str


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: float
    scope: str
    #: the OpenID Connect ID token, when ``openid`` was asked for (portal sign-in)
    id_token: str | None = None

    @property
    def email(self) -> str | None:
        """The ID token's ``email`` claim (Google's integrations ask ``openid email``)."""
        return id_token_email(self.id_token)

    def as_credentials(self) -> dict[str, str]:
        creds = {"access_token": self.access_token, "expires_at": str(self.expires_at)}
        if self.refresh_token:
            creds["refresh_token"] = self.refresh_token
        return creds


def start_authorization(
    spec: OAuthSpec, settings: Settings, scopes: list[str], login_hint: str | None,
) -> Authorization:
    """Build the authorize URL with a fresh state and an S256 PKCE challenge."""
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(24)
    params = {
        "client_id": spec.client_id(settings) or "",
        "response_type": "code",
        "redirect_uri": settings.redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
        **spec.extra_authorize_params,
    }
    if login_hint:
        params["login_hint"] = login_hint
    return Authorization(f"{spec.authorize_url(settings)}?{urlencode(params)}", state, verifier)


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of a PKCE verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def exchange_code(
    http: aiohttp.ClientSession, spec: OAuthSpec, settings: Settings, code: str, verifier: str,
) -> TokenSet:
    return await _token_request(http, spec, settings, {
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": settings.redirect_uri,
    })


async def refresh_tokens(
    http: aiohttp.ClientSession, spec: OAuthSpec, settings: Settings, refresh_token: str,
    previous_scope: str,
) -> TokenSet:
    tokens = await _token_request(http, spec, settings, {
        "grant_type": "refresh_token", "refresh_token": refresh_token,
    })
    # Google omits the refresh token (and sometimes the scope) when it does not rotate.
    return TokenSet(tokens.access_token, tokens.refresh_token or refresh_token,
                    tokens.expires_at, tokens.scope or previous_scope)


async def _token_request(
    http: aiohttp.ClientSession, spec: OAuthSpec, settings: Settings, form: dict[str, str],
) -> TokenSet:
    form = {"client_id": spec.client_id(settings) or "", **form}
    secret = spec.client_secret(settings)
    if secret:
        form["client_secret"] = secret
    try:
        async with http.post(spec.token_url(settings), data=form,
                             timeout=aiohttp.ClientTimeout(total=20)) as response:
            body = await _json_body(response)
    except TimeoutError:
        raise UpstreamTimeout("The identity provider's token endpoint timed out.") from None
    except aiohttp.ClientError as exc:
        raise UpstreamError(f"The identity provider could not be reached ({type(exc).__name__})."
                            ) from None
    if response.status >= 400 or "access_token" not in body:
        code = str(body.get("error", response.status))
        if response.status >= 500:
            raise UpstreamError(f"The identity provider failed (HTTP {response.status}).")
        raise UpstreamAuthError(f"The identity provider refused the grant ({code}).")
    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token"),
        expires_at=time.time() + float(body.get("expires_in", 3600)),
        scope=str(body.get("scope", "")),
        id_token=body["id_token"] if isinstance(body.get("id_token"), str) else None,
    )


def id_token_email(id_token: object) -> str | None:
    """The ``email`` claim of an ID token received straight from the token endpoint.

    Its signature is not checked: OpenID Connect Core (3.1.3.7) lets a client that got the
    token over TLS directly from the token endpoint rely on that channel instead, and the
    claim only names the mailbox for stable ids (it grants nothing). Malformed: ``None``.
    """
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        return None
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return None
    email = claims.get("email") if isinstance(claims, dict) else None
    return email if isinstance(email, str) and email else None


async def _json_body(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await response.json(content_type=None)
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


class StoredTokenSource:
    """The :class:`~proxy.providers.base.TokenSource` of one integration.

    Tokens live encrypted in the store; concurrent callers of one provider share one
    refresh (the provider, and so this source, is cached per integration). The access
    token last read or obtained is kept in memory until it nears its expiry, so a sync
    page costs no read and no decryption: an access token stays valid until it expires
    even when another instance refreshed meanwhile, and a provider that answers 401
    (revoked early) calls :meth:`refresh`, which reads the store again.
    """

    def __init__(self, store: Store, http: aiohttp.ClientSession, spec: OAuthSpec,
                 settings: Settings, integration_id: str) -> None:
        self.store, self.http, self.spec = store, http, spec
        self.settings, self.integration_id = settings, integration_id
        self._lock = asyncio.Lock()
        self._token: tuple[str, float] | None = None  # (access token, expires_at)

    async def access_token(self) -> str:
        if self._token is not None and self._token[1] - EXPIRY_MARGIN > time.time():
            return self._token[0]
        creds = await self.store.get_credentials(self.integration_id)
        if self._keep(creds):
            return creds["access_token"]
        return await self.refresh(stale=creds.get("access_token"))

    def _keep(self, creds: dict[str, str]) -> bool:
        """Remember the stored access token if it is still good; whether it is."""
        expires_at = float(creds.get("expires_at", 0))
        if not creds.get("access_token") or expires_at - EXPIRY_MARGIN <= time.time():
            return False
        self._token = (creds["access_token"], expires_at)
        return True

    async def refresh(self, stale: str | None = None) -> str:
        """Get a new access token, unless another caller did so since ``stale`` was read."""
        async with self._lock:
            self._token = None
            creds = await self.store.get_credentials(self.integration_id)
            current = creds.get("access_token")
            if stale is not None and current != stale and current and self._keep(creds):
                return current
            return await self._refresh_locked(creds)

    async def _refresh_locked(self, creds: dict[str, str]) -> str:
        refresh_token = creds.get("refresh_token")
        integration = await self.store.get_integration(self.integration_id)
        try:
            if not refresh_token or integration is None:
                raise UpstreamAuthError("No refresh token is stored for this integration.")
            tokens = await refresh_tokens(self.http, self.spec, self.settings, refresh_token,
                                          integration.scopes)
        except UpstreamAuthError:
            await self.store.update_integration(
                self.integration_id, status=IntegrationStatus.ERROR, reason="needs_reauth")
            raise UpstreamAuthError("The provider no longer accepts this integration's "
                                    "credentials; reconnect it.", "needs_reauth") from None
        stored = {**creds, **tokens.as_credentials()}
        await self.store.set_credentials(self.integration_id, stored)
        self._keep(stored)
        return tokens.access_token
