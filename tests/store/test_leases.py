"""Leases on both backends: one holder at a time, lapse after expiry, renew, release."""

from __future__ import annotations

import asyncio

from proxy.store.sql import SqlStore


async def test_one_holder_at_a_time(store: SqlStore) -> None:
    results = await asyncio.gather(*(store.acquire_lease("calendar:x", f"i{n}", 30)
                                     for n in range(6)))
    assert sorted(results) == [False] * 5 + [True]
    holder = await store.lease_holder("calendar:x")
    assert holder == f"i{results.index(True)}"
    assert not await store.acquire_lease("calendar:x", "other", 30)
    assert await store.acquire_lease("calendar:y", "other", 30)  # keys are independent


async def test_an_expired_lease_is_taken_over(store: SqlStore) -> None:
    assert await store.acquire_lease("k", "dead", 0.2)
    assert not await store.acquire_lease("k", "alive", 30)
    await asyncio.sleep(0.3)
    assert await store.lease_holder("k") is None
    assert await store.acquire_lease("k", "alive", 30)
    assert not await store.renew_lease("k", "dead", 30)  # the dead holder lost it
    assert await store.lease_holder("k") == "alive"


async def test_renew_and_release(store: SqlStore) -> None:
    assert await store.acquire_lease("k", "a", 0.3)
    assert await store.renew_lease("k", "a", 30)
    await asyncio.sleep(0.4)
    assert await store.lease_holder("k") == "a"  # renewed past its first expiry
    await store.release_lease("k", "b")  # not the holder: nothing happens
    assert await store.lease_holder("k") == "a"
    await store.release_lease("k", "a")
    assert await store.lease_holder("k") is None
    assert await store.acquire_lease("k", "b", 30)
