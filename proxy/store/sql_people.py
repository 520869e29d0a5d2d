"""Accounts, users, API tokens, delegations and feeds.

Emails are lower-cased before they are stored or looked up, and the column is unique, so
one address names one user on the whole server. Tokens and feed secrets are shown once
and stored as SHA-256 digests; looking one up hashes the presented value and finds the row
by its digest (an index lookup, not a scan), then compares digests in constant time.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.errors import Conflict, NotFound
from proxy.store.changes import Topic
from proxy.store.records import Account, Delegation, Feed, Role, User
from proxy.store.schema import accounts, api_tokens, delegations, feeds, users
from proxy.store.sql_base import StoreBase, new_id, sha256_hex, utcnow

TOKEN_PREFIX = "cp_"


def _account(row: Row[Any]) -> Account:
    return Account(id=row.id, name=row.name, settings=json.loads(row.settings),
                   created=row.created)


def _user(row: Row[Any]) -> User:
    return User(id=row.id, account_id=row.account_id, email=row.email, role=Role(row.role),
                sign_in_count=row.sign_in_count, created=row.created)


def _delegation(row: Row[Any]) -> Delegation:
    return Delegation(owner_id=row.owner_id, delegate_id=row.delegate_id,
                      can_schedule=bool(row.can_schedule),
                      can_view_private=bool(row.can_view_private))


def _feed(row: Row[Any]) -> Feed:
    return Feed(id=row.id, owner_id=row.owner_id, detail=row.detail,
                include_private=bool(row.include_private), past_days=row.past_days,
                future_days=row.future_days, created=row.created, revoked=bool(row.revoked))


async def _require_user(conn: AsyncConnection, user_id: str) -> None:
    if await conn.scalar(select(users.c.id).where(users.c.id == user_id)) is None:
        raise NotFound("unknown user", code="user_not_found")


class PeopleOps(StoreBase):
    # --- accounts ----------------------------------------------------------------------
    async def create_account(self, name: str, settings: Mapping[str, Any]) -> Account:
        account = Account(id=new_id(), name=name, settings=json.loads(json.dumps(dict(settings))),
                          created=utcnow())
        async with self._write() as conn:
            await conn.execute(insert(accounts).values(
                id=account.id, name=name, settings=json.dumps(account.settings),
                created=account.created))
        self._announce(Topic.ACCOUNT, account.id)
        return account

    async def get_account(self, account_id: str) -> Account | None:
        async with self._read() as conn:
            row = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
        return _account(row) if row else None

    async def save_account_settings(self, account_id: str, settings: Mapping[str, Any]) -> Account:
        """Replace the account's policy; ``NotFound`` for an unknown account."""
        async with self._write() as conn:
            row = (await conn.execute(
                update(accounts).where(accounts.c.id == account_id)
                .values(settings=json.dumps(dict(settings))).returning(*accounts.c)
            )).first()
        if row is None:
            raise NotFound("unknown account", code="account_not_found")
        self._announce(Topic.ACCOUNT, account_id)
        return _account(row)

    # --- users -------------------------------------------------------------------------
    async def create_user(self, account_id: str, email: str, role: Role) -> User:
        """Emails are stored lower-case and unique; a duplicate raises ``Conflict``."""
        user = User(id=new_id(), account_id=account_id, email=email.strip().lower(),
                    role=Role(role), sign_in_count=0, created=utcnow())
        try:
            async with self._write() as conn:
                if await conn.scalar(select(accounts.c.id).where(accounts.c.id == account_id)) \
                        is None:
                    raise NotFound("unknown account", code="account_not_found")
                taken = await conn.scalar(select(users.c.id).where(users.c.email == user.email))
                if taken is not None:
                    raise Conflict("a user with this email exists", code="user_exists")
                await conn.execute(insert(users).values(
                    id=user.id, account_id=account_id, email=user.email, role=user.role.value,
                    sign_in_count=0, created=user.created))
        except IntegrityError:  # lost a race against a concurrent create
            raise Conflict("a user with this email exists", code="user_exists") from None
        self._announce(Topic.USER, user.id)
        return user

    async def get_user(self, user_id: str) -> User | None:
        return await self._one_user(users.c.id == user_id)

    async def get_user_by_email(self, email: str) -> User | None:
        return await self._one_user(users.c.email == email.strip().lower())

    async def _one_user(self, where: Any) -> User | None:
        async with self._read() as conn:
            row = (await conn.execute(select(users).where(where))).first()
        return _user(row) if row else None

    async def list_users(self, account_id: str) -> list[User]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(users).where(users.c.account_id == account_id).order_by(users.c.email))
            return [_user(r) for r in rows]

    async def record_sign_in(self, user_id: str) -> int:
        """Count this sign-in; return how many sign-ins there were before it."""
        async with self._write() as conn:
            count = await conn.scalar(
                update(users).where(users.c.id == user_id)
                .values(sign_in_count=users.c.sign_in_count + 1)
                .returning(users.c.sign_in_count))
        if count is None:
            raise NotFound("unknown user", code="user_not_found")
        self._announce(Topic.USER, user_id)
        return int(count) - 1

    # --- API tokens --------------------------------------------------------------------
    async def create_token(self, user_id: str) -> str:
        """Issue ``cp_`` + 256 random bits; only the token's SHA-256 is stored."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self._write() as conn:
            await _require_user(conn, user_id)
            await conn.execute(insert(api_tokens).values(
                token_hash=sha256_hex(token), user_id=user_id, created=utcnow()))
        self._announce(Topic.USER, user_id)
        return token

    async def revoke_token(self, token: str) -> bool:
        """Forget the token; ``False`` if it was unknown. Announced as a change of its user,
        so cached lookups of it are dropped at once (see :mod:`proxy.cache`)."""
        digest = sha256_hex(token)
        async with self._write() as conn:
            user_id = await conn.scalar(delete(api_tokens).where(
                api_tokens.c.token_hash == digest).returning(api_tokens.c.user_id))
        if user_id is None:
            return False
        self._announce(Topic.USER, user_id)
        return True

    async def user_for_token(self, token: str) -> User | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = sha256_hex(token)
        async with self._read() as conn:
            row = (await conn.execute(
                select(api_tokens.c.token_hash, users)
                .join(users, users.c.id == api_tokens.c.user_id)
                .where(api_tokens.c.token_hash == digest))).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return _user(row)

    # --- delegations -------------------------------------------------------------------
    async def put_delegation(self, delegation: Delegation) -> Delegation:
        """Create or replace the owner's grant to the delegate; ``NotFound`` for unknown users."""
        key = (delegations.c.owner_id == delegation.owner_id) & (
            delegations.c.delegate_id == delegation.delegate_id)
        flags = {"can_schedule": delegation.can_schedule,
                 "can_view_private": delegation.can_view_private}
        async with self._write() as conn:
            await _require_user(conn, delegation.owner_id)
            await _require_user(conn, delegation.delegate_id)
            changed = await conn.execute(update(delegations).where(key).values(**flags))
            if changed.rowcount == 0:
                await conn.execute(insert(delegations).values(
                    owner_id=delegation.owner_id, delegate_id=delegation.delegate_id, **flags))
        self._announce(Topic.DELEGATION, delegation.owner_id)
        return delegation

    async def delete_delegation(self, owner_id: str, delegate_id: str) -> bool:
        async with self._write() as conn:
            result = await conn.execute(delete(delegations).where(
                (delegations.c.owner_id == owner_id) & (delegations.c.delegate_id == delegate_id)))
        self._announce(Topic.DELEGATION, owner_id)
        return bool(result.rowcount)

    async def get_delegation(self, owner_id: str, delegate_id: str) -> Delegation | None:
        found = await self._delegations(
            (delegations.c.owner_id == owner_id) & (delegations.c.delegate_id == delegate_id))
        return found[0] if found else None

    async def list_delegates(self, owner_id: str) -> list[Delegation]:
        return await self._delegations(delegations.c.owner_id == owner_id)

    async def list_delegators(self, delegate_id: str) -> list[Delegation]:
        return await self._delegations(delegations.c.delegate_id == delegate_id)

    async def _delegations(self, where: Any) -> list[Delegation]:
        async with self._read() as conn:
            rows = await conn.execute(select(delegations).where(where).order_by(
                delegations.c.owner_id, delegations.c.delegate_id))
            return [_delegation(r) for r in rows]

    # --- feeds -------------------------------------------------------------------------
    async def create_feed(
        self, owner_id: str, detail: str, include_private: bool, past_days: int,
        future_days: int,
    ) -> tuple[Feed, str]:
        """Create a feed; return it and its secret (256 random bits, stored hashed)."""
        secret = secrets.token_urlsafe(32)
        feed = Feed(id=new_id(), owner_id=owner_id, detail=detail,
                    include_private=include_private, past_days=past_days,
                    future_days=future_days, created=utcnow(), revoked=False)
        async with self._write() as conn:
            await _require_user(conn, owner_id)
            await conn.execute(insert(feeds).values(
                id=feed.id, owner_id=owner_id, secret_hash=sha256_hex(secret), detail=detail,
                include_private=include_private, past_days=past_days,
                future_days=future_days, created=feed.created, revoked=False))
        self._announce(Topic.FEED, feed.id)
        return feed, secret

    async def list_feeds(self, owner_id: str) -> list[Feed]:
        """The owner's feeds, oldest first, revoked ones included (``revoked`` says so)."""
        async with self._read() as conn:
            rows = await conn.execute(select(feeds).where(feeds.c.owner_id == owner_id)
                                      .order_by(feeds.c.created, feeds.c.id))
            return [_feed(r) for r in rows]

    async def revoke_feed(self, owner_id: str, feed_id: str) -> bool:
        """Revoke the owner's live feed; ``False`` if there is none by that id."""
        async with self._write() as conn:
            result = await conn.execute(update(feeds).where(
                (feeds.c.id == feed_id) & (feeds.c.owner_id == owner_id)
                & (feeds.c.revoked.is_(False))).values(revoked=True))
        self._announce(Topic.FEED, feed_id)
        return bool(result.rowcount)

    async def feed_for_secret(self, secret: str) -> Feed | None:
        """The live feed whose secret this is (constant-time compare), else ``None``."""
        digest = sha256_hex(secret)
        async with self._read() as conn:
            row = (await conn.execute(select(feeds).where(feeds.c.secret_hash == digest))).first()
        if row is None or row.revoked or not hmac.compare_digest(row.secret_hash, digest):
            return None
        return _feed(row)
