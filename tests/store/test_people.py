"""Accounts, users, tokens, delegations and feeds, on both backends."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from proxy.errors import Conflict, NotFound
from proxy.store.records import Delegation, Role
from proxy.store.sql import SqlStore
from tests.store.conftest import Backend
from tests.store.helpers import raw, raw_text


async def test_account_settings_round_trip(store: SqlStore) -> None:
    policy = {"services": {"value": ["graph", "google"], "locked": True}}
    account = await store.create_account("Acme", policy)
    assert (await store.get_account(account.id)) == account
    saved = await store.save_account_settings(account.id, {"enabled": {"value": False,
                                                                       "locked": False}})
    assert saved.settings == {"enabled": {"value": False, "locked": False}}
    assert (await store.get_account(account.id)) == saved
    assert await store.get_account("nope") is None
    with pytest.raises(NotFound):
        await store.save_account_settings("nope", {})


async def test_emails_are_lower_case_and_unique(store: SqlStore) -> None:
    account = await store.create_account("Acme", {})
    user = await store.create_user(account.id, "Exec.Person@Example.COM", Role.ADMIN)
    assert user.email == "exec.person@example.com" and user.is_admin
    assert await raw(store, "SELECT email FROM users") == [("exec.person@example.com",)]
    assert (await store.get_user_by_email("EXEC.person@example.com")) == user
    other = await store.create_account("Other", {})
    with pytest.raises(Conflict) as caught:
        await store.create_user(other.id, "exec.person@EXAMPLE.com", Role.MEMBER)
    assert caught.value.code == "user_exists"
    with pytest.raises(NotFound):
        await store.create_user("no-such-account", "x@example.com", Role.MEMBER)
    assert [u.id for u in await store.list_users(account.id)] == [user.id]
    assert await store.list_users(other.id) == []


async def test_sign_ins_are_counted(store: SqlStore) -> None:
    account = await store.create_account("Acme", {})
    user = await store.create_user(account.id, "a@example.com", Role.MEMBER)
    assert [await store.record_sign_in(user.id) for _ in range(3)] == [0, 1, 2]
    assert (await store.get_user(user.id)).sign_in_count == 3  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        await store.record_sign_in("nobody")


async def test_tokens_are_stored_as_hashes_only(store: SqlStore) -> None:
    account = await store.create_account("Acme", {})
    user = await store.create_user(account.id, "a@example.com", Role.MEMBER)
    token = await store.create_token(user.id)
    assert token.startswith("cp_") and len(token) >= 3 + 43
    assert await store.user_for_token(token) == user
    stored = await raw(store, "SELECT token_hash FROM api_tokens")
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(),)]
    everything = await raw_text(store, "api_tokens")
    assert token not in everything and token[3:] not in everything
    assert await store.user_for_token(token + "x") is None
    assert await store.user_for_token(token[3:]) is None
    assert await store.create_token(user.id) != token
    with pytest.raises(NotFound):
        await store.create_token("nobody")


async def test_feed_secrets_are_hashed_and_revocable(store: SqlStore) -> None:
    account = await store.create_account("Acme", {})
    user = await store.create_user(account.id, "a@example.com", Role.MEMBER)
    feed, secret = await store.create_feed(user.id, "limited", False, 30, 365)
    assert len(secret) >= 43
    assert secret not in await raw_text(store, "feeds")
    assert await raw(store, "SELECT secret_hash FROM feeds") == [
        (hashlib.sha256(secret.encode()).hexdigest(),)]
    assert await store.feed_for_secret(secret) == feed
    assert await store.feed_for_secret(secret[:-1]) is None
    assert await store.list_feeds(user.id) == [feed]
    assert not await store.revoke_feed("someone-else", feed.id)
    assert await store.revoke_feed(user.id, feed.id)
    assert not await store.revoke_feed(user.id, feed.id)
    assert await store.feed_for_secret(secret) is None
    (listed,) = await store.list_feeds(user.id)
    assert listed.revoked and listed.id == feed.id


async def test_delegations(store: SqlStore) -> None:
    account = await store.create_account("Acme", {})
    boss = await store.create_user(account.id, "boss@example.com", Role.MEMBER)
    aide = await store.create_user(account.id, "aide@example.com", Role.MEMBER)
    grant = Delegation(boss.id, aide.id, can_schedule=True, can_view_private=False)
    assert await store.put_delegation(grant) == grant
    wider = Delegation(boss.id, aide.id, can_schedule=True, can_view_private=True)
    await store.put_delegation(wider)
    assert await store.get_delegation(boss.id, aide.id) == wider
    assert await store.list_delegates(boss.id) == [wider]
    assert await store.list_delegators(aide.id) == [wider]
    assert await store.list_delegates(aide.id) == []
    with pytest.raises(NotFound):
        await store.put_delegation(Delegation(boss.id, "ghost", False, False))
    assert await store.delete_delegation(boss.id, aide.id)
    assert not await store.delete_delegation(boss.id, aide.id)
    assert await store.get_delegation(boss.id, aide.id) is None


async def test_two_processes_write_at_once(store: SqlStore, backend: Backend) -> None:
    """A second engine on the same database (another calproxy process) writing while the
    first does: SQLite's BEGIN IMMEDIATE and busy timeout serialize them, no "locked"."""
    other = backend.store()
    try:
        account = await store.create_account("Acme", {})
        user = await store.create_user(account.id, "a@example.com", Role.MEMBER)
        counts = await asyncio.gather(*(
            s.record_sign_in(user.id) for _ in range(15) for s in (store, other)))
        assert sorted(counts) == list(range(30))
    finally:
        await other.close()
