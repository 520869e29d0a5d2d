from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from proxy.config import Settings
from proxy.core.model import Event, Service
from proxy.providers.base import Connection
from proxy.providers.memory import MemoryBackend, MemoryProvider

from .contract import ProviderContract


class MemoryHarness:
    calendar_id = "primary"

    def __init__(self, backend: MemoryBackend, provider: MemoryProvider) -> None:
        self.backend, self.provider = backend, provider

    async def seed_event(self, title: str, start: datetime, end: datetime) -> str:
        event = Event(self.backend.new_id(), "primary", Service.GRAPH, start, end, title=title)
        return self.backend.put_event("box", event).provider_id

    async def delete_upstream(self, event_id: str) -> None:
        self.backend.remove_event("box", "primary", event_id)

    async def rename_upstream(self, event_id: str, title: str) -> None:
        event = self.backend.mailbox("box").events["primary"][event_id]
        self.backend.put_event("box", replace(event, title=title))

    async def expire_cursors(self) -> None:
        self.backend.expire_cursors("box")


@pytest.fixture
async def harness() -> Any:
    backend = MemoryBackend()
    async with aiohttp.ClientSession() as http:
        provider = MemoryProvider(backend, Connection(Settings(), http, mailbox_key="box"))
        yield MemoryHarness(backend, provider)


class TestMemoryProvider(ProviderContract):
    pass
