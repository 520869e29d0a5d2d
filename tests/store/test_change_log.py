"""Pruning the change log (DESIGN §11): entries older than the retention go, newer ones
stay, an active webhook's undelivered entries stay however old (so it is never told a
sequence with a hole), a disabled webhook's backlog goes, and so do ended watches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from proxy.store.engine import write_transaction
from proxy.store.records import User
from proxy.store.sql import SqlStore
from tests.store.helpers import raw, user_with_integration

NOW = datetime.now(UTC)
CUTOFF = NOW - timedelta(hours=24)
OWNER = "log-owner@example.com"


async def _log(store: SqlStore, owner: User, count: int, calendar: str = "cal") -> list[int]:
    """``count`` entries of the owner's full view, each a real snapshot swap."""
    seqs: list[int] = []
    prior = await store.get_snapshot(owner.id, "full", calendar)
    if prior is None:
        await store.record_change(owner.id, "full", calendar, None, {}, None)
    for n in range(count):
        _, version = await store.get_snapshot(owner.id, "full", calendar) or ({}, 0)
        seq = await store.record_change(owner.id, "full", calendar, version,
                                        {f"e{n}": str(n)}, {"type": "events.changed",
                                                            "changed": [f"e{n}"]})
        assert seq is not None
        seqs.append(seq)
    return seqs


async def _age(store: SqlStore, seqs: list[int], hours: float) -> None:
    """Pretend the entries were logged ``hours`` ago."""
    async with write_transaction(store.engine) as conn:
        for seq in seqs:
            await conn.execute(text("UPDATE change_log SET at = :at WHERE seq = :seq"),
                               {"at": NOW - timedelta(hours=hours), "seq": seq})


async def _held(store: SqlStore, owner: User) -> list[int]:
    return [seq for seq, _ in await store.changes_after(owner.id, "full", 0)]


async def test_old_entries_go_and_recent_ones_stay(store: SqlStore) -> None:
    owner, _ = await user_with_integration(store, email=OWNER)
    old, recent = await _log(store, owner, 3), await _log(store, owner, 2)
    await _age(store, old, 25)
    await _age(store, recent, 23)
    assert await store.prune_changes(CUTOFF) == 3
    assert await _held(store, owner) == recent
    assert await store.prune_changes(CUTOFF) == 0


async def test_an_active_webhooks_backlog_stays_until_delivered(store: SqlStore) -> None:
    owner, _ = await user_with_integration(store, email=OWNER)
    other, _ = await user_with_integration(store, email="other@example.com")
    hook = await store.create_webhook(owner.id, owner.id, "https://hooks.example/x",
                                      "whsec_AAAA")
    behind = await _log(store, owner, 4)
    unwatched = await _log(store, other, 2)
    await _age(store, behind + unwatched, 48)
    await store.webhook_delivered(hook.id, behind[1])  # two delivered, two still due
    assert await store.prune_changes(CUTOFF) == 4  # the delivered two and the other owner's
    assert await _held(store, owner) == behind[2:]
    assert await _held(store, other) == []
    [due] = await store.due_webhooks(NOW)
    assert [s for s, _ in await store.changes_after(owner.id, "full", due.delivered_seq)] \
        == behind[2:]
    await store.webhook_delivered(hook.id, behind[3])
    assert await store.prune_changes(CUTOFF) == 2
    assert await _held(store, owner) == []


async def test_a_disabled_webhooks_backlog_goes(store: SqlStore) -> None:
    owner, _ = await user_with_integration(store, email=OWNER)
    hook = await store.create_webhook(owner.id, owner.id, "https://hooks.example/x",
                                      "whsec_AAAA")
    backlog = await _log(store, owner, 2)
    await _age(store, backlog, 30)
    await store.webhook_failed(hook.id, 9, NOW - timedelta(hours=25), None)  # disabled
    assert await store.prune_changes(CUTOFF) == 2
    assert await store.due_webhooks(NOW) == []
    [listed] = await store.list_webhooks(owner.id)
    assert listed.status == "disabled"


async def test_ended_watches_go_and_live_ones_stay(store: SqlStore) -> None:
    ended, _ = await user_with_integration(store, email=OWNER)
    live, _ = await user_with_integration(store, email="live@example.com")
    await store.watch_owner(ended.id, NOW - timedelta(minutes=1))
    await store.watch_owner(live.id, NOW + timedelta(minutes=30))
    await store.prune_changes(CUTOFF)
    rows = await raw(store, "SELECT owner_id FROM change_watch")
    assert [r[0] for r in rows] == [live.id]
    assert await store.is_watched(live.id) and not await store.is_watched(ended.id)
    await store.watch_owner(ended.id, NOW + timedelta(hours=1))  # watched again later
    assert await store.is_watched(ended.id)


async def test_pruned_numbers_are_never_handed_out_again(store: SqlStore) -> None:
    """A cursor or ``Last-Event-ID`` past a pruned entry must still see the next one."""
    owner, _ = await user_with_integration(store, email=OWNER)
    gone = await _log(store, owner, 3)
    await _age(store, gone, 25)
    assert await store.prune_changes(CUTOFF) == 3
    [fresh] = await _log(store, owner, 1)
    assert fresh > max(gone)
    assert [s for s, _ in await store.changes_after(owner.id, "full", max(gone))] == [fresh]
