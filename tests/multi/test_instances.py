"""The multi-instance suite: two real ``calproxy serve`` processes on one fresh PostgreSQL
database form one service (DESIGN §10): one upstream round per calendar whoever asks, a
write on one read on the other, one feed ETag, Graph's 4 requests per mailbox across both,
and a SIGKILL mid-round that leaves a whole mirror for the other instance to complete."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text

from proxy.store.migrations import MIGRATIONS
from tests.api.helpers import NEAR, NOW
from tests.multi.harness import Deployment, deployment

pytestmark = [pytest.mark.multi_instance, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair() -> AsyncIterator[Deployment]:
    """Two instances without background sync (reads alone ask the provider)."""
    async with deployment({"exec": 0, "ceo": 11, "cfo": 0}, scheduler="off",
                          freshness_seconds="300") as live:
        yield live


def at(days: float, hours: int = 1) -> dict[str, str]:
    start = NOW + timedelta(days=days)
    return {"start": start.isoformat(), "end": (start + timedelta(hours=hours)).isoformat()}


async def titles(live: Deployment, n: int, who: str) -> list[str]:
    status, body, _ = await live.call(n, who, "GET", f"/v1/users/me/events?{NEAR}")
    assert status == 200, body
    return sorted(e["title"] for e in body["events"])


async def test_instances_started_together_migrated_the_database_once(pair: Deployment) -> None:
    async with pair.store.engine.connect() as conn:
        versions = [r[0] for r in await conn.execute(text("SELECT version FROM schema_version"))]
    assert sorted(versions) == [m.version for m in MIGRATIONS]


async def test_fifty_cold_reads_over_both_instances_make_one_round(pair: Deployment) -> None:
    for n in range(3):
        pair.graph.add_event("exec@acme.example", f"Meeting {n}", NOW + timedelta(days=1, hours=n),
                             NOW + timedelta(days=1, hours=n + 1))
    answers = await asyncio.gather(*(titles(pair, n % 2, "exec") for n in range(50)))
    assert all(a == ["Meeting 0", "Meeting 1", "Meeting 2"] for a in answers)
    assert pair.rounds("exec@acme.example") == 1


async def test_a_write_on_one_instance_is_read_on_the_other(pair: Deployment) -> None:
    before = await titles(pair, 1, "exec")  # the second instance has read (and cached) it
    status, body, _ = await pair.call(0, "exec", "POST", "/v1/users/me/events",
                                      json={"title": "Lunch", **at(2)})
    assert status == 201, body
    assert await titles(pair, 1, "exec") == sorted([*before, "Lunch"])


async def test_a_feed_has_one_etag_on_both_instances(pair: Deployment) -> None:
    status, feed, _ = await pair.call(0, "exec", "POST", "/v1/me/feeds", json={"detail": "busy"})
    assert status == 201, feed
    path = feed["url"].split("127.0.0.1:", 1)[1].split("/", 1)[1]
    etags = []
    for instance in [*pair.instances, *pair.instances]:
        async with pair.http.get(f"{instance.url}/{path}") as response:
            assert response.status == 200
            etags.append(response.headers["ETag"])
    assert len(set(etags)) == 1


async def test_graph_sees_at_most_four_requests_per_mailbox_from_both(pair: Deployment) -> None:
    status, listed, _ = await pair.call(0, "ceo", "GET", "/v1/users/me/calendars")
    assert status == 200 and len(listed["calendars"]) == 12, listed
    for calendar in listed["calendars"]:
        status, _, _ = await pair.call(0, "ceo", "PATCH",
                                       f"/v1/users/me/calendars/{calendar['id']}",
                                       json={"synced": True})
        assert status == 200
    pair.graph.latency = 0.2
    try:
        await asyncio.gather(*(titles(pair, n % 2, "ceo") for n in range(20)))
    finally:
        pair.graph.latency = 0.0
    assert 2 <= pair.graph.max_mailbox_in_flight["ceo@acme.example"] <= 4
    assert pair.graph.concurrency_refusals == 0
    assert pair.rounds("ceo@acme.example") == 12  # one per calendar, across both


async def mirrored(live: Deployment, who: str) -> list[str]:
    user = await live.store.get_user_by_email(f"{who}@acme.example")
    assert user is not None
    [integration] = await live.store.list_integrations(user.id)
    calendars = await live.store.list_calendars([integration.id])
    items = await live.store.events_in_range([c.id for c in calendars], NOW - timedelta(days=40),
                                             NOW + timedelta(days=400))
    return sorted(i.event.title or "" for i in items)


async def test_sigkill_mid_round_leaves_a_whole_mirror_the_other_completes(
        pair: Deployment) -> None:
    graph, email = pair.graph, "cfo@acme.example"
    status, _, _ = await pair.call(0, "cfo", "POST", "/v1/users/me/events",
                                   json={"title": "Kept", **at(3)})
    assert status == 201  # a client's write: answered, so it is in the mirror already
    assert await mirrored(pair, "cfo") == ["Kept"]
    for n in range(600):  # three delta pages of 250
        graph.add_event(email, f"Item {n}", NOW + timedelta(days=1, minutes=n),
                        NOW + timedelta(days=1, minutes=n + 30))
    graph.slow(2.0, times=20, match="/calendarView/delta")
    reading: asyncio.Task[Any] = asyncio.create_task(titles(pair, 0, "cfo"))
    for _ in range(200):
        if sum("/calendarView/delta" in p for p in graph.mailbox_requests.get(email, [])) >= 2:
            break  # the first page is in the killed instance's hands, the second on its way
        await asyncio.sleep(0.05)
    pair.instances[0].kill()
    killed = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 - the connection died with the instance
        await reading
    assert await mirrored(pair, "cfo") == ["Kept"]  # the previous mirror, whole
    graph.faults.clear()
    after = await titles(pair, 1, "cfo")  # waits for the dead instance's lease to lapse
    assert time.monotonic() - killed < 30
    assert after == sorted(["Kept", *(f"Item {n}" for n in range(600))])
    assert await mirrored(pair, "cfo") == after  # the next mirror, whole
