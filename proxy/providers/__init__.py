"""Providers: one module per upstream service, each behind :mod:`proxy.providers.base`.

The registry maps a service name to its factory and OAuth description. Provider modules
(and so their SDKs) are imported only when a provider is first built, so the rest of
calproxy never imports a provider SDK.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence

from proxy.config import Settings
from proxy.core.model import Service
from proxy.providers.base import Connection, OAuthSpec, Provider, ProviderFactory, ServiceEntry

Registry = Mapping[Service, ServiceEntry]

MICROSOFT_OAUTH = OAuthSpec(
    authorize_url=lambda s: f"{s.ms_login_url}/oauth2/v2.0/authorize",
    token_url=lambda s: f"{s.ms_login_url}/oauth2/v2.0/token",
    client_id=lambda s: s.ms_client_id,
    client_secret=lambda s: s.ms_client_secret,
    extra_authorize_params={"response_mode": "query"},
)

GOOGLE_OAUTH = OAuthSpec(
    authorize_url=lambda s: s.google_auth_url,
    token_url=lambda s: s.google_token_url,
    client_id=lambda s: s.google_client_id,
    client_secret=lambda s: s.google_client_secret,
    extra_authorize_params={
        "access_type": "offline", "prompt": "consent", "include_granted_scopes": "true",
    },
)


def _lazy(module: str, name: str) -> ProviderFactory:
    """A factory that imports ``module`` (and its SDK) only when first called."""

    def factory(connection: Connection) -> Provider:
        provider_class = getattr(importlib.import_module(module), name)
        provider: Provider = provider_class(connection)
        return provider

    return factory


async def _vet_ews_url(settings: Settings, credentials: Mapping[str, str],
                       allowed_hosts: Sequence[str], service: Service) -> None:
    """The EWS guard's checks after name resolution (the policy's checks ran before)."""
    guard = importlib.import_module("proxy.providers.ews_guard")
    await guard.validate_ews_url(settings, credentials, allowed_hosts, service)


def default_registry() -> Registry:
    ews = _lazy("proxy.providers.ews", "EwsProvider")
    return {
        Service.GRAPH: ServiceEntry(_lazy("proxy.providers.graph", "GraphProvider"),
                                    oauth=MICROSOFT_OAUTH),
        Service.GOOGLE: ServiceEntry(_lazy("proxy.providers.google", "GoogleProvider"),
                                     oauth=GOOGLE_OAUTH),
        Service.EXCHANGE_EWS: ServiceEntry(ews, validate_connect=_vet_ews_url),
        Service.EWS_O365: ServiceEntry(ews, oauth=MICROSOFT_OAUTH, validate_connect=_vet_ews_url),
    }
