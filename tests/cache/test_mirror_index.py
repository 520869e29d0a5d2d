"""A calendar's in-memory index serves every window exactly as the store's query does:
expanding its candidates gives the same occurrences as expanding the store's rows; and
the read path's unsorted window query returns exactly the rows of the sorted one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.cache.mirror import MirrorIndex
from proxy.config import Settings
from proxy.core.mirror import MirroredEvent
from proxy.core.model import Calendar, Event, EventStatus, Permissions, Recurrence, Service
from proxy.core.recurrence import expand
from proxy.store.records import CalendarRecord, IntegrationStatus, Role
from proxy.store.sql import SqlStore, open_store
from proxy.sync.driver import mirror_event

BASE = datetime(2026, 12, 1, tzinfo=UTC)


@st.composite
def items(draw: st.DrawFn, index: int) -> Event:
    start = BASE + timedelta(minutes=15 * draw(st.integers(0, 4 * 24 * 30)))
    length = timedelta(minutes=draw(st.sampled_from([0, 30, 60 * 26, 60 * 24 * 9])))
    kind = draw(st.sampled_from(["single", "master", "exception", "cancelled"]))
    rrule = ("FREQ=DAILY;COUNT=6",) if kind == "master" else ()
    recurrence = None
    if kind in ("exception", "cancelled"):
        recurrence = Recurrence("e0", BASE + timedelta(days=draw(st.integers(0, 5))),
                                is_exception=kind == "exception")
    return Event(f"e{index}", "primary", Service.GRAPH, start, start + length,
                 time_zone=draw(st.sampled_from(["UTC", "Europe/Berlin"])),
                 rrule=rrule, recurrence=recurrence,
                 status=EventStatus.CANCELLED if kind == "cancelled" else EventStatus.CONFIRMED)


calendars = st.integers(1, 12).flatmap(lambda n: st.tuples(*(items(i) for i in range(n))))
windows = st.lists(st.tuples(st.integers(-3, 40), st.integers(0, 24 * 12)), min_size=1,
                   max_size=4)


@pytest.fixture
async def mirror(tmp_path: Path) -> AsyncIterator[tuple[SqlStore, CalendarRecord]]:
    store = await open_store(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/i.db",
                                      secret_key="k"))
    account = await store.create_account("A", {})
    user = await store.create_user(account.id, "a@a.example", Role.MEMBER)
    integration = await store.create_integration(
        user.id, Service.GRAPH, IntegrationStatus.CONNECTED, Permissions(), Permissions())
    [record] = await store.upsert_calendars(integration.id,
                                            [Calendar("primary", "C", is_primary=True)], False)
    yield store, record
    await store.close()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=calendars, asked=windows)
async def test_index_windows_match_the_store(mirror: tuple[SqlStore, CalendarRecord],
                                             events: tuple[Event, ...],
                                             asked: list[tuple[int, int]]) -> None:
    store, record = mirror
    mirrored = [mirror_event(record.integration_id, record, e) for e in events]
    await store.apply_event_sync(record.id, mirrored, [], None, BASE, full=True)
    everything = await store.events_in_range([record.id], datetime.min.replace(tzinfo=UTC),
                                             datetime.max.replace(tzinfo=UTC))
    index = MirrorIndex.build(everything)
    for day, hours in asked:
        start = BASE + timedelta(days=day)
        end = start + timedelta(hours=hours)
        rows = await store.events_in_range([record.id], start, end)
        assert _ids(expand(index.candidates(start, end), start, end)) == _ids(
            expand(rows, start, end))
        unsorted = await store.window_items([record.id], start, end)  # the read path's
        assert sorted(_ids(unsorted)) == sorted(_ids(rows))
        assert expand(unsorted, start, end) == expand(rows, start, end)


def _ids(found: list[MirroredEvent]) -> list[tuple[str, str]]:
    return [(i.id, repr(i.event.start)) for i in found]
