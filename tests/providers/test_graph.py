"""The Graph provider against the Graph and identity emulators, over real HTTP.

The ``graph_env`` fixture serves identity + Graph on one loopback app, signs the user in
with a real authorization-code + PKCE flow, and builds the real provider on top.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from proxy.config import Settings
from proxy.providers.base import Connection
from proxy.providers.graph import GraphProvider
from tests.fixtures.graph_emulator import MicrosoftCloud
from tests.fixtures.ms_identity import CodeFlowTokens

from .contract import ProviderContract

EMAIL = "eve@contoso.com"
FULL_SCOPES = "offline_access User.Read Calendars.ReadWrite Contacts.ReadWrite"


@dataclass
class GraphHarness:
    cloud: MicrosoftCloud
    provider: GraphProvider
    tokens: CodeFlowTokens
    settings: Settings
    http: aiohttp.ClientSession
    calendar_id: str
    email: str = EMAIL

    async def seed_event(self, title: str, start: datetime, end: datetime) -> str:
        return self.cloud.graph.add_event(self.email, title, start, end, "UTC")

    async def delete_upstream(self, event_id: str) -> None:
        self.cloud.graph.delete_event(self.email, event_id)

    async def rename_upstream(self, event_id: str, title: str) -> None:
        self.cloud.graph.update_event(self.email, event_id, subject=title)

    async def expire_cursors(self) -> None:
        self.cloud.graph.expire_delta_tokens()

    async def provider_for(self, scopes: str, **options: Any) -> GraphProvider:
        """Another provider on the same mailbox, signed in with ``scopes``."""
        tokens = CodeFlowTokens(self.http, self.settings.ms_login_url, self.email, scopes)
        await tokens.connect()
        return GraphProvider(Connection(self.settings, self.http, tokens=tokens,
                                        mailbox_key=self.email + scopes), **options)


@pytest.fixture
async def harness(aiohttp_server: Any) -> AsyncIterator[GraphHarness]:
    cloud = MicrosoftCloud()
    cloud.graph.add_mailbox(EMAIL, "Eve Exec")
    server = await aiohttp_server(cloud.app())
    settings = Settings(**MicrosoftCloud.settings_for(str(server.make_url(""))))
    async with aiohttp.ClientSession() as http:
        tokens = CodeFlowTokens(http, settings.ms_login_url, EMAIL, FULL_SCOPES)
        await tokens.connect()
        provider = GraphProvider(Connection(settings, http, tokens=tokens, mailbox_key=EMAIL),
                                 retry_cap=1.5)
        primary = cloud.graph.mailbox(EMAIL).primary
        yield GraphHarness(cloud, provider, tokens, settings, http, primary)
        await provider.close()


class TestGraphProvider(ProviderContract):
    async def test_oauth_granted_scopes_come_from_the_token_answer(
            self, harness: GraphHarness) -> None:
        assert set(harness.tokens.granted.split()) == set(FULL_SCOPES.split())
        assert harness.cloud.identity.authorize_requests == 1
