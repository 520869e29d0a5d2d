"""The whole service on PostgreSQL (deployments of several instances use it), not only the
store: the access table's main cells, a write, and a feed, over real HTTP."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from proxy.core.model import Sensitivity
from tests.api.conftest import Live, running, seed_world
from tests.api.helpers import events_of, seed
from tests.store.conftest import PG_URL

PLAIN_URL = PG_URL.replace("+asyncpg", "")


@pytest.fixture
async def world_pg() -> AsyncIterator[Live]:
    schema = f"api_test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(PLAIN_URL)
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        async with running(PG_URL, search_path=schema) as live:
            yield await seed_world(live)
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def test_service_runs_on_postgresql(world_pg: Live) -> None:
    live = world_pg
    seed(live, title="Merger", sensitivity=Sensitivity.PRIVATE)
    assert [e["title"] for e in (await events_of(live, "exec"))[1]["events"]] == ["Merger"]
    assert [e["title"] for e in (await events_of(live, "assistant"))[1]["events"]] == [
        "Private event"]
    assert (await events_of(live, "colleague"))[0] == 403
    assert (await events_of(live, "outsider"))[0] == 404
    status, _, _ = await live.call("chief", "POST", "/v1/users/exec@acme.example/events", json={
        "title": "Lunch", "start": "2026-12-02T12:00:00Z", "end": "2026-12-02T13:00:00Z"})
    assert status == 201
    _, feed, _ = await live.call("exec", "POST", "/v1/me/feeds", json={"detail": "limited"})
    async with live.http.get(feed["url"]) as response:
        body = await response.text()
    assert response.status == 200 and "Lunch" in body and "Merger" not in body
