"""A sync round's two transactions on both backends: its start (lease, mailbox slot and
calendar read at once, or nothing taken) and its fenced commit (refused once the lease is
no longer the holder's, and then nothing written)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from proxy.core.model import Calendar
from proxy.store.records import CalendarRecord, LeaseFence, LeaseLost, RoundClaim
from proxy.store.sql import SqlStore
from tests.store.helpers import T0, calendar_of, event, mirrored, raw, user_with_integration

SLOTS = tuple(f"slot:graph:mbx:{n}" for n in range(4))
PAUSE = "pause:graph:mbx"
H = timedelta(hours=1)


def stale(_: CalendarRecord) -> bool:
    return True


def claim(calendar_id: str, holder: str, seconds: float = 30) -> RoundClaim:
    return RoundClaim(f"calendar:{calendar_id}", holder, seconds, calendar_id, SLOTS, PAUSE)


async def leases(store: SqlStore) -> dict[str, str]:
    return {r.key: r.holder for r in await raw(store, "SELECT key, holder FROM sync_leases")}


async def test_a_round_starts_with_its_lease_a_slot_and_the_calendar(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    start = await store.begin_round(claim(cal.id, "a"), stale)
    assert start.held and start.calendar == cal and start.slot == SLOTS[0]
    assert await leases(store) == {f"calendar:{cal.id}": "a", SLOTS[0]: "a"}
    other = await store.begin_round(claim(cal.id, "b"), stale)
    assert not other.held and other.calendar == cal  # told what is there, took nothing
    assert await leases(store) == {f"calendar:{cal.id}": "a", SLOTS[0]: "a"}


async def test_nothing_is_taken_for_a_round_not_wanted_or_gone(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    start = await store.begin_round(claim(cal.id, "a"), lambda _: False)
    assert not start.held and start.calendar == cal
    gone = await store.begin_round(claim("no-such-calendar", "a"), stale)
    assert not gone.held and gone.calendar is None
    assert await leases(store) == {}


async def test_the_fifth_round_of_a_mailbox_starts_without_a_slot(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    records = await store.upsert_calendars(
        integration.id, [Calendar(f"c{n}", f"C{n}") for n in range(5)], True)
    starts = await asyncio.gather(*(store.begin_round(claim(r.id, f"i{n}"), stale)
                                    for n, r in enumerate(records)))
    assert all(s.held for s in starts)
    assert sorted(s.slot for s in starts if s.slot) == sorted(SLOTS)  # each slot once
    assert [s.slot for s in starts].count(None) == 1
    assert (await store.take_slot(SLOTS, PAUSE, "x", 30)).slot is None  # all four busy


async def test_a_shared_pause_blocks_slots_and_rounds_until_it_ends(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    await store.pause_key(PAUSE, 40)
    await store.pause_key(PAUSE, 1)  # a shorter pause never ends a longer one early
    taken = await store.take_slot(SLOTS, PAUSE, "b", 30)
    assert taken.slot is None and 38 < taken.paused_for <= 40
    start = await store.begin_round(claim(cal.id, "b"), stale)
    assert not start.held and 38 < start.paused_for <= 40
    assert set(await leases(store)) == {PAUSE}  # the round took nothing
    other = await store.take_slot(("slot:graph:other:0",), "pause:graph:other", "b", 30)
    assert other.slot == "slot:graph:other:0"  # another mailbox carries on


async def test_a_pause_ends(store: SqlStore) -> None:
    await store.pause_key(PAUSE, 0.2)
    assert (await store.take_slot(SLOTS, PAUSE, "b", 30)).paused_for > 0
    await asyncio.sleep(0.3)
    assert (await store.take_slot(SLOTS, PAUSE, "b", 30)).slot is not None


async def test_a_fenced_commit_releases_the_lease_and_its_slot(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    start = await store.begin_round(claim(cal.id, "a"), stale)
    assert start.slot is not None
    item = mirrored(cal, event("e1", T0, T0 + H, title="new"))
    record = await store.apply_event_sync(cal.id, [item], [], "c1", T0, True,
                                          lease=LeaseFence(f"calendar:{cal.id}", "a",
                                                           (start.slot,)))
    assert record.cursor == "c1" and record.synced_at == T0 and record.version == cal.version + 1
    assert await leases(store) == {}


async def test_a_holder_whose_lease_was_taken_cannot_commit(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    before = mirrored(cal, event("e1", T0, T0 + H, title="before"))
    await store.apply_event_sync(cal.id, [before], [], "c1", T0, True)
    key = f"calendar:{cal.id}"
    assert (await store.begin_round(claim(cal.id, "paused", 0.2), stale)).held
    await asyncio.sleep(0.3)  # the holder stalls; its lease lapses
    assert (await store.begin_round(claim(cal.id, "next"), stale)).held  # taken over
    stale_round = mirrored(cal, event("e1", T0, T0 + H, title="from the paused holder"))
    with pytest.raises(LeaseLost):
        await store.apply_event_sync(cal.id, [stale_round], [], "c-old", T0, True,
                                     lease=LeaseFence(key, "paused"))
    items = await store.events_in_range([cal.id], T0 - H, T0 + 2 * H)
    assert [m.event.title for m in items] == ["before"]
    record = await store.get_calendar(cal.id)
    assert record is not None and record.cursor == "c1"  # the mirror is unchanged
    assert (await leases(store))[key] == "next"  # and the next holder's lease stands
    await store.apply_event_sync(cal.id, [], [], "c2", T0, False, lease=LeaseFence(key, "next"))
    record = await store.get_calendar(cal.id)
    assert record is not None and record.cursor == "c2"


async def test_a_lapsed_lease_nobody_took_cannot_commit_either(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    cal = await calendar_of(store, integration)
    assert (await store.begin_round(claim(cal.id, "slow", 0.1), stale)).held
    await asyncio.sleep(0.2)
    with pytest.raises(LeaseLost):
        await store.apply_event_sync(cal.id, [], [], "c9", T0, True,
                                     lease=LeaseFence(f"calendar:{cal.id}", "slow"))
    record = await store.get_calendar(cal.id)
    assert record is not None and record.cursor is None and record.synced_at is None
