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
from proxy.providers.base import Connection, OAuthSpec, Provider, ServiceEntry

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


def _lazy(module: str, name: str) -> ServiceEntry:
    def factory(connection: Connection) -> Provider:
        provider_class = getattr(importlib.import_module(module), name)
        provider: Provider = provider_class(connection)
        return provider

    return ServiceEntry(factory=factory)


def _ews_validate(module: str) -> ServiceEntry:
    entry = _lazy(module, "EwsProvider")

    async def validate(settings: Settings, credentials: Mapping[str, str],
                       allowed_hosts: Sequence[str], service: Service) -> None:
        validator = importlib.import_module("proxy.providers.ews_guard").validate_ews_url
        await validator(settings, credentials, allowed_hosts, service)

    return ServiceEntry(factory=entry.factory, validate_connect=validate)


def default_registry() -> Registry:
    graph = _lazy("proxy.providers.graph", "GraphProvider")
    google = _lazy("proxy.providers.google", "GoogleProvider")
    ews = _ews_validate("proxy.providers.ews")
    return {
        Service.GRAPH: ServiceEntry(graph.factory, oauth=MICROSOFT_OAUTH),
        Service.GOOGLE: ServiceEntry(google.factory, oauth=GOOGLE_OAUTH),
        Service.EXCHANGE_EWS: ews,
        Service.EWS_O365: ServiceEntry(ews.factory, oauth=MICROSOFT_OAUTH,
                                       validate_connect=ews.validate_connect),
    }
