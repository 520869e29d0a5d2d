"""What keeps sync going across instances: leases and the background schedule.

A lease is one row (``sync_leases``) naming what is held, by which instance, until when.
Taking it is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at < now``: the
statement either creates the row, takes over an expired one, or changes nothing, and the
database serialises concurrent attempts on the key, so exactly one instance wins. It works
the same on SQLite and PostgreSQL. A holder that dies stops renewing, and its lease simply
expires; nothing needs cleaning up.

A sync round costs two transactions here: :meth:`SyncOps.begin_round` takes the
calendar's lease and one of its mailbox's slots and reads the calendar as committed, all
at once (or takes nothing, when the round is not to run); the round's commit
(``apply_event_sync`` with a :class:`~proxy.store.records.LeaseFence`) checks in its own
transaction that the lease is still this holder's and live
(:func:`proxy.store.sql_base.fence`), and releases it with the slot. A mailbox throttled
upstream is paused for every instance by a lease row nobody holds (``pause:...``) that
lives until the pause ends; no slot of that mailbox is taken while it lives.

Leases are coordination, not data: no cache holds them, so they announce nothing to
:mod:`proxy.store.changes` (a round's result announces itself when it commits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, delete, exists, literal, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.core.model import Access
from proxy.store.records import (
    CalendarRecord,
    RoundClaim,
    RoundStart,
    SlotTaken,
    SyncSchedule,
    SyncTarget,
)
from proxy.store.schema import UtcDateTime, calendars, integrations, sync_leases
from proxy.store.sql_base import StoreBase, utcnow
from proxy.store.sql_events import calendar_record
from proxy.store.sql_integrations import integration_record

_CONNECTED = "connected"
_NONE = "none"
#: the holder named in pause rows (nobody holds a pause: it only lives until it ends)
PAUSE_HOLDER = "pause"


def _insert(conn: AsyncConnection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(sync_leases)


def _live(key: Any, now: datetime) -> Any:
    return exists().where(sync_leases.c.key == key, sync_leases.c.expires_at >= now)


async def _take(conn: AsyncConnection, key: str, holder: str, until: datetime,
                now: datetime) -> bool:
    statement = _insert(conn).values(key=key, holder=holder, expires_at=until)
    statement = statement.on_conflict_do_update(
        index_elements=[sync_leases.c.key], set_={"holder": holder, "expires_at": until},
        where=sync_leases.c.expires_at < now,
    ).returning(sync_leases.c.holder)
    return (await conn.execute(statement)).first() is not None


async def _take_slot(conn: AsyncConnection, slots: Sequence[str], pause: str | None,
                     holder: str, until: datetime, now: datetime) -> SlotTaken:
    """The first of ``slots`` that is free, taken in one statement (nothing while
    ``pause`` lives). Only when that finds none does one more read tell a pause from busy
    slots, or from a race lost to another taker (then the next free slot is tried)."""
    for _ in slots:
        taken = (await conn.execute(_slot_statement(conn, slots, pause, holder, until,
                                                    now))).scalar()
        if taken is not None:
            return SlotTaken(taken)
        live = {r.key: r.expires_at for r in await conn.execute(
            select(sync_leases.c.key, sync_leases.c.expires_at).where(
                sync_leases.c.key.in_([*slots, *([pause] if pause else [])]),
                sync_leases.c.expires_at >= now))}
        if pause in live:
            return SlotTaken(None, (live[pause] - now).total_seconds())
        if all(key in live for key in slots):
            break
    return SlotTaken(None)


def _slot_statement(conn: AsyncConnection, slots: Sequence[str], pause: str | None,
                    holder: str, until: datetime, now: datetime) -> Any:
    """``INSERT INTO sync_leases SELECT <first candidate not live> WHERE <no live pause>
    ON CONFLICT (key) DO UPDATE ... WHERE expired RETURNING key``."""
    candidates = union_all(*(
        select(literal(key, String).label("key"), literal(n).label("n"))
        for n, key in enumerate(slots))).subquery()
    free = (select(candidates.c.key, literal(holder, String), literal(until, UtcDateTime))
            .where(~_live(candidates.c.key, now)))
    if pause is not None:
        free = free.where(~_live(pause, now))
    return _insert(conn).from_select(
        ["key", "holder", "expires_at"], free.order_by(candidates.c.n).limit(1),
    ).on_conflict_do_update(
        index_elements=[sync_leases.c.key], set_={"holder": holder, "expires_at": until},
        where=sync_leases.c.expires_at < now,
    ).returning(sync_leases.c.key)


async def _live_calendar(conn: AsyncConnection, calendar_id: str) -> CalendarRecord | None:
    """The calendar as committed, if its integration is connected."""
    row = (await conn.execute(
        select(calendars).join(integrations, integrations.c.id == calendars.c.integration_id)
        .where(calendars.c.id == calendar_id, integrations.c.status == _CONNECTED))).first()
    return calendar_record(row) if row is not None else None


class _Undo(Exception):
    """Leaves :meth:`SyncOps.begin_round`'s transaction rolled back, with its answer."""

    def __init__(self, start: RoundStart) -> None:
        super().__init__("nothing taken")
        self.start = start


class SyncOps(StoreBase):
    async def acquire_lease(self, key: str, holder: str, seconds: float) -> bool:
        """Take ``key`` for ``seconds`` unless another holder's lease is still live."""
        now = utcnow()
        async with self._write() as conn:
            return await _take(conn, key, holder, now + timedelta(seconds=seconds), now)

    async def begin_round(self, claim: RoundClaim,
                          wanted: Callable[[CalendarRecord], bool]) -> RoundStart:
        """Start a calendar's round in one transaction: take ``claim.key`` and a free
        mailbox slot, and read the calendar as committed once the lease is taken.

        Nothing is taken (the transaction rolls back) unless the lease was free, the
        calendar exists under a connected integration, ``wanted(calendar)`` holds (it is
        still stale: no other round landed meanwhile) and the mailbox is not paused. The
        calendar is returned in every case, so that a caller left out knows what landed.
        """
        now = utcnow()
        until = now + timedelta(seconds=claim.seconds)
        try:
            async with self._write() as conn:
                held = await _take(conn, claim.key, claim.holder, until, now)
                calendar = await _live_calendar(conn, claim.calendar_id)
                if not held or calendar is None or not wanted(calendar):
                    raise _Undo(RoundStart(calendar))
                slot = await _take_slot(conn, claim.slots, claim.pause, claim.holder, until,
                                        now)
                if slot.paused_for > 0:
                    raise _Undo(RoundStart(calendar, paused_for=slot.paused_for))
                return RoundStart(calendar, True, slot.slot)
        except _Undo as undo:
            return undo.start

    async def take_slot(self, slots: Sequence[str], pause: str | None, holder: str,
                        seconds: float) -> SlotTaken:
        """Take the first free of ``slots`` for ``seconds`` (one statement), unless the
        ``pause`` key lives; then say how long it lasts."""
        now = utcnow()
        async with self._write() as conn:
            return await _take_slot(conn, slots, pause, holder,
                                    now + timedelta(seconds=seconds), now)

    async def pause_key(self, key: str, seconds: float) -> None:
        """Keep ``key`` live for at least ``seconds`` more, held by nobody: a pause every
        instance sees (a later end never moves earlier)."""
        until = utcnow() + timedelta(seconds=seconds)
        async with self._write() as conn:
            statement = _insert(conn).values(key=key, holder=PAUSE_HOLDER, expires_at=until)
            await conn.execute(statement.on_conflict_do_update(
                index_elements=[sync_leases.c.key],
                set_={"holder": PAUSE_HOLDER, "expires_at": case(
                    (sync_leases.c.expires_at < until, until),
                    else_=sync_leases.c.expires_at)}))

    async def renew_lease(self, key: str, holder: str, seconds: float) -> bool:
        """Extend a lease ``holder`` still has; False when it lapsed and was taken."""
        until = utcnow() + timedelta(seconds=seconds)
        async with self._write() as conn:
            result = await conn.execute(
                update(sync_leases)
                .where(sync_leases.c.key == key, sync_leases.c.holder == holder)
                .values(expires_at=until).returning(sync_leases.c.key))
            return result.first() is not None

    async def release_lease(self, key: str, holder: str) -> None:
        async with self._write() as conn:
            await conn.execute(delete(sync_leases).where(
                sync_leases.c.key == key, sync_leases.c.holder == holder))

    async def lease_holder(self, key: str) -> str | None:
        """Who holds ``key`` now (None when free or expired)."""
        async with self._read() as conn:
            return (await conn.execute(select(sync_leases.c.holder).where(
                sync_leases.c.key == key, sync_leases.c.expires_at >= utcnow()))).scalar()

    async def sync_schedule(self) -> SyncSchedule:
        """Synced calendars and contacts of connected integrations granted access, and
        the connected integrations themselves."""
        i, c = integrations.c, calendars.c
        live_calendar = and_(i.status == _CONNECTED, i.granted_calendar != _NONE)
        async with self._read() as conn:
            rows = await conn.execute(
                select(c.id, c.integration_id, c.synced_at)
                .join(integrations, i.id == c.integration_id)
                .where(c.synced.is_(True), live_calendar))
            found = [SyncTarget(r.id, r.integration_id, r.synced_at) for r in rows]
            connected = {r.id: integration_record(r) for r in await conn.execute(
                select(integrations).where(i.status == _CONNECTED))}
            contacts = [SyncTarget(n.id, n.id, n.contacts_synced_at)
                        for n in connected.values() if n.granted.contacts is not Access.NONE]
            rows = await conn.execute(select(i.id).where(
                live_calendar, ~exists().where(c.integration_id == i.id)))
            undiscovered = [r.id for r in rows]
        return SyncSchedule(found, contacts, undiscovered, connected)
