"""The change log is pruned while the server runs (DESIGN §11), over real HTTP: a webhook
whose receiver was down past the retention is still told every entry, in order, once the
receiver is back; entries nobody waits for go; a stream resuming from a pruned id gets
what is still held, without error."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from proxy.notifications.routes import DELIVERER, PRUNER
from proxy.store.engine import write_transaction
from tests.api.conftest import Live, running, seed_world
from tests.api.helpers import events_of, seed
from tests.notifications.conftest import Receiver, read_events, subscribe, until
from tests.store.conftest import PG_URL
from tests.store.helpers import raw

HOOKS_TO_LOOPBACK = {"webhook_allow_http": True, "webhook_allowed_hosts": ("127.0.0.1",)}


@pytest.fixture(params=["sqlite", "postgresql"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Live]:
    """The notification world on each store (PostgreSQL: a schema of its own)."""
    if request.param == "sqlite":
        async with running(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
                           **HOOKS_TO_LOOPBACK) as live:
            yield await seed_world(live)
        return
    schema = f"retention_test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(PG_URL.replace("+asyncpg", ""))
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        async with running(PG_URL, search_path=schema, **HOOKS_TO_LOOPBACK) as live:
            yield await seed_world(live)
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def _age_everything(world: Live, hours: float) -> None:
    async with write_transaction(world.store.engine) as conn:
        await conn.execute(text("UPDATE change_log SET at = :at"),
                           {"at": datetime.now(UTC) - timedelta(hours=hours)})


async def _held(world: Live) -> list[int]:
    return [r[0] for r in await raw(world.store, "SELECT seq FROM change_log ORDER BY seq")]


async def test_a_webhook_behind_the_retention_is_told_everything(world: Live,
                                                                 receiver: Receiver) -> None:
    assert world.app is not None
    world.app[DELIVERER].retry_delays = (0.2,) * 10_000
    receiver.answers = [503] * 10_000  # down until cleared
    await events_of(world, "exec")
    await subscribe(world, "exec", f"{receiver.url}/exec")
    for title in ("One", "Two"):
        seed(world, title=title)
        await events_of(world, "exec")
        await until(lambda: bool(receiver.received.get("exec")))
        await asyncio.sleep(0.5)  # one entry each (not coalesced)
    await _age_everything(world, 48)  # the receiver was down for two days
    before = await _held(world)
    world.app[PRUNER].every = 0.2
    await asyncio.sleep(2.5)  # several prunings
    held = await _held(world)
    full = [seq for seq, _ in await world.store.changes_after(world.ids["exec"], "full", 0)]
    assert len(full) == 2 and set(full) <= set(held) and held == before
    receiver.answers.clear()  # the receiver is back

    def told() -> list[int]:  # the entries of the last two attempts (webhook-id msg_X_SEQ)
        return [int(h["webhook-id"].rsplit("_", 1)[-1]) for h, _ in receiver.received["exec"][-2:]]

    await until(lambda: told() == full)
    last_two = receiver.bodies("exec")[-2:]
    assert all(b["type"] == "events.changed" and len(b["changed"]) == 1 for b in last_two)
    assert last_two[0]["changed"] != last_two[1]["changed"]
    await until_pruned(world)  # delivered, and older than the retention: gone


async def until_pruned(world: Live) -> None:
    for _ in range(100):
        if not await _held(world):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the delivered entries were not pruned")


async def test_a_stream_resuming_from_a_pruned_id_gets_what_is_held(world: Live) -> None:
    assert world.app is not None
    headers = {"Authorization": f"Bearer {world.tokens['assistant']}"}
    url = f"{world.url}/v1/users/exec@acme.example/changes"
    async with world.http.get(url, headers=headers) as stream:
        await asyncio.sleep(0.3)
        seed(world, title="Old")
        await events_of(world, "exec")
        [(first, _)] = await read_events(stream, 1)
    await _age_everything(world, 30)
    world.app[PRUNER].every = 0.2
    await until_pruned(world)
    seed(world, title="New")
    await events_of(world, "exec")
    async with world.http.get(url, headers={**headers, "Last-Event-ID": first}) as stream:
        assert stream.status == 200
        [(second, data)] = await read_events(stream, 1)
    assert int(second) > int(first) and json.loads(data)["type"] == "events.changed"
