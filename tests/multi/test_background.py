"""The multi-instance suite, with background sync and Redis: two ``calproxy serve``
processes with the scheduler on keep a mirror fresh with no reads at all, together make
no more upstream rounds than one would, and carry cache invalidations over Redis pub/sub
(``CALPROXY_REDIS_URL``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio

from tests.api.helpers import NOW
from tests.multi.harness import Deployment, deployment
from tests.multi.test_instances import at, titles

pytestmark = [pytest.mark.multi_instance, pytest.mark.asyncio(loop_scope="module")]
FRESHNESS = 3
EMAIL = "sam@acme.example"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def busy() -> AsyncIterator[Deployment]:
    async with deployment({"sam": 0}, scheduler="on", freshness_seconds=str(FRESHNESS),
                          redis_url="redis://127.0.0.1:6379/0") as live:
        yield live


async def synced_at(live: Deployment) -> list[object]:
    user = await live.store.get_user_by_email(EMAIL)
    assert user is not None
    [integration] = await live.store.list_integrations(user.id)
    return [c.synced_at for c in await live.store.list_calendars([integration.id]) if c.synced]


async def test_the_scheduler_syncs_with_no_reads(busy: Deployment) -> None:
    busy.graph.add_event(EMAIL, "Standup", NOW + timedelta(days=1), NOW + timedelta(days=1,
                                                                                    hours=1))
    for _ in range(300):  # generous: the machine may be loaded
        stamps = await synced_at(busy)
        if stamps and all(stamps) and busy.rounds(EMAIL) >= 2:
            break
        await asyncio.sleep(0.1)
    assert stamps and all(stamps)  # listed and synced: nobody read anything
    assert busy.rounds(EMAIL) >= 2


async def test_two_instances_make_no_more_rounds_than_one(busy: Deployment) -> None:
    start = busy.rounds(EMAIL)
    await asyncio.sleep(FRESHNESS * 3)
    rounds = busy.rounds(EMAIL) - start
    assert 1 <= rounds <= 4  # one calendar, three periods: one round each, not one each
    stamps = await synced_at(busy)
    assert stamps and all(stamps)


async def test_invalidation_over_redis_a_write_on_one_is_read_on_the_other(
        busy: Deployment) -> None:
    before = await titles(busy, 1, "sam")
    status, body, _ = await busy.call(0, "sam", "POST", "/v1/users/me/events",
                                      json={"title": "Review", **at(2)})
    assert status == 201, body
    assert await titles(busy, 1, "sam") == sorted([*before, "Review"])
