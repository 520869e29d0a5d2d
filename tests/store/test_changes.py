"""The store announces each committed change once, after the commit, and nothing for a
write that failed (a cache must never drop data that is still there, nor keep what left)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from proxy.core.model import Calendar, Permissions, Service
from proxy.errors import NotFound
from proxy.store.changes import Change, Topic
from proxy.store.records import Delegation, IntegrationStatus, Role
from proxy.store.sql import SqlStore


async def test_writes_announce_what_they_changed(store: SqlStore) -> None:
    seen: list[Change] = []
    store.changes.subscribe(seen.append)
    account = await store.create_account("Acme", {})
    owner = await store.create_user(account.id, "o@acme.example", Role.MEMBER)
    delegate = await store.create_user(account.id, "d@acme.example", Role.MEMBER)
    await store.put_delegation(Delegation(owner.id, delegate.id, True, False))
    integration = await store.create_integration(
        owner.id, Service.GRAPH, IntegrationStatus.CONNECTED, Permissions(), Permissions())
    [calendar] = await store.upsert_calendars(integration.id, [Calendar("c1", "Cal", True)],
                                              False)
    await store.apply_event_sync(calendar.id, [], [], "cursor", datetime.now(UTC), True)
    await store.save_account_settings(account.id, {})
    await store.delete_integration(integration.id)
    assert seen == [
        Change(Topic.ACCOUNT, account.id), Change(Topic.USER, owner.id),
        Change(Topic.USER, delegate.id), Change(Topic.DELEGATION, owner.id),
        Change(Topic.INTEGRATION, owner.id), Change(Topic.CALENDAR, calendar.id),
        Change(Topic.CALENDAR, calendar.id), Change(Topic.ACCOUNT, account.id),
        Change(Topic.INTEGRATION, owner.id), Change(Topic.CONTACTS, integration.id),
    ]


async def test_a_failed_write_announces_nothing(store: SqlStore) -> None:
    seen: list[Change] = []
    store.changes.subscribe(seen.append)
    with pytest.raises(NotFound):
        await store.apply_event_sync("no-such-calendar", [], [], None, datetime.now(UTC), True)
    assert seen == []


async def test_a_failing_listener_does_not_fail_the_write(store: SqlStore) -> None:
    def broken(change: Change) -> None:
        raise RuntimeError("cache bug")

    seen: list[Change] = []
    store.changes.subscribe(broken)
    unsubscribe = store.changes.subscribe(seen.append)
    account = await store.create_account("Acme", {})
    unsubscribe()
    await store.save_account_settings(account.id, {})
    assert seen == [Change(Topic.ACCOUNT, account.id)]


def test_local_only_listeners_skip_relayed_changes() -> None:
    from proxy.store.changes import Changes

    hub = Changes()
    everything: list[Change] = []
    mine: list[Change] = []
    hub.subscribe(everything.append)
    hub.subscribe(mine.append, local_only=True)
    hub.announce(Change(Topic.CALENDAR, "here"))
    hub.deliver(Change(Topic.CALENDAR, "elsewhere"))
    assert [c.key for c in everything] == ["here", "elsewhere"]
    assert [c.key for c in mine] == ["here"]
