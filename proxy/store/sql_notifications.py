"""Webhooks, per-viewer change snapshots and the change log (DESIGN §11).

A snapshot row holds what one viewer class last read of one calendar (digests per event);
:meth:`NotificationOps.record_change` replaces it only if nobody replaced it meanwhile (a
compare-and-swap on ``version``) and appends the change-log entry in the same transaction,
so two instances that both saw a change write one entry between them. Webhook signing
secrets are stored encrypted like provider credentials; a delivering instance leases a
webhook with ``claimed_until`` so that one instance delivers each entry. Pruning
(:meth:`NotificationOps.prune_changes`) spares the entries an active webhook still awaits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from proxy.store.changes import Topic
from proxy.store.records import CalendarRecord, Webhook
from proxy.store.schema import (
    calendars,
    change_log,
    change_snapshots,
    change_watch,
    integrations,
    users,
    webhooks,
)
from proxy.store.sql_base import StoreBase, new_id, utcnow
from proxy.store.sql_events import calendar_record

ACTIVE, DISABLED = "active", "disabled"


def _webhook(row: Row[Any]) -> Webhook:
    return Webhook(id=row.id, subscriber_id=row.subscriber_id, owner_id=row.owner_id,
                   url=row.url, status=row.status, created=row.created,
                   delivered_seq=row.delivered_seq, attempts=row.attempts,
                   failing_since=row.failing_since, next_attempt=row.next_attempt)


class NotificationOps(StoreBase):
    # --- webhooks ------------------------------------------------------------------------
    async def create_webhook(self, subscriber_id: str, owner_id: str, url: str,
                             secret: str) -> Webhook:
        """A new active webhook that will be told of changes logged from now on."""
        async with self._write() as conn:
            newest = await conn.scalar(select(func.max(change_log.c.seq)))
            values = {"id": new_id(), "subscriber_id": subscriber_id, "owner_id": owner_id,
                      "url": url, "secret": self._cipher.encrypt({"secret": secret}),
                      "status": ACTIVE, "created": utcnow(), "delivered_seq": int(newest or 0),
                      "attempts": 0}
            await conn.execute(insert(webhooks).values(**values))
            row = (await conn.execute(select(webhooks).where(
                webhooks.c.id == values["id"]))).one()
        return _webhook(row)

    async def list_webhooks(self, subscriber_id: str) -> list[Webhook]:
        return await self._webhooks(webhooks.c.subscriber_id == subscriber_id)

    async def webhooks_watching(self, owner_id: str) -> list[Webhook]:
        return await self._webhooks((webhooks.c.owner_id == owner_id)
                                    & (webhooks.c.status == ACTIVE))

    async def _webhooks(self, where: Any) -> list[Webhook]:
        async with self._read() as conn:
            rows = await conn.execute(select(webhooks).where(where)
                                      .order_by(webhooks.c.created, webhooks.c.id))
            return [_webhook(r) for r in rows]

    async def delete_webhook(self, subscriber_id: str, webhook_id: str) -> bool:
        async with self._write() as conn:
            result = await conn.execute(delete(webhooks).where(
                (webhooks.c.id == webhook_id) & (webhooks.c.subscriber_id == subscriber_id)))
        return bool(result.rowcount)

    async def due_webhooks(self, now: datetime) -> list[Webhook]:
        """Active, unleased webhooks whose owner logged entries past their cursor and
        whose next attempt is due."""
        pending = select(change_log.c.seq).where(
            (change_log.c.owner_id == webhooks.c.owner_id)
            & (change_log.c.seq > webhooks.c.delivered_seq)).exists()
        return await self._webhooks(
            (webhooks.c.status == ACTIVE) & pending
            & or_(webhooks.c.claimed_until.is_(None), webhooks.c.claimed_until < now)
            & or_(webhooks.c.next_attempt.is_(None), webhooks.c.next_attempt <= now))

    async def newest_change(self, owner_id: str) -> int:
        async with self._read() as conn:
            newest = await conn.scalar(select(func.max(change_log.c.seq))
                                       .where(change_log.c.owner_id == owner_id))
        return int(newest or 0)

    async def webhook_secret(self, webhook_id: str) -> str | None:
        async with self._read() as conn:
            blob = await conn.scalar(select(webhooks.c.secret).where(webhooks.c.id == webhook_id))
        return None if blob is None else self._cipher.decrypt(blob)["secret"]

    async def claim_webhook(self, webhook_id: str, until: datetime) -> bool:
        """Lease the webhook for one delivery; ``False`` if another instance holds it."""
        now = utcnow()
        async with self._write() as conn:
            result = await conn.execute(update(webhooks).where(
                (webhooks.c.id == webhook_id) & (webhooks.c.status == ACTIVE)
                & or_(webhooks.c.claimed_until.is_(None), webhooks.c.claimed_until < now)
                & or_(webhooks.c.next_attempt.is_(None), webhooks.c.next_attempt <= now))
                .values(claimed_until=until))
        return bool(result.rowcount)

    async def webhook_delivered(self, webhook_id: str, seq: int) -> None:
        async with self._write() as conn:
            await conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(
                delivered_seq=seq, attempts=0, failing_since=None, next_attempt=None,
                claimed_until=None))

    async def webhook_failed(self, webhook_id: str, attempts: int, failing_since: datetime,
                             next_attempt: datetime | None) -> None:
        """Record a failed attempt; ``next_attempt=None`` disables the webhook."""
        values: dict[str, Any] = {"attempts": attempts, "failing_since": failing_since,
                                  "next_attempt": next_attempt, "claimed_until": None}
        if next_attempt is None:
            values["status"] = DISABLED
        async with self._write() as conn:
            await conn.execute(update(webhooks).where(webhooks.c.id == webhook_id)
                               .values(**values))

    # --- watched owners, snapshots, the change log ---------------------------------------
    async def watch_owner(self, owner_id: str, until: datetime) -> None:
        """Keep computing ``owner_id``'s changes at least until ``until``."""
        async with self._write() as conn:
            found = await conn.execute(update(change_watch).where(
                (change_watch.c.owner_id == owner_id) & (change_watch.c.until < until))
                .values(until=until))
            if not found.rowcount and await conn.scalar(select(change_watch.c.owner_id).where(
                    change_watch.c.owner_id == owner_id)) is None:
                await conn.execute(insert(change_watch).values(owner_id=owner_id, until=until))

    async def watched_calendar(self, calendar_id: str) -> tuple[CalendarRecord, str, str] | None:
        """The calendar with its owner's id and email, if someone watches the owner's
        changes (a live stream watch or an active webhook); one query, as the change
        tracker asks this after every committed round."""
        now = utcnow()
        watched = exists().where(change_watch.c.owner_id == users.c.id,
                                 change_watch.c.until > now)
        hooked = exists().where(webhooks.c.owner_id == users.c.id, webhooks.c.status == ACTIVE)
        async with self._read() as conn:
            row = (await conn.execute(
                select(calendars, users.c.id.label("owner_id"), users.c.email.label("owner_email"))
                .join(integrations, integrations.c.id == calendars.c.integration_id)
                .join(users, users.c.id == integrations.c.user_id)
                .where(calendars.c.id == calendar_id, or_(watched, hooked)))).first()
        return None if row is None else (calendar_record(row), row.owner_id, row.owner_email)

    async def is_watched(self, owner_id: str) -> bool:
        now = utcnow()
        async with self._read() as conn:
            watched = await conn.scalar(select(change_watch.c.owner_id).where(
                (change_watch.c.owner_id == owner_id) & (change_watch.c.until > now)))
            hooked = await conn.scalar(select(webhooks.c.id).where(
                (webhooks.c.owner_id == owner_id) & (webhooks.c.status == ACTIVE)).limit(1))
        return watched is not None or hooked is not None

    async def get_snapshot(self, owner_id: str, viewer: str,
                           calendar_id: str) -> tuple[dict[str, str], int] | None:
        async with self._read() as conn:
            row = (await conn.execute(select(change_snapshots).where(and_(
                change_snapshots.c.owner_id == owner_id, change_snapshots.c.viewer == viewer,
                change_snapshots.c.calendar_id == calendar_id)))).first()
        return None if row is None else (json.loads(row.digests), int(row.version))

    async def record_change(self, owner_id: str, viewer: str, calendar_id: str,
                            version: int | None, digests: Mapping[str, str],
                            body: Mapping[str, Any] | None) -> int | None:
        """Swap in the new snapshot if it is still at ``version`` (``None``: none yet) and
        log ``body``; the entry's sequence number, or ``None`` if another won the race."""
        key = and_(change_snapshots.c.owner_id == owner_id, change_snapshots.c.viewer == viewer,
                   change_snapshots.c.calendar_id == calendar_id)
        text = json.dumps(dict(digests), sort_keys=True)
        try:
            async with self._write() as conn:
                if version is None:
                    await conn.execute(insert(change_snapshots).values(
                        owner_id=owner_id, viewer=viewer, calendar_id=calendar_id,
                        digests=text, version=1))
                elif not (await conn.execute(update(change_snapshots).where(
                        key & (change_snapshots.c.version == version))
                        .values(digests=text, version=version + 1))).rowcount:
                    return None
                seq = None if body is None else await conn.scalar(
                    insert(change_log).values(owner_id=owner_id, viewer=viewer,
                                              body=json.dumps(dict(body)), at=utcnow())
                    .returning(change_log.c.seq))
        except IntegrityError:  # a concurrent first snapshot
            return None
        if seq is not None:
            self._announce(Topic.CHANGE_LOG, owner_id)
        return None if seq is None else int(seq)

    async def changes_after(self, owner_id: str, viewer: str, after: int,
                            limit: int = 100) -> list[tuple[int, dict[str, Any]]]:
        """Logged bodies for ``viewer`` of ``owner_id`` after sequence ``after``, in order."""
        async with self._read() as conn:
            rows = await conn.execute(select(change_log.c.seq, change_log.c.body).where(
                (change_log.c.owner_id == owner_id) & (change_log.c.viewer == viewer)
                & (change_log.c.seq > after)).order_by(change_log.c.seq).limit(limit))
            return [(int(r.seq), json.loads(r.body)) for r in rows]

    async def prune_changes(self, before: datetime) -> int:
        """Drop the entries logged before ``before`` that no active webhook still waits
        for, and the watches that have ended; the number of entries dropped.

        An active webhook's undelivered entries stay however old they are (a failing one
        is disabled after a day, which bounds them), so a webhook is never left with a
        hole in what it is told. A disabled webhook delivers nothing any more, so its
        backlog goes like any other entry."""
        awaited = select(webhooks.c.id).where(
            (webhooks.c.owner_id == change_log.c.owner_id) & (webhooks.c.status == ACTIVE)
            & (webhooks.c.delivered_seq < change_log.c.seq)).exists()
        async with self._write() as conn:
            dropped = await conn.execute(delete(change_log).where(
                (change_log.c.at < before) & ~awaited))
            await conn.execute(delete(change_watch).where(change_watch.c.until <= utcnow()))
        return int(dropped.rowcount or 0)
