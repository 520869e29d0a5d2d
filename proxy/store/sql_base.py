"""What the parts of :class:`proxy.store.sql.SqlStore` share: the engine, the cipher,
transactions, ids, hashing, and the clock.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from proxy.core.ids import encode_id
from proxy.core.mirror import mailbox_scope
from proxy.store.changes import Change, Changes, Topic
from proxy.store.crypto import CredentialCipher
from proxy.store.engine import read_transaction, write_transaction
from proxy.store.records import LeaseFence, LeaseLost
from proxy.store.schema import integrations, sync_leases, users

T = TypeVar("T")

#: rows per statement when deleting by lists of ids (stays far below every backend's
#: bound-parameter limit)
CHUNK = 500


def new_id() -> str:
    """A random URL-safe id (127 random bits, never beginning with ``-``: see
    :mod:`proxy.core.ids`) for rows that have no derived public id."""
    return encode_id(secrets.token_bytes(16))


async def id_scope(conn: AsyncConnection, integration_id: str) -> str | None:
    """The scope the public ids of this integration's calendars and contacts derive from
    (:func:`proxy.core.mirror.mailbox_scope`): its owner, service and the mailbox recorded
    at connect time (``details["mailbox"]``), else the owner's email (integrations
    connected before mailboxes were recorded). ``None`` for an unknown integration."""
    row = (await conn.execute(
        select(integrations.c.user_id, integrations.c.service, integrations.c.details,
               users.c.email).join(users, users.c.id == integrations.c.user_id)
        .where(integrations.c.id == integration_id))).first()
    if row is None:
        return None
    mailbox = json.loads(row.details).get("mailbox") or row.email
    return mailbox_scope(row.user_id, row.service, mailbox)


async def fence(conn: AsyncConnection, lease: LeaseFence | None) -> None:
    """Inside a round's commit: release the lease (and what was taken with it) if
    ``lease.holder`` still holds it live; :class:`LeaseLost` otherwise, which rolls the
    commit back. The deleted row stays locked until the commit, so no other holder can
    take the lease in between, and a holder that lost it can never overwrite the next
    holder's round."""
    if lease is None:
        return
    released = (await conn.execute(
        delete(sync_leases).where(sync_leases.c.holder == lease.holder,
                                  sync_leases.c.key.in_([lease.key, *lease.also]),
                                  sync_leases.c.expires_at >= utcnow())
        .returning(sync_leases.c.key))).scalars().all()
    if lease.key not in released:
        raise LeaseLost("this holder's lease lapsed before the round could commit")


def sha256_hex(secret: str) -> str:
    """The stored form of a high-entropy secret (token, feed secret): a fast hash is
    enough because guessing the input is as hard as guessing the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class StoreBase:
    """Holds the engine, the credentials cipher and the change hub; hands out
    transactions."""

    def __init__(self, engine: AsyncEngine, cipher: CredentialCipher,
                 changes: Changes | None = None) -> None:
        self._engine = engine
        self._cipher = cipher
        self.changes = changes if changes is not None else Changes()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def _read(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return read_transaction(self._engine)

    def _write(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return write_transaction(self._engine)

    def _announce(self, topic: Topic, *keys: str) -> None:
        """After a commit: tell the caches what changed (see :mod:`proxy.store.changes`)."""
        for key in keys:
            self.changes.announce(Change(topic, key))
