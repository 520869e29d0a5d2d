"""The one implementation of :class:`proxy.store.interface.Store`: SQLAlchemy 2 Core over
async drivers (aiosqlite for SQLite, asyncpg for PostgreSQL).

The methods are grouped by concept in mixins (people, integrations, events, contacts,
portal) that
share the engine and the credentials cipher; every method runs in one transaction of its
own, and nothing outside this package sees a connection or a row. :func:`open_store` is
the way in: engine from the settings, migrations applied, store returned.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.config import Settings
from proxy.store import migrations
from proxy.store.changes import Changes
from proxy.store.crypto import CredentialCipher
from proxy.store.engine import check_reachable, make_engine
from proxy.store.relays import start_relay
from proxy.store.rotation import RotationOps
from proxy.store.sql_contacts import ContactOps
from proxy.store.sql_events import EventOps
from proxy.store.sql_integrations import IntegrationOps
from proxy.store.sql_notifications import NotificationOps
from proxy.store.sql_operations import OperationsOps
from proxy.store.sql_people import PeopleOps
from proxy.store.sql_portal import PortalOps
from proxy.store.sql_push import PushOps
from proxy.store.sql_sync import SyncOps

if TYPE_CHECKING:
    from proxy.store.interface import Store


class SqlStore(PeopleOps, IntegrationOps, EventOps, ContactOps, PortalOps, RotationOps,
               OperationsOps, NotificationOps, SyncOps, PushOps):
    """The store over one engine. Build it with :func:`open_store` (or, in tests, from an
    engine and a cipher, then :meth:`migrate`)."""

    def __init__(self, engine: AsyncEngine, cipher: CredentialCipher,
                 changes: Changes | None = None) -> None:
        super().__init__(engine, cipher, changes)
        self._relay: Any = None

    async def start_relay(self, redis_url: str | None, search_path: str | None,
                          origin: str | None = None) -> None:
        """Carry change notices to and from the other instances (see :mod:`.relays`)."""
        self._relay = await start_relay(self._engine, self.changes,
                                        origin or secrets.token_hex(8), redis_url, search_path)

    async def migrate(self) -> None:
        """Apply pending schema migrations (idempotent, safe to run concurrently)."""
        await migrations.migrate(self._engine)

    async def ready(self) -> bool:
        """A real read of ``schema_version``: every migration this calproxy knows applied
        (raises when the database cannot be read)."""
        return await migrations.pending(self._engine) == []

    async def close(self) -> None:
        if self._relay is not None:
            relay, self._relay = self._relay, None
            await relay.close()
        await self._engine.dispose()


async def open_store(settings: Settings, *, search_path: str | None = None) -> SqlStore:
    """Open the store at ``settings.database_url`` with migrations applied.

    Credentials are encrypted with ``settings.secret_key``; without one the store still
    opens (administration commands need no secret) but reading or writing credentials
    raises :class:`~proxy.store.crypto.SecretKeyError`. ``search_path`` (PostgreSQL only)
    puts the tables in another schema. A database that cannot be opened raises
    :class:`~proxy.errors.DatabaseUnavailable`.
    """
    store = SqlStore(make_engine(settings.database_url, search_path=search_path),
                     CredentialCipher(settings.secret_key))
    try:
        await check_reachable(store.engine)
        await store.migrate()
        await store.start_relay(settings.redis_url, search_path)
    except BaseException:
        await store.close()
        raise
    return store


if TYPE_CHECKING:
    def _implements_the_protocol(store: SqlStore) -> Store:  # checked by mypy
        return store
