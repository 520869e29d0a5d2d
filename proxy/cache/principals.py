"""The principal lookups every read makes, cached until the store announces a change.

A repeated read of an unchanged, fresh mirror asks the store nothing: the token's user,
the owner by id or email, the delegation between them, the account and its loaded
policy, a feed by its secret (the ICS feeds), the owner's integrations and their
calendar records (with mirror versions and ``synced_at``, so freshness is still decided
on current data) all come from here. Each entry is tagged with the
:class:`~proxy.store.changes.Change` that makes it stale and dropped when that change is
announced (locally at once, from other instances through the hub's relay); every entry
also expires after ``ttl`` seconds, which bounds how long a change made elsewhere without
a relay (a token revoked by another instance) can go unseen.
Unknown tokens, feed secrets, users, accounts and empty calendar lists are not cached (a
lookup of a random token must not fill the cache, and a new row is announced under a key
nobody is tagged with yet). A revoked feed is announced (``FEED``) and so dropped at once
here, and within ``ttl`` on an instance the announcement does not reach.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar, cast

from proxy.cache.tagged import Tag, TaggedCache
from proxy.core.policy import Policy, load_policy
from proxy.store.changes import Change, Topic
from proxy.store.interface import Store
from proxy.store.records import Account, CalendarRecord, Delegation, Feed, Integration, User

T = TypeVar("T")
#: principal entries held at most (tokens, users, delegations, policies, integrations,
#: calendar lists together)
MAX_ENTRIES = 100_000


def _tag(topic: Topic, key: str) -> Tag:
    return (topic.value, key)


def _user_tags(user: User | None) -> tuple[Tag, ...]:
    return () if user is None else (_tag(Topic.USER, user.id),)


class Principals:
    """Cached, announcement-invalidated reads of the store for the read path."""

    def __init__(self, store: Store, ttl: float, maxsize: int = MAX_ENTRIES) -> None:
        self.store = store
        self.cache: TaggedCache[Any] = TaggedCache(maxsize, ttl)
        self.unsubscribe = store.changes.subscribe(self._changed)

    def _changed(self, change: Change) -> None:
        self.cache.invalidate((change.topic.value, change.key))

    async def _cached(self, key: Hashable, load: Callable[[], Awaitable[T]],
                      tags: Callable[[T], Iterable[Tag]], keep: Callable[[T], bool]) -> T:
        hit, value = self.cache.get(key)
        if hit:
            return cast(T, value)
        generation = self.cache.generation
        loaded = await load()
        if keep(loaded):
            self.cache.put(key, loaded, tags(loaded), generation)
        return loaded

    async def user_for_token(self, token: str) -> User | None:
        digest = hashlib.sha256(token.encode()).hexdigest()  # raw tokens are not kept
        return await self._cached(("token", digest), lambda: self.store.user_for_token(token),
                                  _user_tags, lambda u: u is not None)

    async def feed_for_secret(self, secret: str) -> Feed | None:
        """The live feed of this secret (keyed by the secret's hash: secrets are not kept)."""
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return await self._cached(("feed", digest), lambda: self.store.feed_for_secret(secret),
                                  lambda f: () if f is None else (_tag(Topic.FEED, f.id),),
                                  lambda f: f is not None)

    async def get_user(self, user_id: str) -> User | None:
        return await self._cached(("user", user_id), lambda: self.store.get_user(user_id),
                                  _user_tags, lambda u: u is not None)

    async def get_user_by_email(self, email: str) -> User | None:
        address = email.strip().lower()
        return await self._cached(("email", address),
                                  lambda: self.store.get_user_by_email(address),
                                  _user_tags, lambda u: u is not None)

    async def get_delegation(self, owner_id: str, delegate_id: str) -> Delegation | None:
        return await self._cached(
            ("delegation", owner_id, delegate_id),
            lambda: self.store.get_delegation(owner_id, delegate_id),
            lambda _: (_tag(Topic.DELEGATION, owner_id),), lambda _: True)

    async def account(self, account_id: str) -> Account | None:
        return await self._cached(("account", account_id),
                                  lambda: self.store.get_account(account_id),
                                  lambda _: (_tag(Topic.ACCOUNT, account_id),),
                                  lambda a: a is not None)

    async def policy(self, account_id: str) -> Policy:
        """The account's loaded policy (defaults for an unknown account, as before)."""
        async def load() -> Policy:
            account = await self.account(account_id)
            return load_policy(account.settings if account else {})

        return await self._cached(("policy", account_id), load,
                                  lambda _: (_tag(Topic.ACCOUNT, account_id),), lambda _: True)

    async def list_integrations(self, user_id: str) -> list[Integration]:
        found = await self._cached(
            ("integrations", user_id), lambda: self._integrations(user_id),
            lambda _: (_tag(Topic.INTEGRATION, user_id),), lambda _: True)
        return list(found)

    async def _integrations(self, user_id: str) -> tuple[Integration, ...]:
        return tuple(await self.store.list_integrations(user_id))

    async def list_calendars(self, integration_ids: Sequence[str]) -> list[CalendarRecord]:
        """As the store's: primary calendars first, then by name and id."""
        found: list[CalendarRecord] = []
        for integration_id in integration_ids:
            found.extend(await self._calendars(integration_id))
        if len(integration_ids) > 1:
            found.sort(key=lambda r: (not r.is_primary, r.name, r.id))
        return found

    async def _calendars(self, integration_id: str) -> tuple[CalendarRecord, ...]:
        async def load() -> tuple[CalendarRecord, ...]:
            return tuple(await self.store.list_calendars([integration_id]))

        def tags(records: tuple[CalendarRecord, ...]) -> Iterable[Tag]:
            return (_tag(Topic.CALENDAR, r.id) for r in records)

        return await self._cached(("calendars", integration_id), load, tags, bool)
