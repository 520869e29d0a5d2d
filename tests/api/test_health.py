"""Liveness and readiness over real HTTP: readiness follows the store's real state, a
database made unreachable and then restored, and a schema that is not current."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text

from tests.api.conftest import Live, running
from tests.store.conftest import PG_URL


async def test_healthz_and_readyz_need_no_token(live: Live) -> None:
    for path in ("/healthz", "/readyz"):
        status, body, _ = await live.call(None, "GET", path)
        assert (status, body) == (200, {"status": "ok"})


async def test_readyz_fails_while_the_schema_is_behind(live: Live) -> None:
    async with live.store.engine.begin() as conn:
        newest = await conn.scalar(text("SELECT max(version) FROM schema_version"))
        row = (await conn.execute(text("SELECT version, name, applied_at FROM schema_version "
                                       "WHERE version = :v"), {"v": newest})).one()
        await conn.execute(text("DELETE FROM schema_version WHERE version = :v"),
                           {"v": newest})
    status, body, _ = await live.call(None, "GET", "/readyz")
    assert status == 503 and body["status"] == "unavailable"
    assert (await live.call(None, "GET", "/healthz"))[0] == 200  # alive all the same
    async with live.store.engine.begin() as conn:
        await conn.execute(text("INSERT INTO schema_version VALUES (:v, :n, :a)"),
                           {"v": row.version, "n": row.name, "a": row.applied_at})
    assert (await live.call(None, "GET", "/readyz"))[0] == 200


def _admin_url() -> str:
    return PG_URL.replace("+asyncpg", "")


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(_admin_url())
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _cut(name: str) -> str:
    return (f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")


@pytest.fixture
async def own_database() -> AsyncIterator[str]:
    name = f"calproxy_ready_{secrets.token_hex(5)}"
    await _admin(f"CREATE DATABASE {name}")
    yield name
    for candidate in (name, f"{name}_gone"):
        await _admin(_cut(candidate), f"DROP DATABASE IF EXISTS {candidate}")


async def _ready_status(live: Live) -> tuple[int, float]:
    started = time.monotonic()
    status, _, _ = await live.call(None, "GET", "/readyz")
    return status, time.monotonic() - started


@pytest.mark.postgres
async def test_readyz_follows_a_database_that_goes_away_and_comes_back(
        own_database: str) -> None:
    url = PG_URL.rsplit("/", 1)[0] + f"/{own_database}"
    async with running(url) as live:
        assert (await _ready_status(live))[0] == 200
        await _admin(_cut(own_database),
                     f"ALTER DATABASE {own_database} RENAME TO {own_database}_gone")
        status, took = await _ready_status(live)
        assert status == 503 and took < 30
        assert (await live.call(None, "GET", "/healthz"))[0] == 200
        await _admin(_cut(f"{own_database}_gone"),
                     f"ALTER DATABASE {own_database}_gone RENAME TO {own_database}")
        deadline = time.monotonic() + 30
        while (await _ready_status(live))[0] != 200:
            assert time.monotonic() < deadline, "readiness did not recover"
            await asyncio.sleep(0.5)
