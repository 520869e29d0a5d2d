"""Two instances listing one integration's calendars at once (connect-time discovery on
one, the first read or the scheduler on another): both succeed, and the calendars are
recorded once, with their flags, on both backends."""

from __future__ import annotations

import asyncio

from proxy.core.model import Calendar
from proxy.store.sql import SqlStore
from tests.store.conftest import Backend
from tests.store.helpers import user_with_integration


async def test_concurrent_upserts_from_two_instances_record_each_calendar_once(
        store: SqlStore, backend: Backend) -> None:
    _, integration = await user_with_integration(store)
    other = backend.store()  # a second engine: another instance on the same database
    listing = [Calendar("main", "Calendar", is_primary=True),
               *(Calendar(f"c{n:02}", f"Project {n}") for n in range(20))]
    try:
        for attempt in range(3):  # first discovery, then re-listings racing each other
            results = await asyncio.gather(*(
                (store if n % 2 else other).upsert_calendars(integration.id, listing, False)
                for n in range(8)))
            ids = {tuple(r.id for r in found) for found in results}
            assert len(ids) == 1, f"attempt {attempt}: the instances disagree"
        records = await store.list_calendars([integration.id])
        assert sorted(r.provider_id for r in records) == sorted(c.provider_id for c in listing)
        assert {r.provider_id for r in records if r.synced} == {"main"}
        await store.set_calendar_synced(records[-1].id, True)
        await asyncio.gather(store.upsert_calendars(integration.id, listing[:-1], False),
                             other.upsert_calendars(integration.id, listing[:-1], False))
        after = await other.list_calendars([integration.id])
        assert len(after) == len(listing) - 1  # the one gone upstream is gone, once
    finally:
        await other.close()
