"""OpenID Connect ID tokens for the portal's sign-in: providers, keys, verification.

Microsoft and Google are used on the same OAuth apps as the integrations (the
:class:`~proxy.providers.base.OAuthSpec` endpoints and clients), asking only
``openid email profile``. An ID token is accepted only when (PyJWT; RFC 8725; ASVS 10.5):

- its signature verifies with a key the provider's JWKS publishes (``jwks_uri`` from the
  discovery document), under a fixed algorithm list (RS256), never the token's own ``alg``;
- ``aud`` is our client id, ``exp``/``iat`` hold (a minute of leeway), ``nonce`` is the
  one this browser's flow sent;
- ``iss`` is exactly the provider's issuer. Google: ``CALPROXY_GOOGLE_ISSUER`` (which the
  discovery document must name too; ``accounts.google.com`` is Google's legacy spelling of
  the default). Microsoft through ``/common``: the discovery issuer template
  (``.../{tenantid}/v2.0``) filled with the token's own ``tid``, so a token of one tenant
  cannot pass as another's.

Discovery documents and key sets are fetched with aiohttp and cached for
:data:`CACHE_SECONDS`; a ``kid`` not in the cached set refetches it (a provider rotating
keys), at most once per :data:`REFETCH_SECONDS`.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

from proxy.config import Settings
from proxy.errors import CalproxyError, UpstreamError
from proxy.providers import GOOGLE_OAUTH, MICROSOFT_OAUTH
from proxy.providers.base import OAuthSpec

SCOPES = "openid email profile"
ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 60
CACHE_SECONDS = 3600
REFETCH_SECONDS = 60
GOOGLE_DEFAULT_ISSUER = "https://accounts.google.com"


class SignInRefused(CalproxyError):
    """The identity provider's answer cannot sign anyone in (the message says why)."""

    status = 403
    default_code = "sign_in_refused"


@dataclass(frozen=True, slots=True)
class Provider:
    key: str
    label: str
    spec: OAuthSpec
    discovery_url: Callable[[Settings], str]
    #: Microsoft: ``iss`` is the discovery issuer template filled with the token's ``tid``
    issuer_per_tenant: bool

    def configured(self, settings: Settings) -> bool:
        return bool(self.spec.client_id(settings))


PROVIDERS: dict[str, Provider] = {
    "microsoft": Provider("microsoft", "Microsoft", MICROSOFT_OAUTH,
                          lambda s: f"{s.ms_login_url}/v2.0/.well-known/openid-configuration",
                          issuer_per_tenant=True),
    "google": Provider("google", "Google", GOOGLE_OAUTH,
                       lambda s: f"{s.google_issuer}/.well-known/openid-configuration",
                       issuer_per_tenant=False),
}


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    issuer: str
    subject: str
    email: str


class KeyCache:
    """Discovery documents and JWKS by URL, fetched with the app's aiohttp session."""

    def __init__(self, refetch_seconds: float = REFETCH_SECONDS) -> None:
        self._documents: dict[str, tuple[float, dict[str, Any]]] = {}
        self.refetch_seconds = refetch_seconds

    async def document(self, http: aiohttp.ClientSession, url: str, *,
                       max_age: float = CACHE_SECONDS) -> dict[str, Any]:
        cached = self._documents.get(url)
        if cached is not None and time.monotonic() - cached[0] < max_age:
            return cached[1]
        try:
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=15)) as response:
                body = await response.json(content_type=None)
                ok = response.status == 200
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise UpstreamError("The identity provider could not be reached; try again "
                                "in a moment.") from None
        if not ok or not isinstance(body, dict):
            raise UpstreamError("The identity provider answered something calproxy could "
                                "not read; try again in a moment.")
        self._documents[url] = (time.monotonic(), body)
        return body

    async def signing_key(self, http: aiohttp.ClientSession, jwks_uri: str,
                          kid: str) -> Any:
        """The public key ``kid`` names in the JWKS (refetched once if it is new)."""
        for max_age in (CACHE_SECONDS, self.refetch_seconds):
            jwks = await self.document(http, jwks_uri, max_age=max_age)
            for entry in jwks.get("keys", []):
                if isinstance(entry, dict) and entry.get("kid") == kid:
                    try:
                        return jwt.PyJWK(entry).key
                    except jwt.PyJWTError:
                        break
        raise SignInRefused("The sign-in answer was signed with a key the identity provider "
                            "does not publish.")


def expected_issuers(provider: Provider, settings: Settings, discovery: dict[str, Any],
                     claims: dict[str, Any]) -> set[str]:
    template = str(discovery.get("issuer", ""))
    if provider.issuer_per_tenant:
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or not tenant or "/" in tenant:
            return set()
        return {template.replace("{tenantid}", tenant)}
    if template != settings.google_issuer:  # OpenID Connect Discovery §4.3
        raise UpstreamError("The identity provider's discovery document names another "
                            "issuer than CALPROXY_GOOGLE_ISSUER.")
    legacy = {"accounts.google.com"} if template == GOOGLE_DEFAULT_ISSUER else set()
    return {template, *legacy}


async def verify_id_token(http: aiohttp.ClientSession, cache: KeyCache, provider: Provider,
                          settings: Settings, token: str, nonce: str) -> VerifiedIdentity:
    """The identity an ID token proves, or :class:`SignInRefused` naming what failed."""
    discovery = await cache.document(http, provider.discovery_url(settings))
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise SignInRefused("The identity provider's answer was not a readable ID token."
                            ) from None
    kid = header.get("kid")
    if not isinstance(kid, str) or not isinstance(discovery.get("jwks_uri"), str):
        raise SignInRefused("The sign-in answer names no signing key.")
    key = await cache.signing_key(http, discovery["jwks_uri"], kid)
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=ALGORITHMS, audience=provider.spec.client_id(settings),
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "sub"], "verify_iss": False})
    except jwt.ExpiredSignatureError:
        raise SignInRefused("The sign-in answer had expired; sign in again.") from None
    except jwt.InvalidAudienceError:
        raise SignInRefused("The sign-in answer was meant for another application.") from None
    except jwt.PyJWTError:
        raise SignInRefused("The sign-in answer's signature or contents did not verify."
                            ) from None
    if claims["iss"] not in expected_issuers(provider, settings, discovery, claims):
        raise SignInRefused("The sign-in answer came from an issuer calproxy does not "
                            "trust for this provider.")
    if not isinstance(claims.get("nonce"), str) or not _same(claims["nonce"], nonce):
        raise SignInRefused("The sign-in answer does not belong to this sign-in (its nonce "
                            "differs); start again.")
    return VerifiedIdentity(str(claims["iss"]), str(claims["sub"]), _email(provider, claims))


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _email(provider: Provider, claims: dict[str, Any]) -> str:
    if provider.issuer_per_tenant:
        email = claims.get("email") or claims.get("preferred_username")
    else:
        email = claims.get("email") if claims.get("email_verified") is True else None
    if not isinstance(email, str) or "@" not in email:
        raise SignInRefused(f"{provider.label} did not tell calproxy a verified email "
                            "address for this account.")
    return email.strip().lower()
