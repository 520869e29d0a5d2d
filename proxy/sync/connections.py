"""Provider objects per integration, built once and reused until disconnect, each behind
its mailbox's gate (:mod:`proxy.sync.manners`)."""

from __future__ import annotations

import asyncio

import aiohttp

from proxy.config import Settings
from proxy.errors import Conflict
from proxy.providers import Registry
from proxy.providers.base import Connection, Provider
from proxy.store.interface import Store
from proxy.store.records import Integration, IntegrationStatus
from proxy.sync.manners import Manners
from proxy.sync.oauth import StoredTokenSource


class Connections:
    def __init__(self, store: Store, settings: Settings, http: aiohttp.ClientSession,
                 registry: Registry, manners: Manners | None = None) -> None:
        self.store, self.settings, self.http, self.registry = store, settings, http, registry
        self.manners = manners if manners is not None else Manners()
        self._providers: dict[str, Provider] = {}
        self._lock = asyncio.Lock()

    async def provider(self, integration: Integration) -> Provider:
        """The provider serving ``integration``; 409 unless it is connected."""
        if integration.status is not IntegrationStatus.CONNECTED:
            raise Conflict(f"The {integration.service.value} integration is "
                           f"{integration.status.value} ({integration.reason or 'not ready'}); "
                           "reconnect it.", "reintegration_required")
        cached = self._providers.get(integration.id)
        if cached is not None:
            return cached
        async with self._lock:
            if integration.id not in self._providers:
                self._providers[integration.id] = await self.build(integration)
            return self._providers[integration.id]

    async def build(self, integration: Integration) -> Provider:
        """A fresh provider for ``integration`` (used before it is connected, too)."""
        entry = self.registry[integration.service]
        tokens = None
        credentials: dict[str, str] = dict(integration.details)
        owner = await self.store.get_user(integration.user_id)
        if owner is not None:  # EWS addresses the mailbox by its owner's email
            credentials.setdefault("email", owner.email)
        if entry.oauth is not None:
            tokens = StoredTokenSource(self.store, self.http, entry.oauth, self.settings,
                                       integration.id)
        else:
            credentials.update(await self.store.get_credentials(integration.id))
        provider = entry.factory(Connection(self.settings, self.http, credentials, tokens,
                                            mailbox_key=integration.id))
        return self.manners.polite(provider, integration.service, integration.id)

    async def forget(self, integration_id: str) -> None:
        provider = self._providers.pop(integration_id, None)
        if provider is not None:
            await provider.close()

    async def close(self) -> None:
        for integration_id in list(self._providers):
            await self.forget(integration_id)
