"""Every store test runs twice: on a SQLite file and on the local PostgreSQL.

PostgreSQL is not optional here: when it is down the PostgreSQL half fails (CI starts it
first). The tests get a schema of their own (``store_test_<random>``), dropped at the end
of the session, and every test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from cryptography.fernet import Fernet

from proxy.store.crypto import CredentialCipher
from proxy.store.engine import make_engine
from proxy.store.schema import DATA_TABLES
from proxy.store.sql import SqlStore

PG_URL = os.environ.get(
    "CALPROXY_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SECRET_KEY = Fernet.generate_key().decode()


def _plain_pg_url() -> str:
    return PG_URL.replace("+asyncpg", "")


async def _pg(statement: str) -> None:
    conn = await asyncpg.connect(_plain_pg_url())
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def new_pg_schema() -> str:
    name = f"store_test_{secrets.token_hex(6)}"
    asyncio.run(_pg(f"CREATE SCHEMA {name}"))
    return name


def drop_pg_schema(name: str) -> None:
    asyncio.run(_pg(f"DROP SCHEMA IF EXISTS {name} CASCADE"))


@dataclass(frozen=True)
class Backend:
    """Where a test's store lives; ``fresh()`` gives an empty database of the same kind."""

    name: str
    url: str
    search_path: str | None
    tmp: Path

    def store(self, secret_key: str | None = SECRET_KEY) -> SqlStore:
        return SqlStore(make_engine(self.url, search_path=self.search_path),
                        CredentialCipher(secret_key))


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    name = new_pg_schema()
    yield name
    drop_pg_schema(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}", None,
                       tmp_path)
    return Backend("postgresql", PG_URL, request.getfixturevalue("pg_schema"), tmp_path)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[SqlStore]:
    store = backend.store()
    await store.migrate()
    if backend.name == "postgresql":
        async with store.engine.begin() as conn:  # DELETE beats TRUNCATE on tiny tables
            for table in reversed(DATA_TABLES):
                await conn.execute(table.delete())
    yield store
    await store.close()
