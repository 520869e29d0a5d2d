"""Push channels on both backends: put, renew in place, look up, list, delete, and gone
with their calendar; the secret is stored only as a hash."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from proxy.core.model import Service
from proxy.store.records import PushChannelRecord
from proxy.store.sql import SqlStore
from proxy.store.sql_base import sha256_hex
from tests.store.helpers import T0, calendar_of, raw_text, user_with_integration


def channel(calendar_id: str, integration_id: str, n: int = 1,
            secret: str = "s3cret-value") -> PushChannelRecord:
    return PushChannelRecord(
        id=f"ch-{n}", calendar_id=calendar_id, integration_id=integration_id,
        service=Service.GOOGLE, upstream_id=f"up-{n}", resource_id=f"res-{n}",
        secret_hash=sha256_hex(secret), expires_at=T0 + timedelta(days=7),
        created_at=T0 + timedelta(seconds=n))


async def test_put_look_up_list_and_delete(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    calendar = await calendar_of(store, integration)
    first, second = channel(calendar.id, integration.id, 1), channel(calendar.id,
                                                                       integration.id, 2)
    await store.put_push_channel(second)
    await store.put_push_channel(first)
    assert await store.push_channel_by_upstream("up-1") == first
    assert await store.push_channel_by_upstream("nope") is None
    assert await store.list_push_channels() == [first, second]  # oldest first
    assert await store.list_push_channels(integration.id) == [first, second]
    assert await store.list_push_channels("other") == []
    assert await store.delete_push_channel("ch-1")
    assert not await store.delete_push_channel("ch-1")
    assert await store.list_push_channels() == [second]


async def test_a_renewal_replaces_the_row(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    calendar = await calendar_of(store, integration)
    record = channel(calendar.id, integration.id)
    await store.put_push_channel(record)
    renewed = replace(record, expires_at=T0 + timedelta(days=14))
    await store.put_push_channel(renewed)
    assert await store.list_push_channels() == [renewed]
    assert (await store.push_channel_by_upstream("up-1")) == renewed


async def test_the_upstream_id_is_unique(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    calendar = await calendar_of(store, integration)
    await store.put_push_channel(channel(calendar.id, integration.id))
    with pytest.raises(IntegrityError):
        await store.put_push_channel(replace(channel(calendar.id, integration.id), id="ch-9"))


async def test_channels_go_with_their_calendar_and_keep_no_secret(store: SqlStore) -> None:
    _, integration = await user_with_integration(store)
    calendar = await calendar_of(store, integration)
    await store.put_push_channel(channel(calendar.id, integration.id, secret="s3cret-value"))
    assert "s3cret-value" not in await raw_text(store, "push_channels")
    await store.delete_integration(integration.id)
    assert await store.list_push_channels() == []
