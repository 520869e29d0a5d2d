"""A calproxy to benchmark over real HTTP: SQLite in a temporary folder, one owner with a
connected integration on the in-memory provider, served on loopback.

The benchmark seeds ``Served.backend`` under ``Served.mailbox`` and adds whatever else it
needs (tokens, delegations, feeds) through ``Served.store`` before its first request.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Middleware

from proxy.config import Settings
from proxy.core.model import Permissions, Service
from proxy.http.app import create_app
from proxy.providers.base import Connection, Provider, ServiceEntry
from proxy.providers.memory import MemoryBackend, MemoryProvider
from proxy.store.records import IntegrationStatus, Role, User
from proxy.store.sql import SqlStore, open_store


@dataclass
class Served:
    url: str
    store: SqlStore
    backend: MemoryBackend
    owner: User
    mailbox: str
    app: web.Application


@asynccontextmanager
async def served(owner_email: str = "exec@example.com",
                 outer: Sequence[Middleware] = ()) -> AsyncIterator[Served]:
    """``outer``: middlewares put around the app's own (a benchmark's timing, say)."""
    backend = MemoryBackend(Service.GRAPH)
    backend.page_size = 1000

    def factory(connection: Connection) -> Provider:
        return MemoryProvider(backend, connection)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp}/bench.sqlite3",
                            secret_key="bench", freshness_seconds=3600,
                            rate_limit=None, feed_rate_limit=None)  # one client, flat out
        store = await open_store(settings)
        account = await store.create_account("Bench", {})
        owner = await store.create_user(account.id, owner_email, Role.MEMBER)
        integration = await store.create_integration(
            owner.id, Service.GRAPH, IntegrationStatus.CONNECTED, Permissions(), Permissions())
        app = create_app(settings, store, {Service.GRAPH: ServiceEntry(factory)})
        for n, middleware in enumerate(outer):
            app.middlewares.insert(n, middleware)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            yield Served(f"http://127.0.0.1:{server.port}", store, backend, owner,
                         integration.id, app)
        finally:
            await server.close()
